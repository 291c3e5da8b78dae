//! Issue 2, point 13: 1,000 sequential publishes against a real server, on
//! SQLite and on PostgreSQL: latency p50/p99, publishes per second, and how
//! long the git index needs to catch up after the last publish returned.
//!
//! `cargo bench --bench publish` (PostgreSQL on 127.0.0.1:5432, as for the
//! tests). `GEMEINWERK_BENCH_PUBLISHES` changes the count.

#[allow(unused_macros)]
#[path = "../tests/it/common.rs"]
mod common;

use std::time::Instant;

use common::{archive_of, pkg, Backend, TestRegistry};

mod support;
use support::percentile;

fn run(backend: Backend, count: usize) {
    let reg = TestRegistry::start(backend);
    let token = reg.owner_of("bench");
    // 100 packages with 10 versions each: the mix a busy registry sees.
    let archives: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            archive_of(&pkg(
                &format!("bench/formular-{}", i % 100),
                &format!("1.{}.0", i / 100),
            ))
        })
        .collect();
    let mut latencies = Vec::with_capacity(count);
    let started = Instant::now();
    for archive in &archives {
        let t = Instant::now();
        let r = reg.publish_bytes(Some(&token), archive);
        latencies.push(t.elapsed());
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let total = started.elapsed();
    let last_returned = Instant::now();
    reg.wait_for_jobs();
    let catch_up = last_returned.elapsed();
    latencies.sort();
    println!(
        "{backend:?}: {count} publishes in {:.2} s = {:.0}/s; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; git index caught up {:.0} ms after the last publish",
        total.as_secs_f64(),
        count as f64 / total.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        catch_up.as_secs_f64() * 1e3,
    );
    let lines = reg.get("/index/bench/formular-7").text().lines().count();
    assert_eq!(lines, count / 100, "every version is in the index");
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test` run lists no tests.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let count = std::env::var("GEMEINWERK_BENCH_PUBLISHES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    run(Backend::Sqlite, count);
    run(Backend::Postgres, count);
}
