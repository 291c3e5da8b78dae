//! Issue 6, point 7: resolving a synthetic graph of 1,000 packages with 20
//! versions each, in process (no network), with the resolver `gemeinwerk
//! lock` uses. The bar: p50 under 100 ms.
//!
//! `cargo bench --bench resolve`. `GEMEINWERK_BENCH_RUNS` changes the
//! number of runs (default 20).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use gemeinwerk_client::resolver::resolve;
use gemeinwerk_package::manifest::Dependency;
use registry_index::{IndexDependency, IndexLine, INDEX_FORMAT_VERSION};

const PACKAGES: usize = 1000;

fn name(i: usize) -> String {
    format!("bench/paket-{i}")
}

/// 20 versions per package, 1.0.0 … 1.9.0 and 2.0.0 … 2.9.0, every fifth
/// one yanked. Version 1.x of package i needs packages i+1, i+7 and i+31
/// at ^1.2; version 2.x needs them at ^2 or at ">=1.5, <2.5": a graph
/// that reaches every package, with overlapping ranges and yanked versions
/// to skip, but a solution.
fn index() -> HashMap<String, Vec<IndexLine>> {
    let mut index = HashMap::new();
    for i in 0..PACKAGES {
        let mut lines = Vec::new();
        for major in 1..=2 {
            for minor in 0..10 {
                let deps = [i + 1, i + 7, i + 31]
                    .into_iter()
                    .filter(|j| *j < PACKAGES)
                    .map(|j| IndexDependency {
                        name: name(j),
                        req: match (major, j % 2) {
                            (1, _) => "^1.2".to_string(),
                            (_, 0) => "^2".to_string(),
                            _ => ">=1.5, <2.5".to_string(),
                        },
                    })
                    .collect();
                lines.push(IndexLine {
                    name: name(i),
                    vers: format!("{major}.{minor}.0"),
                    kind: "form".into(),
                    deps,
                    cksum: format!("{:064x}", i * 100 + major * 10 + minor),
                    yanked: minor % 5 == 4,
                    forked_from: None,
                    v: INDEX_FORMAT_VERSION,
                });
            }
        }
        index.insert(name(i), lines);
    }
    index
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs: usize = std::env::var("GEMEINWERK_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let index = index();
    let root: Vec<Dependency> = [0, 1, 2]
        .into_iter()
        .map(|i| Dependency {
            namespace: "bench".into(),
            name: format!("paket-{i}"),
            req: semver::VersionReq::parse("^2").unwrap(),
        })
        .collect();
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut resolved = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let r = resolve(&root, &BTreeMap::new(), &index).expect("the graph has a solution");
        times.push(t.elapsed());
        resolved = r.len();
    }
    assert_eq!(resolved, PACKAGES, "every package is in the solution");
    times.sort();
    let p50 = times[times.len() / 2];
    println!(
        "resolve: {PACKAGES} packages x 20 versions, {resolved} resolved; p50 {:.1} ms, min {:.1} ms, max {:.1} ms over {runs} runs ({} the 100 ms bar)",
        p50.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        if p50 < Duration::from_millis(100) { "within" } else { "OVER" },
    );
}
