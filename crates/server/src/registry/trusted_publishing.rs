//! Trusted publishing: a namespace's owners register the CI pipelines
//! that may publish (an issuer's project, optionally a ref pattern and an
//! environment, for one package or the whole namespace), and such a
//! pipeline exchanges its OIDC ID token for a publish token that lives
//! [`TOKEN_MINUTES`] minutes, as on crates.io and PyPI. No long-lived
//! secret sits in the pipeline's settings.
//!
//! The short-lived token is an API token row (scope `publish`, restricted
//! to the registration's namespace) of the owner who registered the
//! publisher, with a `trusted_exchanges` row that ties it to the
//! registration and the pipeline; that row's unique `(issuer, jti)`
//! refuses an ID token spent twice.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::accounts::require_owner;
use super::audit::{self, AuditAction, Origin};
use super::auth::{find_namespace, insert_token, Credential, TrustedGrant};
use super::error::{RegistryError, Result};
use super::id_tokens::{self, normalize_issuer, CiIssuers, Pipeline};
use super::rate_limits::{Limited, RateLimits};
use super::sessions;
use crate::store::db::now;
use crate::store::models::TrustedPublisher;
use crate::store::schema::{api_tokens, namespaces, trusted_exchanges, trusted_publishers, users};
use crate::store::{write_tx, DbConn};
use gemeinwerk_package::names::{check_slug, split_full_name};

/// How long a token from an exchange lives: one publish needs seconds.
/// (PyPI's live 15 minutes, crates.io's 30.)
pub const TOKEN_MINUTES: i64 = 15;

pub mod codes {
    /// No registration names the token's project at its issuer.
    pub const NO_PUBLISHER: &str = "no_trusted_publisher";
    /// The project is registered, but not for the token's ref.
    pub const REF_REFUSED: &str = "trusted_publisher_ref_refused";
    /// The project is registered, but for another environment.
    pub const ENVIRONMENT_REFUSED: &str = "trusted_publisher_environment_refused";
    /// Several registrations fit and the request named no package.
    pub const AMBIGUOUS: &str = "trusted_publisher_ambiguous";
    /// A publish outside what the registration allows.
    pub const OUTSIDE_REGISTRATION: &str = "outside_trusted_publisher";
    /// The short-lived token tried something other than publishing.
    pub const TOKEN_LIMITED: &str = "trusted_token_limited";
}

/// A registration as its namespace's owners see and make it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PublisherRequest {
    /// One package of the namespace (its name, without the namespace);
    /// none: every package of it, new ones too.
    pub package: Option<String>,
    pub issuer: String,
    pub project: String,
    pub ref_pattern: Option<String>,
    pub environment: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublisherView {
    pub id: i64,
    pub namespace: String,
    pub package: Option<String>,
    pub issuer: String,
    pub project: String,
    pub ref_pattern: Option<String>,
    pub environment: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

/// What an exchange answers: the token, shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct Exchanged {
    pub token: String,
    pub expires_at: NaiveDateTime,
    pub namespace: String,
    /// The one package the token may publish; `None`: any of the namespace.
    pub package: Option<String>,
    pub trusted_publisher: i64,
}

fn bad(code: &'static str, detail: impl Into<String>) -> RegistryError {
    RegistryError::bad_request(code, detail)
}

/// A field of a registration: trimmed, none when empty, at most `max`
/// characters without control characters or spaces.
fn field(value: Option<&str>, what: &str, max: usize) -> Result<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max || v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad(
            "invalid_trusted_publisher",
            format!(
                "{what} must be at most {max} characters, without spaces or control characters"
            ),
        ));
    }
    Ok(Some(v.to_string()))
}

/// A GitLab project path (`group/sub/project`) or a GitHub repository
/// (`owner/repo`): segments of letters, digits, `.`, `_` and `-`.
fn check_project(project: &str) -> Result<()> {
    let segment_ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    if project.len() > 255 || project.split('/').count() < 2 || !project.split('/').all(segment_ok)
    {
        return Err(bad(
            "invalid_trusted_publisher",
            format!(
                "project \"{}\" is not a project path: write it as GitLab's group/project or GitHub's owner/repository",
                project.escape_default()
            ),
        ));
    }
    Ok(())
}

/// Registers a trusted publisher for `namespace`: for its owners, with a
/// token that has the `owners` scope.
pub fn register(
    conn: &mut DbConn,
    cred: Credential<'_>,
    origin: &Origin,
    issuers: &CiIssuers,
    namespace: &str,
    req: &PublisherRequest,
) -> Result<PublisherView> {
    let origin = require_owner(conn, cred, origin, namespace)?;
    let ns = find_namespace(conn, namespace)?;
    let issuer = normalize_issuer(&req.issuer);
    if !issuers.is_trusted(&issuer) {
        return Err(bad(
            id_tokens::codes::UNKNOWN_ISSUER,
            format!(
                "issuer \"{}\" is not one this registry trusts for publishing; it trusts {} (the operator adds others with --trusted-publishing-issuer)",
                issuer.escape_default(),
                issuers.issuers().join(", ")
            ),
        ));
    }
    let project = req.project.trim().trim_matches('/').to_string();
    check_project(&project)?;
    let package = field(req.package.as_deref(), "package", 64)?;
    if let Some(p) = &package {
        check_slug(p).map_err(|e| bad("invalid_trusted_publisher", format!("package {e}")))?;
    }
    let ref_pattern = field(req.ref_pattern.as_deref(), "ref_pattern", 200)?;
    let environment = field(req.environment.as_deref(), "environment", 100)?;
    let login = origin.actor.clone().unwrap_or_default();
    let actor_id = super::auth::find_user(conn, &login)?.id;
    let at = now();
    let id = write_tx(conn, |conn| -> Result<i64> {
        let same = trusted_publishers::table
            .filter(trusted_publishers::namespace_id.eq(ns.id))
            .filter(trusted_publishers::issuer.eq(&issuer))
            .filter(trusted_publishers::project.eq(&project))
            .select(TrustedPublisher::as_select())
            .load(conn)?
            .into_iter()
            .any(|p| {
                p.package == package && p.ref_pattern == ref_pattern && p.environment == environment
            });
        if same {
            return Err(RegistryError::conflict(
                "trusted_publisher_exists",
                "this trusted publisher is registered already",
            ));
        }
        let id: i64 = diesel::insert_into(trusted_publishers::table)
            .values((
                trusted_publishers::namespace_id.eq(ns.id),
                trusted_publishers::package.eq(&package),
                trusted_publishers::issuer.eq(&issuer),
                trusted_publishers::project.eq(&project),
                trusted_publishers::ref_pattern.eq(&ref_pattern),
                trusted_publishers::environment.eq(&environment),
                trusted_publishers::created_by.eq(actor_id),
                trusted_publishers::created_at.eq(at),
            ))
            .returning(trusted_publishers::id)
            .get_result(conn)?;
        audit::record(
            conn,
            &origin,
            AuditAction::TrustedPublisherAdd,
            Some(namespace),
            &project,
            serde_json::json!({
                "trusted_publisher": id, "issuer": issuer, "package": package,
                "ref_pattern": ref_pattern, "environment": environment,
            }),
        )?;
        Ok(id)
    })?;
    Ok(PublisherView {
        id,
        namespace: ns.slug,
        package,
        issuer,
        project,
        ref_pattern,
        environment,
        created_by: login,
        created_at: at,
    })
}

/// The trusted publishers of `namespace`, for its owners.
pub fn list(
    conn: &mut DbConn,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
) -> Result<Vec<PublisherView>> {
    require_owner(conn, cred, origin, namespace)?;
    let ns = find_namespace(conn, namespace)?;
    list_of(conn, ns.id)
}

fn list_of(conn: &mut DbConn, namespace_id: i64) -> Result<Vec<PublisherView>> {
    let rows: Vec<(TrustedPublisher, String, String)> = trusted_publishers::table
        .inner_join(namespaces::table)
        .inner_join(users::table)
        .filter(trusted_publishers::namespace_id.eq(namespace_id))
        .order(trusted_publishers::id)
        .select((
            TrustedPublisher::as_select(),
            namespaces::slug,
            users::login,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(p, namespace, created_by)| PublisherView {
            id: p.id,
            namespace,
            package: p.package,
            issuer: p.issuer,
            project: p.project,
            ref_pattern: p.ref_pattern,
            environment: p.environment,
            created_by,
            created_at: p.created_at,
        })
        .collect())
}

/// Removes a registration of `namespace`; the tokens made through it that
/// still live are revoked with it.
pub fn remove(
    conn: &mut DbConn,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    id: i64,
) -> Result<()> {
    let origin = require_owner(conn, cred, origin, namespace)?;
    let ns = find_namespace(conn, namespace)?;
    write_tx(conn, |conn| -> Result<()> {
        let found: Option<TrustedPublisher> = trusted_publishers::table
            .find(id)
            .filter(trusted_publishers::namespace_id.eq(ns.id))
            .select(TrustedPublisher::as_select())
            .first(conn)
            .optional()?;
        let publisher = found.ok_or_else(|| RegistryError::UnknownTrustedPublisher(id))?;
        let tokens: Vec<i64> = trusted_exchanges::table
            .inner_join(api_tokens::table)
            .filter(trusted_exchanges::publisher_id.eq(id))
            .filter(api_tokens::revoked_at.is_null())
            .select(api_tokens::id)
            .load(conn)?;
        diesel::update(api_tokens::table.filter(api_tokens::id.eq_any(&tokens)))
            .set(api_tokens::revoked_at.eq(Some(now())))
            .execute(conn)?;
        for token in &tokens {
            sessions::end_all_of_token(conn, *token)?;
        }
        diesel::delete(trusted_publishers::table.find(id)).execute(conn)?;
        audit::record(
            conn,
            &origin,
            AuditAction::TrustedPublisherRemove,
            Some(namespace),
            &publisher.project,
            serde_json::json!({
                "trusted_publisher": id, "issuer": publisher.issuer,
                "package": publisher.package, "revoked_tokens": tokens,
            }),
        )?;
        Ok(())
    })
}

/// What a pipeline asks for.
#[derive(Debug, Clone)]
pub struct ExchangeRequest {
    pub id_token: String,
    /// `namespace/name` of the package to publish: chooses among several
    /// registrations of the same project.
    pub package: Option<String>,
}

/// Exchanges a pipeline's ID token for a short-lived publish token. The
/// ID token is checked first (blocking: it may fetch the issuer's keys),
/// then matched against the registrations; the token is spent with the
/// exchange, so a second exchange with it is refused.
pub fn exchange(
    conn: &mut DbConn,
    issuers: &CiIssuers,
    limits: &RateLimits,
    origin: &Origin,
    req: &ExchangeRequest,
) -> Result<Exchanged> {
    limits.check(
        Limited::TokenExchange,
        origin.client_addr.as_deref().unwrap_or("unknown"),
    )?;
    let wanted = req
        .package
        .as_deref()
        .map(|p| {
            split_full_name(p).map_err(|e| bad("invalid_package_name", format!("package {e}")))
        })
        .transpose()?;
    let pipeline = issuers.verify(&req.id_token)?;
    let (publisher, namespace, owner) = choose(conn, &pipeline, wanted.as_ref())?;
    let expires_at = now() + Duration::minutes(TOKEN_MINUTES);
    let origin = Origin {
        actor: Some(format!("{} ({})", pipeline.project, pipeline.issuer)),
        ..origin.clone()
    };
    let token = write_tx(conn, |conn| -> Result<String> {
        let spent = trusted_exchanges::table
            .filter(trusted_exchanges::issuer.eq(&pipeline.issuer))
            .filter(trusted_exchanges::jti.eq(&pipeline.jti))
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if spent {
            return Err(replayed());
        }
        let (token_id, token) = insert_token(
            conn,
            owner,
            &format!(
                "trusted publishing: {}@{}",
                pipeline.project, pipeline.git_ref
            ),
            "publish",
            Some(publisher.namespace_id),
            Some(expires_at),
        )?;
        diesel::insert_into(trusted_exchanges::table)
            .values((
                trusted_exchanges::token_id.eq(token_id),
                trusted_exchanges::publisher_id.eq(publisher.id),
                trusted_exchanges::issuer.eq(&pipeline.issuer),
                trusted_exchanges::jti.eq(&pipeline.jti),
                trusted_exchanges::project.eq(&pipeline.project),
                trusted_exchanges::git_ref.eq(&pipeline.git_ref),
                trusted_exchanges::pipeline_id.eq(&pipeline.pipeline_id),
                trusted_exchanges::created_at.eq(now()),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &origin,
            AuditAction::TrustedTokenCreate,
            Some(&namespace),
            &pipeline.project,
            serde_json::json!({
                "token_id": token_id, "trusted_publisher": publisher.id,
                "issuer": pipeline.issuer, "ref": pipeline.git_ref,
                "environment": pipeline.environment, "pipeline_id": pipeline.pipeline_id,
                "expires_at": expires_at,
            }),
        )?;
        Ok(token)
    })
    // Two exchanges of one token at the same moment: the unique key
    // stops the second.
    .map_err(|e| {
        if e.is_concurrent_change() {
            replayed()
        } else {
            e
        }
    })?;
    Ok(Exchanged {
        token,
        expires_at,
        namespace,
        package: publisher.package,
        trusted_publisher: publisher.id,
    })
}

fn replayed() -> RegistryError {
    RegistryError::IdToken {
        code: id_tokens::codes::REPLAYED,
        detail:
            "this ID token was exchanged before; each pipeline job's token is good for one exchange"
                .into(),
    }
}

fn refused(code: &'static str, detail: String) -> RegistryError {
    RegistryError::TrustedPublisher { code, detail }
}

/// The registration a pipeline publishes by, its namespace's slug and the
/// owner who made it: the project's registrations, narrowed by package,
/// ref and environment, each step with its own refusal.
fn choose(
    conn: &mut DbConn,
    pipeline: &Pipeline,
    wanted: Option<&(String, String)>,
) -> Result<(TrustedPublisher, String, i64)> {
    let mut candidates: Vec<(TrustedPublisher, String)> = trusted_publishers::table
        .inner_join(namespaces::table)
        .filter(trusted_publishers::issuer.eq(&pipeline.issuer))
        .filter(trusted_publishers::project.eq(&pipeline.project))
        .order(trusted_publishers::id)
        .select((TrustedPublisher::as_select(), namespaces::slug))
        .load(conn)?;
    let at = format!("project \"{}\" at {}", pipeline.project, pipeline.issuer);
    if candidates.is_empty() {
        return Err(refused(
            codes::NO_PUBLISHER,
            format!("no trusted publisher is registered for {at}"),
        ));
    }
    if let Some((ns, name)) = wanted {
        candidates.retain(|(p, slug)| slug == ns && p.package.as_ref().is_none_or(|p| p == name));
        if candidates.is_empty() {
            return Err(refused(
                codes::NO_PUBLISHER,
                format!("no trusted publisher of {ns}/{name} is registered for {at}"),
            ));
        }
    }
    let patterns: Vec<String> = candidates
        .iter()
        .filter_map(|(p, _)| p.ref_pattern.clone())
        .collect();
    candidates.retain(|(p, _)| {
        p.ref_pattern
            .as_deref()
            .is_none_or(|pattern| ref_matches(pattern, &pipeline.git_ref))
    });
    if candidates.is_empty() {
        return Err(refused(
            codes::REF_REFUSED,
            format!(
                "ref \"{}\" of {at} matches no registered pattern ({})",
                pipeline.git_ref.escape_default(),
                patterns.join(", ")
            ),
        ));
    }
    candidates.retain(|(p, _)| {
        p.environment
            .as_ref()
            .is_none_or(|e| pipeline.environment.as_ref() == Some(e))
    });
    if candidates.is_empty() {
        return Err(refused(
            codes::ENVIRONMENT_REFUSED,
            format!(
                "{at} is registered for another environment than {}",
                pipeline
                    .environment
                    .as_deref()
                    .map_or("none".to_string(), |e| format!(
                        "\"{}\"",
                        e.escape_default()
                    ))
            ),
        ));
    }
    // The narrowest registration that fits: one package before a whole
    // namespace.
    candidates.sort_by_key(|(p, _)| p.package.is_none());
    if wanted.is_none() && candidates.len() > 1 {
        return Err(bad(
            codes::AMBIGUOUS,
            format!("several trusted publishers fit {at}; name the package to publish (\"package\": \"namespace/name\")"),
        ));
    }
    let (publisher, slug) = candidates.swap_remove(0);
    let owner = publisher.created_by;
    Ok((publisher, slug, owner))
}

/// A ref pattern: `*` stands for any run of characters (`/` too), all
/// else for itself. `main`, `v*`, `release/*`.
pub fn ref_matches(pattern: &str, git_ref: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = git_ref.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The registration and pipeline behind a token, if it came from an
/// exchange. A token whose registration was removed is revoked then; one
/// that lost it otherwise grants nothing.
pub(crate) fn grant_of(conn: &mut DbConn, token_id: i64) -> Result<Option<TrustedGrant>> {
    let row: Option<(i64, String, String, String, Option<String>)> = trusted_exchanges::table
        .find(token_id)
        .select((
            trusted_exchanges::publisher_id,
            trusted_exchanges::issuer,
            trusted_exchanges::project,
            trusted_exchanges::git_ref,
            trusted_exchanges::pipeline_id,
        ))
        .first(conn)
        .optional()?;
    let Some((publisher_id, issuer, project, git_ref, pipeline_id)) = row else {
        return Ok(None);
    };
    let package: Option<Option<String>> = trusted_publishers::table
        .find(publisher_id)
        .select(trusted_publishers::package)
        .first(conn)
        .optional()?;
    let package = package.ok_or(RegistryError::RevokedToken)?;
    Ok(Some(TrustedGrant {
        publisher_id,
        package,
        issuer,
        project,
        git_ref,
        pipeline_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_patterns_match_with_stars() {
        assert!(ref_matches("main", "main"));
        assert!(!ref_matches("main", "main2"));
        assert!(!ref_matches("main", "xmain"));
        assert!(ref_matches("v*", "v1.2.0"));
        assert!(ref_matches("v*", "v"));
        assert!(!ref_matches("v*", "release"));
        assert!(ref_matches("release/*", "release/2026-12"));
        assert!(ref_matches("*", "anything/at/all"));
        assert!(ref_matches("a*b*c", "a-b-b-c"));
        assert!(!ref_matches("a*b*c", "a-c-b"));
        assert!(!ref_matches("v*.0", "v1.1"));
        assert!(ref_matches("*-rc", "1-rc"));
        assert!(!ref_matches("ab*ba", "aba"));
    }

    #[test]
    fn project_paths_are_checked() {
        assert!(check_project("kassel/parkausweis").is_ok());
        assert!(check_project("stadt-kassel/formulare/bewohner_park.ausweis").is_ok());
        for bad in [
            "kassel", "kassel/", "/x", "a//b", "a/../b", "a/b c", "a/b?x=1", "a/ü",
        ] {
            assert!(check_project(bad).is_err(), "{bad}");
        }
    }
}
