//! The advisories that affect a lock's pins, asked of the registry each
//! pin came from (`GET /api/v1/advisories?affects=ns/name@version`).

use serde::{Deserialize, Serialize};

use super::http::RegistryClient;
use super::lockfile::Lockfile;
use super::{ClientError, ClientResult};

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Advisory {
    pub id: i64,
    pub package: String,
    pub kind: String,
    pub severity: String,
    pub text: String,
    pub affected: String,
    #[serde(default)]
    pub fixed: Option<String>,
}

/// An advisory and the pin it affects.
#[derive(Debug, Clone, Serialize)]
pub struct Affected {
    pub name: String,
    pub version: String,
    pub advisory: Advisory,
}

#[derive(Deserialize)]
struct Answer {
    advisories: Vec<Advisory>,
}

/// The advisories that affect `name@version` (`ns/name`). A package the
/// registry no longer knows has none to report.
pub fn for_version(
    client: &RegistryClient,
    name: &str,
    version: &str,
) -> ClientResult<Vec<Advisory>> {
    let path = format!("/api/v1/advisories?affects={name}@{version}");
    match client.get_json::<Answer>(&path) {
        Ok(a) => Ok(a.advisories),
        Err(ClientError::Api { status: 404, .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Every advisory that affects a locked version, asked of the registry
/// each pin came from.
pub fn affecting(lock: &Lockfile) -> ClientResult<Vec<Affected>> {
    let mut out = Vec::new();
    for p in &lock.packages {
        let client = RegistryClient::new(&p.registry, None);
        let found = for_version(&client, &p.name, &p.version)?;
        out.extend(found.into_iter().map(|advisory| Affected {
            name: p.name.clone(),
            version: p.version.clone(),
            advisory,
        }));
    }
    Ok(out)
}
