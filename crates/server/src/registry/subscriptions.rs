//! Subscriptions to package events: a namespace's owners point webhooks at
//! their portals and pipelines, and a member asks for mails. Each names
//! what it follows (one package, all packages of a namespace, or
//! everything the subscribing namespace forks or depends on) and which
//! events ([`super::events::Event`]).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::audit::{self, AuditAction, Origin};
use super::auth::{self, find_namespace, Credential, Scope};
use super::error::{RegistryError, Result};
use super::events::Event;
use super::{index, webhook_target, Registry};
use crate::store::db::now;
use crate::store::models::Namespace;
use crate::store::schema::{deliveries, jobs, namespaces, subscriptions, users};
use crate::store::{write_tx, DbConn};
use gemeinwerk_package::names::split_full_name;

/// Subscriptions one namespace may hold, webhooks and mails together: a
/// bound on what one event costs to fan out.
pub const MAX_PER_NAMESPACE: i64 = 100;

/// The prefix of a webhook's signing secret, so that a leaked one is
/// recognisable.
pub const SECRET_PREFIX: &str = "gwhsec_";

/// What a subscription follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubScope {
    /// One package (`target` is `ns/name`).
    Package,
    /// Every package of a namespace (`target` is the namespace).
    Namespace,
    /// Every package that a package of the subscribing namespace forks or
    /// depends on (no target: it follows the namespace's packages).
    Upstream,
}

impl SubScope {
    pub const fn as_str(self) -> &'static str {
        match self {
            SubScope::Package => "package",
            SubScope::Namespace => "namespace",
            SubScope::Upstream => "upstream",
        }
    }

    fn parse(s: &str) -> Result<SubScope> {
        match s {
            "package" => Ok(SubScope::Package),
            "namespace" => Ok(SubScope::Namespace),
            "upstream" => Ok(SubScope::Upstream),
            _ => Err(invalid(format!(
                "scope \"{}\" is not known; use package, namespace or upstream",
                s.escape_default()
            ))),
        }
    }
}

/// How a subscription's events travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Webhook,
    Email,
}

impl Channel {
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::Email => "email",
        }
    }
}

fn invalid(detail: impl Into<String>) -> RegistryError {
    RegistryError::bad_request("invalid_subscription", detail)
}

/// What a caller asks for: a webhook (`url`, for owners) or mails to the
/// calling member (`email`), following one package, a namespace or the
/// namespace's upstreams, for some events (all when absent).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRequest {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    pub scope: String,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionView {
    pub id: i64,
    pub namespace: String,
    pub channel: String,
    pub scope: String,
    pub target: Option<String>,
    pub events: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    /// Failed attempts since the last success.
    pub failures_in_row: i32,
    pub paused_at: Option<NaiveDateTime>,
    pub pause_reason: Option<String>,
}

/// A new subscription, and a webhook's secret, shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub subscription: SubscriptionView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

type Row = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
    NaiveDateTime,
    i32,
    Option<NaiveDateTime>,
    Option<String>,
);

fn view(
    (id, ns, channel, scope, target, events, url, email, by, at, failures, paused, reason): Row,
) -> SubscriptionView {
    SubscriptionView {
        id,
        namespace: ns,
        channel,
        scope,
        target,
        events: events.split(',').map(String::from).collect(),
        url,
        email,
        created_by: by,
        created_at: at,
        failures_in_row: failures,
        paused_at: paused,
        pause_reason: reason,
    }
}

macro_rules! select_view {
    () => {
        (
            subscriptions::id,
            namespaces::slug,
            subscriptions::channel,
            subscriptions::scope,
            subscriptions::target,
            subscriptions::events,
            subscriptions::url,
            subscriptions::email,
            users::login,
            subscriptions::created_at,
            subscriptions::failures_in_row,
            subscriptions::paused_at,
            subscriptions::pause_reason,
        )
    };
}

/// Checks what a subscription follows; answers (scope, target, events).
fn check_follows(
    conn: &mut DbConn,
    f: &SubscriptionRequest,
) -> Result<(SubScope, Option<String>, Vec<Event>)> {
    let scope = SubScope::parse(f.scope.trim())?;
    let target = f.target.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let target = match (scope, target) {
        (SubScope::Upstream, None) => None,
        (SubScope::Upstream, Some(_)) => {
            return Err(invalid(
                "scope \"upstream\" follows what the namespace's own packages fork or depend on; it takes no target",
            ))
        }
        (_, None) => {
            return Err(invalid(format!(
                "scope \"{}\" needs a target: {}",
                scope.as_str(),
                if scope == SubScope::Package { "ns/name" } else { "a namespace" }
            )))
        }
        (SubScope::Package, Some(t)) => {
            let (ns, name) =
                split_full_name(t).map_err(|e| invalid(format!("target {e}")))?;
            index::find_package(conn, &ns, &name)?
                .ok_or_else(|| RegistryError::UnknownPackage(t.to_string()))?;
            Some(format!("{ns}/{name}"))
        }
        (SubScope::Namespace, Some(t)) => Some(find_namespace(conn, t)?.slug),
    };
    let mut events = match &f.events {
        None => Event::ALL.to_vec(),
        Some(list) => list
            .iter()
            .map(|e| e.trim().parse::<Event>().map_err(invalid))
            .collect::<Result<Vec<_>>>()?,
    };
    events.sort();
    events.dedup();
    if events.is_empty() {
        return Err(invalid(
            "name at least one event, or leave \"events\" out for all",
        ));
    }
    Ok((scope, target, events))
}

fn check_room(conn: &mut DbConn, ns: &Namespace) -> Result<()> {
    let held: i64 = subscriptions::table
        .filter(subscriptions::namespace_id.eq(ns.id))
        .count()
        .get_result(conn)?;
    if held >= MAX_PER_NAMESPACE {
        return Err(RegistryError::conflict(
            "subscription_limit",
            format!(
                "namespace \"{}\" holds {held} subscriptions, the most it may; remove one first",
                ns.slug
            ),
        ));
    }
    Ok(())
}

fn insert(
    conn: &mut DbConn,
    origin: &Origin,
    ns: &Namespace,
    user_id: i64,
    channel: Channel,
    (scope, target, events): (SubScope, Option<String>, Vec<Event>),
    (url, secret, email): (Option<&str>, Option<&str>, Option<&str>),
) -> Result<i64> {
    let events = events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",");
    write_tx(conn, |conn| {
        check_room(conn, ns)?;
        let id: i64 = diesel::insert_into(subscriptions::table)
            .values((
                subscriptions::namespace_id.eq(ns.id),
                subscriptions::channel.eq(channel.as_str()),
                subscriptions::scope.eq(scope.as_str()),
                subscriptions::target.eq(&target),
                subscriptions::events.eq(&events),
                subscriptions::url.eq(url),
                subscriptions::secret.eq(secret),
                subscriptions::email.eq(email),
                subscriptions::created_by.eq(user_id),
                subscriptions::created_at.eq(now()),
                subscriptions::failures_in_row.eq(0),
            ))
            .returning(subscriptions::id)
            .get_result(conn)?;
        audit::record(
            conn,
            origin,
            AuditAction::SubscriptionAdd,
            Some(&ns.slug),
            &format!("subscription {id}"),
            serde_json::json!({
                "channel": channel.as_str(), "scope": scope.as_str(), "target": target,
                "events": events, "url": url,
            }),
        )?;
        Ok(id)
    })
}

/// Makes a subscription for `namespace`: a webhook for its owners (the
/// secret is answered this once; only the receiver keeps it afterwards),
/// or mails to a member who asks (needs the operator's SMTP settings).
pub fn create(
    reg: &Registry,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    req: &SubscriptionRequest,
) -> Result<Created> {
    let mut conn = reg.db.conn()?;
    let actor = auth::authenticate(&mut conn, cred)?;
    actor.refuse_if_trusted()?;
    let ns = find_namespace(&mut conn, namespace)?;
    let origin = Origin {
        actor: Some(actor.login.clone()),
        ..origin.clone()
    };
    match (&req.url, &req.email) {
        (Some(url), None) => {
            // The role first, then the scope: a publisher hears that owners
            // make webhooks, not that the token lacks a scope.
            actor.role_in(&mut conn, &ns, true)?;
            if !actor.scopes().contains(&Scope::Owners) {
                return Err(RegistryError::MissingScope(Scope::Owners.as_str()));
            }
            let follows = check_follows(&mut conn, req)?;
            let url = webhook_target::check_url(url, reg.webhooks.allow_private)?;
            let secret = format!("{SECRET_PREFIX}{}", super::secrets::random_hex());
            let id = insert(
                &mut conn,
                &origin,
                &ns,
                actor.user_id,
                Channel::Webhook,
                follows,
                (Some(url.as_str()), Some(&secret), None),
            )?;
            Ok(Created {
                subscription: one(&mut conn, ns.id, id)?,
                secret: Some(secret),
            })
        }
        (None, Some(email)) => {
            actor.role_in(&mut conn, &ns, false)?;
            let follows = check_follows(&mut conn, req)?;
            let email = super::mail::check_address(email)?;
            if reg.mailer.is_none() {
                return Err(RegistryError::conflict(
                    "mail_not_configured",
                    "this registry sends no mail: its operator has not set up SMTP (serve --smtp-url)",
                ));
            }
            let id = insert(
                &mut conn,
                &origin,
                &ns,
                actor.user_id,
                Channel::Email,
                follows,
                (None, None, Some(&email)),
            )?;
            Ok(Created {
                subscription: one(&mut conn, ns.id, id)?,
                secret: None,
            })
        }
        _ => Err(invalid(
            "name either \"url\" (a webhook) or \"email\" (mails to you), not both",
        )),
    }
}

fn one(conn: &mut DbConn, namespace_id: i64, id: i64) -> Result<SubscriptionView> {
    let row: Option<Row> = subscriptions::table
        .inner_join(namespaces::table)
        .inner_join(users::table)
        .filter(subscriptions::id.eq(id))
        .filter(subscriptions::namespace_id.eq(namespace_id))
        .select(select_view!())
        .first(conn)
        .optional()?;
    row.map(view).ok_or(RegistryError::UnknownSubscription(id))
}

/// Who may see and change which subscriptions of a namespace: owners all
/// of them, a member the mails they asked for.
struct Viewer {
    ns: Namespace,
    owner: bool,
    user_id: i64,
    origin: Origin,
}

fn viewer(
    conn: &mut DbConn,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
) -> Result<Viewer> {
    let actor = auth::authenticate(conn, cred)?;
    actor.refuse_if_trusted()?;
    let ns = find_namespace(conn, namespace)?;
    let role = actor.role_in(conn, &ns, false)?;
    let owner = role == auth::Role::Owner && actor.scopes().contains(&Scope::Owners);
    Ok(Viewer {
        ns,
        owner,
        user_id: actor.user_id,
        origin: Origin {
            actor: Some(actor.login),
            ..origin.clone()
        },
    })
}

impl Viewer {
    /// The rule [`list`] puts into its query, for one subscription.
    fn may_see(&self, s: &SubscriptionView) -> bool {
        self.owner
            || (s.channel == Channel::Email.as_str()
                && Some(&s.created_by) == self.origin.actor.as_ref())
    }
}

/// The subscriptions of a namespace a caller may see: all for owners, a
/// member's own mails otherwise.
pub fn list(
    reg: &Registry,
    cred: Credential<'_>,
    namespace: &str,
) -> Result<Vec<SubscriptionView>> {
    let mut conn = reg.db.conn()?;
    let v = viewer(&mut conn, cred, &Origin::default(), namespace)?;
    let mut query = subscriptions::table
        .inner_join(namespaces::table)
        .inner_join(users::table)
        .filter(subscriptions::namespace_id.eq(v.ns.id))
        .order(subscriptions::id)
        .select(select_view!())
        .into_boxed();
    if !v.owner {
        query = query
            .filter(subscriptions::channel.eq(Channel::Email.as_str()))
            .filter(subscriptions::created_by.eq(v.user_id));
    }
    let rows: Vec<Row> = query.load(&mut *conn)?;
    Ok(rows.into_iter().map(view).collect())
}

/// One subscription, for who may see it ([`list`]).
pub fn get(
    reg: &Registry,
    cred: Credential<'_>,
    namespace: &str,
    id: i64,
) -> Result<SubscriptionView> {
    let mut conn = reg.db.conn()?;
    let v = viewer(&mut conn, cred, &Origin::default(), namespace)?;
    visible(&mut conn, &v, id)
}

fn visible(conn: &mut DbConn, v: &Viewer, id: i64) -> Result<SubscriptionView> {
    let s = one(conn, v.ns.id, id)?;
    if !v.may_see(&s) {
        return Err(RegistryError::UnknownSubscription(id));
    }
    Ok(s)
}

/// Removes a subscription and its delivery log; waiting deliveries are
/// dropped with it.
pub fn remove(
    reg: &Registry,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    id: i64,
) -> Result<()> {
    let mut conn = reg.db.conn()?;
    let v = viewer(&mut conn, cred, origin, namespace)?;
    let s = visible(&mut conn, &v, id)?;
    write_tx(&mut conn, |conn| {
        diesel::delete(subscriptions::table.find(id)).execute(conn)?;
        audit::record(
            conn,
            &v.origin,
            AuditAction::SubscriptionRemove,
            Some(&v.ns.slug),
            &format!("subscription {id}"),
            serde_json::json!({ "channel": s.channel, "url": s.url, "email": s.email }),
        )?;
        Ok(())
    })
}

/// Lifts an automatic pause: the subscription is tried again, and the
/// deliveries the pause held are sent.
pub fn resume(
    reg: &Registry,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    id: i64,
) -> Result<SubscriptionView> {
    let mut conn = reg.db.conn()?;
    let v = viewer(&mut conn, cred, origin, namespace)?;
    let s = visible(&mut conn, &v, id)?;
    if s.paused_at.is_none() {
        return Ok(s);
    }
    write_tx(&mut conn, |conn| {
        diesel::update(subscriptions::table.find(id))
            .set((
                subscriptions::paused_at.eq(None::<NaiveDateTime>),
                subscriptions::pause_reason.eq(None::<String>),
                subscriptions::failures_in_row.eq(0),
            ))
            .execute(conn)?;
        let held: Vec<i64> = deliveries::table
            .filter(deliveries::subscription_id.eq(id))
            .filter(deliveries::state.eq(super::deliveries::State::Paused.as_str()))
            .select(deliveries::id)
            .load(conn)?;
        diesel::update(deliveries::table.filter(deliveries::id.eq_any(&held)))
            .set((
                deliveries::state.eq(super::deliveries::State::Pending.as_str()),
                deliveries::retry_since.eq(now()),
            ))
            .execute(conn)?;
        super::deliveries::enqueue_deliveries(conn, &held)?;
        audit::record(
            conn,
            &v.origin,
            AuditAction::SubscriptionResume,
            Some(&v.ns.slug),
            &format!("subscription {id}"),
            serde_json::json!({ "held_deliveries": held.len() }),
        )?;
        Ok::<_, RegistryError>(())
    })?;
    reg.views_may_change();
    one(&mut conn, v.ns.id, id)
}

/// The delivery log of a subscription, newest first.
pub fn deliveries(
    reg: &Registry,
    cred: Credential<'_>,
    namespace: &str,
    id: i64,
    limit: i64,
) -> Result<Vec<super::deliveries::DeliveryView>> {
    let mut conn = reg.db.conn()?;
    let v = viewer(&mut conn, cred, &Origin::default(), namespace)?;
    visible(&mut conn, &v, id)?;
    super::deliveries::log(&mut conn, id, limit)
}

/// Sends a delivery again (with the same delivery id, a new timestamp and
/// signature): for a receiver that lost it or was down past the retries.
pub fn redeliver(
    reg: &Registry,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    id: i64,
    delivery: i64,
) -> Result<()> {
    let mut conn = reg.db.conn()?;
    let v = viewer(&mut conn, cred, origin, namespace)?;
    let s = visible(&mut conn, &v, id)?;
    if s.paused_at.is_some() {
        return Err(RegistryError::conflict(
            "subscription_paused",
            format!("subscription {id} is paused; resume it first"),
        ));
    }
    write_tx(&mut conn, |conn| {
        let found = diesel::update(
            deliveries::table
                .filter(deliveries::id.eq(delivery))
                .filter(deliveries::subscription_id.eq(id)),
        )
        .set((
            deliveries::state.eq(super::deliveries::State::Pending.as_str()),
            deliveries::retry_since.eq(now()),
            deliveries::finished_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
        if found == 0 {
            return Err(RegistryError::UnknownDelivery {
                subscription: id,
                delivery,
            });
        }
        // A delivery still waiting for its retry keeps its one job.
        let waiting: i64 = jobs::table
            .filter(jobs::kind.eq(super::jobs::Job::Deliver.as_str()))
            .filter(jobs::payload.eq(delivery.to_string()))
            .count()
            .get_result(conn)?;
        if waiting == 0 {
            super::deliveries::enqueue_deliveries(conn, &[delivery])?;
        } else {
            diesel::update(
                jobs::table
                    .filter(jobs::kind.eq(super::jobs::Job::Deliver.as_str()))
                    .filter(jobs::payload.eq(delivery.to_string()))
                    .filter(jobs::claimed_by.is_null()),
            )
            .set(jobs::run_after.eq(now()))
            .execute(conn)?;
        }
        audit::record(
            conn,
            &v.origin,
            AuditAction::Redeliver,
            Some(&v.ns.slug),
            &format!("subscription {id}"),
            serde_json::json!({ "delivery": delivery }),
        )?;
        Ok(())
    })?;
    reg.views_may_change();
    Ok(())
}
