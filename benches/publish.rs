//! Issue 2, point 13, and issue 16, point 2: sequential publishes against a
//! real server, on SQLite and on PostgreSQL.
//!
//! 1. The mix: 1,000 publishes (100 packages with 10 versions each):
//!    latency p50/p99, publishes per second, and how long the git index
//!    needs to catch up after the last publish returned.
//! 2. One package growing: 10 packages with 100 versions each, every
//!    publish followed by waiting for its jobs (index and history). The
//!    1st to 10th versions against the 91st to 100th (100 samples each):
//!    does a publish cost more the longer the package's history is?
//!
//! `cargo bench --bench publish` (PostgreSQL on 127.0.0.1:5432, as for the
//! tests). `GEMEINWERK_BENCH_PUBLISHES` changes the count of the mix,
//! `GEMEINWERK_BENCH_VERSIONS` the versions per package of part 2,
//! `GEMEINWERK_BENCH_BACKENDS` (`sqlite,postgres`) the databases.
//! `GEMEINWERK_BENCH_BASELINE_BIN=path/to/gemeinwerk` runs an earlier
//! build beside this one: both servers get the same publishes in
//! alternation (which one goes first alternates too), so that both share
//! whatever else the machine runs, and the ratios are reported.

#[allow(unused_macros)]
#[path = "../tests/it/common.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{archive_of, pkg, Backend, TestRegistry};

mod support;
use support::{ms, percentile};

/// One build under test: its server and a token for the `bench` namespace.
struct Build {
    name: String,
    reg: TestRegistry,
    token: String,
}

fn start(backend: Backend, builds: &[(String, String)]) -> Vec<Build> {
    builds
        .iter()
        .map(|(name, bin)| {
            let reg = TestRegistry::start_bin(backend, &[], bin);
            let token = reg.owner_of("bench");
            Build {
                name: name.clone(),
                reg,
                token,
            }
        })
        .collect()
}

/// Publishes `archive` to every build, the first one going first on even
/// rounds and last on odd ones; returns each build's latency.
fn publish_to_all(builds: &[Build], round: usize, archive: &[u8]) -> Vec<Duration> {
    let mut times = vec![Duration::ZERO; builds.len()];
    for k in 0..builds.len() {
        let b = if round.is_multiple_of(2) {
            k
        } else {
            builds.len() - 1 - k
        };
        let t = Instant::now();
        let r = builds[b].reg.publish_bytes(Some(&builds[b].token), archive);
        times[b] = t.elapsed();
        assert_eq!(r.status, 200, "{}: {}", builds[b].name, r.text());
    }
    times
}

fn mix(backend: Backend, builds: &[(String, String)], count: usize) {
    let builds = start(backend, builds);
    // 100 packages with 10 versions each: the mix a busy registry sees.
    let archives: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            archive_of(&pkg(
                &format!("bench/formular-{}", i % 100),
                &format!("1.{}.0", i / 100),
            ))
        })
        .collect();
    let mut latencies = vec![Vec::with_capacity(count); builds.len()];
    for (i, archive) in archives.iter().enumerate() {
        for (b, t) in publish_to_all(&builds, i, archive).into_iter().enumerate() {
            latencies[b].push(t);
        }
    }
    // Both catch up at the same time, each timed from the same moment.
    let last_returned = Instant::now();
    let catch_up: Vec<Duration> = std::thread::scope(|s| {
        let waits: Vec<_> = builds
            .iter()
            .map(|b| {
                s.spawn(move || {
                    b.reg.wait_for_jobs_within(Duration::from_secs(120));
                    last_returned.elapsed()
                })
            })
            .collect();
        waits.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut p50s = Vec::new();
    for (b, lat) in builds.iter().zip(&mut latencies) {
        lat.sort();
        let busy: Duration = lat.iter().sum();
        let (p50, p99) = (percentile(lat, 0.5), percentile(lat, 0.99));
        p50s.push((p50, p99));
        println!(
            "{backend:?} mix, {:<8} {count} publishes, {:.0}/s of its own time; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; git index caught up {:.0} ms after the last publish",
            b.name,
            count as f64 / busy.as_secs_f64(),
            ms(p50),
            ms(p99),
            ms(*lat.last().unwrap()),
            ms(catch_up[builds.iter().position(|x| x.name == b.name).unwrap()]),
        );
        let lines = b.reg.get("/index/bench/formular-7").text().lines().count();
        assert_eq!(lines, count / 100, "every version is in the index");
    }
    if let [(b50, b99), (a50, a99)] = p50s[..] {
        println!(
            "{backend:?} mix, after/before: p50 {:.2}x, p99 {:.2}x",
            ms(a50) / ms(b50),
            ms(a99) / ms(b99)
        );
    }
}

/// Polls the job queue every millisecond until it is empty.
fn jobs_done(db: &gemeinwerk_server::store::Db) {
    let started = Instant::now();
    loop {
        let mut conn = db.conn().unwrap();
        if gemeinwerk_server::registry::jobs::pending_count(&mut conn).unwrap() == 0 {
            return;
        }
        drop(conn);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "jobs did not finish"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn one_package_growing(backend: Backend, builds: &[(String, String)], versions: usize) {
    const PACKAGES: usize = 10;
    let builds = start(backend, builds);
    let dbs: Vec<_> = builds.iter().map(|b| b.reg.db()).collect();
    // Per build: (version index, publish, publish until its jobs are done)
    let mut times = vec![Vec::new(); builds.len()];
    let mut round = 0;
    for p in 0..PACKAGES {
        for v in 0..versions {
            let archive = archive_of(&pkg(&format!("bench/wachsend-{p}"), &format!("1.{v}.0")));
            for k in 0..builds.len() {
                let b = if round % 2 == 0 {
                    k
                } else {
                    builds.len() - 1 - k
                };
                let build = &builds[b];
                let t = Instant::now();
                let r = build.reg.publish_bytes(Some(&build.token), &archive);
                let publish = t.elapsed();
                assert_eq!(r.status, 200, "{}: {}", build.name, r.text());
                jobs_done(&dbs[b]);
                times[b].push((v, publish, t.elapsed()));
            }
            round += 1;
        }
    }
    let window = 10.min(versions / 2).max(1);
    let pick = |t: &[(usize, Duration, Duration)], range: std::ops::Range<usize>, total: bool| {
        let mut all: Vec<Duration> = t
            .iter()
            .filter(|(v, _, _)| range.contains(v))
            .map(|(_, p, j)| if total { *j } else { *p })
            .collect();
        all.sort();
        all
    };
    let mut summary = Vec::new();
    for (b, build) in builds.iter().enumerate() {
        for (what, total) in [("publish", false), ("publish + jobs", true)] {
            let first = pick(&times[b], 0..window, total);
            let last = pick(&times[b], versions - window..versions, total);
            let q = |s: &[Duration], q: f64| support::quantile(s, q);
            println!(
                "{backend:?} growing, {:<8} {what:<15} versions 1-{window}: p50 {:.2} ms, p99 {}; versions {}-{versions}: p50 {:.2} ms, p99 {}; p50 ratio {:.2}x",
                build.name,
                ms(percentile(&first, 0.5)),
                support::ms_or_dash(q(&first, 0.99)).trim(),
                versions - window + 1,
                ms(percentile(&last, 0.5)),
                support::ms_or_dash(q(&last, 0.99)).trim(),
                ms(percentile(&last, 0.5)) / ms(percentile(&first, 0.5)),
            );
            summary.push((what, percentile(&first, 0.5), percentile(&last, 0.5)));
        }
    }
    if summary.len() == 4 {
        for i in 0..2 {
            let (what, b_first, b_last) = summary[i];
            let (_, a_first, a_last) = summary[i + 2];
            println!(
                "{backend:?} growing, after/before {what}: first versions {:.2}x, last versions {:.2}x",
                ms(a_first) / ms(b_first),
                ms(a_last) / ms(b_last)
            );
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test` run lists no tests.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let env_usize = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let count = env_usize("GEMEINWERK_BENCH_PUBLISHES", 1000);
    let versions = env_usize("GEMEINWERK_BENCH_VERSIONS", 100);
    let mut builds = Vec::new();
    if let Ok(bin) = std::env::var("GEMEINWERK_BENCH_BASELINE_BIN") {
        builds.push(("before".to_string(), bin));
    }
    builds.push((
        if builds.is_empty() { "this" } else { "after" }.to_string(),
        common::bin(),
    ));
    let backends =
        std::env::var("GEMEINWERK_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    for b in backends.split(',') {
        let backend = match b.trim() {
            "postgres" => Backend::Postgres,
            "sqlite" => Backend::Sqlite,
            other => panic!("GEMEINWERK_BENCH_BACKENDS: unknown backend {other}"),
        };
        mix(backend, &builds, count);
        one_package_growing(backend, &builds, versions);
    }
}
