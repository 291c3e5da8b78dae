//! Issue 4, point 6: relevance over the OZG corpus, in process with the
//! real analysis and ranking. Fails below recall@3 0.95 or MRR 0.85.

use gemeinwerk_server::store::search::{SearchIndex, SearchParams};

use crate::search_corpus;

#[test]
fn recall_and_mrr_over_the_ozg_corpus() {
    let docs = search_corpus::docs();
    let queries = search_corpus::queries();
    assert!(docs.len() >= 300, "the corpus has {} packages", docs.len());
    assert!(
        queries.len() >= 60,
        "the corpus has {} queries",
        queries.len()
    );
    let themenfelder: std::collections::BTreeSet<_> =
        docs.iter().filter_map(|d| d.themenfeld.clone()).collect();
    assert_eq!(themenfelder.len(), 14, "all 14 Themenfelder");

    let index = SearchIndex::in_memory().unwrap();
    let mut writer = index.writer().unwrap();
    for d in &docs {
        writer.upsert(d).unwrap();
    }
    writer.commit(0).unwrap();
    index.reload().unwrap();

    let scores = search_corpus::evaluate(
        &queries,
        |q| {
            let params = SearchParams {
                per_page: 10,
                ..SearchParams::query(q)
            };
            index
                .search(&params)
                .unwrap()
                .hits
                .iter()
                .map(|h| h.full_name())
                .collect()
        },
        |hit, expected| hit == expected,
    );
    for m in &scores.misses {
        println!("not first: {m}");
    }
    println!(
        "search relevance over {} packages and {} queries: recall@3 {:.3}, MRR {:.3}",
        docs.len(),
        queries.len(),
        scores.recall_at_3,
        scores.mrr
    );
    assert!(
        scores.recall_at_3 >= 0.95,
        "recall@3 {:.3} is below 0.95",
        scores.recall_at_3
    );
    assert!(scores.mrr >= 0.85, "MRR {:.3} is below 0.85", scores.mrr);
}
