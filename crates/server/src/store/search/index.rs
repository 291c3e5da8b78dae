//! An open index: opening and checking it, reading it, searching it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use tantivy::collector::Collector;
use tantivy::query::{EnableScoring, Query};
use tantivy::schema::Value;
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument};

use super::ranking::{Filters, Fruit, RankingCollector};
use super::schema::{code_of, kinds, schema, themenfelder, Fields};
use super::segment_cache::{self, QuantizedStatistics, SegmentCache};
use super::tokenizer::register_tokenizers;
use super::{
    query, snippet, Hit, Result, SearchError, SearchParams, SearchResults, SearchWriter,
    Suggestion, SCHEMA_VERSION, VERTRAUENSNIVEAUS,
};

/// What the last commit says: which change it has applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitPayload {
    pub schema: u32,
    /// The id of the last change-feed entry the index reflects.
    pub cursor: i64,
}

/// `visible` before any completed commit.
const NONE_VISIBLE: i64 = i64::MIN;

/// An open index and its reader. Opening takes no lock: only
/// [`SearchIndex::writer`] does, and only one process holds it.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// The cursor of a commit the reader shows (or a later one): read
    /// from disk before each reload, so never ahead of what searches see.
    /// The commit on disk alone runs ahead between a commit and the
    /// reload, and a publish that waited for search answered early.
    visible: AtomicI64,
    segments: SegmentCache,
    /// Matches a search must visit for its segments' results to be kept.
    keep_from: AtomicU64,
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
        let visible = Self::payload_of(&index)?.map_or(NONE_VISIBLE, |p| p.cursor);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            fields,
            visible: AtomicI64::new(visible),
            segments: SegmentCache::default(),
            keep_from: AtomicU64::new(segment_cache::VISITED_TO_KEEP),
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
        Ok(SearchWriter::new(writer, self.fields.clone()))
    }

    /// Makes the last commit visible to searches.
    pub fn reload(&self) -> Result<()> {
        let committed = self.payload()?;
        self.reader.reload()?;
        if let Some(p) = committed {
            self.visible.store(p.cursor, Ordering::SeqCst);
        }
        Ok(())
    }

    /// The change-feed position that searches reflect at least.
    pub fn visible_cursor(&self) -> Option<i64> {
        Some(self.visible.load(Ordering::SeqCst)).filter(|c| *c != NONE_VISIBLE)
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
        let mut words = query::QueryWords::parse(&params.q);
        words.common = self.common_stems(&searcher, &words)?;
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
            // Recency is measured from the start of the day (UTC): it
            // changes by a twentieth over half a year, a day by less than
            // 0.03 %, and a day's results can be kept.
            now: chrono::Utc::now().timestamp() / 86_400 * 86_400,
            scored: !words.is_empty(),
        };
        let run = |strict, tolerant| {
            let how = query::Matching { strict, tolerant };
            let query = query::build(&self.fields, &words, how);
            let mut common: Vec<&String> = words.common.iter().collect();
            common.sort();
            let search = format!("{:?} {how:?} {common:?} {}", params.q, collector.describe());
            self.collect(&searcher, &*query, &collector, &search)
        };
        let mut fruit = run(true, false)?;
        if fruit.total < query::EXACT_ENOUGH {
            fruit = run(true, true)?;
        }
        if fruit.total == 0 && words.words.len() > 1 {
            fruit = run(false, true)?;
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

    /// The stems of `words` that match at least [`query::EXACT_ENOUGH`]
    /// packages in one of the fields they are asked for in.
    fn common_stems(
        &self,
        searcher: &Searcher,
        words: &query::QueryWords,
    ) -> Result<std::collections::HashSet<String>> {
        let mut common = std::collections::HashSet::new();
        for w in &words.words {
            for field in [
                self.fields.primary,
                self.fields.secondary,
                self.fields.content,
            ] {
                let term = tantivy::Term::from_field_text(field, &w.stem);
                if searcher.doc_freq(&term)? >= query::EXACT_ENOUGH {
                    common.insert(w.stem.clone());
                    break;
                }
            }
        }
        Ok(common)
    }

    /// Runs `query` segment by segment, taking what a segment found before
    /// where it is kept (see [`segment_cache`]).
    fn collect(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        collector: &RankingCollector,
        search: &str,
    ) -> Result<Fruit> {
        let statistics = QuantizedStatistics::new(searcher);
        let scoring = if collector.requires_scoring() {
            EnableScoring::enabled_from_statistics_provider(&statistics, searcher)
        } else {
            EnableScoring::disabled_from_searcher(searcher)
        };
        let weight = query.weight(scoring)?;
        let search = format!("{search} {:?}", statistics.asked());
        let mut fruits = Vec::new();
        let mut found = Vec::new();
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let ord = ord as u32;
            let key = segment_cache::Key {
                segment: reader.segment_id(),
                deleted: reader.num_deleted_docs(),
                search: search.clone(),
            };
            if let Some(kept) = self.segments.get(&key) {
                fruits.push(kept.at(ord));
                continue;
            }
            let fruit = collector.collect_segment(&*weight, ord, reader)?;
            found.push((key, fruits.len()));
            fruits.push(fruit);
        }
        let visited = fruits.iter().map(|f| f.visited).sum();
        let keep_from = self.keep_from.load(Ordering::Relaxed);
        for (key, at) in found {
            if segment_cache::worth_keeping(fruits[at].visited, visited, keep_from) {
                self.segments.put(key, fruits[at].clone());
            }
        }
        Ok(collector.merge_fruits(fruits)?)
    }

    /// Segment results kept for costly searches (for tests and benchmarks).
    pub fn kept_segment_results(&self) -> usize {
        self.segments.len()
    }

    /// How many matches a search must visit for its segments' results to
    /// be kept (tests and benchmarks; `u64::MAX` keeps none).
    pub fn keep_segment_results_from(&self, visited: u64) {
        self.keep_from.store(visited, Ordering::Relaxed);
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
