//! Several nodes on one database: jobs are claimed by one node at a time
//! (SKIP LOCKED on PostgreSQL), a dead node's claims run out with their
//! lease, a restarted node takes its own back at once, and SQLite refuses
//! a second node instead of sharing its file.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::common::{self, *};
use gemeinwerk_server::registry::jobs::{self, Job, Lane};
use gemeinwerk_server::store::schema::jobs as jobs_table;

/// `serve` on `database_url` with its own data dir; the exit and stderr of
/// a start that must fail.
fn serve_must_fail(reg: &TestRegistry, data_dir: &std::path::Path) -> String {
    let mut cmd = Command::new(&reg.bin);
    cmd.args(["serve", "--bind", "127.0.0.1:0"])
        .args(["--data-dir", data_dir.to_str().unwrap()])
        .args(["--database-url", &reg.database_url])
        .env("RUST_LOG", "warn");
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the second node did not stop at start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "the second node started");
    stderr(&out)
}

#[test]
fn sqlite_serves_one_node_and_a_data_dir_one_process() {
    let reg = TestRegistry::start(common::Backend::Sqlite);
    let token = reg.owner_of("kassel");
    assert_eq!(
        reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.0")))
            .status,
        200
    );
    let before = reg.snapshot();

    let other = tempfile::tempdir().unwrap();
    let err = serve_must_fail(&reg, other.path());
    assert!(err.contains("SQLite serves one node only"), "{err}");
    assert!(
        err.contains(&reg.database_url),
        "the message names the file: {err}"
    );

    let err = serve_must_fail(&reg, reg.data());
    assert!(err.contains("uses the data dir"), "{err}");
    assert!(err.contains("--data-dir"), "{err}");

    assert_eq!(reg.snapshot(), before, "a refused node wrote something");
    // The refused starts left the running node alone.
    assert_eq!(reg.get("/healthz").status, 200);
}

#[test]
fn postgres_takes_a_second_node_on_its_own_data_dir() {
    let reg = TestRegistry::start(common::Backend::Postgres);
    let err = serve_must_fail(&reg, reg.data());
    assert!(err.contains("uses the data dir"), "{err}");
    let node = reg.second_node();
    assert_eq!(node.get("/healthz").status, 200);
}

/// `n` jobs of `job` for made-up packages, written as a publish writes them.
fn enqueue(db: &gemeinwerk_server::store::Db, job: Job, n: usize, tag: &str) {
    let mut conn = db.conn().unwrap();
    for i in 0..n {
        jobs::enqueue(&mut conn, job, &format!("{tag}/p{i}")).unwrap();
    }
}

#[test]
fn postgres_nodes_never_claim_one_job_twice() {
    // Four claimers on their own connections, small batches, as fast as
    // they go: with SKIP LOCKED each job goes to exactly one of them.
    let reg = TestRegistry::start(common::Backend::Postgres);
    reg.halt(); // no runner of its own taking jobs
    let db = reg.db();
    enqueue(&db, Job::SyncIndex, 600, "claims");
    let claimed: Vec<Vec<i64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|n| {
                let db = db.clone();
                s.spawn(move || {
                    let mut mine = Vec::new();
                    let mut conn = db.conn().unwrap();
                    let started = Instant::now();
                    loop {
                        let batch = jobs::claim(
                            &mut conn,
                            Lane::GitIndex,
                            &format!("node-{n}"),
                            Duration::from_secs(60),
                            7,
                        )
                        .unwrap();
                        if batch.is_empty() {
                            // Under contention a claim may find every due
                            // job locked by the others' claims for a
                            // moment: done only when none is left.
                            let left: i64 = jobs_table::table
                                .filter(jobs_table::claimed_by.is_null())
                                .count()
                                .get_result(&mut *conn)
                                .unwrap();
                            if left == 0 {
                                return mine;
                            }
                            assert!(
                                started.elapsed() < Duration::from_secs(60),
                                "{left} jobs never claimed"
                            );
                            std::thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                        for job in &batch {
                            assert_eq!(
                                job.claimed_by.as_deref(),
                                Some(format!("node-{n}").as_str())
                            );
                            assert_eq!(job.attempts, 1, "a claim counts as an attempt");
                        }
                        mine.extend(batch.iter().map(|j| j.id));
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<i64> = claimed.iter().flatten().copied().collect();
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(
        all.len(),
        600,
        "claims: {:?}",
        claimed.iter().map(Vec::len).collect::<Vec<_>>()
    );
    assert_eq!(distinct.len(), 600, "a job was claimed twice");
    assert!(
        claimed.iter().filter(|c| !c.is_empty()).count() > 1,
        "one claimer took everything"
    );

    // Claimed jobs are not due for anyone else while the lease holds …
    let mut conn = db.conn().unwrap();
    assert!(jobs::claim(
        &mut conn,
        Lane::GitIndex,
        "late",
        Duration::from_secs(60),
        1000
    )
    .unwrap()
    .is_empty());
    // … and the other lane never sees the git index's jobs.
    assert!(jobs::claim(
        &mut conn,
        Lane::Others,
        "late",
        Duration::from_secs(60),
        1000
    )
    .unwrap()
    .is_empty());
}

/// Publishes `full_name@1.0.0` in this process, with no job runner, so
/// that its jobs wait in the queue for whoever claims them.
fn publish_without_runner(reg: &TestRegistry, token: &str, full_name: &str) {
    use gemeinwerk_server::registry::audit::Origin;
    use gemeinwerk_server::registry::publish;
    let local = reg.open_locally();
    let origin = Origin {
        actor: None,
        client_addr: None,
    };
    let bytes = archive_of(&pkg(full_name, "1.0.0"));
    publish::publish_with_credential(&local, Some(token).into(), &origin, &bytes).unwrap();
}

/// Claims every waiting job, in both lanes, for `node`.
fn claim_all(reg: &TestRegistry, node: &str, lease: Duration) -> usize {
    let db = reg.db();
    let mut conn = db.conn().unwrap();
    let mut n = 0;
    for lane in [Lane::GitIndex, Lane::Others] {
        n += jobs::claim(&mut conn, lane, node, lease, 1000)
            .unwrap()
            .len();
    }
    n
}

fn claimed_by(reg: &TestRegistry) -> Vec<Option<String>> {
    let db = reg.db();
    let mut conn = db.conn().unwrap();
    jobs_table::table
        .select(jobs_table::claimed_by)
        .load(&mut conn)
        .unwrap()
}

fn in_git_index(reg: &TestRegistry, full_name: &str) -> bool {
    registry_index::GitIndex::open_or_init(&reg.data().join("git/index.git"))
        .unwrap()
        .read_file(full_name)
        .unwrap()
        .is_some()
}

fn dead_claims_run_out(backend: common::Backend) {
    let mut reg = TestRegistry::start(backend);
    let token = reg.owner_of("kassel");
    reg.stop();
    publish_without_runner(&reg, &token, "kassel/verwaist");
    // A node claimed the publish's jobs and died: it will never finish them.
    let lease = Duration::from_secs(4);
    assert_eq!(
        claim_all(&reg, "dead-node", lease),
        2,
        "the git index and the history job"
    );
    let claimed_at = Instant::now();
    reg.launch();

    // While the lease holds, the live node leaves them alone …
    std::thread::sleep(Duration::from_millis(1500));
    if claimed_at.elapsed() < lease {
        assert_eq!(claimed_by(&reg), vec![Some("dead-node".to_string()); 2]);
        assert!(!in_git_index(&reg, "kassel/verwaist"));
    }
    // … and once it is over, runs them: the views show the publish and
    // no job is left claimed by the dead node.
    reg.wait_for_jobs_within(lease + Duration::from_secs(20));
    assert!(
        claimed_at.elapsed() >= lease,
        "the jobs ran before the dead node's lease ended"
    );
    assert!(claimed_by(&reg).is_empty());
    let index = reg.get("/index/kassel/verwaist");
    assert_eq!(index.status, 200);
    assert!(
        in_git_index(&reg, "kassel/verwaist"),
        "the git index lacks the package"
    );
}

#[test]
fn dead_claims_run_out_sqlite() {
    dead_claims_run_out(common::Backend::Sqlite);
}

#[test]
fn dead_claims_run_out_postgres() {
    dead_claims_run_out(common::Backend::Postgres);
}

fn a_restarted_node_takes_its_claims_back(backend: common::Backend) {
    let mut reg = TestRegistry::start(backend);
    let token = reg.owner_of("kassel");
    reg.stop();
    publish_without_runner(&reg, &token, "kassel/wieder");
    // This node claimed them, for a long lease, and was killed.
    let id = std::fs::read_to_string(reg.data().join("node-id")).unwrap();
    assert_eq!(claim_all(&reg, id.trim(), Duration::from_secs(3600)), 2);
    let restarted = Instant::now();
    reg.launch();
    reg.wait_for_jobs_within(Duration::from_secs(20));
    assert!(restarted.elapsed() < Duration::from_secs(30));
    assert!(in_git_index(&reg, "kassel/wieder"));
}

#[test]
fn a_restarted_node_takes_its_claims_back_sqlite() {
    a_restarted_node_takes_its_claims_back(common::Backend::Sqlite);
}

#[test]
fn a_restarted_node_takes_its_claims_back_postgres() {
    a_restarted_node_takes_its_claims_back(common::Backend::Postgres);
}

#[test]
fn every_node_serves_the_same_package_history() {
    // The history job runs on whichever node claims it; the other node
    // makes the history when a client asks, with the same commit ids. The
    // nodes share PostgreSQL and the S3 bucket, as in production.
    let reg = TestRegistry::start_on(common::Backend::Postgres, common::Blobs::S3, &[]);
    let node = reg.second_node();
    let token = reg.owner_of("kassel");
    for version in ["1.0.0", "1.1.0"] {
        let r = reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/geteilt", version)));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    reg.wait_for_jobs();
    let path = "/git/packages/kassel/geteilt.git";
    let here = ls_remote(&format!("{}{path}", reg.url));
    let there = ls_remote(&format!("{}{path}", node.url));
    assert_eq!(here, there);
    for r in ["refs/heads/main", "refs/tags/v1.0.0", "refs/tags/v1.1.0"] {
        assert!(here.contains(r), "{r} missing: {here}");
    }
    // A clone from the other node has both versions as commits.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("git")
        .args(["clone", "-q", &format!("{}{path}", node.url), "c"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        git(&dir.path().join("c"), &["rev-list", "--count", "HEAD"]).trim(),
        "2"
    );
    // No history for a package that is not there.
    assert_eq!(
        node.get("/git/packages/kassel/fehlt.git/info/refs").status,
        404
    );
}

fn evicted_histories_come_back_the_same(backend: common::Backend) {
    use gemeinwerk_server::registry::audit::Origin;
    use gemeinwerk_server::registry::{history, history_cache, publish};

    let mut reg = TestRegistry::start(backend);
    let token = reg.owner_of("kassel");
    reg.stop();
    let local = reg.open_locally();
    let origin = Origin {
        actor: None,
        client_addr: None,
    };
    let publish = |full_name: &str, version: &str| {
        let bytes = archive_of(&pkg(full_name, version));
        publish::publish_with_credential(&local, Some(token.as_str()).into(), &origin, &bytes)
            .unwrap();
    };
    let names = ["kassel/eins", "kassel/zwei", "kassel/drei"];
    for name in names {
        publish(name, "1.0.0");
    }
    jobs::run_due(&local).unwrap();
    let refs = |name: &str| {
        let (ns, n) = name.split_once('/').unwrap();
        let repo = git2::Repository::open_bare(history::repo_path(&local, ns, n)).unwrap();
        let mut refs: Vec<(String, String)> = repo
            .references()
            .unwrap()
            .flatten()
            .map(|r| {
                (
                    r.name().unwrap().to_string(),
                    r.target().unwrap().to_string(),
                )
            })
            .collect();
        refs.sort();
        refs
    };
    let before: Vec<_> = names.iter().map(|n| refs(n)).collect();
    let on_disk = || {
        names
            .iter()
            .filter(|n| {
                let (ns, n) = n.split_once('/').unwrap();
                history::repo_path(&local, ns, n).exists()
            })
            .count()
    };
    assert_eq!(on_disk(), 3);

    // Used recently: kept, whatever the limit.
    assert_eq!(
        history_cache::evict(&local, 1, Duration::from_secs(3600)).unwrap(),
        0
    );
    // The least recently used beyond the limit go.
    std::thread::sleep(Duration::from_millis(50));
    let (ns, n) = names[2].split_once('/').unwrap();
    history_cache::mark_used(&history::repo_path(&local, ns, n));
    assert_eq!(history_cache::evict(&local, 1, Duration::ZERO).unwrap(), 2);
    assert_eq!(on_disk(), 1);
    assert!(
        history::repo_path(&local, ns, n).exists(),
        "the most recently used one went"
    );

    // Asked for again, each comes back with the same commits.
    for (name, refs_before) in names.iter().zip(&before) {
        let (ns, n) = name.split_once('/').unwrap();
        assert!(history_cache::serve_current(&local, ns, n).unwrap());
        assert_eq!(&refs(name), refs_before, "{name} came back different");
    }
    // A version published since (its job not run) is there when served.
    publish("kassel/eins", "1.1.0");
    assert!(history_cache::serve_current(&local, "kassel", "eins").unwrap());
    assert!(refs("kassel/eins")
        .iter()
        .any(|(r, _)| r == "refs/tags/v1.1.0"));
    assert!(!history_cache::serve_current(&local, "kassel", "fehlt").unwrap());
}

#[test]
fn evicted_histories_come_back_the_same_sqlite() {
    evicted_histories_come_back_the_same(common::Backend::Sqlite);
}

#[test]
fn evicted_histories_come_back_the_same_postgres() {
    evicted_histories_come_back_the_same(common::Backend::Postgres);
}

#[test]
fn a_change_through_one_node_reaches_the_others_cache_at_once() {
    // Node B holds kassel/a's index file in its cache; a yank through A
    // must show on B without B asking the database on every hit: A's
    // transaction notifies, B's listener drops the file.
    let reg = TestRegistry::start(common::Backend::Postgres);
    let b = reg.second_node();
    let token = reg.owner_of("kassel");
    let started = Instant::now();
    while b.metric("gemeinwerk_change_listener_connected") < 1.0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "node B never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let before_publish = b.metric("gemeinwerk_changes_received_total");
    assert_eq!(
        reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.0")))
            .status,
        200
    );
    // B has heard the publish, so what it caches now is current.
    let wait_until = |what: &str, ok: &dyn Fn() -> bool| {
        let started = Instant::now();
        while !ok() {
            assert!(started.elapsed() < Duration::from_secs(5), "{what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait_until("node B never heard the publish", &|| {
        b.metric("gemeinwerk_changes_received_total") > before_publish
    });
    let first = b.get("/index/kassel/a");
    assert_eq!(first.status, 200);
    assert_eq!(b.get("/index/kassel/a").body, first.body);
    let heard = b.metric("gemeinwerk_changes_received_total");

    // While listening, B serves its cached file without asking the
    // database: only the notification can make it drop the file.
    let r = reg.request(
        "DELETE",
        "/api/v1/packages/kassel/a/1.0.0/yank",
        Some(&token),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    wait_until("node B still serves the old file", &|| {
        b.get("/index/kassel/a").body != first.body
    });
    let now = b.get("/index/kassel/a");
    assert_ne!(now.header("etag"), first.header("etag"));
    assert!(registry_index::parse_lines(&now.text()).unwrap()[0].yanked);
    wait_until("node B heard nothing of the yank", &|| {
        b.metric("gemeinwerk_changes_received_total") > heard
    });
    // Both nodes answer the same bytes and ETag for the same state.
    let (x, y) = (reg.get("/index/kassel/a"), b.get("/index/kassel/a"));
    assert_eq!(x.header("etag"), y.header("etag"));
    assert_eq!(x.body, y.body);
}

fn index_refs(node: &TestRegistry) -> String {
    ls_remote(&format!("{}/git/index.git", node.url))
}

fn clone_index(node: &TestRegistry, into: &std::path::Path) {
    let out = Command::new("git")
        .args([
            "clone",
            "-q",
            &format!("{}/git/index.git", node.url),
            into.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn every_node_serves_the_same_git_index_and_another_takes_over_its_writing() {
    // PostgreSQL and a bucket: one node writes the git index and puts its
    // files into the bucket; both answer from there.
    let mut a = TestRegistry::start_on(common::Backend::Postgres, common::Blobs::S3, &[]);
    let mut b = a.second_node();
    let token = a.owner_of("kassel");
    let r = a.publish_bytes(Some(&token), &archive_of(&pkg("kassel/eins", "1.0.0")));
    assert_eq!(r.status, 200, "{}", r.text());
    a.wait_for_jobs();
    let started = Instant::now();
    let first = loop {
        let (x, y) = (index_refs(&a), index_refs(&b));
        if x == y && !x.is_empty() {
            break x;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the nodes disagree: {x} / {y}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let work = tempfile::tempdir().unwrap();
    clone_index(&b, &work.path().join("b"));
    assert!(
        work.path().join("b/kassel/eins").exists(),
        "the clone from B lacks the package"
    );
    assert!(work.path().join("b/config.json").exists());

    // The writer dies; the other node takes over and writes on from the
    // shared history.
    let writers = [&a, &b].map(|n| n.metric("gemeinwerk_git_index_writer"));
    assert_eq!(
        writers.iter().sum::<f64>(),
        1.0,
        "exactly one writer: {writers:?}"
    );
    let (dead, live) = if writers[0] == 1.0 {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    dead.kill();
    let r = live.publish_bytes(Some(&token), &archive_of(&pkg("kassel/zwei", "1.0.0")));
    assert_eq!(r.status, 200, "{}", r.text());
    // The new writer may first commit a config.json of its own (the test's
    // nodes have different URLs), so the refs moving is not yet the
    // package: pull until it is there.
    let clone = work.path().join("b");
    let started = Instant::now();
    loop {
        if index_refs(live) != first {
            git(&clone, &["pull", "-q", "--ff-only"]);
            if clone.join("kassel/zwei").exists() {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no node took the writing over"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(live.metric("gemeinwerk_git_index_writer"), 1.0);
    assert!(clone.join("kassel/eins").exists());
    let old_head = first.split_whitespace().next().unwrap().to_string();
    let ancestry = Command::new("git")
        .args(["merge-base", "--is-ancestor", &old_head, "HEAD"])
        .current_dir(&clone)
        .status()
        .unwrap();
    assert!(
        ancestry.success(),
        "the new writer did not write on from the shared history"
    );

    // The dead node comes back and answers the same.
    dead.launch();
    assert_eq!(index_refs(dead), index_refs(live));
    live.wait_for_jobs();
    // fsck on either node's data dir looks at the shared index, not at the
    // node's own copy (the one that does not write has an old one).
    for node in [&*dead, &*live] {
        let out = node.admin(&["fsck"]);
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    }
}
