//! Issue 6, point 7: fetching 200 locked packages from a local server with
//! `gemeinwerk fetch --locked` (cold cache), side by side with a
//! sequential `curl` loop over the same download URLs, and a second fetch
//! with the cache warm (the bar: under one second).
//!
//! `cargo bench --bench fetch` (SQLite; needs `curl` on the PATH).
//! `GEMEINWERK_BENCH_PACKAGES` changes the count.

#[allow(unused_macros)]
#[path = "../tests/it/common.rs"]
mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{archive_of, pkg, Backend, TestRegistry, BIN};

fn gemeinwerk(reg: &TestRegistry, project: &Path, cache: &Path, args: &[&str]) -> Duration {
    let t = Instant::now();
    let out = Command::new(BIN)
        .args(args)
        .current_dir(project)
        .env("GEMEINWERK_REGISTRY", &reg.url)
        .env("XDG_CACHE_HOME", cache)
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let elapsed = t.elapsed();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let count: usize = std::env::var("GEMEINWERK_BENCH_PACKAGES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let reg = TestRegistry::start(Backend::Sqlite);
    let token = reg.owner_of("bench");
    let mut manifest = String::from("[dependencies]\n");
    for i in 0..count {
        let name = format!("bench/formular-{i}");
        let r = reg.publish_bytes(Some(&token), &archive_of(&pkg(&name, "1.0.0")));
        assert_eq!(r.status, 200, "{}", r.text());
        manifest.push_str(&format!("\"{name}\" = \"^1\"\n"));
    }
    let project = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("gemeinwerk.toml"), manifest).unwrap();
    let lock_time = gemeinwerk(&reg, project.path(), cache.path(), &["lock"]);

    // Cold: an empty cache, every archive downloaded, verified, unpacked.
    let cold_cache = tempfile::tempdir().unwrap();
    let cold = gemeinwerk(
        &reg,
        project.path(),
        cold_cache.path(),
        &["fetch", "--locked", "--dest", "cold"],
    );

    // What a script would do instead: one curl per URL, one after another.
    let lock: toml::Value =
        toml::from_str(&std::fs::read_to_string(project.path().join("gemeinwerk.lock")).unwrap())
            .unwrap();
    let urls: Vec<String> = lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let (ns, name) = p["name"].as_str().unwrap().split_once('/').unwrap();
            format!(
                "{}/api/v1/packages/{ns}/{name}/{}/download",
                reg.url,
                p["version"].as_str().unwrap()
            )
        })
        .collect();
    let curl_dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    for (i, url) in urls.iter().enumerate() {
        let ok = Command::new("curl")
            .args(["-fsS", "-o"])
            .arg(curl_dir.path().join(format!("{i}.tar.gz")))
            .arg(url)
            .status()
            .expect("curl must be installed")
            .success();
        assert!(ok, "curl {url}");
    }
    let curl = t.elapsed();

    // Warm: the same lock again, everything from the cache.
    let warm = gemeinwerk(
        &reg,
        project.path(),
        cold_cache.path(),
        &["fetch", "--locked", "--dest", "warm"],
    );
    assert!(project
        .path()
        .join("warm/bench/formular-0/form.toml")
        .is_file());

    println!(
        "fetch {count} packages: lock {:.0} ms; gemeinwerk fetch --locked cold {:.0} ms, sequential curl loop {:.0} ms (curl/gemeinwerk = {:.1}x, without verifying or unpacking); warm {:.0} ms ({} the 1 s bar)",
        lock_time.as_secs_f64() * 1e3,
        cold.as_secs_f64() * 1e3,
        curl.as_secs_f64() * 1e3,
        curl.as_secs_f64() / cold.as_secs_f64(),
        warm.as_secs_f64() * 1e3,
        if warm < Duration::from_secs(1) { "within" } else { "OVER" },
    );
}
