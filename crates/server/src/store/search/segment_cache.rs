//! What a costly search found in each segment, kept while the segment is
//! unchanged.
//!
//! A query that matches much of a large registry ("Antrag" matches nearly
//! every package) visits every match to count the facets and rank the
//! page: at a million packages tens of milliseconds, the same each time it
//! is asked. A tantivy segment never changes once written, except that
//! documents in it are deleted; new and updated packages land in new,
//! small segments. So what a query found in a segment holds while the
//! segment has the same number of deletions, the scoring statistics are
//! the same (see [`QuantizedStatistics`]) and recency is measured from the
//! same day. Elasticsearch's shard request cache and Lucene's query cache
//! keep results per segment for the same reason.
//!
//! Only costly searches are kept, and of them only the segments where the
//! query visited a share of the matches: a cheap search costs less than
//! its entry would. The decision is the search's, not each segment's: a
//! registry of 100,000 packages in segments of 10,000 visits every one for
//! "Antrag", and no single segment looks costly.

use std::sync::Mutex;

use tantivy::index::SegmentId;
use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

use super::ranking::SegmentFruit;

/// What is kept, counted in candidates and namespace counts (about 50
/// bytes each): some 12 MB. An entry holds a page of candidates and the
/// namespace counts of one segment; at ten thousand namespaces an entry
/// weighs up to ten thousand, so some twenty segments' results of broad
/// queries fit. The least recently used goes first.
const CAPACITY: usize = 250_000;

/// Matches a search must visit, over all segments, for its segments'
/// results to be kept.
pub const VISITED_TO_KEEP: u64 = 20_000;

/// Of a search costly enough to keep (`keep_from` visits in all, by
/// default [`VISITED_TO_KEEP`]), the segments that visited a twentieth of
/// that: a fresh segment of a few packages is searched again faster than
/// its entry is kept.
pub(super) fn worth_keeping(segment_visited: u64, search_visited: u64, keep_from: u64) -> bool {
    search_visited >= keep_from && segment_visited >= keep_from / 20
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Key {
    pub(super) segment: SegmentId,
    pub(super) deleted: u32,
    /// Everything else the segment's results depend on: the query, how it
    /// matched, the filters, the order, the page's end, the day of
    /// recency and the statistics the scores were computed with.
    pub(super) search: String,
}

pub(super) struct SegmentCache {
    inner: Mutex<Inner>,
}

struct Inner {
    lru: lru::LruCache<Key, SegmentFruit>,
    weight: usize,
}

impl Default for SegmentCache {
    fn default() -> Self {
        SegmentCache {
            inner: Mutex::new(Inner {
                lru: lru::LruCache::unbounded(),
                weight: 0,
            }),
        }
    }
}

impl SegmentCache {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn get(&self, key: &Key) -> Option<SegmentFruit> {
        self.inner().lru.get(key).cloned()
    }

    pub(super) fn put(&self, key: Key, fruit: SegmentFruit) {
        let weight = fruit.weight();
        if weight > CAPACITY {
            return;
        }
        let mut inner = self.inner();
        if let Some(old) = inner.lru.put(key, fruit) {
            inner.weight -= old.weight();
        }
        inner.weight += weight;
        // Entries of segments merged away are never asked for again; they
        // age out with the rest.
        while inner.weight > CAPACITY {
            match inner.lru.pop_lru() {
                Some((_, old)) => inner.weight -= old.weight(),
                None => break,
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.inner().lru.len()
    }
}

/// BM25's statistics rounded to three significant digits, and a record of
/// those a query asked for. Exact counts change with every package added
/// anywhere, which would make every kept result stale at once (and let
/// two nodes whose segments merged differently score a hair apart); the
/// rounded ones change once the registry has grown by a tenth of a
/// percent, and a score moves by less than that. Below 1,000 they are
/// exact.
pub(super) struct QuantizedStatistics<'a> {
    searcher: &'a Searcher,
    asked: Mutex<Vec<u64>>,
}

impl<'a> QuantizedStatistics<'a> {
    pub(super) fn new(searcher: &'a Searcher) -> Self {
        QuantizedStatistics {
            searcher,
            asked: Mutex::new(Vec::new()),
        }
    }

    /// What the scores were computed with, in the order asked.
    pub(super) fn asked(&self) -> Vec<u64> {
        self.asked.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn note(&self, value: u64) -> u64 {
        let value = quantize(value);
        self.asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(value);
        value
    }
}

impl Bm25StatisticsProvider for QuantizedStatistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        Ok(self.note(Bm25StatisticsProvider::total_num_tokens(
            self.searcher,
            field,
        )?))
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.note(Bm25StatisticsProvider::total_num_docs(self.searcher)?))
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        Ok(self.note(Bm25StatisticsProvider::doc_freq(self.searcher, term)?))
    }
}

/// `n` to three significant digits, rounding half up: monotonic, so a
/// term's document count never exceeds the documents' after rounding.
fn quantize(n: u64) -> u64 {
    if n < 1_000 {
        return n;
    }
    let digits = n.ilog10() + 1;
    let unit = 10u64.pow(digits - 3);
    (n + unit / 2) / unit * unit
}

#[cfg(test)]
mod tests {
    use super::{quantize, worth_keeping, VISITED_TO_KEEP};

    #[test]
    fn a_costly_search_keeps_its_segments_but_not_the_small_ones() {
        // "Antrag" at 100,000 packages in ten segments of 10,000.
        assert!(worth_keeping(10_000, 100_000, VISITED_TO_KEEP));
        // The segment of the last few publishes beside them.
        assert!(!worth_keeping(40, 100_040, VISITED_TO_KEEP));
        // A search that is cheap as a whole keeps nothing.
        assert!(!worth_keeping(15_000, 19_999, VISITED_TO_KEEP));
        assert!(!worth_keeping(1, 1, u64::MAX));
        assert!(worth_keeping(1, 2, 1));
    }

    #[test]
    fn statistics_keep_three_digits_and_their_order() {
        assert_eq!(quantize(0), 0);
        assert_eq!(quantize(999), 999);
        assert_eq!(quantize(1_004), 1_000);
        assert_eq!(quantize(1_005), 1_010);
        assert_eq!(quantize(99_949), 99_900);
        assert_eq!(quantize(99_950), 100_000);
        assert_eq!(quantize(1_234_567), 1_230_000);
        let mut last = 0;
        for n in (0..2_000_000).step_by(7) {
            let q = quantize(n);
            assert!(q >= last, "{n}");
            last = q;
        }
    }
}
