//! Deliveries: each event fanned out to the subscriptions that want it, and
//! each delivery sent (a signed POST, or a mail) by the job queue's
//! webhook lane, with retries and exponential backoff for a day, a log of
//! every attempt, and an automatic pause of a subscription that keeps
//! failing.
//!
//! A delivery is sent at least once and recorded once: its id
//! (`X-Gemeinwerk-Delivery`) stays the same on every attempt and
//! redelivery, so a receiver that keeps the ids it processed does each
//! event exactly once in effect, even when a node dies between sending and
//! recording.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::audit::{self, AuditAction, Origin};
use super::error::{RegistryError, Result};
use super::events::Event;
use super::jobs::{self, Job};
use super::subscriptions::{Channel, SubScope};
use super::{webhook_target, Registry};
use crate::store::db::now;
use crate::store::models::JobRow;
use crate::store::schema::{
    deliveries, delivery_attempts, namespaces, subscription_events, subscriptions,
};
use crate::store::{write_tx, DbConn};

/// The operator's settings for sending (`serve --webhook-*`).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Whether private and loopback addresses may be called.
    pub allow_private: bool,
    /// How long one attempt may take, connecting and reading included.
    pub timeout: Duration,
    /// The wait before the first retry; it doubles with every failed
    /// attempt, up to [`MAX_BACKOFF`].
    pub retry_base: Duration,
    /// How long a delivery is retried before it is given up.
    pub retry_for: Duration,
    /// Failed attempts in a row after which a subscription is paused.
    pub pause_after: i32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_private: false,
            timeout: Duration::from_secs(5),
            retry_base: Duration::from_secs(30),
            retry_for: Duration::from_secs(24 * 3600),
            pause_after: 20,
        }
    }
}

/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// What is read of a receiver's answer; the rest is not waited for.
pub const RESPONSE_CAP: u64 = 64 * 1024;
/// What the log keeps of it.
const EXCERPT_CHARS: usize = 1000;
/// Deliveries sent at the same time by one node.
const SENDERS: usize = 16;
/// Deliveries of one subscription tried in one round: with the timeout,
/// what one round may wait for one receiver (4 × 5 s, well within the
/// job lease).
const PER_SUBSCRIPTION: usize = 4;
/// How long finished deliveries and their events are kept.
const KEEP_DAYS: i64 = 30;

/// Where a delivery stands. The stored spellings never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Delivered,
    /// Given up after the retry window.
    Failed,
    /// Held while its subscription is paused; sent when it resumes.
    Paused,
}

impl State {
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Delivered => "delivered",
            State::Failed => "failed",
            State::Paused => "paused",
        }
    }
}

/// Adds one delivery job per delivery id; call it in the transaction that
/// made the deliveries due.
pub fn enqueue_deliveries(conn: &mut DbConn, ids: &[i64]) -> Result<()> {
    for id in ids {
        jobs::enqueue(conn, Job::Deliver, &id.to_string())?;
    }
    Ok(())
}

/// Runs a batch of the webhook lane: fan-outs first (in event order), then
/// deliveries, those of one subscription one after another in event order
/// and different subscriptions side by side. Answers per job: done
/// (`Ok(None)`), due again at a time (`Ok(Some)`), or failed.
pub fn run_batch(reg: &Registry, batch: &[JobRow]) -> Vec<Result<Option<NaiveDateTime>>> {
    let mut outcomes: Vec<Option<Result<Option<NaiveDateTime>>>> =
        batch.iter().map(|_| None).collect();
    let mut sends: Vec<(usize, i64)> = Vec::new();
    for (i, job) in batch.iter().enumerate() {
        let id = match job.payload.parse::<i64>() {
            Ok(id) => id,
            Err(_) => {
                outcomes[i] = Some(Err(RegistryError::bad_request(
                    "invalid_job",
                    format!("bad id {:?}", job.payload),
                )));
                continue;
            }
        };
        match job.kind.parse::<Job>() {
            Ok(Job::FanOutEvent) => outcomes[i] = Some(fan_out(reg, id).map(|()| None)),
            Ok(Job::Deliver) => sends.push((i, id)),
            _ => outcomes[i] = Some(Ok(None)),
        }
    }
    if !sends.is_empty() {
        let groups = match group_by_subscription(reg, &sends) {
            Ok(g) => g,
            Err(e) => {
                let e = e.to_string();
                for (i, _) in &sends {
                    outcomes[*i] = Some(Err(RegistryError::Io(std::io::Error::other(e.clone()))));
                }
                return outcomes
                    .into_iter()
                    .map(|o| o.unwrap_or(Ok(None)))
                    .collect();
            }
        };
        let agent = agent(&reg.webhooks);
        let next = AtomicUsize::new(0);
        let sent: Mutex<Vec<(usize, Result<Option<NaiveDateTime>>)>> = Mutex::default();
        std::thread::scope(|scope| {
            for _ in 0..SENDERS.min(groups.len()) {
                scope.spawn(|| loop {
                    let Some(group) = groups.get(next.fetch_add(1, Ordering::SeqCst)) else {
                        return;
                    };
                    // After a failure the rest of the group waits with
                    // it: in order, and no hammering of a receiver that is
                    // down; beyond the first few, the rest waits for the
                    // next round, so that one slow receiver keeps the
                    // round within the lease.
                    let mut held: Option<NaiveDateTime> = None;
                    for (k, &(i, id)) in group.iter().enumerate() {
                        let outcome = match held {
                            Some(until) => Ok(Some(until)),
                            None if k >= PER_SUBSCRIPTION => Ok(Some(now())),
                            None => attempt(reg, &agent, id),
                        };
                        if let Ok(Some(until)) = outcome {
                            held = Some(until);
                        }
                        sent.lock().expect("outcomes lock").push((i, outcome));
                    }
                });
            }
        });
        for (i, outcome) in sent.into_inner().expect("outcomes lock") {
            outcomes[i] = Some(outcome);
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Ok(None)))
        .collect()
}

/// The batch's deliveries by subscription, each group in delivery (event)
/// order; a delivery that is gone forms a group of its own (it ends at once).
fn group_by_subscription(reg: &Registry, sends: &[(usize, i64)]) -> Result<Vec<Vec<(usize, i64)>>> {
    let ids: Vec<i64> = sends.iter().map(|(_, id)| *id).collect();
    let mut conn = reg.db.conn()?;
    let owners: BTreeMap<i64, i64> = deliveries::table
        .filter(deliveries::id.eq_any(&ids))
        .select((deliveries::id, deliveries::subscription_id))
        .load::<(i64, i64)>(&mut *conn)?
        .into_iter()
        .collect();
    let mut groups: BTreeMap<i64, Vec<(usize, i64)>> = BTreeMap::new();
    for &(i, id) in sends {
        let key = owners.get(&id).copied().unwrap_or(-id);
        groups.entry(key).or_default().push((i, id));
    }
    Ok(groups
        .into_values()
        .map(|mut g| {
            g.sort_by_key(|(_, id)| *id);
            g
        })
        .collect())
}

/// Makes the deliveries of one event: one per subscription that follows its
/// package and wants its kind, unless it has one already (a fan-out run
/// again adds none).
pub fn fan_out(reg: &Registry, event_id: i64) -> Result<()> {
    let mut conn = reg.db.conn()?;
    let found: Option<(String, String, String)> = subscription_events::table
        .find(event_id)
        .select((
            subscription_events::event,
            subscription_events::package,
            subscription_events::payload,
        ))
        .first(&mut *conn)
        .optional()?;
    let Some((event, package, payload)) = found else {
        return Ok(());
    };
    let namespace = package.split_once('/').map_or("", |(ns, _)| ns);
    let mut following = namespaces_following(&mut conn, &package)?;
    following.sort_unstable();
    following.dedup();
    let mut candidates: Vec<(i64, String, String)> = subscriptions::table
        .filter(subscriptions::paused_at.is_null())
        .filter(
            subscriptions::scope
                .eq(SubScope::Package.as_str())
                .and(subscriptions::target.eq(&package))
                .or(subscriptions::scope
                    .eq(SubScope::Namespace.as_str())
                    .and(subscriptions::target.eq(namespace))),
        )
        .select((
            subscriptions::id,
            subscriptions::events,
            subscriptions::channel,
        ))
        .load(&mut *conn)?;
    for chunk in following.chunks(1000) {
        candidates.extend(
            subscriptions::table
                .filter(subscriptions::paused_at.is_null())
                .filter(subscriptions::scope.eq(SubScope::Upstream.as_str()))
                .filter(subscriptions::namespace_id.eq_any(chunk))
                .select((
                    subscriptions::id,
                    subscriptions::events,
                    subscriptions::channel,
                ))
                .load::<(i64, String, String)>(&mut *conn)?,
        );
    }
    let mailing = reg.mailer.is_some();
    let wanted: Vec<i64> = candidates
        .into_iter()
        .filter(|(_, events, _)| events.split(',').any(|e| e == event))
        .filter(|(_, _, channel)| channel != Channel::Email.as_str() || mailing)
        .map(|(id, _, _)| id)
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    // What a release changed, as the feeds say it: computed here, once per
    // event with subscribers, not in the publish's transaction.
    let summary = match event.as_str() {
        "published" => with_summary(reg, &package, &payload)?,
        _ => None,
    };
    write_tx(&mut conn, |conn| {
        if let Some(payload) = &summary {
            diesel::update(subscription_events::table.find(event_id))
                .set(subscription_events::payload.eq(payload))
                .execute(conn)?;
        }
        let had: Vec<i64> = deliveries::table
            .filter(deliveries::event_id.eq(event_id))
            .select(deliveries::subscription_id)
            .load(conn)?;
        let new: Vec<i64> = wanted.into_iter().filter(|s| !had.contains(s)).collect();
        // One delivery id prefix per event, the subscription's id after it.
        let salt = format!("{}-", guid());
        for chunk in new.chunks(1000) {
            insert_deliveries(conn, event_id, &salt, chunk)?;
        }
        Ok::<_, RegistryError>(())
    })?;
    tracing::debug!(event_id, event = %event, package = %package, "event fanned out");
    Ok(())
}

/// The namespaces with a package that forks `package` or depends on it
/// (in any version). SQLite keeps no statistics per value, so a popular
/// dependency's count stands for every name and its planner scans both
/// tables; the indexes are named for it.
fn namespaces_following(conn: &mut DbConn, package: &str) -> Result<Vec<i64>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        namespace_id: i64,
    }
    let (p, forks, deps) = match conn {
        DbConn::Postgres(_) => ("$1", "", ""),
        DbConn::Sqlite(_) => (
            "?1",
            " INDEXED BY packages_upstream",
            " INDEXED BY dependencies_dep_name",
        ),
    };
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT namespace_id FROM packages{forks} WHERE upstream = {p} \
         UNION SELECT p.namespace_id FROM dependencies{deps} \
         JOIN versions v ON v.id = dependencies.version_id \
         JOIN packages p ON p.id = v.package_id WHERE dependencies.dep_name = {p}"
    ))
    .bind::<diesel::sql_types::Text, _>(package)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.namespace_id).collect())
}

/// The event's payload with the German summary of the release added;
/// `None` when it has one already (a fan-out run again).
fn with_summary(reg: &Registry, package: &str, payload: &str) -> Result<Option<String>> {
    let mut map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(payload).unwrap_or_default();
    if map.contains_key("summary") {
        return Ok(None);
    }
    let version = map.get("version").and_then(|v| v.as_str()).unwrap_or("");
    let (ns, name) = package.split_once('/').unwrap_or((package, ""));
    let summary = super::feeds::release_summary(reg, ns, name, version)?;
    map.insert("summary".into(), summary.into());
    Ok(Some(serde_json::Value::Object(map).to_string()))
}

/// Makes the deliveries of `event_id` to `subscriptions`, and a job for
/// each, in two statements: a fan-out to thousands of subscriptions must
/// not cost thousands of round trips. The ids are the database's own
/// (from the query above), not input.
fn insert_deliveries(
    conn: &mut DbConn,
    event_id: i64,
    salt: &str,
    subscriptions: &[i64],
) -> Result<()> {
    use diesel::sql_types::{BigInt, Text, Timestamp};
    let ids = subscriptions
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let p: [&str; 4] = match conn {
        DbConn::Postgres(_) => ["$1", "$2", "$3", "$4"],
        DbConn::Sqlite(_) => ["?"; 4],
    };
    let at = now();
    diesel::sql_query(format!(
        "INSERT INTO deliveries (guid, subscription_id, event_id, state, attempts, created_at, retry_since) \
         SELECT {} || CAST(s.id AS TEXT), s.id, {}, '{}', 0, {}, {} FROM subscriptions s WHERE s.id IN ({ids})",
        p[0], p[1], State::Pending.as_str(), p[2], p[3]
    ))
    .bind::<Text, _>(salt)
    .bind::<BigInt, _>(event_id)
    .bind::<Timestamp, _>(at)
    .bind::<Timestamp, _>(at)
    .execute(conn)?;
    diesel::sql_query(format!(
        "INSERT INTO jobs (kind, payload, attempts, run_after, created_at) \
         SELECT '{}', CAST(d.id AS TEXT), 0, {}, {} FROM deliveries d \
         WHERE d.event_id = {} AND d.subscription_id IN ({ids})",
        Job::Deliver.as_str(),
        p[0],
        p[1],
        p[2]
    ))
    .bind::<Timestamp, _>(at)
    .bind::<Timestamp, _>(at)
    .bind::<BigInt, _>(event_id)
    .execute(conn)?;
    Ok(())
}

/// A delivery id: 128 random bits in hex.
fn guid() -> String {
    super::secrets::random_hex()[..32].to_string()
}

/// The HTTP client of one batch: no redirects followed, every name
/// resolved through the address check, one timeout for the whole attempt.
fn agent(settings: &WebhookSettings) -> ureq::Agent {
    let allow_private = settings.allow_private;
    ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(settings.timeout)
        .user_agent(concat!("gemeinwerk-webhook/", env!("CARGO_PKG_VERSION")))
        .resolver(move |netloc: &str| -> std::io::Result<Vec<SocketAddr>> {
            if allow_private {
                return netloc.to_socket_addrs().map(Iterator::collect);
            }
            let (host, port) = netloc
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
                .ok_or_else(|| std::io::Error::other(format!("bad address {netloc}")))?;
            webhook_target::resolve_public(host, port)
        })
        .build()
}

/// The signature a receiver checks: HMAC-SHA256 with the subscription's
/// secret over `"{timestamp}.{body}"`, in hex. The timestamp is signed with
/// the body, so a captured delivery cannot be replayed later under a fresh
/// timestamp; the receiver refuses timestamps older than a few minutes.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// What one attempt gave.
struct Attempt {
    ok: bool,
    status_code: Option<i32>,
    excerpt: Option<String>,
    error: Option<String>,
}

impl Attempt {
    fn failed(error: String) -> Attempt {
        Attempt {
            ok: false,
            status_code: None,
            excerpt: None,
            error: Some(error),
        }
    }
}

/// A delivery with what sending it needs: its subscription and event.
#[derive(Queryable)]
struct Due {
    guid: String,
    state: String,
    attempts: i32,
    retry_since: NaiveDateTime,
    sub_id: i64,
    ns: String,
    channel: String,
    scope: String,
    target: Option<String>,
    url: Option<String>,
    secret: Option<String>,
    email: Option<String>,
    paused_at: Option<NaiveDateTime>,
    event_id: i64,
    event: String,
    payload: String,
}

/// One attempt at one delivery, recorded.
fn attempt(reg: &Registry, agent: &ureq::Agent, delivery_id: i64) -> Result<Option<NaiveDateTime>> {
    let due: Option<Due> = {
        let mut conn = reg.db.conn()?;
        deliveries::table
            .inner_join(subscriptions::table.inner_join(namespaces::table))
            .inner_join(subscription_events::table)
            .filter(deliveries::id.eq(delivery_id))
            .select((
                deliveries::guid,
                deliveries::state,
                deliveries::attempts,
                deliveries::retry_since,
                subscriptions::id,
                namespaces::slug,
                subscriptions::channel,
                subscriptions::scope,
                subscriptions::target,
                subscriptions::url,
                subscriptions::secret,
                subscriptions::email,
                subscriptions::paused_at,
                subscription_events::id,
                subscription_events::event,
                subscription_events::payload,
            ))
            .first(&mut *conn)
            .optional()?
    };
    // Gone with its subscription, or finished by an earlier claim.
    let Some(d) = due.filter(|d| d.state == State::Pending.as_str()) else {
        return Ok(None);
    };
    if d.paused_at.is_some() {
        let mut conn = reg.db.conn()?;
        diesel::update(deliveries::table.find(delivery_id))
            .set(deliveries::state.eq(State::Paused.as_str()))
            .execute(&mut *conn)?;
        return Ok(None);
    }
    let mut body: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&d.payload).unwrap_or_default();
    body.insert("event_id".into(), d.event_id.into());
    let registry = reg.config.base_url.trim_end_matches('/');
    if let Some(package) = body.get("package").and_then(|p| p.as_str()) {
        let page = format!("{registry}/pakete/{package}");
        body.insert("url".into(), page.into());
    }
    body.insert("registry".into(), registry.into());
    body.insert(
        "subscription".into(),
        serde_json::json!({ "id": d.sub_id, "namespace": d.ns, "scope": d.scope, "target": d.target }),
    );
    let started = Instant::now();
    let outcome = match (d.channel.as_str(), &d.url, &d.secret, &d.email) {
        ("webhook", Some(url), Some(secret), _) => {
            let body = serde_json::Value::Object(body).to_string();
            send_webhook(agent, url, secret, &d.guid, &d.event, body.as_bytes())
        }
        ("email", _, _, Some(to)) => send_mail(reg, to, &d.event, &body),
        _ => Attempt::failed(format!(
            "subscription {} has no address to send to",
            d.sub_id
        )),
    };
    let latency = started.elapsed();
    record_attempt(
        reg,
        delivery_id,
        d.sub_id,
        &d.ns,
        d.attempts + 1,
        d.retry_since,
        latency,
        outcome,
    )
}

fn send_mail(
    reg: &Registry,
    to: &str,
    event: &str,
    body: &serde_json::Map<String, serde_json::Value>,
) -> Attempt {
    let Some(mailer) = &reg.mailer else {
        return Attempt::failed("this registry has no SMTP settings any more".into());
    };
    let sent = event
        .parse::<Event>()
        .and_then(|e| mailer.send_event(to, e, body));
    match sent {
        Ok(reply) => Attempt {
            ok: true,
            status_code: None,
            excerpt: Some(reply),
            error: None,
        },
        Err(e) => Attempt::failed(e),
    }
}

fn send_webhook(
    agent: &ureq::Agent,
    url: &str,
    secret: &str,
    guid: &str,
    event: &str,
    body: &[u8],
) -> Attempt {
    let timestamp = chrono::Utc::now().timestamp();
    let answer = agent
        .post(url)
        .set("Content-Type", "application/json")
        .set("X-Gemeinwerk-Event", event)
        .set("X-Gemeinwerk-Delivery", guid)
        .set("X-Gemeinwerk-Timestamp", &timestamp.to_string())
        .set(
            "X-Gemeinwerk-Signature",
            &format!("sha256={}", signature(secret, timestamp, body)),
        )
        .send_bytes(body);
    let (response, status) = match answer {
        Ok(r) => {
            let status = r.status();
            (r, status)
        }
        Err(ureq::Error::Status(status, r)) => (r, status),
        Err(ureq::Error::Transport(t)) => return Attempt::failed(transport_error(&t)),
    };
    let location = response.header("Location").map(str::to_string);
    let mut read = Vec::new();
    let excerpt = match response
        .into_reader()
        .take(RESPONSE_CAP)
        .read_to_end(&mut read)
    {
        Ok(_) => Some(
            String::from_utf8_lossy(&read)
                .chars()
                .take(EXCERPT_CHARS)
                .collect(),
        ),
        Err(e) => {
            return Attempt {
                ok: false,
                status_code: Some(status.into()),
                excerpt: None,
                error: Some(format!("reading the answer failed: {e}")),
            }
        }
    };
    let error = match status {
        200..=299 => None,
        300..=399 => Some(format!(
            "the receiver redirects (to {}); redirects are not followed",
            location.as_deref().unwrap_or("nowhere")
        )),
        _ => Some(format!("the receiver answered {status}")),
    };
    Attempt {
        ok: error.is_none(),
        status_code: Some(status.into()),
        excerpt,
        error,
    }
}

fn transport_error(t: &ureq::Transport) -> String {
    let text = t.to_string();
    if text.to_lowercase().contains("timed out") || text.contains("timeout") {
        format!("no answer within the time allowed: {text}")
    } else {
        text
    }
}

/// Records an attempt: delivered, due again after the backoff, given up
/// after the retry window, or held because the subscription is now paused.
#[allow(clippy::too_many_arguments)]
fn record_attempt(
    reg: &Registry,
    delivery_id: i64,
    sub_id: i64,
    ns: &str,
    attempts: i32,
    retry_since: NaiveDateTime,
    latency: Duration,
    a: Attempt,
) -> Result<Option<NaiveDateTime>> {
    let settings = &reg.webhooks;
    let at = now();
    let mut conn = reg.db.conn()?;
    write_tx(&mut conn, |conn| {
        diesel::insert_into(delivery_attempts::table)
            .values((
                delivery_attempts::delivery_id.eq(delivery_id),
                delivery_attempts::attempted_at.eq(at),
                delivery_attempts::status_code.eq(a.status_code),
                delivery_attempts::latency_ms.eq(latency.as_millis() as i64),
                delivery_attempts::response_excerpt.eq(&a.excerpt),
                delivery_attempts::error.eq(&a.error),
            ))
            .execute(conn)?;
        if a.ok {
            diesel::update(deliveries::table.find(delivery_id))
                .set((
                    deliveries::state.eq(State::Delivered.as_str()),
                    deliveries::attempts.eq(attempts),
                    deliveries::finished_at.eq(Some(at)),
                ))
                .execute(conn)?;
            diesel::update(subscriptions::table.find(sub_id))
                .set(subscriptions::failures_in_row.eq(0))
                .execute(conn)?;
            return Ok(None);
        }
        let failures: i32 = diesel::update(subscriptions::table.find(sub_id))
            .set(subscriptions::failures_in_row.eq(subscriptions::failures_in_row + 1))
            .returning(subscriptions::failures_in_row)
            .get_result(conn)?;
        if failures >= settings.pause_after {
            let reason = format!(
                "{failures} failed attempts in a row; the last: {}",
                a.error.as_deref().unwrap_or("failed")
            );
            let paused = diesel::update(
                subscriptions::table
                    .find(sub_id)
                    .filter(subscriptions::paused_at.is_null()),
            )
            .set((
                subscriptions::paused_at.eq(Some(at)),
                subscriptions::pause_reason.eq(Some(&reason)),
            ))
            .execute(conn)?;
            if paused > 0 {
                tracing::warn!(subscription = sub_id, namespace = ns, %reason, "subscription paused");
                audit::record(
                    conn,
                    // Not a login (logins have no parentheses), not the
                    // operator: the registry itself.
                    &Origin {
                        actor: Some("(webhook-runner)".into()),
                        client_addr: None,
                    },
                    AuditAction::SubscriptionPause,
                    Some(ns),
                    &format!("subscription {sub_id}"),
                    serde_json::json!({ "reason": reason }),
                )?;
            }
            diesel::update(deliveries::table.find(delivery_id))
                .set((
                    deliveries::state.eq(State::Paused.as_str()),
                    deliveries::attempts.eq(attempts),
                ))
                .execute(conn)?;
            return Ok(None);
        }
        let wait = backoff(settings, attempts);
        let next = at + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        let window_end = retry_since
            + chrono::Duration::from_std(settings.retry_for).unwrap_or(chrono::Duration::MAX);
        if next > window_end {
            diesel::update(deliveries::table.find(delivery_id))
                .set((
                    deliveries::state.eq(State::Failed.as_str()),
                    deliveries::attempts.eq(attempts),
                    deliveries::finished_at.eq(Some(at)),
                ))
                .execute(conn)?;
            return Ok(None);
        }
        diesel::update(deliveries::table.find(delivery_id))
            .set(deliveries::attempts.eq(attempts))
            .execute(conn)?;
        Ok(Some(next))
    })
}

/// The wait after the `attempts`-th failed attempt: the base, doubled for
/// each earlier failure, at most [`MAX_BACKOFF`].
pub fn backoff(settings: &WebhookSettings, attempts: i32) -> Duration {
    let doublings = (attempts.max(1) - 1).min(20) as u32;
    settings
        .retry_base
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(MAX_BACKOFF)
}

#[derive(Debug, Clone, Serialize)]
pub struct AttemptView {
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub id: i64,
    /// What the receiver got as `X-Gemeinwerk-Delivery`.
    pub guid: String,
    pub event: String,
    pub event_id: i64,
    pub package: String,
    pub state: String,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptView>,
}

impl DeliveryView {
    pub fn last(&self) -> Option<&AttemptView> {
        self.attempts.last()
    }
}

/// The newest `limit` deliveries of a subscription, with their attempts.
pub fn log(conn: &mut DbConn, subscription: i64, limit: i64) -> Result<Vec<DeliveryView>> {
    type Row = (
        i64,
        String,
        String,
        i64,
        String,
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = deliveries::table
        .inner_join(subscription_events::table)
        .filter(deliveries::subscription_id.eq(subscription))
        .order(deliveries::id.desc())
        .limit(limit.clamp(1, 500))
        .select((
            deliveries::id,
            deliveries::guid,
            subscription_events::event,
            subscription_events::id,
            subscription_events::package,
            deliveries::state,
            deliveries::created_at,
            deliveries::finished_at,
        ))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut attempts: BTreeMap<i64, Vec<AttemptView>> = BTreeMap::new();
    for (delivery, attempted_at, status_code, latency_ms, response_excerpt, error) in
        delivery_attempts::table
            .filter(delivery_attempts::delivery_id.eq_any(&ids))
            .order(delivery_attempts::id)
            .select((
                delivery_attempts::delivery_id,
                delivery_attempts::attempted_at,
                delivery_attempts::status_code,
                delivery_attempts::latency_ms,
                delivery_attempts::response_excerpt,
                delivery_attempts::error,
            ))
            .load::<(
                i64,
                NaiveDateTime,
                Option<i32>,
                i64,
                Option<String>,
                Option<String>,
            )>(conn)?
    {
        attempts.entry(delivery).or_default().push(AttemptView {
            attempted_at,
            status_code,
            latency_ms,
            response_excerpt,
            error,
        });
    }
    Ok(rows
        .into_iter()
        .map(
            |(id, guid, event, event_id, package, state, created_at, finished_at)| DeliveryView {
                attempts: attempts.remove(&id).unwrap_or_default(),
                id,
                guid,
                event,
                event_id,
                package,
                state,
                created_at,
                finished_at,
            },
        )
        .collect())
}

/// Drops finished deliveries (and their attempts) and events older than
/// [`KEEP_DAYS`]: the log is for finding out what happened lately, and its
/// size must not follow the registry's age.
pub fn prune(conn: &mut DbConn) -> Result<usize> {
    let before = now() - chrono::Duration::days(KEEP_DAYS);
    let finished = diesel::delete(
        deliveries::table
            .filter(deliveries::finished_at.lt(before))
            .filter(deliveries::state.eq_any([State::Delivered.as_str(), State::Failed.as_str()])),
    )
    .execute(conn)?;
    let kept = deliveries::table.select(deliveries::event_id);
    let events = diesel::delete(
        subscription_events::table
            .filter(subscription_events::created_at.lt(before))
            .filter(subscription_events::id.ne_all(kept)),
    )
    .execute(conn)?;
    Ok(finished + events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_an_hour() {
        let s = WebhookSettings::default();
        assert_eq!(backoff(&s, 1), Duration::from_secs(30));
        assert_eq!(backoff(&s, 2), Duration::from_secs(60));
        assert_eq!(backoff(&s, 4), Duration::from_secs(240));
        assert_eq!(backoff(&s, 8), MAX_BACKOFF);
        assert_eq!(backoff(&s, 1000), MAX_BACKOFF);
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Computed with Python's hmac module, an independent implementation.
        assert_eq!(
            signature("Jefe", 1_700_000_000, br#"{"event":"published"}"#),
            "570d4683562258e2bcd19eff5f90fa0501ecea07aa446d76ea85f4cdf769837a"
        );
    }
}
