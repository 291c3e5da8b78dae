//! Timing helpers shared by the benchmarks (each bench is its own crate and
//! uses some of them).
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// The value at quantile `q` (0.0 to 1.0) of sorted durations.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `f` a few times to warm up, then `iterations` times; prints and
/// returns p50 and p99.
pub fn measure(name: &str, iterations: usize, mut f: impl FnMut()) -> (Duration, Duration) {
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
    let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
    println!(
        "{name:<52} p50 {:>8.3} ms   p99 {:>8.3} ms   ({iterations} runs)",
        ms(p50),
        ms(p99)
    );
    (p50, p99)
}
