//! Packages by the identity of what they were made from: a code list by
//! its canonical URI and its own version, a FIM element by its id and
//! version. The import of an XDatenfelder file asks, to depend on the
//! package instead of keeping a bare XRepository reference or copying a
//! harmonised field group.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::{RegistryError, Result};
use crate::store::schema::{codelist_sources, fim_sources, namespaces, packages, versions};
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
        let what = "the code list's canonical URI and its own version, as genericode names them";
        Ok((
            required("uri", self.uri, what)?,
            required("version", self.version, what)?,
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFimQuery {
    pub id: Option<String>,
    pub version: Option<String>,
}

impl RawFimQuery {
    pub fn parse(self) -> Result<(String, String)> {
        let what = "the FIM element's id and version, as in [fim] of a manifest";
        Ok((
            required("id", self.id, what)?,
            required("version", self.version, what)?,
        ))
    }
}

fn required(name: &str, v: Option<String>, what: &str) -> Result<String> {
    let v = v.map(|v| v.trim().to_string()).unwrap_or_default();
    if v.is_empty() {
        return Err(RegistryError::bad_request(
            "bad_query",
            format!("\"{name}\" is required: {what}"),
        ));
    }
    if v.chars().count() > MAX_PARAM_CHARS || v.chars().any(char::is_control) {
        return Err(RegistryError::bad_request(
            "bad_query",
            format!("\"{name}\" must be at most {MAX_PARAM_CHARS} characters without control characters"),
        ));
    }
    Ok(v)
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
pub fn find_codelists(
    conn: &mut DbConn,
    uri: &str,
    source_version: &str,
) -> Result<Vec<CodelistMatch>> {
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

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FimMatch {
    /// `ns/name` of the package.
    pub package: String,
    pub version: String,
    /// `form`, `fieldgroup`, …
    pub kind: String,
    pub fim_id: String,
    pub fim_version: String,
}

/// The versions, not yanked, whose manifest names the FIM element, the
/// first published first; through the `(fim_id, fim_version)` index.
pub fn find_fim(conn: &mut DbConn, id: &str, fim_version: &str) -> Result<Vec<FimMatch>> {
    let rows: Vec<(String, String, String, String)> = fim_sources::table
        .inner_join(versions::table.inner_join(packages::table.inner_join(namespaces::table)))
        .filter(fim_sources::fim_id.eq(id))
        .filter(fim_sources::fim_version.eq(fim_version))
        .filter(versions::yanked_at.is_null())
        .order(versions::id.asc())
        .limit(100)
        .select((
            namespaces::slug,
            packages::name,
            versions::num,
            packages::kind,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(ns, name, num, kind)| FimMatch {
            package: format!("{ns}/{name}"),
            version: num,
            kind,
            fim_id: id.to_string(),
            fim_version: fim_version.to_string(),
        })
        .collect())
}
