//! The gemeinwerk index format, shared by the server and the client.
//!
//! The index has one file per package at `{namespace}/{name}`, holding one
//! JSON line per published version in publish order, as crates.io's index
//! does. The same files are served over HTTP (the sparse index) and kept in a
//! git repository (the git index); `config.json` at the root tells a client
//! where to download archives and where the API is.

// The git index writer links libgit2: the server needs it, a client that
// only reads index lines does not.
#[cfg(feature = "git")]
mod git;
#[cfg(feature = "git")]
pub mod pack;

#[cfg(feature = "git")]
pub use git::{
    clear_stale_locks, init_bare, process_started, update_server_info, CommitInfo, GitIndex,
    GitIndexError, Squashed,
};

use serde::{Deserialize, Serialize};

/// The format version written into every line (`v`), raised when a field
/// changes meaning so that old clients can skip lines they do not understand.
pub const INDEX_FORMAT_VERSION: u32 = 1;

/// One published version, as one line of the index file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexLine {
    /// `namespace/name`
    pub name: String,
    pub vers: String,
    pub kind: String,
    pub deps: Vec<IndexDependency>,
    /// SHA-256 of the archive, lowercase hex.
    pub cksum: String,
    pub yanked: bool,
    /// `namespace/name@version` of the upstream version this one was forked from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<String>,
    pub v: u32,
}

/// A dependency of a version: another package and a semver requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDependency {
    /// `namespace/name`
    pub name: String,
    pub req: String,
}

/// The root `config.json` of the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexConfig {
    /// Download URL template; `{ns}`, `{name}` and `{version}` are replaced.
    pub dl: String,
    /// Base URL of the registry's API.
    pub api: String,
}

impl IndexConfig {
    pub fn for_base_url(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        IndexConfig {
            dl: format!("{base}/api/v1/packages/{{ns}}/{{name}}/{{version}}/download"),
            api: base.to_string(),
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("config serialises");
        s.push('\n');
        s
    }
}

/// The path of a package's file inside the index, relative to its root.
pub fn package_path(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// Serialises index lines into the file content: one compact JSON object per
/// line, each line terminated by `\n`.
pub fn serialize_lines(lines: &[IndexLine]) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(&serde_json::to_string(line).expect("index line serialises"));
        out.push('\n');
    }
    out
}

/// Parses an index file. Lines with a newer format version than this crate
/// knows are skipped, so that an old client keeps working.
pub fn parse_lines(content: &str) -> Result<Vec<IndexLine>, serde_json::Error> {
    let mut lines = Vec::new();
    for raw in content.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(raw)?;
        if value.get("v").and_then(|v| v.as_u64()).unwrap_or(1) > INDEX_FORMAT_VERSION as u64 {
            continue;
        }
        lines.push(serde_json::from_value(value)?);
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(vers: &str) -> IndexLine {
        IndexLine {
            name: "kassel/bewohnerparkausweis".into(),
            vers: vers.into(),
            kind: "form".into(),
            deps: vec![IndexDependency {
                name: "fim/anschrift-inland".into(),
                req: "^1.2".into(),
            }],
            cksum: "ab".repeat(32),
            yanked: false,
            forked_from: None,
            v: INDEX_FORMAT_VERSION,
        }
    }

    #[test]
    fn lines_round_trip_and_end_with_newline() {
        let lines = vec![line("1.0.0"), line("1.1.0")];
        let text = serialize_lines(&lines);
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with('\n'));
        assert!(
            !text.contains("forked_from"),
            "absent provenance is omitted"
        );
        assert_eq!(parse_lines(&text).unwrap(), lines);
    }

    #[test]
    fn newer_format_lines_are_skipped() {
        let text = format!(
            "{}\n{{\"name\":\"x/y\",\"vers\":\"2.0.0\",\"v\":99}}\n",
            serde_json::to_string(&line("1.0.0")).unwrap()
        );
        assert_eq!(parse_lines(&text).unwrap().len(), 1);
    }

    #[test]
    fn config_template() {
        let c = IndexConfig::for_base_url("http://127.0.0.1:8080/");
        assert_eq!(
            c.dl,
            "http://127.0.0.1:8080/api/v1/packages/{ns}/{name}/{version}/download"
        );
        assert_eq!(package_path("kassel", "hundesteuer"), "kassel/hundesteuer");
    }
}
