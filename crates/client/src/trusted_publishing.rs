//! Trusted publishing from CI: in a pipeline without a stored token,
//! `publish` takes the pipeline's OIDC ID token (GitLab's `id_tokens`
//! variable `GEMEINWERK_ID_TOKEN`, or GitHub Actions' token service) and
//! exchanges it with the registry for a publish token of a few minutes.

use serde_json::Value;

use super::http::RegistryClient;
use super::{ClientError, ClientResult};

/// The variable a GitLab job names in its `id_tokens`, and that any other
/// CI can set to an ID token it has.
pub const ID_TOKEN_VAR: &str = "GEMEINWERK_ID_TOKEN";

/// The pipeline's ID token for this registry, if this runs in a CI that
/// provides one.
pub fn ci_id_token(client: &RegistryClient) -> ClientResult<Option<String>> {
    if let Some(token) = std::env::var(ID_TOKEN_VAR)
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
    {
        return Ok(Some(token));
    }
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    let (Some(url), Some(bearer)) = (
        var("ACTIONS_ID_TOKEN_REQUEST_URL"),
        var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) else {
        return Ok(None);
    };
    // GitHub mints a token for whatever audience is asked; the registry
    // says which one it accepts.
    let answer: Value = client.get_json("/api/v1/trusted-publishing/audience")?;
    let audience = answer["audience"].as_str().unwrap_or_default();
    let failed = |detail: String| ClientError::CiIdToken { detail };
    let response = ureq::get(&url)
        .query("audience", audience)
        .set("Authorization", &format!("bearer {bearer}"))
        .call()
        .map_err(|e| failed(format!("GitHub Actions' token service: {e}")))?;
    let value: Value = response.into_json().map_err(|e| {
        failed(format!(
            "GitHub Actions' token service answered no JSON: {e}"
        ))
    })?;
    value["value"]
        .as_str()
        .map(|t| Some(t.to_string()))
        .ok_or_else(|| failed("GitHub Actions' token service answered no token".into()))
}

/// Exchanges an ID token for a publish token of `package` (`ns/name`).
pub fn exchange(client: &RegistryClient, id_token: &str, package: &str) -> ClientResult<String> {
    let answer: Value = client.post_json(
        "/api/v1/trusted-publishing/token",
        serde_json::json!({ "id_token": id_token, "package": package }),
    )?;
    answer["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ClientError::CiIdToken {
            detail: "the registry's exchange answered no token".into(),
        })
}
