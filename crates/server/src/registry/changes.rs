//! Changes made through other nodes, as PostgreSQL tells them. Every audit
//! entry (every change goes through one) sends a notification on
//! [`CHANNEL`] inside its transaction, so it is delivered when the change
//! commits and never for one rolled back. Each node listens on a connection
//! of its own and, per notification, drops its cached index file of the
//! package and wakes its job lanes and search follower, as after a change
//! of its own ([`Registry::package_changed`]).
//!
//! While the listener is connected, a cached index file needs no database
//! check; from the moment it is not (not yet connected, connection lost,
//! PostgreSQL restarted) every cached file is checked against the
//! package's `updated_at` again, and a reconnect starts from an empty cache,
//! since notifications sent meanwhile are lost. SQLite serves one node, so
//! there is nothing to listen for.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use super::error::Result;
use super::Registry;
use crate::store::DbConn;

pub const CHANNEL: &str = "gemeinwerk_changes";

/// How often the listener looks for notifications, and how often it asks
/// the server something to find a connection that died silently.
const POLL: Duration = Duration::from_millis(20);
const PING_EVERY: Duration = Duration::from_secs(10);

/// The listener's state, for the index cache and `/metrics`.
#[derive(Default)]
pub struct ChangeListener {
    connected: AtomicBool,
    received: AtomicU64,
}

impl ChangeListener {
    /// Whether every change of another node reaches this node now.
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    /// Notifications received since the node started.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

/// Tells the other nodes that `target` (an audit target: `ns/name@1.0.0`,
/// `ns/name`, a namespace or a login) changed. Call inside the change's
/// transaction.
pub fn notify(conn: &mut DbConn, target: &str) -> Result<()> {
    if let DbConn::Postgres(c) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(CHANNEL)
            .bind::<diesel::sql_types::Text, _>(target)
            .execute(c)?;
    }
    Ok(())
}

/// The package an audit target names, if it names one.
fn package_of(target: &str) -> Option<&str> {
    let name = target.split('@').next()?;
    name.contains('/').then_some(name)
}

/// Starts the listener thread (PostgreSQL only); it stops when `stop` is set.
pub fn spawn_listener(
    reg: Arc<Registry>,
    stop: Arc<AtomicBool>,
) -> Option<std::thread::JoinHandle<()>> {
    if reg.db.backend != crate::store::Backend::Postgres {
        return None;
    }
    let stopping = stop.clone();
    Some(super::supervisor::spawn(
        "gemeinwerk-changes",
        stop,
        move || {
            while !stopping.load(Ordering::SeqCst) {
                if let Err(e) = listen(&reg, &stopping) {
                    tracing::warn!(error = %e, "change listener lost PostgreSQL; cached index files are checked against the database until it is back");
                }
                reg.changes.connected.store(false, Ordering::SeqCst);
                if !stopping.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        },
    ))
}

fn listen(reg: &Registry, stop: &AtomicBool) -> std::result::Result<(), String> {
    let mut conn = diesel::PgConnection::establish(reg.db.url.connection_string())
        .map_err(|e| e.to_string())?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    // Whatever changed before LISTEN took effect was not told: start over.
    reg.index_cache.clear();
    reg.changes.connected.store(true, Ordering::SeqCst);
    tracing::info!("listening for changes made through other nodes");
    let mut pinged = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        let mut any = false;
        for notification in conn.notifications_iter() {
            let notification = notification.map_err(|e| e.to_string())?;
            reg.changes.received.fetch_add(1, Ordering::Relaxed);
            any = true;
            match package_of(&notification.payload) {
                Some(package) => reg.package_changed(package),
                // A namespace or an account: no index file, but search and
                // the views may still care.
                None => reg.views_may_change(),
            }
        }
        if !any && pinged.elapsed() >= PING_EVERY {
            diesel::sql_query("SELECT 1")
                .execute(&mut conn)
                .map_err(|e| e.to_string())?;
            pinged = Instant::now();
        }
        std::thread::sleep(POLL);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_targets_name_their_package() {
        assert_eq!(package_of("kassel/a@1.0.0"), Some("kassel/a"));
        assert_eq!(package_of("kassel/a"), Some("kassel/a"));
        assert_eq!(package_of("kassel"), None);
        assert_eq!(package_of("kassel-owner"), None);
    }
}
