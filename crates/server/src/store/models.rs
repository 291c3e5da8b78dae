//! Rows as read from the database.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = namespaces)]
pub struct Namespace {
    pub id: i64,
    pub slug: String,
    pub display_name: String,
    pub ars: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub created_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub token_hash: String,
    pub scopes: String,
    pub namespace_id: Option<i64>,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = packages)]
pub struct Package {
    pub id: i64,
    pub namespace_id: i64,
    pub name: String,
    pub kind: String,
    pub title: Option<String>,
    pub description: String,
    pub deprecated: Option<String>,
    pub downloads: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// `ns/name@version` the package currently builds on: set when the fork
    /// is registered and moved by every publish that names a new upstream.
    pub forked_from: Option<String>,
    /// Downloads of the last 90 days (UTC days), kept by the download
    /// flusher and its daily roll-off.
    pub recent_downloads: i64,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = versions)]
pub struct Version {
    pub id: i64,
    pub package_id: i64,
    pub num: String,
    pub canonical_num: String,
    pub cksum: String,
    pub size: i64,
    pub manifest: String,
    pub forked_from: Option<String>,
    pub yanked_at: Option<NaiveDateTime>,
    pub yank_reason: Option<String>,
    pub published_by: Option<i64>,
    pub downloads: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub created_at: NaiveDateTime,
    pub actor: Option<String>,
    pub action: String,
    pub namespace: Option<String>,
    pub target: String,
    pub details: String,
    pub client_addr: Option<String>,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// Claims so far, this one included: a job whose node keeps dying
    /// while running it is parked like one that keeps failing.
    pub attempts: i32,
    pub last_error: Option<String>,
    /// When it is due; while claimed, when the claim's lease runs out.
    pub run_after: NaiveDateTime,
    pub created_at: NaiveDateTime,
    /// The node that runs it now ([`crate::registry::node`]).
    pub claimed_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = trusted_publishers)]
pub struct TrustedPublisher {
    pub id: i64,
    pub namespace_id: i64,
    pub package: Option<String>,
    pub issuer: String,
    pub project: String,
    pub ref_pattern: Option<String>,
    pub environment: Option<String>,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}
