//! Ranking, filters and facets in one pass over the matching documents.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use super::schema::{kinds, themenfelder};
use super::{FacetCount, Facets, Sort, VERTRAUENSNIVEAUS};
use gemeinwerk_package::manifest::{PackageKind, THEMENFELDER};

#[derive(Debug, Clone)]
pub(super) struct Filters {
    pub(super) kind: Option<u64>,
    pub(super) themenfeld: Option<u64>,
    pub(super) vertrauensniveau: Option<u64>,
    pub(super) namespace: Option<String>,
    pub(super) include_deprecated: bool,
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

pub(super) struct Ranked {
    pub(super) address: DocAddress,
    pub(super) score: f32,
}

pub(super) struct Fruit {
    pub(super) total: u64,
    pub(super) facets: Facets,
    pub(super) top: Vec<Ranked>,
}

pub(super) struct RankingCollector {
    pub(super) filters: Filters,
    pub(super) sort: Sort,
    pub(super) limit: usize,
    pub(super) now: i64,
    /// `false` for an empty query: every document scores the same.
    pub(super) scored: bool,
}

impl RankingCollector {
    /// Everything besides the query that a segment's results depend on.
    pub(super) fn describe(&self) -> String {
        format!(
            "{:?} {:?} {} {} {}",
            self.filters, self.sort, self.limit, self.now, self.scored
        )
    }
}

#[derive(Clone)]
pub(super) struct SegmentFruit {
    /// Matches seen, before the filters: what the segment's search cost.
    pub(super) visited: u64,
    total: u64,
    kind: Vec<u64>,
    themenfeld: Vec<u64>,
    vertrauensniveau: Vec<u64>,
    /// Shared: kept results are handed out again without copying it.
    namespace: Arc<NamespaceCounts>,
    top: BinaryHeap<Reverse<Candidate>>,
}

/// A segment's matches per namespace, in the dictionary's (byte) order:
/// the names in one buffer, for a registry of ten thousand publishers
/// makes ten thousand of them per segment and query.
#[derive(Default)]
pub(super) struct NamespaceCounts {
    names: String,
    /// Where each name ends in `names`, and its count.
    ends: Vec<(usize, u64)>,
}

impl NamespaceCounts {
    fn push(&mut self, name: &str, count: u64) {
        self.names.push_str(name);
        self.ends.push((self.names.len(), count));
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn iter(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|(end, _)| *end));
        starts
            .zip(&self.ends)
            .map(|(start, (end, n))| (&self.names[start..*end], *n))
    }
}

/// The counts of every segment added up per namespace: a merge of the
/// sorted lists (a hash map of ten thousand names cost more than
/// counting the matches did).
fn merge_namespace_counts(segments: &[Arc<NamespaceCounts>]) -> Vec<(&str, u64)> {
    let mut cursors: Vec<_> = segments.iter().map(|s| s.iter().peekable()).collect();
    let mut heap: BinaryHeap<Reverse<(&str, usize)>> = cursors
        .iter_mut()
        .enumerate()
        .filter_map(|(i, c)| c.peek().map(|(name, _)| Reverse((*name, i))))
        .collect();
    let mut out: Vec<(&str, u64)> = Vec::new();
    while let Some(Reverse((name, i))) = heap.pop() {
        let (_, n) = cursors[i].next().expect("peeked");
        match out.last_mut() {
            Some((last, total)) if *last == name => *total += n,
            _ => out.push((name, n)),
        }
        if let Some((next, _)) = cursors[i].peek() {
            heap.push(Reverse((next, i)));
        }
    }
    out
}

pub(super) struct RankingSegment {
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
    /// By the namespace's ordinal in the segment's dictionary.
    namespace_counts: Vec<u64>,
    total: u64,
    visited: u64,
    top: BinaryHeap<Reverse<Candidate>>,
}

impl SegmentFruit {
    /// What keeping it costs, in entries (see `segment_cache`).
    pub(super) fn weight(&self) -> usize {
        1 + self.namespace.len() + self.top.len()
    }

    /// The same results for the segment at another place in a searcher:
    /// a later searcher may order its segments differently.
    pub(super) fn at(self, segment: SegmentOrdinal) -> SegmentFruit {
        let top = self
            .top
            .into_iter()
            .map(|Reverse(mut c)| {
                let doc = c.address.doc_id;
                c.address = DocAddress::new(segment, doc);
                c.tie = Reverse((segment, doc));
                Reverse(c)
            })
            .collect();
        SegmentFruit { top, ..self }
    }
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
            namespace_counts: vec![0; namespace.as_ref().map_or(0, |c| c.num_terms())],
            namespace,
            full_name: ff.str("full_name")?,
            kind_counts: vec![0; PackageKind::ALL.len() + 1],
            themenfeld_counts: vec![0; THEMENFELDER.len() + 1],
            vertrauensniveau_counts: vec![0; VERTRAUENSNIVEAUS.len() + 1],
            total: 0,
            visited: 0,
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
        let mut all = Vec::new();
        let by_segment: Vec<Arc<NamespaceCounts>> =
            fruits.iter().map(|f| f.namespace.clone()).collect();
        let mut counted = merge_namespace_counts(&by_segment);
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
        counted.retain(|(_, n)| *n > 0);
        // Most matches first, then by name; only the first few are shown,
        // so only they are put in order.
        let order = |a: &(&str, u64), b: &(&str, u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0));
        if counted.len() > NAMESPACE_FACETS {
            counted.select_nth_unstable_by(NAMESPACE_FACETS - 1, order);
        }
        let shown = counted.len().min(NAMESPACE_FACETS);
        counted[..shown].sort_unstable_by(order);
        // The publishers with most matches, and the one filtered for: at
        // ten thousand municipalities a list of all is no choice to offer.
        if let Some(chosen) = counted
            .iter()
            .skip(NAMESPACE_FACETS)
            .position(|(ns, _)| Some(*ns) == self.filters.namespace.as_deref())
        {
            counted.swap(NAMESPACE_FACETS - 1, NAMESPACE_FACETS + chosen);
        }
        let namespaces: Vec<FacetCount> = counted
            .into_iter()
            .take(NAMESPACE_FACETS)
            .map(|(value, count)| FacetCount {
                value: value.to_string(),
                label: None,
                count,
            })
            .collect();
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

/// How many publishers the namespace facet names.
pub(super) const NAMESPACE_FACETS: usize = 25;

/// How much adoption and recency lift a relevance score: a package with
/// 1,000 downloads and 5 forks ranks about 45 % higher than an unused one
/// with the same text score; one updated today about 5 % higher than one
/// untouched for years. Text relevance stays the first criterion. The
/// blend is `score * adoption * recency`.
fn adoption(downloads: u64, forks: u64) -> f64 {
    1.0 + 0.04 * ln_1p(downloads) + 0.08 * ln_1p(forks)
}

/// ln(1 + n), from a table for the counts most packages have: a query that
/// matches the whole registry asks for it once per package.
fn ln_1p(n: u64) -> f64 {
    const TABLE: usize = 4096;
    static LN: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    match LN
        .get_or_init(|| (0..TABLE).map(|i| (i as f64).ln_1p()).collect())
        .get(n as usize)
    {
        Some(v) => *v,
        None => (n as f64).ln_1p(),
    }
}

/// At most [`MAX_RECENCY`].
fn recency(age_days: f64) -> f64 {
    1.0 + 0.05 * (-age_days.max(0.0) / 180.0).exp()
}

const MAX_RECENCY: f64 = 1.05;

impl SegmentCollector for RankingSegment {
    type Fruit = SegmentFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.visited += 1;
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
            if let Some(count) = ns_ord.and_then(|o| self.namespace_counts.get_mut(o as usize)) {
                *count += 1;
            }
        }
        if !(pass_kind && pass_tf && pass_vn && pass_ns) {
            return;
        }
        self.total += 1;
        // A query that matches much of the registry visits every match; only
        // the few that can enter the page are ranked in full.
        let worst = (self.top.len() >= self.limit)
            .then(|| self.top.peek().map(|Reverse(c)| &c.key))
            .flatten();
        let downloads = self.downloads.first(doc).unwrap_or(0);
        let key = match self.sort {
            Sort::Relevance => {
                let forks = self.forks.first(doc).unwrap_or(0);
                let base = if self.scored { score as f64 } else { 1.0 };
                let lifted = base * adoption(downloads, forks);
                // Within a segment documents come in order, so a later one
                // that only ties the worst of the page never enters it.
                if worst.is_some_and(|w| Key::Number(lifted * MAX_RECENCY) <= *w) {
                    return;
                }
                let updated = self.updated.first(doc).unwrap_or(0);
                let age_days = (self.now - updated) as f64 / 86_400.0;
                Key::Number(lifted * recency(age_days))
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
        if worst.is_some_and(|w| key <= *w) {
            return;
        }
        let candidate = Candidate {
            key,
            tie: Reverse((self.segment, doc)),
            address: DocAddress::new(self.segment, doc),
            score: OrdF32(score),
        };
        if self.top.len() < self.limit {
            self.top.push(Reverse(candidate));
        } else if let Some(mut worst) = self.top.peek_mut() {
            // Replaces the worst in place: one sift instead of pop and push.
            *worst = Reverse(candidate);
        }
    }

    fn harvest(self) -> SegmentFruit {
        let mut namespace = NamespaceCounts::default();
        if let Some(col) = &self.namespace {
            // One pass over the dictionary in ordinal order: a lookup per
            // ordinal decodes its block from the start each time, and a
            // Leistung that ten thousand municipalities publish spent
            // most of its search there.
            let counted: Vec<(u64, u64)> = (0u64..)
                .zip(self.namespace_counts.iter().copied())
                .filter(|(_, n)| *n > 0)
                .collect();
            namespace.ends.reserve(counted.len());
            let mut counts = counted.iter().map(|(_, n)| *n);
            let streamed = col.dictionary().sorted_ords_to_term_cb(
                counted.iter().map(|(ord, _)| *ord),
                |bytes| {
                    let n = counts.next().unwrap_or_default();
                    namespace.push(&String::from_utf8_lossy(bytes), n);
                    Ok(())
                },
            );
            if !matches!(streamed, Ok(true)) {
                tracing::warn!("search: a segment's namespace dictionary could not be read");
            }
        }
        SegmentFruit {
            visited: self.visited,
            total: self.total,
            kind: self.kind_counts,
            themenfeld: self.themenfeld_counts,
            vertrauensniveau: self.vertrauensniveau_counts,
            namespace: Arc::new(namespace),
            top: self.top,
        }
    }
}
