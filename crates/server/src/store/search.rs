//! The search index (tantivy): schema, German analysis, query building,
//! ranking, facets and snippets. A view derived from the database; the
//! registry decides what goes in (`registry::search`).
//!
//! On disk an index is a *generation*: a folder under `DATA/search/` named
//! in the file `CURRENT`. A rebuild writes a new generation beside the old
//! one and switches `CURRENT` in one rename, so that a server keeps
//! answering from the old one while `admin reindex` builds, and never reads
//! a half-built index.

pub mod german;
mod query;
mod snippet;

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value, FAST,
    INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentOrdinal,
    SegmentReader, TantivyDocument, Term,
};

use gemeinwerk_package::manifest::{PackageKind, THEMENFELDER};

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

// ---- the schema -----------------------------------------------------------

const WORDS: &str = "gw_de";
const PARTS: &str = "gw_de_parts";
const FOLDED: &str = "gw_de_folded";

#[derive(Clone)]
struct Fields {
    id: Field,
    namespace: Field,
    full_name: Field,
    kind: Field,
    themenfeld: Field,
    vertrauensniveau: Field,
    deprecated: Field,
    downloads: Field,
    forks: Field,
    updated: Field,
    keys: Field,
    /// Name, title and keywords: what a package is called.
    primary: Field,
    /// Description and publisher.
    secondary: Field,
    /// Labels and README.
    content: Field,
    /// Compound parts of name, title, keywords and description.
    parts: Field,
    /// Folded, unstemmed words of name, title and keywords: typo tolerance
    /// and typeahead prefixes work on what people type, not on stems.
    folded: Field,
    /// The hit as JSON, and the texts snippets are cut from.
    stored: Field,
    snippet_text: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqs),
        )
    };
    let num = NumericOptions::default().set_fast();
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | FAST | STORED),
        namespace: b.add_text_field("namespace", STRING | FAST),
        full_name: b.add_text_field("full_name", STRING | FAST),
        kind: b.add_u64_field("kind", num.clone()),
        themenfeld: b.add_u64_field("themenfeld", num.clone()),
        vertrauensniveau: b.add_u64_field("vertrauensniveau", num.clone()),
        deprecated: b.add_u64_field("deprecated", num.clone()),
        downloads: b.add_u64_field("downloads", num.clone()),
        forks: b.add_u64_field("forks", num.clone()),
        updated: b.add_i64_field("updated", num),
        keys: b.add_text_field("keys", STRING),
        primary: b.add_text_field("primary", text(WORDS)),
        secondary: b.add_text_field("secondary", text(WORDS)),
        content: b.add_text_field("content", text(WORDS)),
        parts: b.add_text_field("parts", text(PARTS)),
        folded: b.add_text_field("folded", text(FOLDED)),
        stored: b.add_text_field("stored", STORED),
        snippet_text: b.add_text_field("snippet_text", STORED),
    };
    (b.build(), fields)
}

/// Codes for the closed vocabularies, kept in fast fields; 0 is "none".
fn code_of(values: &[&str], value: Option<&str>) -> u64 {
    value
        .and_then(|v| values.iter().position(|x| *x == v))
        .map_or(0, |i| i as u64 + 1)
}

fn kinds() -> Vec<&'static str> {
    PackageKind::ALL.iter().map(|k| k.as_str()).collect()
}

fn themenfelder() -> Vec<&'static str> {
    THEMENFELDER.iter().map(|(s, _)| *s).collect()
}

// ---- the tokenizers -------------------------------------------------------

#[derive(Clone, Copy)]
enum Mode {
    Stems,
    Parts,
    Folded,
}

/// Runs `german::analyze` for tantivy.
#[derive(Clone)]
struct GermanTokenizer {
    mode: Mode,
}

struct VecTokenStream {
    tokens: Vec<Token>,
    at: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.at += 1;
        self.at <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.at - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.at - 1]
    }
}

impl Tokenizer for GermanTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let mut tokens = Vec::new();
        for (position, a) in german::analyze(text).into_iter().enumerate() {
            let mut push = |t: String| {
                tokens.push(Token {
                    offset_from: a.from,
                    offset_to: a.to,
                    position,
                    text: t,
                    position_length: 1,
                })
            };
            match self.mode {
                Mode::Stems => push(a.stem),
                Mode::Folded => push(a.folded),
                Mode::Parts => german::parts(&a.stem).into_iter().for_each(push),
            }
        }
        VecTokenStream { tokens, at: 0 }
    }
}

fn register_tokenizers(index: &Index) {
    let t = index.tokenizers();
    t.register(
        WORDS,
        TextAnalyzer::from(GermanTokenizer { mode: Mode::Stems }),
    );
    t.register(
        PARTS,
        TextAnalyzer::from(GermanTokenizer { mode: Mode::Parts }),
    );
    t.register(
        FOLDED,
        TextAnalyzer::from(GermanTokenizer { mode: Mode::Folded }),
    );
}

// ---- generations on disk --------------------------------------------------

/// `DATA/search/`: generations of the index and the `CURRENT` pointer.
#[derive(Debug, Clone)]
pub struct SearchDir {
    pub root: PathBuf,
}

impl SearchDir {
    pub fn new(root: &Path) -> Self {
        SearchDir {
            root: root.to_path_buf(),
        }
    }

    /// The generation `CURRENT` names, if any.
    pub fn current(&self) -> Option<String> {
        let name = std::fs::read_to_string(self.root.join("CURRENT")).ok()?;
        let name = name.trim();
        (!name.is_empty() && !name.contains('/')).then(|| name.to_string())
    }

    pub fn path_of(&self, generation: &str) -> PathBuf {
        self.root.join(generation)
    }

    /// A fresh, empty folder for a new generation.
    pub fn new_generation(&self) -> Result<(String, PathBuf)> {
        std::fs::create_dir_all(&self.root)?;
        let name = format!(
            "gen-{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
            std::process::id()
        );
        let path = self.root.join(&name);
        std::fs::create_dir_all(&path)?;
        Ok((name, path))
    }

    /// Makes `generation` the current one, atomically, and removes the
    /// other generations but `keep` (the one a running server may still
    /// write to; it removes that one itself when it switches).
    pub fn switch_to(&self, generation: &str, keep: Option<&str>) -> Result<()> {
        let tmp = self.root.join(format!("CURRENT.{}", std::process::id()));
        std::fs::write(&tmp, generation)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, self.root.join("CURRENT"))?;
        self.remove_except(&[Some(generation), keep]);
        Ok(())
    }

    /// Removes every generation but `generation`. A process still reading
    /// one keeps its open files (they are unlinked, not truncated).
    pub fn remove_others(&self, generation: &str) {
        self.remove_except(&[Some(generation)]);
    }

    fn remove_except(&self, keep: &[Option<&str>]) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("gen-") && !keep.contains(&Some(name.as_str())) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

// ---- the index ------------------------------------------------------------

/// What the last commit says: which change it has applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitPayload {
    pub schema: u32,
    /// The id of the last change-feed entry the index reflects.
    pub cursor: i64,
}

/// An open index and its reader. Opening takes no lock: only
/// [`SearchIndex::writer`] does, and only one process holds it.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

impl SearchIndex {
    /// Creates an empty index in an empty folder.
    pub fn create(dir: &Path) -> Result<SearchIndex> {
        let (schema, fields) = schema();
        let index = Index::create_in_dir(dir, schema)?;
        Self::wrap(index, fields)
    }

    /// An index in memory, for tests and benchmarks.
    pub fn in_memory() -> Result<SearchIndex> {
        let (schema, fields) = schema();
        Self::wrap(Index::create_in_ram(schema), fields)
    }

    /// Opens an existing index and checks that it is whole and of this
    /// schema version; anything else is `Unusable` and wants a rebuild.
    pub fn open(dir: &Path) -> Result<SearchIndex> {
        let unusable = |detail: String| SearchError::Unusable {
            path: dir.to_path_buf(),
            detail,
        };
        let index = Index::open_in_dir(dir).map_err(|e| unusable(e.to_string()))?;
        let (expected, fields) = schema();
        if index.schema() != expected {
            return Err(unusable("the schema differs from this version's".into()));
        }
        let payload = Self::payload_of(&index).map_err(|e| unusable(e.to_string()))?;
        match payload {
            Some(p) if p.schema == SCHEMA_VERSION => {}
            Some(p) => {
                return Err(unusable(format!(
                    "schema version {} (this version writes {SCHEMA_VERSION})",
                    p.schema
                )))
            }
            None => return Err(unusable("no completed commit".into())),
        }
        let corrupt = index
            .validate_checksum()
            .map_err(|e| unusable(e.to_string()))?;
        if !corrupt.is_empty() {
            return Err(unusable(format!("damaged files: {corrupt:?}")));
        }
        Self::wrap(index, fields)
    }

    fn wrap(index: Index, fields: Fields) -> Result<SearchIndex> {
        register_tokenizers(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            fields,
        })
    }

    fn payload_of(index: &Index) -> Result<Option<CommitPayload>> {
        let metas = index.load_metas()?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok()))
    }

    /// The last committed payload.
    pub fn payload(&self) -> Result<Option<CommitPayload>> {
        Self::payload_of(&self.index)
    }

    /// Takes the index's writer lock; fails if another process holds it.
    pub fn writer(&self) -> Result<SearchWriter> {
        // One indexing thread with tantivy's smallest budget: a registry's
        // packages are few and small; the machine's cores serve requests.
        let writer = self.index.writer_with_num_threads(1, 15_000_000)?;
        Ok(SearchWriter {
            writer,
            fields: self.fields.clone(),
        })
    }

    /// Makes the last commit visible to searches.
    pub fn reload(&self) -> Result<()> {
        Ok(self.reader.reload()?)
    }

    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Download counts by package id, as the index has them.
    pub fn downloads(&self) -> Result<HashMap<u64, u64>> {
        let searcher = self.reader.searcher();
        let mut out = HashMap::new();
        for segment in searcher.segment_readers() {
            let ids = segment.fast_fields().u64("id")?;
            let downloads = segment.fast_fields().u64("downloads")?;
            for doc in segment.doc_ids_alive() {
                if let (Some(id), Some(d)) = (ids.first(doc), downloads.first(doc)) {
                    out.insert(id, d);
                }
            }
        }
        Ok(out)
    }

    /// Runs a checked search.
    pub fn search(&self, params: &SearchParams) -> Result<SearchResults> {
        let searcher = self.reader.searcher();
        let words = query::QueryWords::parse(&params.q);
        let filters = Filters {
            kind: params.kind.as_deref().map(|k| code_of(&kinds(), Some(k))),
            themenfeld: params
                .themenfeld
                .as_deref()
                .map(|t| code_of(&themenfelder(), Some(t))),
            vertrauensniveau: params
                .vertrauensniveau
                .as_deref()
                .map(|v| code_of(&VERTRAUENSNIVEAUS, Some(v))),
            namespace: params.namespace.clone(),
            include_deprecated: params.include_deprecated,
        };
        let offset = (params.page.max(1) - 1) * params.per_page;
        let collector = RankingCollector {
            filters,
            sort: params.sort,
            limit: offset + params.per_page,
            now: chrono::Utc::now().timestamp(),
            scored: !words.is_empty(),
        };
        let mut fruit = searcher.search(&*query::build(&self.fields, &words, true), &collector)?;
        if fruit.total == 0 && words.words.len() > 1 {
            fruit = searcher.search(&*query::build(&self.fields, &words, false), &collector)?;
        }
        let mut hits = Vec::new();
        for candidate in fruit.top.into_iter().skip(offset) {
            let doc: TantivyDocument = searcher.doc(candidate.address)?;
            let Some(mut hit) = doc
                .get_first(self.fields.stored)
                .and_then(|v| v.as_str())
                .and_then(|s| serde_json::from_str::<Hit>(s).ok())
            else {
                continue;
            };
            let text = doc
                .get_first(self.fields.snippet_text)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            hit.snippet = snippet::snippet(text, &words, 200);
            hit.score = candidate.score;
            hits.push(hit);
        }
        Ok(SearchResults {
            total: fruit.total,
            page: params.page,
            per_page: params.per_page,
            facets: fruit.facets,
            hits,
        })
    }

    /// Typeahead: the best `limit` packages for what has been typed so far
    /// (the last word counts as a prefix), deprecated ones left out.
    pub fn suggest(&self, q: &str, limit: usize) -> Result<Vec<Suggestion>> {
        if q.trim().is_empty() {
            return Ok(Vec::new());
        }
        let results = self.search(&SearchParams {
            q: q.to_string(),
            per_page: limit,
            ..Default::default()
        })?;
        let words = query::QueryWords::parse(q);
        Ok(results
            .hits
            .into_iter()
            .map(|h| {
                let shown = h.title.clone().unwrap_or_else(|| h.name.clone());
                Suggestion {
                    name: h.full_name(),
                    highlighted: snippet::snippet(&shown, &words, 200),
                    title: h.title,
                    kind: h.kind,
                }
            })
            .collect())
    }
}

/// The index's single writer.
pub struct SearchWriter {
    writer: IndexWriter,
    fields: Fields,
}

impl SearchWriter {
    /// Adds the package, replacing what the index had for it.
    pub fn upsert(&mut self, doc: &PackageDoc) -> Result<()> {
        self.delete(doc.id);
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_u64(f.id, doc.id);
        d.add_text(f.namespace, &doc.namespace);
        d.add_text(f.full_name, format!("{}/{}", doc.namespace, doc.name));
        d.add_u64(f.kind, code_of(&kinds(), Some(&doc.kind)));
        d.add_u64(
            f.themenfeld,
            code_of(&themenfelder(), doc.themenfeld.as_deref()),
        );
        d.add_u64(
            f.vertrauensniveau,
            code_of(&VERTRAUENSNIVEAUS, doc.vertrauensniveau.as_deref()),
        );
        d.add_u64(f.deprecated, u64::from(doc.deprecated));
        d.add_u64(f.downloads, doc.downloads);
        d.add_u64(f.forks, doc.forks);
        d.add_i64(f.updated, doc.updated_at.and_utc().timestamp());
        for key in &doc.keys {
            d.add_text(f.keys, key.trim().to_lowercase());
        }
        // The name as words: "bewohnerparkausweis-kassel" → two words.
        let name_words = doc.name.replace('-', " ");
        let title = doc.title.clone().unwrap_or_default();
        let keywords = doc.keywords.join(", ");
        for text in [&name_words, &title, &keywords] {
            d.add_text(f.primary, text);
            d.add_text(f.parts, text);
            d.add_text(f.folded, text);
        }
        d.add_text(f.secondary, &doc.description);
        d.add_text(f.secondary, &doc.publisher);
        // The Themenfeld by its German name: "Mobilität" finds its packages.
        if let Some((_, label)) = THEMENFELDER
            .iter()
            .find(|(slug, _)| Some(*slug) == doc.themenfeld.as_deref())
        {
            d.add_text(f.secondary, label);
        }
        d.add_text(f.parts, &doc.description);
        for label in &doc.labels {
            d.add_text(f.content, label);
        }
        d.add_text(f.content, &doc.readme);
        let hit = Hit {
            namespace: doc.namespace.clone(),
            name: doc.name.clone(),
            version: doc.version.clone(),
            kind: doc.kind.clone(),
            title: doc.title.clone(),
            description: doc.description.clone(),
            themenfeld: doc.themenfeld.clone(),
            vertrauensniveau: doc.vertrauensniveau.clone(),
            downloads: doc.downloads,
            forks: doc.forks,
            deprecated: doc.deprecated,
            updated_at: doc.updated_at,
            snippet: String::new(),
            score: 0.0,
        };
        d.add_text(
            f.stored,
            serde_json::to_string(&hit).expect("a hit serialises"),
        );
        d.add_text(f.snippet_text, &doc.description);
        self.writer.add_document(d)?;
        Ok(())
    }

    pub fn delete(&mut self, id: u64) {
        self.writer
            .delete_term(Term::from_field_u64(self.fields.id, id));
    }

    pub fn delete_all(&mut self) -> Result<()> {
        self.writer.delete_all_documents()?;
        Ok(())
    }

    /// Commits what was added, with the change-feed position it reflects.
    pub fn commit(&mut self, cursor: i64) -> Result<()> {
        let payload = CommitPayload {
            schema: SCHEMA_VERSION,
            cursor,
        };
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&payload).expect("payload serialises"));
        prepared.commit()?;
        Ok(())
    }

    /// Merges every segment into one: after a rebuild, queries then visit
    /// one segment instead of dozens.
    pub fn merge_all(&mut self) -> Result<()> {
        self.writer
            .set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        // A background merge that was already running may take segments
        // away under us; then ask again for what is there now.
        for _ in 0..50 {
            let ids = self.writer.index().searchable_segment_ids()?;
            if ids.len() <= 1 {
                return Ok(());
            }
            match self.writer.merge(&ids).wait() {
                Ok(_) => return Ok(()),
                Err(tantivy::TantivyError::InvalidArgument(_)) => {
                    std::thread::sleep(std::time::Duration::from_millis(100))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Waits for background merges, before the process exits.
    pub fn finish(self) -> Result<()> {
        self.writer.wait_merging_threads()?;
        Ok(())
    }
}

// ---- ranking, filters and facets in one pass ------------------------------

#[derive(Debug, Clone)]
struct Filters {
    kind: Option<u64>,
    themenfeld: Option<u64>,
    vertrauensniveau: Option<u64>,
    namespace: Option<String>,
    include_deprecated: bool,
}

/// What one matching document is ranked by; greater is better.
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Number(f64),
    /// Ascending by name: the smaller name is the better one.
    Name(Reverse<String>),
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Key::Number(a), Key::Number(b)) => a.total_cmp(b),
            (Key::Name(a), Key::Name(b)) => a.cmp(b),
            (Key::Number(_), Key::Name(_)) => Ordering::Greater,
            (Key::Name(_), Key::Number(_)) => Ordering::Less,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    key: Key,
    /// Ties go to the earlier document, so that pages are stable.
    tie: Reverse<(u32, u32)>,
    address: DocAddress,
    score: OrdF32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF32(f32);
impl Eq for OrdF32 {}
impl PartialOrd for OrdF32 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrdF32 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

struct Ranked {
    address: DocAddress,
    score: f32,
}

struct Fruit {
    total: u64,
    facets: Facets,
    top: Vec<Ranked>,
}

struct RankingCollector {
    filters: Filters,
    sort: Sort,
    limit: usize,
    now: i64,
    /// `false` for an empty query: every document scores the same.
    scored: bool,
}

struct SegmentFruit {
    total: u64,
    kind: Vec<u64>,
    themenfeld: Vec<u64>,
    vertrauensniveau: Vec<u64>,
    namespace: HashMap<String, u64>,
    top: BinaryHeap<Reverse<Candidate>>,
}

struct RankingSegment {
    segment: SegmentOrdinal,
    filters: Filters,
    sort: Sort,
    limit: usize,
    now: i64,
    scored: bool,
    /// The segment's ordinal of the namespace filtered for; `None` with a
    /// namespace filter means no document of the segment passes it.
    namespace_ord: Option<Option<u64>>,
    kind: Column<u64>,
    themenfeld: Column<u64>,
    vertrauensniveau: Column<u64>,
    deprecated: Column<u64>,
    downloads: Column<u64>,
    forks: Column<u64>,
    updated: Column<i64>,
    namespace: Option<StrColumn>,
    full_name: Option<StrColumn>,
    kind_counts: Vec<u64>,
    themenfeld_counts: Vec<u64>,
    vertrauensniveau_counts: Vec<u64>,
    namespace_counts: HashMap<u64, u64>,
    total: u64,
    top: BinaryHeap<Reverse<Candidate>>,
}

impl Collector for RankingCollector {
    type Fruit = Fruit;
    type Child = RankingSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<RankingSegment> {
        let ff = reader.fast_fields();
        let namespace = ff.str("namespace")?;
        let namespace_ord = match (&self.filters.namespace, &namespace) {
            (None, _) => None,
            (Some(ns), Some(col)) => Some(col.dictionary().term_ord(ns.as_bytes())?),
            (Some(_), None) => Some(None),
        };
        Ok(RankingSegment {
            segment,
            filters: self.filters.clone(),
            sort: self.sort,
            limit: self.limit,
            now: self.now,
            scored: self.scored,
            namespace_ord,
            kind: ff.u64("kind")?,
            themenfeld: ff.u64("themenfeld")?,
            vertrauensniveau: ff.u64("vertrauensniveau")?,
            deprecated: ff.u64("deprecated")?,
            downloads: ff.u64("downloads")?,
            forks: ff.u64("forks")?,
            updated: ff.i64("updated")?,
            namespace,
            full_name: ff.str("full_name")?,
            kind_counts: vec![0; PackageKind::ALL.len() + 1],
            themenfeld_counts: vec![0; THEMENFELDER.len() + 1],
            vertrauensniveau_counts: vec![0; VERTRAUENSNIVEAUS.len() + 1],
            namespace_counts: HashMap::new(),
            total: 0,
            top: BinaryHeap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scored && self.sort == Sort::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<SegmentFruit>) -> tantivy::Result<Fruit> {
        let mut total = 0;
        let mut kind = vec![0; PackageKind::ALL.len() + 1];
        let mut themenfeld = vec![0; THEMENFELDER.len() + 1];
        let mut vertrauensniveau = vec![0; VERTRAUENSNIVEAUS.len() + 1];
        let mut namespace: HashMap<String, u64> = HashMap::new();
        let mut all = Vec::new();
        for f in fruits {
            total += f.total;
            for (a, b) in kind.iter_mut().zip(&f.kind) {
                *a += b;
            }
            for (a, b) in themenfeld.iter_mut().zip(&f.themenfeld) {
                *a += b;
            }
            for (a, b) in vertrauensniveau.iter_mut().zip(&f.vertrauensniveau) {
                *a += b;
            }
            for (ns, n) in f.namespace {
                *namespace.entry(ns).or_default() += n;
            }
            all.extend(f.top.into_iter().map(|Reverse(c)| c));
        }
        all.sort_by(|a, b| b.cmp(a));
        all.truncate(self.limit);
        let closed = |counts: &[u64], values: &[&str], labels: Option<&[(&str, &str)]>| {
            values
                .iter()
                .enumerate()
                .filter(|(i, _)| counts[i + 1] > 0)
                .map(|(i, v)| FacetCount {
                    value: v.to_string(),
                    label: labels.map(|l| l[i].1.to_string()),
                    count: counts[i + 1],
                })
                .collect::<Vec<_>>()
        };
        let mut namespaces: Vec<FacetCount> = namespace
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(value, count)| FacetCount {
                value,
                label: None,
                count,
            })
            .collect();
        namespaces.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        Ok(Fruit {
            total,
            facets: Facets {
                kind: closed(&kind, &kinds(), None),
                themenfeld: closed(&themenfeld, &themenfelder(), Some(&THEMENFELDER)),
                namespace: namespaces,
                vertrauensniveau: closed(&vertrauensniveau, &VERTRAUENSNIVEAUS, None),
            },
            top: all
                .into_iter()
                .map(|c| Ranked {
                    address: c.address,
                    score: c.score.0,
                })
                .collect(),
        })
    }
}

/// How much adoption and recency lift a relevance score: a package with
/// 1,000 downloads and 5 forks ranks about 45 % higher than an unused one
/// with the same text score; one updated today about 5 % higher than one
/// untouched for years. Text relevance stays the first criterion.
fn blended(score: f32, downloads: u64, forks: u64, age_days: f64) -> f64 {
    let adoption = 1.0 + 0.04 * (1.0 + downloads as f64).ln() + 0.08 * (1.0 + forks as f64).ln();
    let recency = 1.0 + 0.05 * (-age_days.max(0.0) / 180.0).exp();
    score as f64 * adoption * recency
}

impl SegmentCollector for RankingSegment {
    type Fruit = SegmentFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        let deprecated = self.deprecated.first(doc).unwrap_or(0) == 1;
        if deprecated && !self.filters.include_deprecated {
            return;
        }
        let kind = self.kind.first(doc).unwrap_or(0);
        let themenfeld = self.themenfeld.first(doc).unwrap_or(0);
        let vn = self.vertrauensniveau.first(doc).unwrap_or(0);
        let ns_ord = self.namespace.as_ref().and_then(|c| c.ords().first(doc));
        let pass_kind = self.filters.kind.is_none_or(|k| k == kind);
        let pass_tf = self.filters.themenfeld.is_none_or(|t| t == themenfeld);
        let pass_vn = self.filters.vertrauensniveau.is_none_or(|v| v == vn);
        let pass_ns = match self.namespace_ord {
            None => true,
            Some(None) => false,
            Some(Some(o)) => ns_ord == Some(o),
        };
        // Each facet counts what passes every other filter.
        if pass_tf && pass_vn && pass_ns {
            self.kind_counts[kind as usize] += 1;
        }
        if pass_kind && pass_vn && pass_ns {
            self.themenfeld_counts[themenfeld as usize] += 1;
        }
        if pass_kind && pass_tf && pass_ns {
            self.vertrauensniveau_counts[vn as usize] += 1;
        }
        if pass_kind && pass_tf && pass_vn {
            if let Some(o) = ns_ord {
                *self.namespace_counts.entry(o).or_default() += 1;
            }
        }
        if !(pass_kind && pass_tf && pass_vn && pass_ns) {
            return;
        }
        self.total += 1;
        let downloads = self.downloads.first(doc).unwrap_or(0);
        let key = match self.sort {
            Sort::Relevance => {
                let forks = self.forks.first(doc).unwrap_or(0);
                let updated = self.updated.first(doc).unwrap_or(0);
                let age_days = (self.now - updated) as f64 / 86_400.0;
                let base = if self.scored { score } else { 1.0 };
                Key::Number(blended(base, downloads, forks, age_days))
            }
            Sort::Downloads => Key::Number(downloads as f64),
            Sort::Updated => Key::Number(self.updated.first(doc).unwrap_or(0) as f64),
            Sort::Name => {
                let mut name = String::new();
                if let (Some(col), Some(ord)) = (
                    &self.full_name,
                    self.full_name.as_ref().and_then(|c| c.ords().first(doc)),
                ) {
                    let _ = col.ord_to_str(ord, &mut name);
                }
                Key::Name(Reverse(name))
            }
        };
        let candidate = Candidate {
            key,
            tie: Reverse((self.segment, doc)),
            address: DocAddress::new(self.segment, doc),
            score: OrdF32(score),
        };
        if self.top.len() < self.limit {
            self.top.push(Reverse(candidate));
        } else if let Some(Reverse(worst)) = self.top.peek() {
            if candidate > *worst {
                self.top.pop();
                self.top.push(Reverse(candidate));
            }
        }
    }

    fn harvest(self) -> SegmentFruit {
        let mut namespace = HashMap::new();
        if let Some(col) = &self.namespace {
            for (ord, n) in self.namespace_counts {
                let mut s = String::new();
                if col.ord_to_str(ord, &mut s).unwrap_or(false) {
                    namespace.insert(s, n);
                }
            }
        }
        SegmentFruit {
            total: self.total,
            kind: self.kind_counts,
            themenfeld: self.themenfeld_counts,
            vertrauensniveau: self.vertrauensniveau_counts,
            namespace,
            top: self.top,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: u64, ns: &str, name: &str, title: &str) -> PackageDoc {
        PackageDoc {
            id,
            namespace: ns.into(),
            name: name.into(),
            version: "1.0.0".into(),
            kind: "form".into(),
            title: Some(title.into()),
            description: format!("{title} für die Verwaltung"),
            themenfeld: Some("steuern_zoll".into()),
            updated_at: chrono::NaiveDate::from_ymd_opt(2020, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
            ..Default::default()
        }
    }

    fn index(docs: &[PackageDoc]) -> SearchIndex {
        let index = SearchIndex::in_memory().unwrap();
        let mut w = index.writer().unwrap();
        for d in docs {
            w.upsert(d).unwrap();
        }
        w.commit(7).unwrap();
        index.reload().unwrap();
        index
    }

    fn names(index: &SearchIndex, params: &SearchParams) -> Vec<String> {
        index
            .search(params)
            .unwrap()
            .hits
            .iter()
            .map(Hit::full_name)
            .collect()
    }

    #[test]
    fn adoption_breaks_ties_of_equal_text_and_sorts_sort() {
        let mut a = doc(1, "kassel", "hundesteuer", "Hundesteuer anmelden");
        let mut b = doc(2, "fulda", "hundesteuer", "Hundesteuer anmelden");
        let mut c = doc(3, "darmstadt", "hundesteuer", "Hundesteuer anmelden");
        a.downloads = 10;
        b.downloads = 5000;
        c.forks = 10;
        c.updated_at = chrono::Utc::now().naive_utc();
        let index = index(&[a, b, c]);
        let q = SearchParams::query("Hundesteuer");
        assert_eq!(
            names(&index, &q),
            [
                "fulda/hundesteuer",
                "darmstadt/hundesteuer",
                "kassel/hundesteuer"
            ]
        );
        let by = |sort| SearchParams { sort, ..q.clone() };
        assert_eq!(names(&index, &by(Sort::Downloads))[0], "fulda/hundesteuer");
        assert_eq!(
            names(&index, &by(Sort::Updated))[0],
            "darmstadt/hundesteuer"
        );
        assert_eq!(
            names(&index, &by(Sort::Name)),
            [
                "darmstadt/hundesteuer",
                "fulda/hundesteuer",
                "kassel/hundesteuer"
            ]
        );
        // Pages are slices of the same order.
        let page2 = SearchParams {
            page: 2,
            per_page: 2,
            ..by(Sort::Name)
        };
        let r = index.search(&page2).unwrap();
        assert_eq!(r.total, 3);
        assert_eq!(r.hits.len(), 1);
        assert_eq!(r.hits[0].full_name(), "kassel/hundesteuer");
        assert_eq!(index.payload().unwrap().unwrap().cursor, 7);
    }

    #[test]
    fn a_name_match_outranks_a_description_match() {
        let mut by_name = doc(1, "kassel", "wohngeld", "Wohngeld beantragen");
        by_name.description = "Zuschuss zur Miete.".into();
        let mut in_text = doc(2, "kassel", "miete", "Mietspiegel");
        in_text.description = "Auskunft, auch zum Wohngeld.".into();
        in_text.downloads = 1000;
        let index = index(&[in_text, by_name]);
        assert_eq!(
            names(&index, &SearchParams::query("Wohngeld"))[0],
            "kassel/wohngeld"
        );
        // The Themenfeld is text too.
        let in_themenfeld = index.search(&SearchParams::query("Steuern")).unwrap();
        assert_eq!(in_themenfeld.total, 2);
    }

    #[test]
    fn filters_count_the_alternatives_and_deprecated_ones_hide() {
        let mut form = doc(1, "kassel", "a", "Antrag Hund");
        form.vertrauensniveau = Some("hoch".into());
        let mut process = doc(2, "kassel", "b", "Verfahren Hund");
        process.kind = "process".into();
        let mut other = doc(3, "fulda", "c", "Antrag Hund");
        other.themenfeld = Some("umwelt".into());
        let mut old = doc(4, "fulda", "d", "Antrag Hund alt");
        old.deprecated = true;
        let index = index(&[form, process, other, old]);
        let params = SearchParams {
            kind: Some("form".into()),
            ..SearchParams::query("Hund")
        };
        let r = index.search(&params).unwrap();
        assert_eq!(r.total, 2);
        // The kind facet ignores the kind filter: the process is offered.
        let kinds: Vec<_> = r
            .facets
            .kind
            .iter()
            .map(|f| (f.value.as_str(), f.count))
            .collect();
        assert_eq!(kinds, [("form", 2), ("process", 1)]);
        let ns: Vec<_> = r
            .facets
            .namespace
            .iter()
            .map(|f| (f.value.as_str(), f.count))
            .collect();
        assert_eq!(ns, [("fulda", 1), ("kassel", 1)]);
        assert_eq!(r.facets.vertrauensniveau[0].value, "hoch");
        let tf: Vec<_> = r
            .facets
            .themenfeld
            .iter()
            .map(|f| f.label.clone().unwrap())
            .collect();
        assert_eq!(tf, ["Steuern & Zoll", "Umwelt"]);

        let with_ns = SearchParams {
            namespace: Some("fulda".into()),
            ..params.clone()
        };
        assert_eq!(names(&index, &with_ns), ["fulda/c"]);
        let unknown_ns = SearchParams {
            namespace: Some("nirgendwo".into()),
            ..params.clone()
        };
        assert_eq!(index.search(&unknown_ns).unwrap().total, 0);
        let deprecated = SearchParams {
            include_deprecated: true,
            ..params
        };
        assert_eq!(index.search(&deprecated).unwrap().total, 3);
    }

    #[test]
    fn upsert_replaces_and_delete_removes() {
        let index = index(&[doc(1, "kassel", "a", "Hundesteuer")]);
        let mut w = index.writer().unwrap();
        w.upsert(&doc(1, "kassel", "a", "Wohngeld")).unwrap();
        w.commit(8).unwrap();
        index.reload().unwrap();
        assert_eq!(
            index
                .search(&SearchParams::query("Hundesteuer"))
                .unwrap()
                .total,
            0
        );
        assert_eq!(
            index
                .search(&SearchParams::query("Wohngeld"))
                .unwrap()
                .total,
            1
        );
        w.delete(1);
        w.commit(9).unwrap();
        index.reload().unwrap();
        assert_eq!(index.num_docs(), 0);
    }

    #[test]
    fn generations_switch_atomically_and_old_ones_go() {
        let root = tempfile::tempdir().unwrap();
        let dir = SearchDir::new(root.path());
        assert_eq!(dir.current(), None);
        let (g1, p1) = dir.new_generation().unwrap();
        SearchIndex::create(&p1)
            .unwrap()
            .writer()
            .unwrap()
            .commit(1)
            .unwrap();
        dir.switch_to(&g1, None).unwrap();
        assert_eq!(dir.current().as_deref(), Some(g1.as_str()));
        assert_eq!(
            SearchIndex::open(&p1)
                .unwrap()
                .payload()
                .unwrap()
                .unwrap()
                .cursor,
            1
        );
        let (g2, _) = dir.new_generation().unwrap();
        let (g3, _) = dir.new_generation().unwrap();
        dir.switch_to(&g3, Some(&g2)).unwrap();
        assert!(!p1.exists(), "older generations go");
        assert!(dir.path_of(&g2).exists(), "the one a server may use stays");
        dir.remove_others(&g3);
        assert!(!dir.path_of(&g2).exists());
        // An index without a finished commit is not usable.
        assert!(matches!(
            SearchIndex::open(&dir.path_of(&g3)),
            Err(SearchError::Unusable { .. })
        ));
    }
}
