//! The namespace page: the municipality (or provider) with its Amtlicher
//! Regionalschlüssel, its packages and members; owners manage members here.

use actix_web::{get, post, web, HttpRequest};
use askama::Template;
use serde::Deserialize;

use super::start::Card;
use super::{block, ok, see_other, session, Chrome, WebError, WebResult};
use crate::http::{origin_of, Reg};
use crate::registry::audit::AuditView;
use crate::registry::auth::{find_namespace, Credential, Role};
use crate::registry::trusted_publishing::{self, PublisherRequest, PublisherView};
use crate::registry::{accounts, packages};

pub struct MemberRow {
    pub login: String,
    pub role: &'static str,
    pub since: String,
}

#[derive(Template)]
#[template(path = "namespace.html")]
struct NamespacePage {
    chrome: Chrome,
    slug: String,
    display_name: String,
    ars: String,
    /// The Land, from the ARS.
    place: String,
    packages: Vec<Card>,
    members: Vec<MemberRow>,
    is_owner: bool,
    /// The namespace's audit log, for its owners whose session's token has
    /// the `owners` scope; `None` for everyone else.
    audit: Option<Vec<AuditRow>>,
    /// The CI pipelines that may publish here (trusted publishing), for
    /// the same owners; with the issuers one may choose from.
    pipelines: Option<Vec<PublisherView>>,
    issuers: Vec<String>,
}

pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub client_addr: String,
}

#[get("/namensraeume/{ns}")]
pub(super) async fn page(reg: Reg, req: HttpRequest, path: web::Path<String>) -> WebResult {
    let slug = path.into_inner();
    let chrome = Chrome::of(&req);
    let login = chrome.login.clone();
    let audit_reg = reg.clone();
    let (ns, members, list) = block(&req, move || {
        let mut conn = reg.db.conn()?;
        let ns = find_namespace(&mut conn, &slug)?;
        let members = accounts::list_members(&mut conn, &slug)?;
        drop(conn);
        let list = super::start::cards(&reg, packages::in_namespace(&reg, &slug)?)?;
        Ok((ns, members, list))
    })
    .await?;
    let is_owner = login.is_some_and(|l| {
        members
            .iter()
            .any(|m| m.login == l && m.role == Role::Owner.as_str())
    });
    let issuers = audit_reg.ci_issuers.issuers().to_vec();
    let (audit, pipelines) = match session::current(&req).filter(|_| is_owner) {
        // Read through the session's token: its scopes decide, as for the
        // API (a token without `owners` sees neither).
        Some(s) => {
            let (reg, slug, origin) = (audit_reg, ns.slug.clone(), origin_of(&req));
            let read = web::block(move || -> crate::registry::Result<_> {
                let mut conn = reg.db.conn()?;
                let cred = Credential::Session(&s.id);
                let entries = accounts::audit_log(&mut conn, cred, &origin, &slug, 50)?;
                let pipelines = trusted_publishing::list(&mut conn, cred, &origin, &slug)?;
                Ok((entries, pipelines))
            })
            .await;
            match read {
                Ok(Ok((entries, pipelines))) => (
                    Some(entries.into_iter().map(audit_row).collect()),
                    Some(pipelines),
                ),
                _ => (None, None),
            }
        }
        None => (None, None),
    };
    Ok(ok(&NamespacePage {
        chrome,
        slug: ns.slug,
        display_name: ns.display_name,
        place: ns
            .ars
            .as_deref()
            .and_then(super::publisher::land)
            .unwrap_or_default()
            .to_string(),
        ars: ns.ars.unwrap_or_default(),
        packages: list,
        members: members
            .into_iter()
            .map(|m| MemberRow {
                role: super::account::role_de(&m.role),
                login: m.login,
                since: super::date(&m.since),
            })
            .collect(),
        is_owner,
        audit,
        pipelines,
        issuers,
    }))
}

fn audit_row(e: AuditView) -> AuditRow {
    AuditRow {
        at: super::date(&e.at),
        actor: e.actor.unwrap_or_default(),
        action: e.action,
        target: e.target,
        client_addr: e.client_addr.unwrap_or_default(),
    }
}

#[derive(Deserialize)]
pub(super) struct MemberForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    role: String,
    /// Checked: a login nobody has yet is invited.
    #[serde(default)]
    einladen: Option<String>,
}

#[post("/namensraeume/{ns}/mitglieder")]
pub(super) async fn add_member(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<MemberForm>,
) -> WebResult {
    let ns = path.into_inner();
    let form = form.into_inner();
    let session = super::account::member_session(&req, &form.csrf)?;
    let Some(role) = Role::parse(&form.role) else {
        return Err(WebError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "Ungültige Eingabe",
            "Bitte wählen Sie eine Rolle: Eigentümer/in oder Veröffentlicher/in.",
        )
        .with_chrome(&req));
    };
    let origin = origin_of(&req);
    let back = format!("/namensraeume/{ns}#mitglieder");
    let set = if form.einladen.is_some() {
        accounts::invite_member
    } else {
        accounts::set_member
    };
    block(&req, move || {
        let mut conn = reg.db.conn()?;
        let cred = Credential::Session(&session.id);
        set(&mut conn, cred, &origin, &ns, form.login.trim(), role)
    })
    .await?;
    Ok(see_other(&back))
}

#[post("/namensraeume/{ns}/mitglieder/{login}/entfernen")]
pub(super) async fn remove_member(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<super::account::CsrfForm>,
) -> WebResult {
    let (ns, login) = path.into_inner();
    let session = super::account::member_session(&req, &form.csrf)?;
    let origin = origin_of(&req);
    let back = format!("/namensraeume/{ns}#mitglieder");
    block(&req, move || {
        let mut conn = reg.db.conn()?;
        let cred = Credential::Session(&session.id);
        accounts::remove_member(&mut conn, cred, &origin, &ns, &login)
    })
    .await?;
    Ok(see_other(&back))
}

/// Ends every web session of a member.
#[post("/namensraeume/{ns}/mitglieder/{login}/abmelden")]
pub(super) async fn end_member_sessions(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<super::account::CsrfForm>,
) -> WebResult {
    let (ns, login) = path.into_inner();
    let session = super::account::member_session(&req, &form.csrf)?;
    let origin = origin_of(&req);
    let back = format!("/namensraeume/{ns}#mitglieder");
    block(&req, move || {
        let mut conn = reg.db.conn()?;
        let cred = Credential::Session(&session.id);
        accounts::end_member_sessions(&mut conn, cred, &origin, &ns, &login)
    })
    .await?;
    Ok(see_other(&back))
}

#[derive(Deserialize)]
pub(super) struct PipelineForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    project: String,
    #[serde(default)]
    package: String,
    #[serde(default)]
    ref_pattern: String,
    #[serde(default)]
    environment: String,
}

/// Registers a CI pipeline as trusted publisher of the namespace.
#[post("/namensraeume/{ns}/pipelines")]
pub(super) async fn add_pipeline(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<PipelineForm>,
) -> WebResult {
    let ns = path.into_inner();
    let form = form.into_inner();
    let session = super::account::member_session(&req, &form.csrf)?;
    let origin = origin_of(&req);
    let back = format!("/namensraeume/{ns}#pipelines");
    let optional = |s: String| Some(s).filter(|s| !s.trim().is_empty());
    let request = PublisherRequest {
        package: optional(form.package),
        issuer: form.issuer,
        project: form.project,
        ref_pattern: optional(form.ref_pattern),
        environment: optional(form.environment),
    };
    block(&req, move || {
        let mut conn = reg.db.conn()?;
        let cred = Credential::Session(&session.id);
        trusted_publishing::register(&mut conn, cred, &origin, &reg.ci_issuers, &ns, &request)
    })
    .await?;
    Ok(see_other(&back))
}

#[post("/namensraeume/{ns}/pipelines/{id}/entfernen")]
pub(super) async fn remove_pipeline(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: web::Form<super::account::CsrfForm>,
) -> WebResult {
    let (ns, id) = path.into_inner();
    let session = super::account::member_session(&req, &form.csrf)?;
    let origin = origin_of(&req);
    let back = format!("/namensraeume/{ns}#pipelines");
    block(&req, move || {
        let mut conn = reg.db.conn()?;
        let cred = Credential::Session(&session.id);
        trusted_publishing::remove(&mut conn, cred, &origin, &ns, id)
    })
    .await?;
    Ok(see_other(&back))
}
