//! Timing helpers shared by the benchmarks (each bench is its own crate and
//! uses some of them).
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The fewest samples a quantile may be reported from: a p99 needs 100
/// (below that it is the maximum under another name), a p50 needs 2.
pub fn min_samples(q: f64) -> usize {
    (1.0 / (1.0 - q.min(0.999))).ceil().max(1.0) as usize
}

/// The value at quantile `q` (0.0 to 1.0) of sorted durations, or `None`
/// when there are too few samples to say (see [`min_samples`]).
pub fn quantile(sorted: &[Duration], q: f64) -> Option<Duration> {
    if sorted.is_empty() || sorted.len() < min_samples(q) {
        return None;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    Some(sorted[i])
}

/// [`quantile`] for benchmarks that always take enough samples: panics
/// rather than report a p99 of fewer than 100 runs.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    quantile(sorted, q).unwrap_or_else(|| {
        panic!(
            "a quantile {q} needs at least {} samples, got {}",
            min_samples(q),
            sorted.len()
        )
    })
}

/// "1.234 ms", or "—" for a quantile that was not measured.
pub fn ms_or_dash(d: Option<Duration>) -> String {
    d.map(|d| format!("{:>8.3} ms", ms(d)))
        .unwrap_or_else(|| format!("{:>11}", "—"))
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `f` a few times to warm up, then `iterations` times; prints and
/// returns p50 and p99 (`None` below 100 runs: it would be the maximum).
pub fn measure(name: &str, iterations: usize, mut f: impl FnMut()) -> (Duration, Option<Duration>) {
    for _ in 0..5 {
        f();
    }
    let mut times: Vec<Duration> = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    let (p50, p99) = (percentile(&times, 0.5), quantile(&times, 0.99));
    println!(
        "{name:<52} p50 {:>8.3} ms   p99 {}   ({iterations} runs)",
        ms(p50),
        ms_or_dash(p99)
    );
    (p50, p99)
}

/// The growth benchmark's Leistungen (`benches/growth.rs`, and its
/// packages in process in `benches/search.rs`): words the packages are
/// titled and searched with, so that a query
/// matches a share of the registry as real ones do.
pub const WORDS: [&str; 12] = [
    "Bewohnerparkausweis",
    "Hundesteuer",
    "Gewerbeanmeldung",
    "Wohngeld",
    "Baugenehmigung",
    "Sondernutzung",
    "Fischereischein",
    "Meldebescheinigung",
    "Elterngeld",
    "Anwohnerparken",
    "Sperrmüll",
    "Kita-Platz",
];

/// Bytes under `path` as `du -sb` counts them (0 when it is missing).
pub fn du(path: &Path) -> u64 {
    let out = Command::new("du").arg("-sb").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
