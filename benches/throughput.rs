//! Issue 12, point 9: throughput through the load balancer.
//!
//! Three `serve` nodes (release build) on PostgreSQL and the test S3 server
//! (scripts/s3-server), filled with `GEMEINWERK_BENCH_PACKAGES` packages
//! (default 2,000) over HTTP. Then, each for `GEMEINWERK_BENCH_SECS`
//! seconds (default 10) after a warm-up of the same length:
//!
//! 1. sparse index GETs of random packages at 50 connections (keep-alive,
//!    one thread each) through Debian's nginx to 1, 2 and 3 nodes, to one
//!    node directly, and to nginx serving the same files from disk (what a
//!    static mirror of the index would cost);
//! 2. 4 concurrent publishers through nginx to 1 node and to 3 nodes.
//!
//! Prints requests/s and latency p50/p99 for each. On a 2-core machine the
//! load generator, nginx, the nodes, PostgreSQL and the object store share
//! the cores; docs/performance.md says what that means for separate
//! machines.
//!
//! `cargo bench --bench throughput` (PostgreSQL on 127.0.0.1:5432 and the S3
//! server, as for the tests).

#[allow(unused_macros)]
#[path = "../tests/it/common.rs"]
mod common;
#[path = "../tests/it/nginx.rs"]
mod nginx;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{archive_of, pkg_with, Backend, Blobs, TestRegistry};
use nginx::{free_port, Nginx};

mod support;
use support::{ms, percentile};

const NAMESPACES: usize = 20;
const READERS: usize = 50;
const PUBLISHERS: usize = 4;

fn namespace(i: usize) -> String {
    format!("gemeinde{:02}", i % NAMESPACES)
}

fn package(i: usize, version: &str) -> Vec<u8> {
    archive_of(&pkg_with(
        &format!("{}/formular-{i}", namespace(i)),
        version,
        "keywords = [\"antrag\"]\n",
    ))
}

fn publish(url: &str, agent: &ureq::Agent, token: &str, archive: &[u8]) -> bool {
    match agent
        .put(&format!("{url}/api/v1/packages/new"))
        .set("Authorization", &format!("Bearer {token}"))
        .send_bytes(archive)
    {
        Ok(r) => r.status() == 200,
        Err(_) => false,
    }
}

/// A small xorshift: the readers' random package numbers, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

struct Run {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    failed: usize,
}

impl Run {
    fn row(&self, what: &str) -> String {
        format!(
            "| {what} | {:.0} | {:.2} / {:.2} ms | {} |",
            self.per_second,
            ms(self.p50),
            ms(self.p99),
            self.failed
        )
    }
}

/// `clients` threads each doing `one` in a loop for `secs` seconds (after a
/// warm-up as long), with its own keep-alive connection.
fn drive(clients: usize, secs: u64, one: impl Fn(&ureq::Agent, &mut Rng) -> bool + Sync) -> Run {
    let times = Mutex::new(Vec::new());
    let failed = AtomicUsize::new(0);
    let begin = Instant::now();
    let warm_until = begin + Duration::from_secs(secs);
    let until = warm_until + Duration::from_secs(secs);
    std::thread::scope(|s| {
        for c in 0..clients {
            let (times, failed, one) = (&times, &failed, &one);
            s.spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .max_idle_connections_per_host(1)
                    .timeout(Duration::from_secs(30))
                    .build();
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((c as u64 + 1) * 0x1000_0001));
                let mut mine = Vec::new();
                loop {
                    let t = Instant::now();
                    if t >= until {
                        break;
                    }
                    let ok = one(&agent, &mut rng);
                    if t >= warm_until {
                        if ok {
                            mine.push(t.elapsed());
                        } else {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                times.lock().unwrap().extend(mine);
            });
        }
    });
    let mut times = times.into_inner().unwrap();
    times.sort();
    assert!(!times.is_empty(), "no request succeeded");
    Run {
        per_second: times.len() as f64 / secs as f64,
        p50: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
        failed: failed.into_inner(),
    }
}

fn index_reads(url: &str, packages: usize, secs: u64) -> Run {
    drive(READERS, secs, |agent, rng| {
        let i = rng.below(packages);
        match agent
            .get(&format!("{url}/index/{}/formular-{i}", namespace(i)))
            .call()
        {
            Ok(r) => r.status() == 200 && r.into_string().is_ok_and(|b| b.contains("formular")),
            Err(_) => false,
        }
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let env = |name: &str, default: usize| -> usize {
        std::env::var(name)
            .ok()
            .map(|v| v.parse().expect("a number"))
            .unwrap_or(default)
    };
    let packages = env("GEMEINWERK_BENCH_PACKAGES", 2000);
    let secs = env("GEMEINWERK_BENCH_SECS", 10) as u64;

    let a = TestRegistry::start_on(Backend::Postgres, Blobs::S3, &[]);
    let tokens: Vec<String> = (0..NAMESPACES).map(|n| a.owner_of(&namespace(n))).collect();
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..PUBLISHERS {
            s.spawn(|| {
                let agent = ureq::Agent::new();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= packages {
                        break;
                    }
                    let ok = publish(
                        &a.url,
                        &agent,
                        &tokens[i % NAMESPACES],
                        &package(i, "1.0.0"),
                    );
                    assert!(ok, "seeding package {i}");
                }
            });
        }
    });
    println!(
        "\nseeded {packages} packages over HTTP in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    a.wait_for_jobs();
    let b = a.second_node();
    let c = a.second_node();

    // The same files on disk, for nginx to serve as a static mirror would.
    let mirror = tempfile::tempdir().unwrap();
    for i in 0..packages {
        let path = format!("index/{}/formular-{i}", namespace(i));
        let body = a.get(&format!("/{path}")).text();
        let file = mirror.path().join(&path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, body).unwrap();
    }

    println!(
        "\nsparse index GETs, {READERS} connections, {packages} packages, {secs} s each after {secs} s warm-up:\n"
    );
    println!("| target | requests/s | p50 / p99 | failed |");
    println!("|---|---|---|---|");
    let static_nginx = Nginx::serve_dir(free_port(), mirror.path());
    println!(
        "{}",
        index_reads(&static_nginx.url, packages, secs).row("nginx, the files from disk")
    );
    drop(static_nginx);
    println!(
        "{}",
        index_reads(&a.url, packages, secs).row("1 node, directly")
    );
    let all = [&a, &b, &c];
    for n in 1..=3 {
        let lb = Nginx::start(free_port(), &all[..n]);
        println!(
            "{}",
            index_reads(&lb.url, packages, secs).row(&format!("nginx → {n} node(s)"))
        );
    }

    println!(
        "\npublishes, {PUBLISHERS} clients through nginx, {secs} s each after {secs} s warm-up:\n"
    );
    println!("| target | publishes/s | p50 / p99 | failed |");
    println!("|---|---|---|---|");
    let next = AtomicUsize::new(packages);
    for n in [1, 3] {
        let lb = Nginx::start(free_port(), &all[..n]);
        let run = drive(PUBLISHERS, secs, |agent, _| {
            let i = next.fetch_add(1, Ordering::SeqCst);
            publish(
                &lb.url,
                agent,
                &tokens[i % NAMESPACES],
                &package(i, "1.0.0"),
            )
        });
        println!("{}", run.row(&format!("nginx → {n} node(s)")));
        a.wait_for_jobs();
    }
}
