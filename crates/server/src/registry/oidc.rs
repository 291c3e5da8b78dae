//! Sign-in to the web UI with the administration's OpenID Connect
//! provider (Keycloak, an IT service provider's portal account): the
//! authorization code flow with PKCE, `state` and `nonce`, the provider
//! found by discovery, its ID token checked against its published keys.
//! `openidconnect` does the protocol; this module keeps the flow's state
//! in the database (any node may get the callback), finds or makes the
//! user, applies the operator's group mapping and starts the session.
//!
//! A session from a provider acts through a token of its own (all
//! scopes, for its user's roles), made at sign-in and revoked when the
//! session ends, so the rest of the registry sees one kind of credential.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use diesel::prelude::*;
use openidconnect::core::{
    CoreClient, CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, IdToken, IdTokenVerifier, IssuerUrl, JsonWebKeySet, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError,
};
use serde::{Deserialize, Serialize};

use super::audit::{self, AuditAction, Origin};
use super::auth::{find_namespace, insert_token, Role};
use super::error::{RegistryError, Result};
use super::id_tokens;
use super::secrets;
use super::sessions;
use crate::store::db::now;
use crate::store::models::User;
use crate::store::schema::{members, oidc_logins, user_identities, users};
use crate::store::{write_tx, DbConn};
use gemeinwerk_package::names::check_slug;

/// A sign-in must come back from the provider within this long.
const PENDING_MINUTES: i64 = 10;
/// A session from a provider lasts at most this long, however active;
/// then the provider is asked again (and the group mapping applied again).
pub const SESSION_HOURS: i64 = 12;
/// Discovery and keys are asked again after this long.
const METADATA_LIVE: StdDuration = StdDuration::from_secs(3600);
const FETCH_TIMEOUT: StdDuration = StdDuration::from_secs(5);

/// The refusals of a sign-in, as codes.
pub mod codes {
    pub const UNKNOWN_PROVIDER: &str = "oidc_unknown_provider";
    /// The callback's `state` is not one this registry sent, or was used.
    pub const STATE: &str = "oidc_state_invalid";
    /// The provider refused the code (used twice, expired) or sent an error.
    pub const CODE: &str = "oidc_code_refused";
    pub const NO_ID_TOKEN: &str = "oidc_no_id_token";
    pub const NONCE: &str = "oidc_nonce_mismatch";
    /// The login claim is missing or cannot be a login here.
    pub const LOGIN: &str = "oidc_login_invalid";
    /// The login belongs to another identity.
    pub const LOGIN_TAKEN: &str = "oidc_login_taken";
}

fn refuse(code: &'static str, detail: impl Into<String>) -> RegistryError {
    RegistryError::IdToken {
        code,
        detail: detail.into(),
    }
}

/// One provider, as the operator configures it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// In the callback address: `/anmelden/oidc/{id}/zurueck`.
    pub id: String,
    /// On the sign-in page: "Anmelden mit {name}".
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    /// The variable that holds the secret, instead of the file.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// The claim that gives the login (default `preferred_username`).
    #[serde(default = "default_login_claim")]
    pub login_claim: String,
    /// The claim that lists the user's groups (default `groups`).
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Groups → namespace roles, applied at every sign-in.
    #[serde(default, rename = "role")]
    pub roles: Vec<GroupRole>,
}

fn default_login_claim() -> String {
    "preferred_username".into()
}

fn default_groups_claim() -> String {
    "groups".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRole {
    pub group: String,
    pub namespace: String,
    /// `owner` or `publisher`.
    pub role: String,
}

/// The operator's identity settings: the `[[provider]]` tables of the
/// file `serve --identity-config` names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    #[serde(default, rename = "provider")]
    pub providers: Vec<ProviderConfig>,
}

impl IdentityConfig {
    /// Reads the operator's file: TOML with `[[provider]]` tables; each
    /// `client_secret_env` is read from the environment.
    pub fn load(path: &std::path::Path) -> std::result::Result<IdentityConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut config: IdentityConfig =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for p in &mut config.providers {
            if let Some(var) = &p.client_secret_env {
                p.client_secret = std::env::var(var).map_err(|_| {
                    format!(
                        "provider \"{}\": client_secret_env names {var}, which is not set",
                        p.id
                    )
                })?;
            }
        }
        config.check()?;
        Ok(config)
    }

    /// Checks what can be checked before any provider is asked: ids,
    /// issuer URLs, roles. Each message names the provider and setting.
    pub fn check(&self) -> std::result::Result<(), String> {
        let mut seen = Vec::new();
        for p in &self.providers {
            check_slug(&p.id).map_err(|e| format!("provider id {e}"))?;
            if seen.contains(&&p.id) {
                return Err(format!("provider \"{}\" is configured twice", p.id));
            }
            seen.push(&p.id);
            if p.name.trim().is_empty() {
                return Err(format!("provider \"{}\" needs a name", p.id));
            }
            id_tokens::check_issuer(&p.issuer)
                .map_err(|e| format!("provider \"{}\": issuer {e}", p.id))?;
            if p.client_id.trim().is_empty() {
                return Err(format!("provider \"{}\" needs a client_id", p.id));
            }
            for r in &p.roles {
                Role::parse(&r.role).ok_or_else(|| {
                    format!(
                        "provider \"{}\": role \"{}\" of group \"{}\" is neither owner nor publisher",
                        p.id, r.role, r.group
                    )
                })?;
                check_slug(&r.namespace).map_err(|e| {
                    format!(
                        "provider \"{}\": namespace of group \"{}\": {e}",
                        p.id, r.group
                    )
                })?;
            }
        }
        Ok(())
    }
}

/// Every claim beyond the standard ones, so that the operator can name
/// any claim for the login or the groups.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub claims: HashMap<String, serde_json::Value>,
}
impl AdditionalClaims for OtherClaims {}

type SignInIdToken = IdToken<
    OtherClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// Only asymmetric signatures: the client secret is no signing key.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 6] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

struct Provider {
    config: ProviderConfig,
    metadata: Mutex<Option<(CoreProviderMetadata, Instant)>>,
}

/// The configured providers and their discovered metadata.
pub struct Providers {
    list: Vec<Provider>,
    http: ureq::Agent,
    /// The registry's public address, for the callback URL.
    base_url: String,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.list.iter().map(|p| &p.config.id))
            .finish()
    }
}

/// Where to send the browser, and the secret its cookie keeps.
pub struct Begun {
    pub authorize_url: String,
    pub browser_secret: String,
}

/// A finished sign-in: the session and who it is.
pub struct SignedIn {
    pub session_id: String,
    pub csrf: String,
    pub login: String,
}

impl Providers {
    pub fn new(config: &IdentityConfig, base_url: &str) -> Providers {
        Providers {
            list: config
                .providers
                .iter()
                .map(|c| Provider {
                    config: c.clone(),
                    metadata: Mutex::new(None),
                })
                .collect(),
            http: ureq::AgentBuilder::new()
                .redirects(0)
                .timeout(FETCH_TIMEOUT)
                .build(),
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    /// Id and display name of each provider, for the sign-in page.
    pub fn names(&self) -> Vec<(String, String)> {
        self.list
            .iter()
            .map(|p| (p.config.id.clone(), p.config.name.clone()))
            .collect()
    }

    fn provider(&self, id: &str) -> Result<&Provider> {
        self.list.iter().find(|p| p.config.id == id).ok_or_else(|| {
            RegistryError::bad_request(
                codes::UNKNOWN_PROVIDER,
                format!(
                    "no identity provider \"{}\" is configured",
                    id.escape_default()
                ),
            )
        })
    }

    fn unavailable(p: &Provider, detail: String) -> RegistryError {
        RegistryError::ProviderUnavailable {
            issuer: p.config.issuer.clone(),
            detail,
        }
    }

    /// The provider's metadata and keys, discovered at most every
    /// [`METADATA_LIVE`], or now when `fresh`.
    fn metadata(&self, p: &Provider, fresh: bool) -> Result<CoreProviderMetadata> {
        if !fresh {
            if let Some((m, at)) = p.metadata.lock().expect("not poisoned").as_ref() {
                if at.elapsed() < METADATA_LIVE {
                    return Ok(m.clone());
                }
            }
        }
        let issuer = IssuerUrl::new(p.config.issuer.clone())
            .map_err(|e| Self::unavailable(p, e.to_string()))?;
        let m = CoreProviderMetadata::discover(&issuer, &self.http)
            .map_err(|e| Self::unavailable(p, error_chain(&e)))?;
        *p.metadata.lock().expect("not poisoned") = Some((m.clone(), Instant::now()));
        Ok(m)
    }

    fn redirect_url(&self, p: &Provider) -> Result<RedirectUrl> {
        RedirectUrl::new(format!(
            "{}/anmelden/oidc/{}/zurueck",
            self.base_url, p.config.id
        ))
        .map_err(|e| Self::unavailable(p, e.to_string()))
    }

    /// Starts a sign-in: the provider's authorization URL with PKCE,
    /// `state` and `nonce`, remembered in the database until the browser
    /// comes back (or ten minutes pass).
    pub fn begin(&self, conn: &mut DbConn, provider: &str) -> Result<Begun> {
        let p = self.provider(provider)?;
        let metadata = self.metadata(p, false)?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(p.config.client_id.clone()),
            Some(ClientSecret::new(p.config.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect_url(p)?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let browser_secret = secrets::random_hex();
        let at = now();
        diesel::delete(
            oidc_logins::table
                .filter(oidc_logins::created_at.le(at - Duration::minutes(PENDING_MINUTES))),
        )
        .execute(conn)?;
        diesel::insert_into(oidc_logins::table)
            .values((
                oidc_logins::state_hash.eq(secrets::digest(state.secret())),
                oidc_logins::browser_hash.eq(secrets::digest(&browser_secret)),
                oidc_logins::provider.eq(&p.config.id),
                oidc_logins::pkce_verifier.eq(verifier.secret()),
                oidc_logins::nonce.eq(nonce.secret()),
                oidc_logins::created_at.eq(at),
            ))
            .execute(conn)?;
        Ok(Begun {
            authorize_url: url.to_string(),
            browser_secret,
        })
    }

    /// Finishes a sign-in at the callback. The pending sign-in is spent
    /// first, so that a `state` (and its code) works once; every refusal
    /// is audited with its reason, and none makes a user or a session.
    pub fn finish(
        &self,
        conn: &mut DbConn,
        origin: &Origin,
        provider: &str,
        code: &str,
        state: &str,
        browser_secret: &str,
    ) -> Result<SignedIn> {
        let result = self.try_finish(conn, origin, provider, code, state, browser_secret);
        if let Err(e) = &result {
            let origin = Origin {
                actor: Some("(unknown)".into()),
                ..origin.clone()
            };
            let reason = serde_json::json!({ "reason": e.code(), "provider": provider, "detail": e.to_string() });
            audit::record(conn, &origin, AuditAction::SignInFailed, None, "", reason)?;
        }
        result
    }

    fn try_finish(
        &self,
        conn: &mut DbConn,
        origin: &Origin,
        provider: &str,
        code: &str,
        state: &str,
        browser_secret: &str,
    ) -> Result<SignedIn> {
        let p = self.provider(provider)?;
        // Spent whatever follows: a state works once.
        let hash = secrets::digest(state);
        let pending = write_tx(conn, |conn| {
            let row = oidc_logins::table
                .find(&hash)
                .select((
                    oidc_logins::browser_hash,
                    oidc_logins::provider,
                    oidc_logins::pkce_verifier,
                    oidc_logins::nonce,
                    oidc_logins::created_at,
                ))
                .first::<(String, String, String, String, chrono::NaiveDateTime)>(conn)
                .optional()?;
            diesel::delete(oidc_logins::table.find(&hash)).execute(conn)?;
            Ok::<_, RegistryError>(row)
        })?;
        // Bound to the browser that started it: a callback with someone
        // else's code and state (login CSRF) finds no cookie to match.
        let Some((_, _, verifier, nonce, created)) = pending.filter(|(browser, prov, ..)| {
            *browser == secrets::digest(browser_secret) && *prov == p.config.id
        }) else {
            return Err(refuse(
                codes::STATE,
                "this sign-in is not one this registry started in this browser, or it was finished already",
            ));
        };
        if created <= now() - Duration::minutes(PENDING_MINUTES) {
            return Err(refuse(
                codes::STATE,
                "this sign-in took longer than 10 minutes; start again",
            ));
        }
        let metadata = self.metadata(p, false)?;
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(p.config.client_id.clone()),
            Some(ClientSecret::new(p.config.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect_url(p)?);
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| Self::unavailable(p, e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier));
        let response = request.request(&self.http).map_err(|e| match e {
            openidconnect::RequestTokenError::ServerResponse(r) => refuse(
                codes::CODE,
                format!("the provider refused the sign-in: {}", r.error()),
            ),
            e => Self::unavailable(p, error_chain(&e)),
        })?;
        let raw = openidconnect::TokenResponse::id_token(&response)
            .ok_or_else(|| {
                refuse(
                    codes::NO_ID_TOKEN,
                    "the provider answered without an ID token",
                )
            })?
            .to_string();
        let token = SignInIdToken::from_str(&raw).map_err(|e| {
            refuse(
                id_tokens::codes::MALFORMED,
                format!("the ID token cannot be read: {e}"),
            )
        })?;
        let nonce = Nonce::new(nonce);
        let client_id = &p.config.client_id;
        let claims = match check_id_token(
            &token,
            client_id,
            metadata.issuer(),
            metadata.jwks(),
            &nonce,
        ) {
            // A key the cached set lacks: the provider rotated its keys.
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                let fresh = self.metadata(p, true)?;
                check_id_token(&token, client_id, fresh.issuer(), fresh.jwks(), &nonce)
            }
            other => other,
        }
        .map_err(|e| refusal(e, client_id))?;

        let issuer = id_tokens::normalize_issuer(claims.issuer().as_str());
        let subject = claims.subject().to_string();
        let login = login_of(&claims, &p.config.login_claim)?;
        let groups = groups_of(&claims, &p.config.groups_claim);
        let provider_origin = Origin {
            actor: Some(format!("{} ({})", login, p.config.id)),
            ..origin.clone()
        };
        write_tx(conn, |conn| {
            let user = find_or_make_user(conn, &provider_origin, p, &issuer, &subject, &login)?;
            apply_group_mapping(conn, &provider_origin, p, &user, &groups)?;
            let (token_id, _) = insert_token(
                conn,
                user.id,
                &format!("Web-Sitzung über {}", p.config.name),
                "publish,yank,owners",
                None,
                Some(now() + Duration::hours(SESSION_HOURS)),
            )?;
            let (session_id, csrf) = sessions::create_owning(conn, token_id)?;
            audit::record(
                conn,
                &Origin {
                    actor: Some(user.login.clone()),
                    ..origin.clone()
                },
                AuditAction::SignIn,
                None,
                &user.login,
                serde_json::json!({ "token_id": token_id, "provider": p.config.id, "groups": groups }),
            )?;
            Ok(SignedIn {
                session_id,
                csrf,
                login: user.login,
            })
        })
    }
}

/// Checks a provider's ID token: the signature against the provider's
/// keys (asymmetric algorithms only: the client secret is known to the
/// registry, so an HMAC would prove nothing), issuer, audience (our
/// client id), expiry and nonce.
fn check_id_token(
    token: &SignInIdToken,
    client_id: &str,
    issuer: &IssuerUrl,
    keys: &JsonWebKeySet<CoreJsonWebKey>,
    nonce: &Nonce,
) -> std::result::Result<Claims, ClaimsVerificationError> {
    let verifier: IdTokenVerifier<CoreJsonWebKey> = IdTokenVerifier::new_public_client(
        ClientId::new(client_id.to_string()),
        issuer.clone(),
        JsonWebKeySet::new(keys.keys().clone()),
    )
    .set_allowed_algs(ALLOWED_ALGS);
    token.claims(&verifier, nonce).cloned()
}

fn refusal(e: ClaimsVerificationError, client_id: &str) -> RegistryError {
    match e {
        ClaimsVerificationError::InvalidNonce(d) => {
            refuse(codes::NONCE, format!("the ID token's nonce is wrong: {d}"))
        }
        e => id_tokens::explain(e, client_id),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

type Claims = openidconnect::IdTokenClaims<OtherClaims, CoreGenderClaim>;

/// The login from the configured claim, made into one this registry
/// allows: lowercase, every other character than a–z, 0–9 and `-` a `-`
/// (`Anna.Muster@kassel.de` → `anna-muster-kassel-de`).
fn login_of(claims: &Claims, claim: &str) -> Result<String> {
    let value = match claim {
        "sub" => Some(claims.subject().to_string()),
        "preferred_username" => claims.preferred_username().map(|u| u.to_string()),
        "email" => claims.email().map(|e| e.to_string()),
        other => claims
            .additional_claims()
            .claims
            .get(other)
            .and_then(|v| v.as_str())
            .map(str::to_string),
    }
    .ok_or_else(|| {
        refuse(
            codes::LOGIN,
            format!("the ID token has no \"{claim}\" claim to take the login from"),
        )
    })?;
    let login: String = value
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    let login = login.trim_matches('-').chars().take(64).collect::<String>();
    check_slug(&login).map_err(|e| {
        refuse(
            codes::LOGIN,
            format!(
                "the login \"{}\" cannot be used: {e}",
                value.escape_default()
            ),
        )
    })?;
    Ok(login)
}

/// The groups claim: a list of strings, or one string.
fn groups_of(claims: &Claims, claim: &str) -> Vec<String> {
    match claims.additional_claims().claims.get(claim) {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The user of an identity: known by (issuer, sub); else the user with
/// the login, if no other identity has it (an operator or an owner made
/// it beforehand: an invitation); else a new user.
fn find_or_make_user(
    conn: &mut DbConn,
    origin: &Origin,
    p: &Provider,
    issuer: &str,
    subject: &str,
    login: &str,
) -> Result<User> {
    let known: Option<i64> = user_identities::table
        .find((issuer, subject))
        .select(user_identities::user_id)
        .first(conn)
        .optional()?;
    if let Some(id) = known {
        diesel::update(user_identities::table.find((issuer, subject)))
            .set(user_identities::last_sign_in_at.eq(now()))
            .execute(conn)?;
        return Ok(users::table
            .find(id)
            .select(User::as_select())
            .first(conn)?);
    }
    let existing: Option<User> = users::table
        .filter(users::login.eq(login))
        .select(User::as_select())
        .first(conn)
        .optional()?;
    let user = match existing {
        Some(u) => {
            let linked: i64 = user_identities::table
                .filter(user_identities::user_id.eq(u.id))
                .count()
                .get_result(conn)?;
            if linked > 0 || u.removed_at.is_some() {
                return Err(refuse(
                    codes::LOGIN_TAKEN,
                    format!("the login \"{login}\" belongs to another account; the operator can tell the provider's login claim apart"),
                ));
            }
            u
        }
        None => {
            let details = serde_json::json!({ "provider": p.config.id });
            super::accounts::insert_user(conn, origin, login, None, details)?
        }
    };
    diesel::insert_into(user_identities::table)
        .values((
            user_identities::issuer.eq(issuer),
            user_identities::subject.eq(subject),
            user_identities::user_id.eq(user.id),
            user_identities::provider.eq(&p.config.id),
            user_identities::created_at.eq(now()),
            user_identities::last_sign_in_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(user)
}

/// The operator's mapping, applied at every sign-in: for each namespace
/// the mapping names, the highest role the user's groups give. The
/// mapping adds and changes memberships, and removes the ones it granted
/// when the group is gone; one an owner granted by hand it leaves alone.
fn apply_group_mapping(
    conn: &mut DbConn,
    origin: &Origin,
    p: &Provider,
    user: &User,
    groups: &[String],
) -> Result<()> {
    let mut wanted: Vec<(String, Option<(Role, String)>)> = Vec::new();
    for r in &p.config.roles {
        let role = Role::parse(&r.role).expect("checked at start");
        let entry = match wanted.iter_mut().find(|(ns, _)| *ns == r.namespace) {
            Some(e) => e,
            None => {
                wanted.push((r.namespace.clone(), None));
                wanted.last_mut().expect("pushed")
            }
        };
        if groups.contains(&r.group) && !matches!(entry.1, Some((Role::Owner, _))) {
            entry.1 = Some((role, r.group.clone()));
        }
    }
    for (slug, target) in wanted {
        let Ok(ns) = find_namespace(conn, &slug) else {
            tracing::warn!(namespace = %slug, provider = %p.config.id, "the group mapping names a namespace that does not exist");
            continue;
        };
        let current: Option<(String, Option<String>)> = members::table
            .find((ns.id, user.id))
            .select((members::role, members::granted_by))
            .first(conn)
            .optional()?;
        let source = |group: &str| format!("group:{}:{group}", p.config.id);
        match (current, target) {
            (None, Some((role, group))) => {
                diesel::insert_into(members::table)
                    .values((
                        members::namespace_id.eq(ns.id),
                        members::user_id.eq(user.id),
                        members::role.eq(role.as_str()),
                        members::created_at.eq(now()),
                        members::granted_by.eq(source(&group)),
                    ))
                    .execute(conn)?;
                audit::record(
                    conn,
                    origin,
                    AuditAction::MemberAdd,
                    Some(&slug),
                    &user.login,
                    serde_json::json!({ "role": role.as_str(), "source": "group_mapping", "group": group }),
                )?;
            }
            (Some((old, Some(_))), Some((role, group))) if old != role.as_str() => {
                diesel::update(members::table.find((ns.id, user.id)))
                    .set((
                        members::role.eq(role.as_str()),
                        members::granted_by.eq(source(&group)),
                    ))
                    .execute(conn)?;
                audit::record(
                    conn,
                    origin,
                    AuditAction::MemberAdd,
                    Some(&slug),
                    &user.login,
                    serde_json::json!({ "role": role.as_str(), "was": old, "source": "group_mapping", "group": group }),
                )?;
            }
            (Some((old, Some(granted))), None) => {
                diesel::delete(members::table.find((ns.id, user.id))).execute(conn)?;
                audit::record(
                    conn,
                    origin,
                    AuditAction::MemberRemove,
                    Some(&slug),
                    &user.login,
                    serde_json::json!({ "role": old, "source": "group_mapping", "granted_by": granted }),
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use openidconnect::core::{CoreHmacKey, CoreRsaPrivateSigningKey};
    use openidconnect::{
        Audience, EndUserUsername, IdTokenClaims, JsonWebKeyId, PrivateSigningKey, StandardClaims,
        SubjectIdentifier,
    };

    const ISSUER: &str = "https://sso.example.de/realms/kommunen";

    /// An RSA key made by `openssl`, as the integration tests make theirs.
    fn rsa_key(kid: &str) -> CoreRsaPrivateSigningKey {
        let out = std::process::Command::new("openssl")
            .args(["genrsa", "-traditional", "2048"])
            .output()
            .expect("openssl must be installed for the tests");
        let pem = String::from_utf8(out.stdout).unwrap();
        CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(kid.into()))).unwrap()
    }

    fn claims(
        aud: &str,
        nonce: &str,
        expires_in: i64,
    ) -> IdTokenClaims<OtherClaims, CoreGenderClaim> {
        let now = chrono::Utc::now();
        let mut other = OtherClaims::default();
        other.claims.insert(
            "groups".into(),
            serde_json::json!(["kassel-owners", 7, "kassel-redaktion"]),
        );
        IdTokenClaims::new(
            IssuerUrl::new(ISSUER.into()).unwrap(),
            vec![Audience::new(aud.into())],
            now + chrono::Duration::seconds(expires_in),
            now - chrono::Duration::seconds(5),
            StandardClaims::new(SubjectIdentifier::new("f3b1-42".into()))
                .set_preferred_username(Some(EndUserUsername::new("Anna.Muster".into()))),
            other,
        )
        .set_nonce(Some(Nonce::new(nonce.into())))
    }

    fn signed(
        key: &impl PrivateSigningKey<VerificationKey = CoreJsonWebKey>,
        alg: CoreJwsSigningAlgorithm,
        c: IdTokenClaims<OtherClaims, CoreGenderClaim>,
    ) -> SignInIdToken {
        SignInIdToken::new(c, key, alg, None, None).unwrap()
    }

    fn check(
        token: &SignInIdToken,
        keys: &JsonWebKeySet<CoreJsonWebKey>,
    ) -> std::result::Result<Claims, &'static str> {
        check_id_token(
            token,
            "gemeinwerk",
            &IssuerUrl::new(ISSUER.into()).unwrap(),
            keys,
            &Nonce::new("n-1".into()),
        )
        .map_err(|e| refusal(e, "gemeinwerk").code())
    }

    #[test]
    fn sign_in_id_tokens_are_checked_and_each_refusal_named() {
        let key = rsa_key("k1");
        let keys = JsonWebKeySet::new(vec![key.as_verification_key()]);
        let rs256 = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;

        let good = check(
            &signed(&key, rs256.clone(), claims("gemeinwerk", "n-1", 300)),
            &keys,
        )
        .unwrap();
        assert_eq!(
            login_of(&good, "preferred_username").unwrap(),
            "anna-muster"
        );
        assert_eq!(login_of(&good, "sub").unwrap(), "f3b1-42");
        assert_eq!(login_of(&good, "email").unwrap_err().code(), codes::LOGIN);
        assert_eq!(
            groups_of(&good, "groups"),
            ["kassel-owners", "kassel-redaktion"]
        );
        assert!(groups_of(&good, "roles").is_empty());

        let refused = |t: SignInIdToken| check(&t, &keys).unwrap_err();
        assert_eq!(
            refused(signed(
                &key,
                rs256.clone(),
                claims("gemeinwerk", "n-2", 300)
            )),
            codes::NONCE
        );
        assert_eq!(
            refused(signed(
                &key,
                rs256.clone(),
                claims("andere-anwendung", "n-1", 300)
            )),
            id_tokens::codes::AUDIENCE
        );
        assert_eq!(
            refused(signed(
                &key,
                rs256.clone(),
                claims("gemeinwerk", "n-1", -60)
            )),
            id_tokens::codes::EXPIRED
        );
        // Signed with a key the provider does not publish.
        assert_eq!(
            refused(signed(
                &rsa_key("k2"),
                rs256.clone(),
                claims("gemeinwerk", "n-1", 300)
            )),
            id_tokens::codes::UNKNOWN_KEY
        );
        // An HMAC keyed with the client secret, which the registry knows:
        // proves nothing about the provider.
        let hmac = CoreHmacKey::new("test-geheimnis".as_bytes());
        assert_eq!(
            refused(signed(
                &hmac,
                CoreJwsSigningAlgorithm::HmacSha256,
                claims("gemeinwerk", "n-1", 300)
            )),
            id_tokens::codes::ALGORITHM
        );
        // Not signed at all.
        let payload = serde_json::to_string(&claims("gemeinwerk", "n-1", 300)).unwrap();
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        );
        // (Refused as unreadable is a refusal too.)
        if let Ok(t) = SignInIdToken::from_str(&none) {
            assert_eq!(check(&t, &keys).unwrap_err(), id_tokens::codes::ALGORITHM);
        }
        // A tampered payload under a good signature.
        let good = signed(&key, rs256, claims("gemeinwerk", "n-1", 300)).to_string();
        let other = signed(
            &key,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            claims("gemeinwerk", "n-1", 301),
        )
        .to_string();
        let forged = format!(
            "{}.{}",
            other.rsplit_once('.').unwrap().0,
            good.rsplit_once('.').unwrap().1
        );
        assert_eq!(
            check(&SignInIdToken::from_str(&forged).unwrap(), &keys).unwrap_err(),
            id_tokens::codes::SIGNATURE
        );
    }

    #[test]
    fn the_operators_file_is_checked_with_names() {
        let parse = |t: &str| {
            toml::from_str::<IdentityConfig>(t)
                .map_err(|e| e.to_string())
                .and_then(|c| c.check().map(|_| c))
        };
        let ok = parse("[[provider]]\nid = \"hessen\"\nname = \"ekom21\"\nissuer = \"https://sso.example\"\nclient_id = \"gw\"\n[[provider.role]]\ngroup = \"g\"\nnamespace = \"kassel\"\nrole = \"owner\"\n").unwrap();
        assert_eq!(ok.providers[0].login_claim, "preferred_username");
        for (bad, says) in [
            ("[[provider]]\nid = \"Hessen\"\nname = \"x\"\nissuer = \"https://a\"\nclient_id = \"c\"\n", "provider id"),
            ("[[provider]]\nid = \"h\"\nname = \"x\"\nissuer = \"ftp://a\"\nclient_id = \"c\"\n", "issuer"),
            ("[[provider]]\nid = \"h\"\nname = \"x\"\nissuer = \"https://a\"\nclient_id = \"c\"\n[[provider.role]]\ngroup = \"g\"\nnamespace = \"kassel\"\nrole = \"chef\"\n", "neither owner nor publisher"),
            ("[[provider]]\nid = \"h\"\nname = \"x\"\nissuer = \"https://a\"\nclient_id = \"c\"\nsecret = \"s\"\n", "unknown field"),
            ("[[provider]]\nid = \"h\"\nname = \"x\"\nissuer = \"https://a\"\nclient_id = \"c\"\n[[provider]]\nid = \"h\"\nname = \"y\"\nissuer = \"https://b\"\nclient_id = \"c\"\n", "twice"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
