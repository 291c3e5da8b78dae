//! Issue 20 (and issue 17, point 4): the git index at 10,000 and 100,000
//! packages, as stock git sees it, and how far the git views trail the
//! database under publish load.
//!
//! For each size, against a real `gemeinwerk serve` (release build, SQLite):
//! 1. seed the packages in process through the ordinary publish path
//!    (`registry::publish::publish`: archive to the blob store, rows and
//!    jobs in one transaction; no HTTP), then let the git index lane build
//!    the index from the waiting jobs. The seeded packages' history jobs are
//!    dropped: histories are per package and not part of the clone; the load
//!    phases below measure them.
//! 2. disk size of the server's `git/index.git`, beside the raw size of the
//!    index files (the floor);
//! 3. a fresh `git clone` over HTTP (dumb protocol) with stock git: time
//!    and size of `.git`;
//! 4. 100 publishes over HTTP, then `git fetch` in that clone: time and
//!    bytes received (growth of `.git/objects`);
//! 5. lag at a steady 50 and 100 publishes/s from 4 clients: per publish,
//!    the time from the publish's answer until the git index's `main` holds
//!    the version, and until its history's tag exists (watched on disk
//!    every 5 ms); p50, p99, max;
//! 6. a bulk load by 4 clients as fast as they go: the highest job backlog,
//!    and how long after the last publish the git index and the histories
//!    are current;
//! 7. a squash: its time, and `git fetch` across it in the old clone.
//!
//! `cargo bench --bench git_index`. Env: `GEMEINWERK_BENCH_SIZES`
//! (default `10000,100000`), `GEMEINWERK_BENCH_BULK` (default 5000
//! publishes), `GEMEINWERK_BENCH_RATE_SECS` (seconds per rate, default 10).

#[allow(unused_macros)]
#[path = "../tests/it/common.rs"]
mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Backend, TestRegistry};
use diesel::prelude::*;
use gemeinwerk_package::archive;
use gemeinwerk_server::registry::audit::Origin;
use gemeinwerk_server::registry::auth::{self, Role, Scope};
use gemeinwerk_server::registry::jobs::{self, Lane};
use gemeinwerk_server::registry::{accounts, publish, Registry, RegistryConfig};
use gemeinwerk_server::store::schema::jobs as jobs_table;

mod support;
use support::{du, mb, percentile};

const PER_NAMESPACE: usize = 100;

fn namespace(i: usize) -> String {
    format!("gemeinde-{:04}", i % 10_000)
}

fn package_archive(ns: &str, name: &str, version: &str) -> Vec<u8> {
    let manifest = format!(
        "[package]\nname = \"{ns}/{name}\"\nversion = \"{version}\"\nkind = \"form\"\n\
         title = \"Antrag {name}\"\ndescription = \"Ein generiertes Formular für den Benchmark.\"\n\
         license = \"EUPL-1.2\"\nthemenfeld = \"querschnitt\"\n"
    );
    let form =
        "[form]\ntitle = \"Antrag\"\nvertrauensniveau = \"niedrig\"\naccounts = [\"BundID\"]\n\n\
                [[field]]\nid = \"name\"\ntype = \"text\"\nlabel = \"Name\"\nrequired = true\n";
    let files = [
        ("gemeinwerk.toml".to_string(), manifest.into_bytes()),
        ("form.toml".to_string(), form.as_bytes().to_vec()),
    ]
    .into_iter()
    .collect();
    archive::build(&format!("{name}-{version}"), &files)
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Seeds `count` packages in `namespaces` namespaces into the stopped
/// server's stores; returns the token of a user who owns them all.
fn seed(reg: &TestRegistry, count: usize) -> String {
    let registry = open(reg);
    let origin = Origin {
        actor: None,
        client_addr: Some("bench".into()),
    };
    let namespaces = count.div_ceil(PER_NAMESPACE);
    let token = {
        let mut conn = registry.db.conn().unwrap();
        accounts::add_user(&mut conn, &origin, "bench-redaktion").unwrap();
        for n in 0..namespaces {
            let slug = namespace(n);
            accounts::add_namespace(&mut conn, &origin, &slug, &format!("Gemeinde {n}"), None)
                .unwrap();
            accounts::set_member_as_operator(
                &mut conn,
                &origin,
                &slug,
                "bench-redaktion",
                Role::Owner,
            )
            .unwrap();
        }
        auth::create_token(
            &mut conn,
            &origin,
            "bench-redaktion",
            "bench",
            &Scope::ALL,
            None,
            None,
        )
        .unwrap()
        .token
    };
    let started = Instant::now();
    for i in 0..count {
        let ns = namespace(i % namespaces);
        let bytes = package_archive(&ns, &format!("formular-{i}"), "1.0.0");
        publish::publish_with_credential(&registry, Some(token.as_str()).into(), &origin, &bytes)
            .expect("publishing");
        if (i + 1) % 20_000 == 0 {
            eprintln!(
                "  {} seeded ({:.0} s)",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "seeded {count} packages in {namespaces} namespaces in process: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    {
        let mut conn = registry.db.conn().unwrap();
        diesel::delete(
            jobs_table::table.filter(jobs_table::kind.ne(jobs::Job::SyncIndex.as_str())),
        )
        .execute(&mut *conn)
        .unwrap();
    }
    let started = Instant::now();
    let done = jobs::run_lane(&registry, Lane::GitIndex).unwrap();
    println!(
        "git index built from {done} waiting jobs (batches of up to 20,000, one commit each): {:.1} s",
        started.elapsed().as_secs_f64()
    );
    token
}

fn open(reg: &TestRegistry) -> Registry {
    Registry::open(
        reg.data(),
        Some(&reg.database_url),
        RegistryConfig {
            limits: Default::default(),
            base_url: reg.url.clone(),
        },
    )
    .unwrap()
}

fn publish_http(url: &str, token: &str, archive: &[u8]) {
    let r = ureq::put(&format!("{url}/api/v1/packages/new"))
        .set("Authorization", &format!("Bearer {token}"))
        .send_bytes(archive);
    match r {
        Ok(r) if r.status() == 200 => {}
        Ok(r) => panic!("publish: {}", r.status()),
        Err(ureq::Error::Status(s, r)) => panic!("publish: {s} {}", r.into_string().unwrap()),
        Err(e) => panic!("publish: {e}"),
    }
}

/// The raw size of the index files at `main` (the floor) and their count.
fn raw_index_size(repo: &git2::Repository) -> (u64, usize) {
    let tree = repo.head().unwrap().peel_to_tree().unwrap();
    let (mut bytes, mut files) = (0u64, 0usize);
    let odb = repo.odb().unwrap();
    tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            bytes += odb.read_header(entry.id()).unwrap().0 as u64;
            files += 1;
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
    (bytes, files)
}

/// A publish waiting to show in the views: (path, version) → answered at.
type Waiting = Arc<Mutex<HashMap<(String, String), Instant>>>;

/// Watches the server's repositories on disk and records, per publish,
/// how long after its answer the git index and its history had it.
struct Watcher {
    waiting_index: Waiting,
    waiting_history: Waiting,
    index_lags: Arc<Mutex<Vec<Duration>>>,
    history_lags: Arc<Mutex<Vec<Duration>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watcher {
    fn start(data: PathBuf) -> Watcher {
        let waiting_index: Waiting = Default::default();
        let waiting_history: Waiting = Default::default();
        let index_lags = Arc::new(Mutex::new(Vec::new()));
        let history_lags = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (wi, wh, il, hl, st) = (
            waiting_index.clone(),
            waiting_history.clone(),
            index_lags.clone(),
            history_lags.clone(),
            stop.clone(),
        );
        let thread = std::thread::spawn(move || {
            let repo = git2::Repository::open_bare(data.join("git/index.git")).unwrap();
            let mut last = repo.refname_to_id("refs/heads/main").ok();
            while !st.load(Ordering::SeqCst) {
                let now = Instant::now();
                let head = repo.refname_to_id("refs/heads/main").ok();
                if head != last {
                    let tree = repo.find_commit(head.unwrap()).unwrap().tree().unwrap();
                    let mut waiting = wi.lock().unwrap();
                    let mut seen = Vec::new();
                    for (path, version) in waiting.keys() {
                        if let Ok(entry) = tree.get_path(Path::new(path)) {
                            let blob = repo.find_blob(entry.id()).unwrap();
                            let needle = format!("\"vers\":\"{version}\"");
                            if std::str::from_utf8(blob.content())
                                .unwrap()
                                .contains(&needle)
                            {
                                seen.push((path.clone(), version.clone()));
                            }
                        }
                    }
                    let mut lags = il.lock().unwrap();
                    for key in seen {
                        let at = waiting.remove(&key).unwrap();
                        lags.push(now.saturating_duration_since(at));
                    }
                    last = head;
                }
                {
                    let mut waiting = wh.lock().unwrap();
                    let seen: Vec<_> = waiting
                        .keys()
                        .filter(|(path, version)| {
                            data.join(format!("git/packages/{path}.git/refs/tags/v{version}"))
                                .exists()
                        })
                        .cloned()
                        .collect();
                    let mut lags = hl.lock().unwrap();
                    for key in seen {
                        let at = waiting.remove(&key).unwrap();
                        lags.push(now.saturating_duration_since(at));
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Watcher {
            waiting_index,
            waiting_history,
            index_lags,
            history_lags,
            stop,
            thread: Some(thread),
        }
    }

    fn published(&self, path: &str, version: &str, at: Instant) {
        let key = (path.to_string(), version.to_string());
        self.waiting_index.lock().unwrap().insert(key.clone(), at);
        self.waiting_history.lock().unwrap().insert(key, at);
    }

    /// Waits until nothing is waiting (at most `timeout`), then stops.
    fn finish(mut self, timeout: Duration) -> (Vec<Duration>, Vec<Duration>) {
        let started = Instant::now();
        while started.elapsed() < timeout
            && (!self.waiting_index.lock().unwrap().is_empty()
                || !self.waiting_history.lock().unwrap().is_empty())
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap();
        let missing =
            self.waiting_index.lock().unwrap().len() + self.waiting_history.lock().unwrap().len();
        assert_eq!(missing, 0, "publishes that never reached a view");
        let mut i = self.index_lags.lock().unwrap().clone();
        let mut h = self.history_lags.lock().unwrap().clone();
        i.sort();
        h.sort();
        (i, h)
    }
}

fn summary(lags: &[Duration]) -> String {
    format!(
        "p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        percentile(lags, 0.5).as_secs_f64() * 1e3,
        percentile(lags, 0.99).as_secs_f64() * 1e3,
        lags.last().unwrap().as_secs_f64() * 1e3
    )
}

/// 4 clients publish new versions of existing packages at `rate` per
/// second in total for `secs` seconds.
fn steady_load(
    reg: &TestRegistry,
    token: &str,
    count: usize,
    rate: usize,
    secs: u64,
    round: usize,
) {
    let watcher = Watcher::start(reg.data().to_path_buf());
    let total = rate * secs as usize;
    let started = Instant::now();
    let watcher = Arc::new(watcher);
    let threads: Vec<_> = (0..4)
        .map(|c| {
            let (url, token, watcher) = (reg.url.clone(), token.to_string(), watcher.clone());
            std::thread::spawn(move || {
                let mut i = c;
                while i < total {
                    // Publish number i is due at i / rate seconds.
                    let due = Duration::from_secs_f64(i as f64 / rate as f64);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                    let p = (i * 7919 + round * 104_729) % count;
                    let ns = namespace(p % count.div_ceil(PER_NAMESPACE));
                    let name = format!("formular-{p}");
                    let version = format!("{}.0.{i}", round + 2);
                    publish_http(&url, &token, &package_archive(&ns, &name, &version));
                    watcher.published(&format!("{ns}/{name}"), &version, Instant::now());
                    i += 4;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let elapsed = started.elapsed();
    let watcher = Arc::try_unwrap(watcher).ok().unwrap();
    let (index, history) = watcher.finish(Duration::from_secs(120));
    println!(
        "steady load {rate}/s ({total} publishes in {:.1} s): git index lag {}; history lag {}",
        elapsed.as_secs_f64(),
        summary(&index),
        summary(&history)
    );
}

fn pending(reg: &TestRegistry) -> (i64, i64) {
    let db = reg.db();
    let mut conn = db.conn().unwrap();
    let index: i64 = jobs_table::table
        .filter(jobs_table::kind.eq(jobs::Job::SyncIndex.as_str()))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    let all: i64 = jobs_table::table.count().get_result(&mut *conn).unwrap();
    (index, all - index)
}

/// 4 clients publish `bulk` new packages as fast as they can.
fn bulk_load(reg: &TestRegistry, token: &str, count: usize, bulk: usize) {
    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (done, db_url) = (done.clone(), reg.database_url.clone());
        std::thread::spawn(move || {
            let db = gemeinwerk_server::store::Db::open(&gemeinwerk_server::store::DbUrl::parse(
                &db_url,
            ))
            .unwrap();
            let (mut max_index, mut max_all) = (0i64, 0i64);
            while !done.load(Ordering::SeqCst) {
                let mut conn = db.conn().unwrap();
                let index: i64 = jobs_table::table
                    .filter(jobs_table::kind.eq(jobs::Job::SyncIndex.as_str()))
                    .count()
                    .get_result(&mut *conn)
                    .unwrap();
                let all: i64 = jobs_table::table.count().get_result(&mut *conn).unwrap();
                max_index = max_index.max(index);
                max_all = max_all.max(all - index);
                std::thread::sleep(Duration::from_millis(100));
            }
            (max_index, max_all)
        })
    };
    let threads: Vec<_> = (0..4)
        .map(|c| {
            let (url, token) = (reg.url.clone(), token.to_string());
            std::thread::spawn(move || {
                let namespaces = count.div_ceil(PER_NAMESPACE);
                let mut i = c;
                while i < bulk {
                    let ns = namespace(i % namespaces);
                    publish_http(
                        &url,
                        &token,
                        &package_archive(&ns, &format!("neu-{i}"), "1.0.0"),
                    );
                    i += 4;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let load = started.elapsed();
    let ended = Instant::now();
    let (mut index_done, mut all_done) = (None, None);
    while all_done.is_none() {
        let (index, others) = pending(reg);
        if index == 0 && index_done.is_none() {
            index_done = Some(ended.elapsed());
        }
        if index == 0 && others == 0 {
            all_done = Some(ended.elapsed());
        }
        assert!(
            ended.elapsed() < Duration::from_secs(1800),
            "jobs never drained"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    done.store(true, Ordering::SeqCst);
    let (max_index, max_history) = sampler.join().unwrap();
    println!(
        "bulk load: {bulk} publishes by 4 clients in {:.1} s ({:.0}/s); highest backlog: {max_index} git index jobs, {max_history} history jobs; git index current {:.2} s and histories {:.2} s after the last publish",
        load.as_secs_f64(),
        bulk as f64 / load.as_secs_f64(),
        index_done.unwrap().as_secs_f64(),
        all_done.unwrap().as_secs_f64()
    );
}

fn run(count: usize, bulk: usize, rate_secs: u64) {
    println!("\n== {count} packages ==");
    let mut reg = TestRegistry::start(Backend::Sqlite);
    reg.stop();
    let token = seed(&reg, count);
    reg.launch();
    reg.wait_for_jobs();
    // The server builds its search index at the first start; let it finish
    // so that it does not share the cores with what is measured.
    let started = Instant::now();
    while ureq::get(&format!("{}/healthz", reg.url))
        .call()
        .unwrap()
        .into_json::<serde_json::Value>()
        .unwrap()["views"]["search"]["lag_changes"]
        != 0
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "search index built at start: {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let server_repo = reg.data().join("git/index.git");
    let repo = git2::Repository::open_bare(&server_repo).unwrap();
    let (raw, files) = raw_index_size(&repo);
    let packs = std::fs::read_to_string(server_repo.join("objects/info/packs")).unwrap();
    println!(
        "server: git/index.git {} on disk ({} packs listed); the {files} index files themselves: {} (the floor)",
        mb(du(&server_repo)),
        packs.lines().filter(|l| l.starts_with("P ")).count(),
        mb(raw)
    );

    let tmp = tempfile::tempdir().unwrap();
    let url = format!("{}/git/index.git", reg.url);
    let t = Instant::now();
    git(tmp.path(), &["clone", "-q", &url, "index"]);
    let clone = tmp.path().join("index");
    println!(
        "fresh clone (stock git, dumb HTTP): {:.2} s; .git {}; work tree {}",
        t.elapsed().as_secs_f64(),
        mb(du(&clone.join(".git"))),
        mb(du(&clone) - du(&clone.join(".git")))
    );

    // 100 publishes (new versions spread over the namespaces), then fetch.
    let threads: Vec<_> = (0..4)
        .map(|c| {
            let (url, token) = (reg.url.clone(), token.clone());
            std::thread::spawn(move || {
                for i in (c..100).step_by(4) {
                    let p = (i * 7919) % count;
                    let ns = namespace(p % count.div_ceil(PER_NAMESPACE));
                    publish_http(
                        &url,
                        &token,
                        &package_archive(&ns, &format!("formular-{p}"), "2.0.0"),
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    reg.wait_for_jobs();
    let before = du(&clone.join(".git/objects"));
    let t = Instant::now();
    git(&clone, &["fetch", "-q"]);
    let fetch_time = t.elapsed();
    git(&clone, &["reset", "-q", "--hard", "origin/main"]);
    println!(
        "fetch after 100 publishes: {:.3} s, {:.0} kB received",
        fetch_time.as_secs_f64(),
        (du(&clone.join(".git/objects")) - before) as f64 / 1e3
    );

    for (round, rate) in [(1, 50), (2, 100)] {
        steady_load(&reg, &token, count, rate, rate_secs, round);
    }
    bulk_load(&reg, &token, count, bulk);
    println!(
        "server after the loads: git/index.git {} on disk",
        mb(du(&server_repo))
    );

    // A squash, then the old clone fetches across it.
    reg.stop();
    let registry = open(&reg);
    let t = Instant::now();
    registry
        .git
        .with(&registry, |git| {
            Ok(git.squash(&jobs::index_archive_path(&registry))?)
        })
        .unwrap();
    println!(
        "squash: {:.1} s; git/index.git {} on disk afterwards (retired packs stay {} min), archive {}",
        t.elapsed().as_secs_f64(),
        mb(du(&server_repo)),
        registry_index::pack::RETIRE_GRACE.as_secs() / 60,
        mb(du(&reg.data().join("git/index-archive.git")))
    );
    drop(registry);
    reg.launch();
    let url = format!("{}/git/index.git", reg.url);
    git(&clone, &["remote", "set-url", "origin", &url]);
    let before = du(&clone.join(".git/objects"));
    let t = Instant::now();
    git(&clone, &["fetch", "-q"]);
    println!(
        "fetch across the squash (the clone was {bulk} + {} publishes behind): {:.2} s, {:.0} kB received",
        (50 + 100) * rate_secs,
        t.elapsed().as_secs_f64(),
        (du(&clone.join(".git/objects")) - before) as f64 / 1e3
    );
    let fresh = tmp.path().join("fresh");
    let t = Instant::now();
    git(tmp.path(), &["clone", "-q", &url, "fresh"]);
    println!(
        "fresh clone after the squash: {:.2} s; .git {}",
        t.elapsed().as_secs_f64(),
        mb(du(&fresh.join(".git")))
    );
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test` run lists no tests.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let bulk: usize = env("GEMEINWERK_BENCH_BULK", "5000").parse().unwrap();
    let rate_secs: u64 = env("GEMEINWERK_BENCH_RATE_SECS", "10").parse().unwrap();
    for size in env("GEMEINWERK_BENCH_SIZES", "10000,100000").split(',') {
        run(size.trim().parse().unwrap(), bulk, rate_secs);
    }
}
