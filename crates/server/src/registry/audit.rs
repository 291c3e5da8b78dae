//! The audit log: every mutation with actor, time, target and client address.

use diesel::prelude::*;
use serde::Serialize;

use super::error::Result;
use crate::store::db::now;
use crate::store::models::AuditEntry;
use crate::store::schema::audit_log;
use crate::store::DbConn;

/// Who acts and from where, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The acting user's login; `None` for the operator's `admin` commands.
    pub actor: Option<String>,
    pub client_addr: Option<String>,
}

impl Origin {
    pub fn admin() -> Self {
        Origin {
            actor: None,
            client_addr: Some("admin-cli".into()),
        }
    }
}

pub fn record(
    conn: &mut DbConn,
    origin: &Origin,
    action: &str,
    namespace: Option<&str>,
    target: &str,
    details: serde_json::Value,
) -> Result<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::created_at.eq(now()),
            audit_log::actor.eq(origin.actor.as_deref().unwrap_or("admin")),
            audit_log::action.eq(action),
            audit_log::namespace.eq(namespace),
            audit_log::target.eq(target),
            audit_log::details.eq(details.to_string()),
            audit_log::client_addr.eq(origin.client_addr.as_deref()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct AuditView {
    pub id: i64,
    pub at: chrono::NaiveDateTime,
    pub actor: Option<String>,
    pub action: String,
    pub target: String,
    pub details: serde_json::Value,
    pub client_addr: Option<String>,
}

/// The newest entries of a namespace first.
pub fn list(conn: &mut DbConn, namespace: &str, limit: i64) -> Result<Vec<AuditView>> {
    let rows: Vec<AuditEntry> = audit_log::table
        .filter(audit_log::namespace.eq(namespace))
        .order(audit_log::id.desc())
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| AuditView {
            id: r.id,
            at: r.created_at,
            actor: r.actor,
            action: r.action,
            target: r.target,
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
            client_addr: r.client_addr,
        })
        .collect())
}
