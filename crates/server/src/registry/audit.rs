//! The audit log: every mutation with actor, time, target and client address.

use std::fmt;
use std::str::FromStr;

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

/// What an audit entry records. The column `audit_log.action` keeps the
/// text of [`AuditAction::as_str`]: those spellings are what existing
/// databases hold, so they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    NamespaceAdd,
    UserAdd,
    MemberAdd,
    MemberRemove,
    TokenCreate,
    TokenRevoke,
    Publish,
    Yank,
    Unyank,
    Deprecate,
    Undeprecate,
    Fork,
    /// A web sign-in with a token.
    SignIn,
    /// A web sign-in refused (unknown, malformed, revoked or expired token).
    SignInFailed,
    /// A namespace's owner registered a trusted publisher.
    TrustedPublisherAdd,
    /// … or removed one (its live tokens are revoked with it).
    TrustedPublisherRemove,
    /// A pipeline exchanged its ID token for a short-lived publish token.
    TrustedTokenCreate,
    /// An owner ended every web session of a member.
    SessionsEnd,
    /// The operator removed a user.
    UserRemove,
    /// A publisher published an advisory for a package.
    Advisory,
    /// An owner made a webhook, or a member asked for mails.
    SubscriptionAdd,
    /// … or removed it.
    SubscriptionRemove,
    /// The webhook runner paused a subscription that kept failing.
    SubscriptionPause,
    /// An owner (or the mail's member) lifted the pause.
    SubscriptionResume,
    /// A delivery was sent again on request.
    Redeliver,
}

impl AuditAction {
    pub const ALL: [AuditAction; 25] = [
        AuditAction::NamespaceAdd,
        AuditAction::UserAdd,
        AuditAction::MemberAdd,
        AuditAction::MemberRemove,
        AuditAction::TokenCreate,
        AuditAction::TokenRevoke,
        AuditAction::Publish,
        AuditAction::Yank,
        AuditAction::Unyank,
        AuditAction::Deprecate,
        AuditAction::Undeprecate,
        AuditAction::Fork,
        AuditAction::SignIn,
        AuditAction::SignInFailed,
        AuditAction::TrustedPublisherAdd,
        AuditAction::TrustedPublisherRemove,
        AuditAction::TrustedTokenCreate,
        AuditAction::SessionsEnd,
        AuditAction::UserRemove,
        AuditAction::Advisory,
        AuditAction::SubscriptionAdd,
        AuditAction::SubscriptionRemove,
        AuditAction::SubscriptionPause,
        AuditAction::SubscriptionResume,
        AuditAction::Redeliver,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AuditAction::NamespaceAdd => "namespace_add",
            AuditAction::UserAdd => "user_add",
            AuditAction::MemberAdd => "member_add",
            AuditAction::MemberRemove => "member_remove",
            AuditAction::TokenCreate => "token_create",
            AuditAction::TokenRevoke => "token_revoke",
            AuditAction::Publish => "publish",
            AuditAction::Yank => "yank",
            AuditAction::Unyank => "unyank",
            AuditAction::Deprecate => "deprecate",
            AuditAction::Undeprecate => "undeprecate",
            AuditAction::Fork => "fork",
            AuditAction::SignIn => "sign_in",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::TrustedPublisherAdd => "trusted_publisher_add",
            AuditAction::TrustedPublisherRemove => "trusted_publisher_remove",
            AuditAction::TrustedTokenCreate => "trusted_token_create",
            AuditAction::SessionsEnd => "sessions_end",
            AuditAction::UserRemove => "user_remove",
            AuditAction::Advisory => "advisory",
            AuditAction::SubscriptionAdd => "subscription_add",
            AuditAction::SubscriptionRemove => "subscription_remove",
            AuditAction::SubscriptionPause => "subscription_pause",
            AuditAction::SubscriptionResume => "subscription_resume",
            AuditAction::Redeliver => "redeliver",
        }
    }

    /// Whether the entry's target is a package (`ns/name`, or
    /// `ns/name@version`) whose published data changed with it.
    pub const fn targets_package(self) -> bool {
        match self {
            AuditAction::Publish
            | AuditAction::Yank
            | AuditAction::Unyank
            | AuditAction::Deprecate
            | AuditAction::Undeprecate
            | AuditAction::Fork => true,
            AuditAction::NamespaceAdd
            | AuditAction::UserAdd
            | AuditAction::MemberAdd
            | AuditAction::MemberRemove
            | AuditAction::TokenCreate
            | AuditAction::TokenRevoke
            | AuditAction::SignIn
            | AuditAction::SignInFailed
            | AuditAction::TrustedPublisherAdd
            | AuditAction::TrustedPublisherRemove
            | AuditAction::TrustedTokenCreate
            | AuditAction::SessionsEnd
            | AuditAction::UserRemove
            | AuditAction::Advisory
            | AuditAction::SubscriptionAdd
            | AuditAction::SubscriptionRemove
            | AuditAction::SubscriptionPause
            | AuditAction::SubscriptionResume
            | AuditAction::Redeliver => false,
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored action this build does not know: written by a newer release,
/// or by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAuditAction(pub String);

impl fmt::Display for UnknownAuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown audit action {:?}", self.0)
    }
}

impl std::error::Error for UnknownAuditAction {}

impl FromStr for AuditAction {
    type Err = UnknownAuditAction;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        AuditAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAuditAction(s.to_string()))
    }
}

pub fn record(
    conn: &mut DbConn,
    origin: &Origin,
    action: AuditAction,
    namespace: Option<&str>,
    target: &str,
    details: serde_json::Value,
) -> Result<i64> {
    let id = diesel::insert_into(audit_log::table)
        .values((
            audit_log::created_at.eq(now()),
            audit_log::actor.eq(origin.actor.as_deref().unwrap_or("admin")),
            audit_log::action.eq(action.as_str()),
            audit_log::namespace.eq(namespace),
            audit_log::target.eq(target),
            audit_log::details.eq(details.to_string()),
            audit_log::client_addr.eq(origin.client_addr.as_deref()),
        ))
        .returning(audit_log::id)
        .get_result(conn)?;
    super::changes::notify(conn, target)?;
    Ok(id)
}

/// An entry as stored: `action` is the stored text, so that an action this
/// build does not know is still listed as it was written.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_stored_text() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(action));
        }
    }

    #[test]
    fn the_stored_spellings_stay_as_they_were() {
        let stored: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            stored,
            [
                "namespace_add",
                "user_add",
                "member_add",
                "member_remove",
                "token_create",
                "token_revoke",
                "publish",
                "yank",
                "unyank",
                "deprecate",
                "undeprecate",
                "fork",
                "sign_in",
                "sign_in_failed",
                "trusted_publisher_add",
                "trusted_publisher_remove",
                "trusted_token_create",
                "sessions_end",
                "user_remove",
                "advisory",
                "subscription_add",
                "subscription_remove",
                "subscription_pause",
                "subscription_resume",
                "redeliver",
            ]
        );
    }

    #[test]
    fn an_unknown_stored_action_is_an_error_that_names_it() {
        let err = "x".parse::<AuditAction>().unwrap_err();
        assert_eq!(err, UnknownAuditAction("x".into()));
    }
}
