//! Benachrichtigungen: a namespace's webhooks and a member's mails about
//! package events, with each subscription's delivery log, redelivery and
//! resume; the same use cases as the API, through the session's token.

use actix_web::{get, post, web, HttpRequest};
use askama::Template;
use serde::Deserialize;

use super::{block, ok, see_other, session, Chrome, WebError, WebResult};
use crate::http::{origin_of, Reg};
use crate::registry::auth::Credential;
use crate::registry::deliveries::DeliveryView;
use crate::registry::events::Event;
use crate::registry::subscriptions::{self, Created, SubscriptionRequest, SubscriptionView};

pub struct Row {
    pub id: i64,
    /// Where the events go: the URL or the mail address.
    pub to: String,
    pub channel: &'static str,
    pub follows: String,
    pub events: String,
    pub state: String,
    pub paused: bool,
}

fn follows_de(s: &SubscriptionView) -> String {
    match (s.scope.as_str(), &s.target) {
        ("package", Some(t)) => format!("Paket {t}"),
        ("namespace", Some(t)) => format!("alle Pakete von {t}"),
        _ => format!("was {} ableitet oder nutzt", s.namespace),
    }
}

fn events_de(events: &[String]) -> String {
    events
        .iter()
        .map(|e| match e.parse::<Event>() {
            Ok(known) => known.german(),
            Err(_) => e.as_str(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn row(s: SubscriptionView) -> Row {
    Row {
        id: s.id,
        to: s.url.clone().or(s.email.clone()).unwrap_or_default(),
        channel: if s.channel == "email" {
            "Mail"
        } else {
            "Webhook"
        },
        follows: follows_de(&s),
        events: events_de(&s.events),
        state: match (&s.paused_at, &s.pause_reason) {
            (Some(at), reason) => format!(
                "pausiert seit {} ({})",
                super::date(at),
                reason.as_deref().unwrap_or("")
            ),
            (None, _) if s.failures_in_row > 0 => {
                format!("aktiv, {} Fehlversuche in Folge", s.failures_in_row)
            }
            (None, _) => "aktiv".into(),
        },
        paused: s.paused_at.is_some(),
    }
}

#[derive(Template)]
#[template(path = "subscriptions.html")]
struct ListPage {
    chrome: Chrome,
    slug: String,
    rows: Vec<Row>,
    created: Option<(i64, String)>,
    events: Vec<(&'static str, &'static str)>,
}

fn signed_in(req: &HttpRequest) -> Result<session::Session, WebError> {
    session::current(req).ok_or_else(|| {
        WebError::forbidden("Dafür müssen Sie angemeldet sein. Bitte melden Sie sich an.")
            .with_chrome(req)
    })
}

async fn render_list(
    reg: Reg,
    req: &HttpRequest,
    slug: String,
    created: Option<Created>,
) -> WebResult {
    let session = signed_in(req)?;
    let ns = slug.clone();
    let list = block(req, move || {
        subscriptions::list(&reg, Credential::Session(&session.id), &ns)
    })
    .await?;
    Ok(ok(&ListPage {
        chrome: Chrome::of(req),
        slug,
        rows: list.into_iter().map(row).collect(),
        created: created.and_then(|c| Some((c.subscription.id, c.secret?))),
        events: Event::ALL.map(|e| (e.as_str(), e.german())).to_vec(),
    }))
}

#[get("/namensraeume/{ns}/benachrichtigungen")]
pub(super) async fn list_page(reg: Reg, req: HttpRequest, path: web::Path<String>) -> WebResult {
    render_list(reg, &req, path.into_inner(), None).await
}

#[derive(Deserialize)]
pub(super) struct NewForm {
    #[serde(default)]
    csrf: String,
    /// `webhook` or `mail`.
    #[serde(default)]
    channel: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    target: String,
    /// The ticked events; none ticked: all.
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    yanked: Option<String>,
    #[serde(default)]
    deprecated: Option<String>,
    #[serde(default)]
    advisory: Option<String>,
    #[serde(default)]
    forked: Option<String>,
}

#[post("/namensraeume/{ns}/benachrichtigungen")]
pub(super) async fn create(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<NewForm>,
) -> WebResult {
    let slug = path.into_inner();
    let form = form.into_inner();
    let session = super::account::member_session(&req, &form.csrf)?;
    let ticked: Vec<String> = [
        ("published", &form.published),
        ("yanked", &form.yanked),
        ("deprecated", &form.deprecated),
        ("advisory", &form.advisory),
        ("forked", &form.forked),
    ]
    .iter()
    .filter(|(_, t)| t.is_some())
    .map(|(e, _)| e.to_string())
    .collect();
    let address = form.address.trim().to_string();
    let request = SubscriptionRequest {
        url: Some(address.clone()).filter(|_| form.channel != "mail"),
        email: Some(address).filter(|_| form.channel == "mail"),
        scope: form.scope,
        target: Some(form.target).filter(|t| !t.trim().is_empty()),
        events: Some(ticked).filter(|t| !t.is_empty()),
    };
    let origin = origin_of(&req);
    let (reg2, ns) = (reg.clone(), slug.clone());
    let created = block(&req, move || {
        subscriptions::create(
            &reg2,
            Credential::Session(&session.id),
            &origin,
            &ns,
            &request,
        )
    })
    .await?;
    render_list(reg, &req, slug, Some(created)).await
}

#[derive(Template)]
#[template(path = "deliveries.html")]
struct LogPage {
    chrome: Chrome,
    slug: String,
    sub: Row,
    deliveries: Vec<DeliveryRow>,
}

pub struct DeliveryRow {
    pub id: i64,
    pub at: String,
    pub event: String,
    pub package: String,
    pub state: &'static str,
    pub attempts: usize,
    pub status: String,
    pub latency: String,
    pub answer: String,
    pub error: String,
}

fn delivery_row(d: DeliveryView) -> DeliveryRow {
    let last = d.last().cloned();
    DeliveryRow {
        id: d.id,
        at: d.created_at.format("%d.%m.%Y %H:%M:%S").to_string(),
        event: d
            .event
            .parse::<Event>()
            .map_or(d.event.clone(), |e| e.german().to_string()),
        package: d.package,
        state: match d.state.as_str() {
            "delivered" => "zugestellt",
            "failed" => "aufgegeben",
            "paused" => "angehalten",
            _ => "wird versucht",
        },
        attempts: d.attempts.len(),
        status: last
            .as_ref()
            .and_then(|a| a.status_code)
            .map(|c| c.to_string())
            .unwrap_or_default(),
        latency: last
            .as_ref()
            .map(|a| format!("{} ms", a.latency_ms))
            .unwrap_or_default(),
        answer: last
            .as_ref()
            .and_then(|a| a.response_excerpt.clone())
            .map(|t| t.chars().take(200).collect())
            .unwrap_or_default(),
        error: last.and_then(|a| a.error).unwrap_or_default(),
    }
}

#[get("/namensraeume/{ns}/benachrichtigungen/{id}")]
pub(super) async fn log_page(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
) -> WebResult {
    let (slug, id) = path.into_inner();
    let session = signed_in(&req)?;
    let ns = slug.clone();
    let (sub, list) = block(&req, move || {
        let cred = Credential::Session(&session.id);
        let sub = subscriptions::get(&reg, cred, &ns, id)?;
        let list = subscriptions::deliveries(&reg, cred, &ns, id, 100)?;
        Ok((sub, list))
    })
    .await?;
    Ok(ok(&LogPage {
        chrome: Chrome::of(&req),
        slug,
        sub: row(sub),
        deliveries: list.into_iter().map(delivery_row).collect(),
    }))
}

#[post("/namensraeume/{ns}/benachrichtigungen/{id}/entfernen")]
pub(super) async fn remove(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: web::Form<super::account::CsrfForm>,
) -> WebResult {
    let (ns, id) = path.into_inner();
    let session = super::account::member_session(&req, &form.csrf)?;
    let origin = origin_of(&req);
    let back = format!("/namensraeume/{ns}/benachrichtigungen");
    block(&req, move || {
        subscriptions::remove(&reg, Credential::Session(&session.id), &origin, &ns, id)
    })
    .await?;
    Ok(see_other(&back))
}

#[post("/namensraeume/{ns}/benachrichtigungen/{id}/fortsetzen")]
pub(super) async fn resume(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: web::Form<super::account::CsrfForm>,
) -> WebResult {
    let (ns, id) = path.into_inner();
    let session = super::account::member_session(&req, &form.csrf)?;
    let origin = origin_of(&req);
    let back = format!("/namensraeume/{ns}/benachrichtigungen/{id}");
    block(&req, move || {
        subscriptions::resume(&reg, Credential::Session(&session.id), &origin, &ns, id)
    })
    .await?;
    Ok(see_other(&back))
}

#[post("/namensraeume/{ns}/benachrichtigungen/{id}/zustellungen/{delivery}/erneut")]
pub(super) async fn redeliver(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, i64, i64)>,
    form: web::Form<super::account::CsrfForm>,
) -> WebResult {
    let (ns, id, delivery) = path.into_inner();
    let session = super::account::member_session(&req, &form.csrf)?;
    let origin = origin_of(&req);
    let back = format!("/namensraeume/{ns}/benachrichtigungen/{id}");
    block(&req, move || {
        subscriptions::redeliver(
            &reg,
            Credential::Session(&session.id),
            &origin,
            &ns,
            id,
            delivery,
        )
    })
    .await?;
    Ok(see_other(&back))
}
