//! OIDC ID tokens of CI pipelines (GitLab `id_tokens`, GitHub Actions),
//! checked for trusted publishing: the signature against the issuer's
//! published keys (JWKS), the issuer against the operator's list, the
//! audience, expiry and not-before. `openidconnect` does the JOSE work;
//! this module finds the keys and names each refusal.
//!
//! Only issuers the operator lists are ever contacted, so that nobody can
//! make the registry fetch from an address of their choosing. Keys are
//! cached per issuer and fetched again when a token names a key the cache
//! does not know (the issuer rotated its keys), at most once per
//! [`REFETCH_AFTER`].

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, ClaimsVerificationError, ClientId, IdToken, IdTokenVerifier, IssuerUrl,
    Nonce, SignatureVerificationError,
};
use serde::{Deserialize, Serialize};

use super::error::{RegistryError, Result};

/// The issuers of the CI services a municipality is likely to use:
/// GitLab.com, openCoDE's GitLab and GitHub Actions.
pub const DEFAULT_ISSUERS: [&str; 3] = [
    "https://gitlab.com",
    "https://gitlab.opencode.de",
    "https://token.actions.githubusercontent.com",
];

/// Keys are fetched again after this long even when every token finds
/// its key, so that a revoked key does not stay trusted.
const KEYS_LIVE: Duration = Duration::from_secs(3600);
/// An unknown key id fetches the keys again, but not more often than
/// this: a stream of forged key ids must not become a stream of fetches.
pub const REFETCH_AFTER: Duration = Duration::from_secs(1);
/// What an issuer may take to answer, and the most its answer may hold.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const MOST_BYTES: u64 = 1 << 20;
/// Clock skew allowed for `nbf`.
const NBF_LEEWAY_SECS: i64 = 30;

/// The codes of the refusals, as the API answers them.
pub mod codes {
    pub const MALFORMED: &str = "id_token_malformed";
    pub const SIGNATURE: &str = "id_token_bad_signature";
    pub const ALGORITHM: &str = "id_token_algorithm_refused";
    pub const UNKNOWN_KEY: &str = "id_token_unknown_key";
    pub const UNKNOWN_ISSUER: &str = "id_token_unknown_issuer";
    pub const AUDIENCE: &str = "id_token_wrong_audience";
    pub const EXPIRED: &str = "id_token_expired";
    pub const NOT_YET_VALID: &str = "id_token_not_yet_valid";
    pub const REPLAYED: &str = "id_token_replayed";
}

/// The claims of GitLab's and GitHub's ID tokens that trusted publishing
/// reads, beyond the standard ones.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CiClaims {
    /// GitLab: the project, `group/sub/project`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_path: Option<String>,
    /// GitHub: the repository, `owner/repo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// GitLab: the branch or tag name; GitHub: `refs/heads/…`, `refs/tags/…`.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// GitLab's pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<String>,
    /// GitHub's workflow run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}
impl AdditionalClaims for CiClaims {}

type CiIdToken =
    IdToken<CiClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// What a checked token says about the pipeline that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub issuer: String,
    /// The project or repository path.
    pub project: String,
    /// The branch or tag name, without `refs/heads/` or `refs/tags/`.
    pub git_ref: String,
    pub environment: Option<String>,
    pub pipeline_id: Option<String>,
    pub jti: String,
}

/// The asymmetric algorithms CI issuers sign with; never `none`, never an
/// HMAC (its key would be public).
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 8] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

struct CachedKeys {
    keys: Vec<CoreJsonWebKey>,
    fetched: Instant,
}

/// The issuers trusted for publishing, the audience their tokens must
/// name, and their keys.
pub struct CiIssuers {
    issuers: Vec<String>,
    audience: String,
    keys: Mutex<HashMap<String, Arc<CachedKeys>>>,
    http: ureq::Agent,
}

impl std::fmt::Debug for CiIssuers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CiIssuers")
            .field("issuers", &self.issuers)
            .field("audience", &self.audience)
            .finish()
    }
}

fn refuse(code: &'static str, detail: impl Into<String>) -> RegistryError {
    RegistryError::IdToken {
        code,
        detail: detail.into(),
    }
}

/// An issuer as configured and as tokens name it: no trailing slash.
pub fn normalize_issuer(issuer: &str) -> String {
    issuer.trim().trim_end_matches('/').to_string()
}

/// An issuer the operator names must be an `https` (or, for a test or an
/// internal network, `http`) URL without query or fragment.
pub fn check_issuer(issuer: &str) -> std::result::Result<(), String> {
    let url = url::Url::parse(issuer.trim()).map_err(|e| format!("\"{issuer}\" is no URL: {e}"))?;
    if !matches!(url.scheme(), "https" | "http")
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(format!(
            "\"{issuer}\" is no issuer URL: it must be https://host[/path], without query or fragment"
        ));
    }
    Ok(())
}

impl CiIssuers {
    pub fn new(issuers: &[String], audience: &str) -> CiIssuers {
        CiIssuers {
            issuers: issuers.iter().map(|i| normalize_issuer(i)).collect(),
            audience: audience.to_string(),
            keys: Mutex::new(HashMap::new()),
            // No redirects: an issuer answers at its own address or not.
            http: ureq::AgentBuilder::new()
                .redirects(0)
                .timeout(FETCH_TIMEOUT)
                .build(),
        }
    }

    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// The audience a token must name: `aud` in GitLab's `id_tokens`,
    /// `audience=` in GitHub's token request.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn is_trusted(&self, issuer: &str) -> bool {
        self.issuers.iter().any(|i| *i == normalize_issuer(issuer))
    }

    /// Checks a raw ID token. Blocking: it may fetch the issuer's keys.
    pub fn verify(&self, raw: &str) -> Result<Pipeline> {
        let raw = raw.trim();
        let token = CiIdToken::from_str(raw).map_err(|e| {
            refuse(
                codes::MALFORMED,
                format!("the ID token is not a signed JWT: {e}"),
            )
        })?;
        // The claim as written is what the signature covers and what the
        // verifier compares; the list compares without a trailing slash.
        let claimed = unverified_issuer(raw)?;
        let issuer = normalize_issuer(&claimed);
        if !self.issuers.contains(&issuer) {
            return Err(refuse(
                codes::UNKNOWN_ISSUER,
                format!(
                    "the ID token's issuer \"{}\" is not one this registry trusts for publishing ({})",
                    issuer.escape_default(),
                    self.issuers.join(", ")
                ),
            ));
        }
        let keys = self.keys_of(&issuer, false)?;
        let claims = match self.check(&token, &claimed, &keys.keys) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) if keys.fetched.elapsed() >= REFETCH_AFTER => {
                let keys = self.keys_of(&issuer, true)?;
                self.check(&token, &claimed, &keys.keys)
            }
            other => other,
        }
        .map_err(|e| explain(e, &self.audience))?;
        let extra = claims.additional_claims();
        if let Some(nbf) = extra.nbf {
            let now = chrono::Utc::now().timestamp();
            if nbf > now + NBF_LEEWAY_SECS {
                return Err(refuse(
                    codes::NOT_YET_VALID,
                    format!("the ID token is not valid before {}", timestamp(nbf)),
                ));
            }
        }
        let missing = |claim: &str| {
            refuse(
                codes::MALFORMED,
                format!("the ID token has no \"{claim}\" claim; trusted publishing needs it"),
            )
        };
        let project = extra
            .project_path
            .clone()
            .or_else(|| extra.repository.clone())
            .ok_or_else(|| missing("project_path"))?;
        let git_ref = extra.git_ref.as_deref().ok_or_else(|| missing("ref"))?;
        let git_ref = git_ref
            .strip_prefix("refs/heads/")
            .or_else(|| git_ref.strip_prefix("refs/tags/"))
            .unwrap_or(git_ref)
            .to_string();
        let jti = extra.jti.clone().ok_or_else(|| missing("jti"))?;
        Ok(Pipeline {
            issuer,
            project,
            git_ref,
            environment: extra.environment.clone().filter(|e| !e.is_empty()),
            pipeline_id: extra.pipeline_id.clone().or_else(|| extra.run_id.clone()),
            jti,
        })
    }

    fn check<'t>(
        &self,
        token: &'t CiIdToken,
        issuer: &str,
        keys: &[CoreJsonWebKey],
    ) -> std::result::Result<
        &'t openidconnect::IdTokenClaims<CiClaims, CoreGenderClaim>,
        ClaimsVerificationError,
    > {
        let verifier: IdTokenVerifier<CoreJsonWebKey> = IdTokenVerifier::new_public_client(
            ClientId::new(self.audience.clone()),
            IssuerUrl::new(issuer.to_string())
                .map_err(|e| ClaimsVerificationError::InvalidIssuer(e.to_string()))?,
            CoreJsonWebKeySet::new(keys.to_vec()),
        )
        .set_allowed_algs(ALLOWED_ALGS)
        // GitLab and GitHub set `typ: JWT`, which the default list lacks.
        .allow_all_jose_types();
        // CI tokens carry no nonce: nobody asked for them with one. Their
        // replay protection is the `jti`, checked when the token is spent.
        token.claims(&verifier, |_: Option<&Nonce>| Ok(()))
    }

    /// The issuer's keys, from the cache unless `refresh` or stale.
    fn keys_of(&self, issuer: &str, refresh: bool) -> Result<Arc<CachedKeys>> {
        if let Some(cached) = self.keys.lock().expect("not poisoned").get(issuer) {
            let fresh = cached.fetched.elapsed() < KEYS_LIVE;
            if fresh && !(refresh && cached.fetched.elapsed() >= REFETCH_AFTER) {
                return Ok(cached.clone());
            }
        }
        let keys = Arc::new(CachedKeys {
            keys: self.fetch_keys(issuer)?,
            fetched: Instant::now(),
        });
        self.keys
            .lock()
            .expect("not poisoned")
            .insert(issuer.to_string(), keys.clone());
        Ok(keys)
    }

    /// The discovery document names the key set; its `issuer` must be the
    /// one asked for (OpenID Connect Discovery, section 4.3).
    fn fetch_keys(&self, issuer: &str) -> Result<Vec<CoreJsonWebKey>> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let unavailable = |detail: String| RegistryError::ProviderUnavailable {
            issuer: issuer.to_string(),
            detail,
        };
        let discovery: Discovery = self
            .get_json(&format!("{issuer}/.well-known/openid-configuration"))
            .map_err(unavailable)?;
        if normalize_issuer(&discovery.issuer) != issuer {
            return Err(unavailable(format!(
                "its discovery document names the issuer \"{}\"",
                discovery.issuer.escape_default()
            )));
        }
        let set: CoreJsonWebKeySet = self.get_json(&discovery.jwks_uri).map_err(unavailable)?;
        Ok(set.keys().clone())
    }

    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> std::result::Result<T, String> {
        let response = self
            .http
            .get(url)
            .call()
            .map_err(|e| format!("{url}: {e}"))?;
        let reader = std::io::Read::take(response.into_reader(), MOST_BYTES);
        serde_json::from_reader(reader).map_err(|e| format!("{url} answered no usable JSON: {e}"))
    }
}

/// The `iss` of a token before its signature is checked: only to choose
/// which issuer's keys check it.
fn unverified_issuer(raw: &str) -> Result<String> {
    use base64::Engine as _;
    #[derive(Deserialize)]
    struct Iss {
        iss: Option<String>,
    }
    let payload = raw.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| refuse(codes::MALFORMED, "the ID token's payload is not base64url"))?;
    let iss: Iss = serde_json::from_slice(&bytes).map_err(|_| {
        refuse(
            codes::MALFORMED,
            "the ID token's payload is not a JSON object",
        )
    })?;
    iss.iss
        .ok_or_else(|| refuse(codes::MALFORMED, "the ID token has no \"iss\" claim"))
}

fn timestamp(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| secs.to_string())
}

/// Each refusal of the crate as ours, with its own code.
pub(crate) fn explain(e: ClaimsVerificationError, audience: &str) -> RegistryError {
    use ClaimsVerificationError as C;
    use SignatureVerificationError as S;
    match e {
        C::Expired(d) => refuse(codes::EXPIRED, format!("the ID token has expired ({d})")),
        C::InvalidAudience(d) => refuse(
            codes::AUDIENCE,
            format!("the ID token is not meant for this registry: its audience must be \"{audience}\" ({d})"),
        ),
        C::InvalidIssuer(d) => refuse(codes::UNKNOWN_ISSUER, format!("the ID token's issuer is wrong ({d})")),
        C::SignatureVerification(S::NoMatchingKey) => refuse(
            codes::UNKNOWN_KEY,
            "the ID token is signed with a key its issuer does not publish",
        ),
        C::SignatureVerification(S::NoSignature) => refuse(
            codes::ALGORITHM,
            "the ID token is not signed (alg \"none\"); only tokens signed with the issuer's public keys are accepted",
        ),
        C::SignatureVerification(S::DisallowedAlg(d) | S::UnsupportedAlg(d)) => refuse(
            codes::ALGORITHM,
            format!("the ID token's signature algorithm is refused: {d}; only RS*, PS* and ES256/ES384 with the issuer's public keys are accepted"),
        ),
        C::SignatureVerification(e) => refuse(
            codes::SIGNATURE,
            format!("the ID token's signature does not verify with its issuer's key ({e})"),
        ),
        e => refuse(codes::MALFORMED, format!("the ID token is refused: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_compare_without_trailing_slash() {
        let issuers = CiIssuers::new(&["https://gitlab.com/".into()], "https://reg");
        assert!(issuers.is_trusted("https://gitlab.com"));
        assert!(issuers.is_trusted("https://gitlab.com/"));
        assert!(!issuers.is_trusted("https://gitlab.com.evil"));
    }

    #[test]
    fn an_unverified_issuer_needs_a_json_payload_with_iss() {
        use base64::Engine as _;
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!("{}.{}.sig", enc("{}"), enc(r#"{"iss":"https://x/"}"#));
        assert_eq!(unverified_issuer(&token).unwrap(), "https://x/");
        let none = format!("{}.{}.sig", enc("{}"), enc(r#"{"sub":"a"}"#));
        assert_eq!(
            unverified_issuer(&none).unwrap_err().code(),
            codes::MALFORMED
        );
        assert_eq!(
            unverified_issuer("abc").unwrap_err().code(),
            codes::MALFORMED
        );
    }
}
