//! The git index as stock git sees it: packed (a clone and a fetch move
//! packs, not loose objects), squashed without breaking clones, and honest
//! about its lag in `/healthz` and `/metrics`.

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use gemeinwerk_server::store::schema::jobs;

use crate::both_backends;
use crate::common::{self, *};

/// Loose objects in a repository (`objects/xx/…`).
fn loose_objects(objects: &Path) -> usize {
    std::fs::read_dir(objects)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().len() == 2)
        .map(|e| std::fs::read_dir(e.path()).unwrap().count())
        .sum()
}

/// Every package file of a clone's work tree equals the sparse index.
fn assert_clone_equals_sparse(reg: &TestRegistry, clone: &Path, packages: &[&str]) {
    for file in packages {
        let on_disk = std::fs::read(clone.join(file)).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&on_disk),
            reg.get(&format!("/index/{file}")).text(),
            "{file}"
        );
    }
    let tracked = git(clone, &["ls-files"]);
    let mut expected: Vec<&str> = packages.to_vec();
    expected.push("config.json");
    expected.sort();
    assert_eq!(tracked.lines().collect::<Vec<_>>(), expected);
}

fn publish(reg: &TestRegistry, token: &str, name: &str, version: &str) {
    let r = reg.publish_bytes(Some(token), &archive_of(&pkg(name, version)));
    assert_eq!(r.status, 200, "{}", r.text());
}

both_backends! {
    fn clone_and_fetch_move_packs_not_loose_objects(reg) {
        let token = reg.owner_of("kassel");
        for (i, name) in ["kassel/a", "kassel/b", "kassel/c"].iter().enumerate() {
            publish(reg, &token, name, &format!("1.{i}.0"));
        }
        reg.wait_for_jobs();
        let server = reg.data().join("git/index.git");
        assert_eq!(loose_objects(&server.join("objects")), 0, "the server writes packs");
        let packs = std::fs::read_to_string(server.join("objects/info/packs")).unwrap();
        assert!(packs.lines().any(|l| l.starts_with("P pack-")), "{packs}");
        let pack = reg.get(&format!(
            "/git/index.git/objects/pack/{}",
            packs.lines().next().unwrap().trim_start_matches("P ")
        ));
        assert_eq!(pack.status, 200);
        assert_eq!(pack.header("content-type"), Some("application/x-git-packed-objects"));
        assert!(pack.header("cache-control").unwrap().contains("immutable"));

        let tmp = tempfile::tempdir().unwrap();
        git(tmp.path(), &["clone", "-q", &format!("{}/git/index.git", reg.url), "index"]);
        let clone = tmp.path().join("index");
        assert_eq!(loose_objects(&clone.join(".git/objects")), 0, "the clone received packs only");
        assert_clone_equals_sparse(reg, &clone, &["kassel/a", "kassel/b", "kassel/c"]);

        // New publishes arrive by fetch, again as packs.
        publish(reg, &token, "kassel/a", "2.0.0");
        publish(reg, &token, "kassel/d", "0.1.0");
        reg.wait_for_jobs();
        git(&clone, &["pull", "-q", "--ff-only"]);
        assert_eq!(loose_objects(&clone.join(".git/objects")), 0);
        assert_clone_equals_sparse(reg, &clone, &["kassel/a", "kassel/b", "kassel/c", "kassel/d"]);

        // Small packs were rolled up; the ones replaced have left the pack
        // list and objects/pack/, but stay downloadable for a grace, for
        // clients that listed them just before.
        let retired: Vec<String> = std::fs::read_dir(server.join("objects/retired"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".pack"))
            .collect();
        assert!(!retired.is_empty(), "after 6 commits some packs were rolled up");
        let listed = std::fs::read_to_string(server.join("objects/info/packs")).unwrap();
        assert!(!listed.contains(&retired[0]), "{listed}");
        assert!(!server.join("objects/pack").join(&retired[0]).exists());
        assert_eq!(reg.get(&format!("/git/index.git/objects/pack/{}", retired[0])).status, 200);
        assert_eq!(reg.get("/git/index.git/objects/pack/pack-0000.pack").status, 404);

        // Histories are packed too, and clone as before.
        let history = reg.data().join("git/packages/kassel/a.git");
        assert_eq!(loose_objects(&history.join("objects")), 0);
        git(tmp.path(), &["clone", "-q", &format!("{}/git/packages/kassel/a.git", reg.url), "a"]);
        assert_eq!(git(&tmp.path().join("a"), &["tag"]), "v1.0.0\nv2.0.0");
    }

    fn healthz_and_metrics_report_each_views_lag(reg) {
        let token = reg.owner_of("kassel");
        publish(reg, &token, "kassel/a", "1.0.0");
        reg.wait_for_jobs();
        // Search follows the change feed on its own thread; give it a moment.
        let started = Instant::now();
        let health = loop {
            let h = reg.get("/healthz").json();
            if h["views"]["search"]["lag_changes"] == 0 || started.elapsed() > Duration::from_secs(10) {
                break h;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(health["status"], "ok");
        for view in ["git_index", "package_histories", "search"] {
            assert_eq!(health["views"][view]["lag_changes"], 0, "{view}: {health}");
            assert_eq!(health["views"][view]["lag_seconds"], 0.0, "{view}: {health}");
        }

        // A history job that cannot succeed (its package does not exist)
        // and a git index job with a broken payload stay in the queue, and
        // show as lag; they do not hold up other packages.
        {
            let db = reg.db();
            let mut conn = db.conn().unwrap();
            let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(30);
            for (kind, payload) in [("sync_history", "kassel/never-published"), ("sync_index", "no-slash")] {
                diesel::insert_into(jobs::table)
                    .values((
                        jobs::kind.eq(kind),
                        jobs::payload.eq(payload),
                        jobs::attempts.eq(0),
                        jobs::run_after.eq(long_ago),
                        jobs::created_at.eq(long_ago),
                    ))
                    .execute(&mut *conn)
                    .unwrap();
            }
        }
        publish(reg, &token, "kassel/b", "1.0.0");
        let started = Instant::now();
        // Read with libgit2 directly: opening a GitIndex would write server files.
        let server = git2::Repository::open_bare(reg.data().join("git/index.git")).unwrap();
        let has_b = || server.head().unwrap().peel_to_tree().unwrap().get_path(Path::new("kassel/b")).is_ok();
        while !has_b() {
            assert!(started.elapsed() < Duration::from_secs(10), "kassel/b never reached the git index");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The job row goes right after the commit.
        let started = Instant::now();
        let health = loop {
            let h = reg.get("/healthz").json();
            let settled = ["git_index", "package_histories"].iter().all(|v| h["views"][v]["lag_changes"] == 1);
            if settled || started.elapsed() > Duration::from_secs(10) {
                break h;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for view in ["git_index", "package_histories"] {
            assert_eq!(health["views"][view]["lag_changes"], 1, "{view}: {health}");
            let secs = health["views"][view]["lag_seconds"].as_f64().unwrap();
            assert!((29.0..120.0).contains(&secs), "{view}: {health}");
        }
        let metrics = reg.get("/metrics").text();
        assert!(metrics.contains("gemeinwerk_view_lag_changes{view=\"git_index\"} 1\n"), "{metrics}");
        assert!(metrics.contains("gemeinwerk_view_lag_changes{view=\"package_histories\"} 1\n"), "{metrics}");
        assert!(metrics.contains("# TYPE gemeinwerk_view_lag_seconds gauge\n"), "{metrics}");
        assert!(metrics.contains("gemeinwerk_view_lag_seconds{view=\"search\"} "), "{metrics}");
        let db = reg.db();
        let mut conn = db.conn().unwrap();
        let errors: Vec<Option<String>> = jobs::table
            .order(jobs::kind)
            .select(jobs::last_error)
            .load(&mut *conn)
            .unwrap();
        assert_eq!(errors.len(), 2);
        assert!(errors.iter().all(|e| e.is_some()), "{errors:?}");
    }
}

/// Clone, squash (after three commits), fetch: the clone's files equal
/// the sparse index, the old history is in the archive under a dated
/// branch, and a fresh clone has one commit.
fn squash_keeps_clones_working(backend: Backend) {
    let reg = TestRegistry::start_with(backend, &["--index-squash-after", "3"]);
    let token = reg.owner_of("kassel");
    // config.json is the root commit; two publishes follow.
    publish(&reg, &token, "kassel/a", "1.0.0");
    reg.wait_for_jobs();
    publish(&reg, &token, "kassel/b", "1.0.0");
    reg.wait_for_jobs();
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("{}/git/index.git", reg.url);
    git(tmp.path(), &["clone", "-q", &url, "index"]);
    let clone = tmp.path().join("index");
    let old_head = git(&clone, &["rev-parse", "HEAD"]);
    assert_eq!(git(&clone, &["rev-list", "--count", "HEAD"]), "3");

    // The third commit since the root squashes.
    publish(&reg, &token, "kassel/a", "1.1.0");
    reg.wait_for_jobs();
    publish(&reg, &token, "kassel/c", "0.1.0");
    reg.wait_for_jobs();
    let server = git2::Repository::open_bare(reg.data().join("git/index.git")).unwrap();
    let head = server.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(head.parent_count(), 1, "one commit on top of the snapshot");
    let snapshot = head.parent(0).unwrap();
    assert_eq!(snapshot.parent_count(), 0);
    assert!(snapshot
        .message()
        .unwrap()
        .starts_with("Snapshot of the index"));

    // The old clone fetches across the squash, as cargo does (fetch, reset).
    git(&clone, &["fetch", "-q"]);
    git(&clone, &["reset", "-q", "--hard", "origin/main"]);
    assert_clone_equals_sparse(&reg, &clone, &["kassel/a", "kassel/b", "kassel/c"]);
    assert_eq!(git(&clone, &["rev-list", "--count", "origin/main"]), "2");

    // The history from before is in the archive, under a dated branch.
    let archive = format!("{}/git/index-archive.git", reg.url);
    let refs = git(&clone, &["ls-remote", &archive]);
    let branch = refs
        .lines()
        .find_map(|l| {
            l.split('\t')
                .nth(1)
                .filter(|r| r.starts_with("refs/heads/snapshot-"))
        })
        .unwrap_or_else(|| panic!("no snapshot branch in {refs}"))
        .to_string();
    assert!(
        regex_like_date(branch.trim_start_matches("refs/heads/snapshot-")),
        "{branch}"
    );
    git(
        &clone,
        &[
            "fetch",
            "-q",
            &archive,
            &format!("{branch}:refs/archive/old"),
        ],
    );
    git(
        &clone,
        &["merge-base", "--is-ancestor", &old_head, "refs/archive/old"],
    );

    // A fresh clone has the short history and the same files.
    git(tmp.path(), &["clone", "-q", &url, "fresh"]);
    let fresh = tmp.path().join("fresh");
    assert_clone_equals_sparse(&reg, &fresh, &["kassel/a", "kassel/b", "kassel/c"]);
    assert_eq!(git(&fresh, &["rev-list", "--count", "HEAD"]), "2");
    publish(&reg, &token, "kassel/d", "0.1.0");
    reg.wait_for_jobs();
    git(&fresh, &["pull", "-q", "--ff-only"]);
    assert_clone_equals_sparse(
        &reg,
        &fresh,
        &["kassel/a", "kassel/b", "kassel/c", "kassel/d"],
    );
}

/// `YYYY-MM-DD-HHMMSS`
fn regex_like_date(s: &str) -> bool {
    s.len() == 17
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 | 10 => b == b'-',
            _ => b.is_ascii_digit(),
        })
}

#[test]
fn squash_keeps_clones_working_sqlite() {
    squash_keeps_clones_working(Backend::Sqlite);
}

#[test]
fn squash_keeps_clones_working_postgres() {
    squash_keeps_clones_working(Backend::Postgres);
}

/// The history job warms the node's cache only while it has room: past
/// that a new package's history is written when a client asks for it, so
/// a bulk load neither waits for every repository nor pushes the ones in
/// use out. Either way the client sees every version.
#[test]
fn history_jobs_warm_only_what_the_cache_has_room_for() {
    let reg = TestRegistry::start_with(Backend::Sqlite, &["--history-cache-repos", "2"]);
    let token = reg.owner_of("kassel");
    // One at a time: two history workers may otherwise both find room.
    for name in ["a", "b", "c", "d"] {
        publish(&reg, &token, &format!("kassel/{name}"), "1.0.0");
        reg.wait_for_jobs();
    }
    let on_disk = |name: &str| {
        reg.data()
            .join(format!("git/packages/kassel/{name}.git"))
            .exists()
    };
    assert_eq!(
        ["a", "b", "c", "d"].iter().filter(|n| on_disk(n)).count(),
        2,
        "two warmed, two left for when they are asked for"
    );
    let h = reg.get("/healthz").json();
    assert_eq!(h["views"]["package_histories"]["lag_changes"], 0, "{h}");

    // A new version of a warmed history is written by its job.
    let warmed = ["a", "b"].into_iter().find(|n| on_disk(n)).unwrap();
    publish(&reg, &token, &format!("kassel/{warmed}"), "1.1.0");
    reg.wait_for_jobs();
    let tag = |name: &str, v: &str| {
        reg.data()
            .join(format!("git/packages/kassel/{name}.git/refs/tags/v{v}"))
            .exists()
            || std::fs::read_to_string(
                reg.data()
                    .join(format!("git/packages/kassel/{name}.git/packed-refs")),
            )
            .is_ok_and(|p| p.contains(&format!("refs/tags/v{v}")))
    };
    assert!(tag(warmed, "1.1.0"));

    // One that was not warmed comes with its versions when a client asks.
    let cold = ["c", "d"].into_iter().find(|n| !on_disk(n)).unwrap();
    publish(&reg, &token, &format!("kassel/{cold}"), "1.1.0");
    reg.wait_for_jobs();
    assert!(!on_disk(cold), "not warmed while the cache is full");
    let tmp = tempfile::tempdir().unwrap();
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            &format!("{}/git/packages/kassel/{cold}.git", reg.url),
            "c",
        ],
    );
    assert_eq!(git(&tmp.path().join("c"), &["tag"]), "v1.0.0\nv1.1.0");
}
