//! Code list packages by the identity of their list: which published
//! versions hold the list with a canonical URI and its own version. The
//! import of an XDatenfelder file asks, to depend on the package instead
//! of keeping a bare XRepository reference.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::{RegistryError, Result};
use crate::store::schema::{codelist_sources, namespaces, packages, versions};
use crate::store::DbConn;

/// The longest URI or version a query may name: canonical URIs of the
/// XRepository are well below it.
const MAX_PARAM_CHARS: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCodelistQuery {
    pub uri: Option<String>,
    pub version: Option<String>,
}

impl RawCodelistQuery {
    pub fn parse(self) -> Result<(String, String)> {
        let take = |name: &str, v: Option<String>| -> Result<String> {
            let v = v.map(|v| v.trim().to_string()).unwrap_or_default();
            if v.is_empty() {
                return Err(RegistryError::bad_request(
                    "bad_query",
                    format!("\"{name}\" is required: the code list's canonical URI and its own version, as genericode names them"),
                ));
            }
            if v.chars().count() > MAX_PARAM_CHARS || v.chars().any(char::is_control) {
                return Err(RegistryError::bad_request(
                    "bad_query",
                    format!("\"{name}\" must be at most {MAX_PARAM_CHARS} characters without control characters"),
                ));
            }
            Ok(v)
        };
        Ok((take("uri", self.uri)?, take("version", self.version)?))
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CodelistMatch {
    /// `ns/name` of the package.
    pub package: String,
    pub version: String,
    pub canonical_uri: String,
    pub source_version: String,
}

/// The versions, not yanked, that hold the list, the first published first
/// (the original before copies and forks). Reads the rows it returns
/// through the `(canonical_uri, source_version)` index.
pub fn find(conn: &mut DbConn, uri: &str, source_version: &str) -> Result<Vec<CodelistMatch>> {
    let rows: Vec<(String, String, String)> = codelist_sources::table
        .inner_join(versions::table.inner_join(packages::table.inner_join(namespaces::table)))
        .filter(codelist_sources::canonical_uri.eq(uri))
        .filter(codelist_sources::source_version.eq(source_version))
        .filter(versions::yanked_at.is_null())
        .order(versions::id.asc())
        .limit(100)
        .select((namespaces::slug, packages::name, versions::num))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(ns, name, num)| CodelistMatch {
            package: format!("{ns}/{name}"),
            version: num,
            canonical_uri: uri.to_string(),
            source_version: source_version.to_string(),
        })
        .collect())
}
