//! The search index (tantivy): schema, German analysis, query building,
//! ranking, facets and snippets. A view derived from the database; the
//! registry decides what goes in (`registry::search`).
//!
//! On disk an index is a *generation*: a folder under `DATA/search/` named
//! in the file `CURRENT`. A rebuild writes a new generation beside the old
//! one and switches `CURRENT` in one rename, so that a server keeps
//! answering from the old one while `admin reindex` builds, and never reads
//! a half-built index.

mod dir;
pub mod german;
mod index;
mod query;
mod ranking;
mod schema;
mod segment_cache;
mod snippet;
#[cfg(test)]
mod tests;
mod tokenizer;
mod writer;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use dir::SearchDir;
pub use index::{CommitPayload, SearchIndex};
pub use segment_cache::VISITED_TO_KEEP as KEEP_SEGMENT_RESULTS_FROM;
pub use writer::SearchWriter;

/// Bumped when the schema or the analysis changes: an index of another
/// version is rebuilt at start-up.
pub const SCHEMA_VERSION: u32 = 2;

/// The trust levels of eIDAS, as forms declare them.
pub const VERTRAUENSNIVEAUS: [&str; 3] = ["niedrig", "substanziell", "hoch"];

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index at {path}: {detail}")]
    Unusable { path: PathBuf, detail: String },
}

pub type Result<T, E = SearchError> = std::result::Result<T, E>;

// ---- what goes in ---------------------------------------------------------

/// One package as the index sees it: its newest non-yanked version.
#[derive(Debug, Clone, Default)]
pub struct PackageDoc {
    /// The package's database id.
    pub id: u64,
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub kind: String,
    pub title: Option<String>,
    pub description: String,
    pub keywords: Vec<String>,
    pub themenfeld: Option<String>,
    pub vertrauensniveau: Option<String>,
    /// Exact keys: the LeiKa Leistungsschlüssel and FIM ids.
    pub keys: Vec<String>,
    /// Labels of fields, groups, states, transitions, fees and notices.
    pub labels: Vec<String>,
    pub readme: String,
    /// The publisher: the namespace's display name and region key.
    pub publisher: String,
    pub downloads: u64,
    pub forks: u64,
    pub deprecated: bool,
    pub updated_at: chrono::NaiveDateTime,
}

// ---- what comes out -------------------------------------------------------

/// How hits are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// BM25 with name and keyword boosts, blended with adoption and recency.
    #[default]
    Relevance,
    Downloads,
    /// Most recently updated first.
    Updated,
    /// By `namespace/name`.
    Name,
}

impl Sort {
    pub const ALL: [(&'static str, Sort); 4] = [
        ("relevance", Sort::Relevance),
        ("downloads", Sort::Downloads),
        ("updated", Sort::Updated),
        ("name", Sort::Name),
    ];

    pub fn parse(s: &str) -> Option<Sort> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
    }
}

/// A checked search request (see `registry::search::SearchParams::parse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchParams {
    /// Free text; empty lists everything.
    pub q: String,
    pub kind: Option<String>,
    pub themenfeld: Option<String>,
    pub namespace: Option<String>,
    pub vertrauensniveau: Option<String>,
    /// Deprecated packages are hidden unless this is set.
    pub include_deprecated: bool,
    pub sort: Sort,
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
}

impl Default for SearchParams {
    fn default() -> Self {
        SearchParams {
            q: String::new(),
            kind: None,
            themenfeld: None,
            namespace: None,
            vertrauensniveau: None,
            include_deprecated: false,
            sort: Sort::Relevance,
            page: 1,
            per_page: 20,
        }
    }
}

impl SearchParams {
    pub fn query(q: &str) -> Self {
        SearchParams {
            q: q.to_string(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// How many packages match (all pages).
    pub total: u64,
    pub page: usize,
    pub per_page: usize,
    pub facets: Facets,
    pub hits: Vec<Hit>,
}

/// Counts per value of each filter. The counts of one facet apply every
/// other filter but its own, so that a chosen value's alternatives show.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facets {
    pub kind: Vec<FacetCount>,
    pub themenfeld: Vec<FacetCount>,
    pub namespace: Vec<FacetCount>,
    pub vertrauensniveau: Vec<FacetCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCount {
    pub value: String,
    /// The German name, for Themenfelder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub namespace: String,
    pub name: String,
    /// The newest non-yanked version.
    pub version: String,
    pub kind: String,
    pub title: Option<String>,
    pub description: String,
    pub themenfeld: Option<String>,
    pub vertrauensniveau: Option<String>,
    pub downloads: u64,
    pub forks: u64,
    pub deprecated: bool,
    pub updated_at: chrono::NaiveDateTime,
    /// HTML: the text is escaped, matches are wrapped in `<mark>`.
    pub snippet: String,
    pub score: f32,
}

impl Hit {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// A typeahead entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// `namespace/name`
    pub name: String,
    pub title: Option<String>,
    pub kind: String,
    /// The title (or name) with the typed words in `<mark>`, HTML-escaped.
    pub highlighted: String,
}
