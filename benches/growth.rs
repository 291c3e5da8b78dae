//! Issue 19, point 4: how publish, the sparse index and search behave as a
//! registry grows. A real release server on each database is filled over
//! HTTP by 4 clients; at every checkpoint the fill pauses and 200
//! publishes, 1,000 index files read twice and 600 searches are timed one
//! at a time. The index files are ones the server has not served before
//! (spread over old and new packages), so that every size times the same
//! thing: a first read (the database) and a repeated one (the server's
//! index cache, revalidated).
//! Prints one Markdown table row per checkpoint (docs/performance.md has
//! the figures), plus the ratios of the largest size to 1,000 packages.
//!
//! On PostgreSQL it also counts the table rows the database read for the
//! timed publishes and the follower and job work they caused
//! (`seq_tup_read + idx_tup_fetch` of `pg_stat_user_tables`, the job
//! queue left out because the benchmark polls it), per publish: unlike a
//! latency, that figure does not depend on what else runs on the machine.
//!
//! `cargo bench --bench growth` (PostgreSQL on 127.0.0.1:5432, as for the
//! tests). `GEMEINWERK_BENCH_SIZES=1000,10000,20000` sets the checkpoints,
//! `GEMEINWERK_BENCH_BACKENDS=postgres` (or `sqlite`) one database,
//! `GEMEINWERK_TEST_BIN=path/to/gemeinwerk` another build (an earlier
//! commit's, for a before/after comparison).
//! Every loop is bounded by the sizes given; the server listens on
//! loopback only.

#[allow(unused_macros)]
#[path = "../tests/it/common.rs"]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{archive_of, pkg_with, Backend, TestRegistry};
use diesel::prelude::*;

mod support;
use support::{ms, percentile, WORDS};

const CLIENTS: usize = 4;
const NAMESPACES: usize = 40;
const TIMED_PUBLISHES: usize = 200;
/// Distinct index files read per checkpoint, each twice.
const TIMED_INDEX_FILES: usize = 1000;
const TIMED_SEARCHES: usize = 600;

fn package(i: usize) -> Vec<u8> {
    let ns = format!("gemeinde{:02}", i % NAMESPACES);
    let word = WORDS[i % WORDS.len()];
    let extra = format!("keywords = [\"{}\", \"antrag\"]\n", word.to_lowercase());
    archive_of(&pkg_with(&format!("{ns}/formular-{i}"), "1.0.0", &extra))
}

struct Tokens(Vec<String>);

impl Tokens {
    fn for_package(&self, i: usize) -> &str {
        &self.0[i % NAMESPACES]
    }
}

/// Publishes packages `from..to` with 4 clients; returns publishes/s.
fn fill(reg: &TestRegistry, tokens: &Tokens, from: usize, to: usize) -> f64 {
    let next = AtomicUsize::new(from);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..CLIENTS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= to {
                    break;
                }
                let r = reg.publish_bytes(Some(tokens.for_package(i)), &package(i));
                assert_eq!(r.status, 200, "{}", r.text());
            });
        }
    });
    (to - from) as f64 / started.elapsed().as_secs_f64()
}

/// Table rows PostgreSQL has read in this database so far, by table (all
/// but the job queue), once the statistics of finished statements arrived.
fn rows_read(reg: &TestRegistry) -> Option<Vec<(String, i64, i64)>> {
    #[derive(QueryableByName)]
    struct Read {
        #[diesel(sql_type = diesel::sql_types::Text)]
        relname: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        idx: i64,
    }
    if reg.backend != Backend::Postgres {
        return None;
    }
    // A backend reports its counts when idle, at most once a second.
    std::thread::sleep(Duration::from_millis(2500));
    let db = reg.db();
    let mut conn = db.conn().unwrap();
    let read: Vec<Read> = diesel::sql_query(
        "SELECT relname::text AS relname, COALESCE(seq_tup_read, 0)::bigint AS seq, \
         COALESCE(idx_tup_fetch, 0)::bigint AS idx \
         FROM pg_stat_user_tables WHERE relname <> 'jobs' ORDER BY relname",
    )
    .load(&mut *conn)
    .unwrap();
    Some(
        read.into_iter()
            .map(|r| (r.relname, r.seq, r.idx))
            .collect(),
    )
}

/// Rows read between two readings, in total and by the tables that read
/// the most (sequential / by index), per timed publish.
fn rows_between(before: &[(String, i64, i64)], after: &[(String, i64, i64)]) -> (f64, String) {
    let per = |n: i64| n as f64 / TIMED_PUBLISHES as f64;
    let mut by_table: Vec<(String, i64, i64)> = after
        .iter()
        .map(|(name, seq, idx)| {
            let (s0, i0) = before
                .iter()
                .find(|(n, _, _)| n == name)
                .map_or((0, 0), |(_, s, i)| (*s, *i));
            (name.clone(), seq - s0, idx - i0)
        })
        .filter(|(_, s, i)| s + i > 0)
        .collect();
    by_table.sort_by_key(|(_, s, i)| -(s + i));
    let total = by_table.iter().map(|(_, s, i)| s + i).sum();
    let top = by_table
        .iter()
        .take(5)
        .map(|(n, s, i)| format!("{n} {:.0}/{:.0}", per(*s), per(*i)))
        .collect::<Vec<_>>()
        .join(", ");
    (per(total), top)
}

struct Row {
    size: usize,
    fill_rate: f64,
    rows_per_publish: Option<f64>,
    publish: (Duration, Duration),
    /// The first read of a file since the server started.
    index: (Duration, Duration),
    /// The second read of the same file.
    index_again: (Duration, Duration),
    search: (Duration, Duration),
}

fn p50_p99(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

/// The timed part at one size: `next` is the next package number.
fn checkpoint(
    reg: &TestRegistry,
    tokens: &Tokens,
    next: usize,
    read_before_now: &mut std::collections::HashSet<usize>,
) -> Row {
    reg.wait_for_jobs_within(Duration::from_secs(600));
    let read_before = rows_read(reg);
    let publish = (next..next + TIMED_PUBLISHES)
        .map(|i| {
            let archive = package(i);
            let t = Instant::now();
            let r = reg.publish_bytes(Some(tokens.for_package(i)), &archive);
            let took = t.elapsed();
            assert_eq!(r.status, 200, "{}", r.text());
            took
        })
        .collect();
    let size = next + TIMED_PUBLISHES;
    reg.wait_for_jobs_within(Duration::from_secs(600));
    let rows_per_publish = read_before.zip(rows_read(reg)).map(|(before, after)| {
        let (total, top) = rows_between(&before, &after);
        eprintln!("rows read per publish at {size}, by table (sequential/index): {top}");
        total
    });
    // Spread over the registry with a fixed stride, old and new packages,
    // skipping those read at an earlier checkpoint.
    let mut files = Vec::with_capacity(TIMED_INDEX_FILES);
    let mut k = 0;
    while files.len() < TIMED_INDEX_FILES {
        let i = (k * 7919) % size;
        k += 1;
        if k > size {
            panic!("fewer than {TIMED_INDEX_FILES} index files not read before at {size}");
        }
        if read_before_now.insert(i) {
            files.push(format!("/index/gemeinde{:02}/formular-{i}", i % NAMESPACES));
        }
    }
    let get = |path: &String| {
        let t = Instant::now();
        let r = reg.get(path);
        let took = t.elapsed();
        assert_eq!(r.status, 200, "{path}");
        took
    };
    let index = files.iter().map(get).collect();
    let index_again = files.iter().map(get).collect();
    let mut by_kind: [Vec<Duration>; 3] = Default::default();
    let search = (0..TIMED_SEARCHES)
        .map(|k| {
            let q = match k % 3 {
                0 => WORDS[k % WORDS.len()].to_lowercase(),
                1 => "antrag".to_string(),
                _ => format!("formular-{}", (k * 104_729) % size),
            };
            let t = Instant::now();
            let r = reg.get(&format!("/api/v1/search?q={q}"));
            let took = t.elapsed();
            assert_eq!(r.status, 200, "{}", r.text());
            by_kind[k % 3].push(took);
            took
        })
        .collect();
    let kinds = ["a Leistung", "antrag", "a package name"];
    for (kind, times) in kinds.iter().zip(by_kind) {
        let (p50, p99) = p50_p99(times);
        eprintln!(
            "search at {size}, {kind}: p50 {:.1} ms, p99 {:.1} ms",
            ms(p50),
            ms(p99)
        );
    }
    Row {
        size,
        fill_rate: 0.0,
        rows_per_publish,
        publish: p50_p99(publish),
        index: p50_p99(index),
        index_again: p50_p99(index_again),
        search: p50_p99(search),
    }
}

fn run(backend: Backend, sizes: &[usize]) {
    let reg = TestRegistry::start(backend);
    if let Ok(bin) = std::env::var("GEMEINWERK_TEST_BIN") {
        println!("\nbinary under test: {bin}");
    }
    let tokens = Tokens(
        (0..NAMESPACES)
            .map(|n| reg.owner_of(&format!("gemeinde{n:02}")))
            .collect(),
    );
    println!("\n{backend:?}, {CLIENTS} clients filling:\n");
    println!("| packages | fill publishes/s | publish p50 / p99 | index GET p50 / p99, first read | again | search p50 / p99 | rows read per publish |");
    println!("|---|---|---|---|---|---|---|");
    let mut rows: Vec<Row> = Vec::new();
    let mut next = 0;
    let mut read = std::collections::HashSet::new();
    for &size in sizes {
        // The timed publishes count towards the size.
        let fill_to = size.saturating_sub(TIMED_PUBLISHES).max(next);
        let rate = fill(&reg, &tokens, next, fill_to);
        let mut row = checkpoint(&reg, &tokens, fill_to, &mut read);
        row.fill_rate = rate;
        next = row.size;
        println!(
            "| {} | {:.0} | {:.1} / {:.1} ms | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:.1} / {:.1} ms | {} |",
            row.size,
            row.fill_rate,
            ms(row.publish.0),
            ms(row.publish.1),
            ms(row.index.0),
            ms(row.index.1),
            ms(row.index_again.0),
            ms(row.index_again.1),
            ms(row.search.0),
            ms(row.search.1),
            row.rows_per_publish
                .map_or("–".to_string(), |r| format!("{r:.0}")),
        );
        rows.push(row);
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        println!(
            "\n{backend:?} at {} against {}: publish p50 {:.2}x, index GET p50 {:.2}x (again {:.2}x), search p99 {:.2}x, fill rate {:.2}x",
            last.size,
            first.size,
            ms(last.publish.0) / ms(first.publish.0),
            ms(last.index.0) / ms(first.index.0),
            ms(last.index_again.0) / ms(first.index_again.0),
            ms(last.search.1) / ms(first.search.1),
            last.fill_rate / first.fill_rate,
        );
    }
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test` run lists no tests.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let sizes: Vec<usize> = std::env::var("GEMEINWERK_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000,20000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("GEMEINWERK_BENCH_SIZES: numbers"))
        .collect();
    let backends =
        std::env::var("GEMEINWERK_BENCH_BACKENDS").unwrap_or_else(|_| "postgres,sqlite".into());
    for b in backends.split(',') {
        match b.trim() {
            "postgres" => run(Backend::Postgres, &sizes),
            "sqlite" => run(Backend::Sqlite, &sizes),
            other => panic!("GEMEINWERK_BENCH_BACKENDS: unknown backend {other}"),
        }
    }
}
