//! Issue 4, point 7: search at 100,000 packages, in process, p50/p99 per
//! query; side by side with PostgreSQL full-text search with the `german`
//! configuration (weighted `to_tsvector`, a GIN index, `plainto_tsquery`
//! and `ts_rank`, as a crates.io-like registry would use it) on the same
//! documents and queries: the latency ratio and recall@3 / MRR for both.
//!
//! The 100,000 packages are the relevance corpus (`tests/search-corpus/`)
//! as municipalities publish it: each of its 300 Leistungen in about 333
//! namespaces, with download counts that follow a power law. Latency is
//! measured for a page of 20 hits. Relevance counts distinct Leistungen:
//! the first 2,000 hits are reduced to package names (without the
//! namespace), first occurrence kept, for both engines alike.
//!
//! `cargo bench --bench search` (PostgreSQL on 127.0.0.1:5432, as for the
//! tests). `GEMEINWERK_BENCH_PACKAGES` changes the count.

#[path = "../tests/it/search_corpus.rs"]
mod search_corpus;

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use gemeinwerk_server::store::search::{
    PackageDoc, SearchIndex, SearchParams, KEEP_SEGMENT_RESULTS_FROM,
};

mod support;
use support::{ms, percentile, WORDS};

const PER_PAGE: usize = 20;
/// Hits read for the relevance figures: with ~333 copies of each Leistung,
/// three distinct ones need deep result lists.
const RELEVANCE_DEPTH: usize = 2000;
const ROUNDS: usize = 10;

/// Deterministic power-law downloads: a few packages are used everywhere.
fn downloads(i: u64) -> u64 {
    let x = (i.wrapping_mul(2_654_435_761) % 10_000) as f64 / 10_000.0;
    (5.0 / (x + 0.0005)) as u64
}

fn corpus(count: usize) -> Vec<PackageDoc> {
    let base = search_corpus::packages();
    let mut docs = Vec::with_capacity(count);
    for i in 0..count {
        let (tf, entry) = &base[i % base.len()];
        let copy = i / base.len();
        let (ns, name) = entry.id.split_once('/').unwrap();
        let namespace = if copy == 0 {
            ns.to_string()
        } else {
            format!("gemeinde-{copy:04}")
        };
        let mut doc = search_corpus::doc(i as u64 + 1, &namespace, name, tf, entry);
        doc.publisher = format!("Gemeinde {copy:04}");
        doc.downloads = downloads(i as u64);
        docs.push(doc);
    }
    docs
}

fn distinct_names(full_names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    full_names
        .into_iter()
        .map(|f| f.split_once('/').map(|(_, n)| n.to_string()).unwrap_or(f))
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

fn same_name(hit: &str, expected: &str) -> bool {
    expected.split_once('/').map(|(_, n)| n) == Some(hit)
}

struct Figures {
    p50: Duration,
    p99: Duration,
    recall: f64,
    mrr: f64,
}

fn measure(
    queries: &[search_corpus::Query],
    mut run: impl FnMut(&str, usize) -> Vec<String>,
) -> Figures {
    for q in queries {
        run(&q.q, PER_PAGE); // warm caches
    }
    let mut latencies = Vec::new();
    let mut slowest = vec![Duration::ZERO; queries.len()];
    for _ in 0..ROUNDS {
        for (i, q) in queries.iter().enumerate() {
            let t = Instant::now();
            let hits = run(&q.q, PER_PAGE);
            let took = t.elapsed();
            latencies.push(took);
            slowest[i] = slowest[i].max(took);
            std::hint::black_box(hits);
        }
    }
    latencies.sort();
    let mut by_time: Vec<_> = queries.iter().zip(&slowest).collect();
    by_time.sort_by(|a, b| b.1.cmp(a.1));
    let worst: Vec<String> = by_time
        .iter()
        .take(5)
        .map(|(q, d)| format!("{:?} {:.1} ms", q.q, ms(**d)))
        .collect();
    println!("  slowest queries: {}", worst.join(", "));
    let scores = search_corpus::evaluate(
        queries,
        |q| distinct_names(run(q, RELEVANCE_DEPTH)),
        same_name,
    );
    println!(
        "  {} queries without a relevant hit in the top 3: {}",
        scores.unfound.len(),
        scores.unfound.join(" | ")
    );
    Figures {
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        recall: scores.recall_at_3,
        mrr: scores.mrr,
    }
}

fn tantivy(docs: &[PackageDoc], queries: &[search_corpus::Query]) -> Figures {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::create(dir.path()).unwrap();
    let t = Instant::now();
    let mut writer = index.writer().unwrap();
    for d in docs {
        writer.upsert(d).unwrap();
    }
    writer.commit(0).unwrap();
    // As `admin reindex` and the start-up rebuild do.
    writer.merge_all().unwrap();
    writer.finish().unwrap();
    index.reload().unwrap();
    println!(
        "tantivy: indexed {} packages in {:.1} s ({} segment(s))",
        docs.len(),
        t.elapsed().as_secs_f64(),
        index.segments()
    );
    measure(queries, |q, limit| {
        let params = SearchParams {
            per_page: limit,
            ..SearchParams::query(q)
        };
        index
            .search(&params)
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.full_name())
            .collect()
    })
}

diesel::table! {
    fts_packages (id) {
        id -> BigInt,
        full_name -> Text,
        title -> Text,
        keywords -> Text,
        description -> Text,
        labels -> Text,
        downloads -> BigInt,
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    full_name: String,
    #[diesel(sql_type = BigInt)]
    #[allow(dead_code)]
    downloads: i64,
}

fn postgres(docs: &[PackageDoc], queries: &[search_corpus::Query]) -> Figures {
    let base = std::env::var("GEMEINWERK_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let db = format!("gw_bench_search_{}", std::process::id());
    let mut admin = PgConnection::establish(&format!("{base}/postgres"))
        .expect("PostgreSQL must run on 127.0.0.1:5432 for this benchmark (see .ci/run)");
    diesel::sql_query(format!("CREATE DATABASE {db}"))
        .execute(&mut admin)
        .unwrap();
    let mut conn = PgConnection::establish(&format!("{base}/{db}")).unwrap();
    diesel::sql_query(
        "CREATE TABLE fts_packages (id BIGINT PRIMARY KEY, full_name TEXT NOT NULL, \
         title TEXT NOT NULL, keywords TEXT NOT NULL, description TEXT NOT NULL, \
         labels TEXT NOT NULL, downloads BIGINT NOT NULL)",
    )
    .execute(&mut conn)
    .unwrap();
    let t = Instant::now();
    for chunk in docs.chunks(1000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|d| {
                (
                    fts_packages::id.eq(d.id as i64),
                    fts_packages::full_name.eq(format!("{}/{}", d.namespace, d.name)),
                    fts_packages::title.eq(format!(
                        "{} {}",
                        d.name.replace('-', " "),
                        d.title.clone().unwrap_or_default()
                    )),
                    fts_packages::keywords.eq(d.keywords.join(" ")),
                    fts_packages::description.eq(format!("{} {}", d.description, d.publisher)),
                    fts_packages::labels.eq(d.labels.join(" ")),
                    fts_packages::downloads.eq(d.downloads as i64),
                )
            })
            .collect();
        diesel::insert_into(fts_packages::table)
            .values(rows)
            .execute(&mut conn)
            .unwrap();
    }
    // Weighted like crates.io's: name and title A, keywords B, description C.
    diesel::sql_query(
        "ALTER TABLE fts_packages ADD COLUMN tsv tsvector GENERATED ALWAYS AS (\
         setweight(to_tsvector('german', title), 'A') || \
         setweight(to_tsvector('german', keywords), 'B') || \
         setweight(to_tsvector('german', description), 'C') || \
         setweight(to_tsvector('german', labels), 'D')) STORED",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("CREATE INDEX fts_packages_tsv ON fts_packages USING GIN (tsv)")
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query("ANALYZE fts_packages")
        .execute(&mut conn)
        .unwrap();
    println!(
        "PostgreSQL: loaded and indexed {} packages in {:.1} s",
        docs.len(),
        t.elapsed().as_secs_f64()
    );
    let figures = measure(queries, |q, limit| {
        diesel::sql_query(format!(
            "SELECT full_name, downloads FROM fts_packages, plainto_tsquery('german', $1) query \
             WHERE tsv @@ query ORDER BY ts_rank(tsv, query) DESC, downloads DESC LIMIT {limit}"
        ))
        .bind::<Text, _>(q)
        .load::<Row>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|r| r.full_name)
        .collect()
    });
    drop(conn);
    let _ =
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&mut admin);
    figures
}

/// The growth benchmark's packages (`benches/growth.rs`, filled in
/// process): every one has the keyword "antrag", one of 12 Leistungen and
/// the name `formular-N`, 100 to a namespace, so a million of them come
/// from 10,000 municipalities, as in a Land-wide registry. (Before
/// session 19 they came from 40, which hid what a facet over thousands of
/// publishers costs.)
fn growth_doc(i: usize) -> PackageDoc {
    let word = WORDS[i % WORDS.len()];
    let namespace = format!("kommune{:05}", i / 100);
    PackageDoc {
        id: i as u64 + 1,
        name: format!("formular-{i}"),
        version: "1.0.0".into(),
        kind: "form".into(),
        title: Some(format!("{word} beantragen")),
        description: format!("Antrag auf {word} in {namespace}"),
        keywords: vec![word.to_lowercase(), "antrag".into()],
        themenfeld: Some("mobilitaet-und-reisen".into()),
        publisher: format!("Stadt {namespace}"),
        downloads: downloads(i as u64),
        updated_at: chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
        namespace,
        ..Default::default()
    }
}

/// Queries that match a share of the registry, as it grows: the cost of a
/// search that matches everything grows with the registry; this shows by
/// how much. The index is written as the follower writes it (a commit
/// every few packages, tantivy's merge policy), not merged into one.
/// Each kind of query is timed three ways: with no segment results kept
/// (every search visits every match), with them kept (the same query
/// asked again), and with one package changed before each search (its
/// old document deleted in a large segment, as a publish does; committed
/// and reloaded outside the timing), so that kept results of that segment
/// no longer apply.
fn broad(sizes: &[usize]) {
    println!("| packages | segments | query | not kept p50 / p99 | kept p50 / p99 | a package changed before each, p50 / p99 |");
    println!("| --- | --- | --- | --- | --- | --- |");
    // `GEMEINWERK_BENCH_INDEX_DIR` keeps the index between runs: a run
    // goes on from the packages it already has (a million take minutes to
    // index), so that a change to searching is timed again in seconds.
    let temp = tempfile::tempdir().unwrap();
    let kept_dir = std::env::var_os("GEMEINWERK_BENCH_INDEX_DIR").map(std::path::PathBuf::from);
    let dir = kept_dir.as_deref().unwrap_or(temp.path());
    let index = match SearchIndex::open(dir) {
        Ok(index) if kept_dir.is_some() => index,
        _ => {
            std::fs::create_dir_all(dir).unwrap();
            SearchIndex::create(dir).unwrap()
        }
    };
    let mut writer = index.writer().unwrap();
    let mut next = index.num_docs() as usize;
    let mut changes = 0i64;
    for &size in sizes {
        while next < size {
            writer.upsert(&growth_doc(next)).unwrap();
            next += 1;
            if next.is_multiple_of(64) {
                writer.commit(next as i64).unwrap();
            }
        }
        writer.commit(next as i64).unwrap();
        // Let background merges settle, as between a follower's steps.
        std::thread::sleep(Duration::from_secs(2));
        index.reload().unwrap();
        for (kind, query) in [
            (
                "a Leistung",
                Box::new(|k: usize| WORDS[k % WORDS.len()].to_lowercase())
                    as Box<dyn Fn(usize) -> String>,
            ),
            ("antrag", Box::new(|_| "antrag".to_string())),
            (
                "a package name",
                Box::new(move |k| format!("formular-{}", (k * 104_729) % size)),
            ),
        ] {
            let mut timed = |changing: bool| {
                let mut times = Vec::new();
                for k in 0..200 {
                    if changing {
                        // Another download count for an old package.
                        changes += 1;
                        let mut doc = growth_doc((k * 7_919) % size);
                        doc.downloads += changes as u64;
                        writer.upsert(&doc).unwrap();
                        writer.commit(next as i64 + changes).unwrap();
                        index.reload().unwrap();
                    }
                    let q = query(k);
                    let t = Instant::now();
                    let found =
                        std::hint::black_box(index.search(&SearchParams::query(&q)).unwrap());
                    times.push(t.elapsed());
                    // A page without hits would time a search that skipped ranking.
                    assert!(!found.hits.is_empty(), "{q}: no hits");
                }
                times.sort();
                format!(
                    "{:.2} / {:.2} ms",
                    ms(percentile(&times, 0.5)),
                    ms(percentile(&times, 0.99))
                )
            };
            index.keep_segment_results_from(u64::MAX);
            let not_kept = timed(false);
            index.keep_segment_results_from(KEEP_SEGMENT_RESULTS_FROM);
            let kept = timed(false);
            let changed = timed(true);
            println!(
                "| {size} | {} | {kind} | {not_kept} | {kept} | {changed} |",
                index.segments(),
            );
        }
    }
    writer.finish().unwrap();
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test` run lists no tests.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Ok(sizes) = std::env::var("GEMEINWERK_BENCH_BROAD") {
        let sizes: Vec<usize> = sizes
            .split(',')
            .map(|s| s.trim().parse().unwrap())
            .collect();
        broad(&sizes);
        return;
    }
    let count = std::env::var("GEMEINWERK_BENCH_PACKAGES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let docs = corpus(count);
    let queries = search_corpus::queries();
    let ours = tantivy(&docs, &queries);
    let pg = postgres(&docs, &queries);
    println!(
        "{count} packages, {} queries x {ROUNDS} rounds, {PER_PAGE} hits per query",
        queries.len()
    );
    println!("| engine | p50 | p99 | recall@3 | MRR |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, f) in [
        ("gemeinwerk (tantivy)", &ours),
        ("PostgreSQL FTS german", &pg),
    ] {
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.3} | {:.3} |",
            ms(f.p50),
            ms(f.p99),
            f.recall,
            f.mrr
        );
    }
    println!(
        "PostgreSQL / tantivy latency: p50 {:.1}x, p99 {:.1}x",
        ms(pg.p50) / ms(ours.p50),
        ms(pg.p99) / ms(ours.p99)
    );
}
