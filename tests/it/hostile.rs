//! A hostile or careless publisher, reproduced: racing publishes, names
//! and versions git cannot hold, control characters and huge texts. Each
//! gets a clear code, on both databases, and leaves nothing behind.

use std::sync::{Arc, Barrier};

use diesel::prelude::*;

use crate::both_backends;
use crate::common::{self, *};
use crate::every_blob_store;
use gemeinwerk_package::archive::{self, PackageFiles};
use gemeinwerk_server::store::schema::{packages, versions};

const FIELDGROUP: &str = "[fieldgroup]\nlabel = \"Anschrift\"\n\n[[field]]\nid = \"ort\"\ntype = \"text\"\nlabel = \"Ort\"\n";

fn form_archive(full_name: &str, version: &str, extra: &str) -> Vec<u8> {
    archive_of(&pkg_with(full_name, version, extra))
}

/// The archive of a folder as a hostile client would send it: packed
/// without the client's own checks.
fn unchecked(dir: &PackageDir, prefix: &str) -> Vec<u8> {
    let files = gemeinwerk_client::folder::read_folder(dir.path()).unwrap();
    archive::build(prefix, &files)
}

fn unchecked_form(full_name: &str, version: &str, extra: &str) -> Vec<u8> {
    let name = full_name.split_once('/').unwrap().1;
    unchecked(
        &pkg_with(full_name, version, extra),
        &format!("{name}-{version}"),
    )
}

fn fieldgroup_archive(full_name: &str, version: &str) -> Vec<u8> {
    let p = PackageDir {
        dir: tempfile::tempdir().unwrap(),
    };
    p.write(
        "gemeinwerk.toml",
        &manifest(full_name, version, "").replace("kind = \"form\"", "kind = \"fieldgroup\""),
    )
    .write("fieldgroup.toml", FIELDGROUP);
    archive_of(&p)
}

/// Runs both uploads at the same moment; returns (status, code) of each.
fn race(reg: &TestRegistry, token: &str, a: Vec<u8>, b: Vec<u8>) -> Vec<(u16, String)> {
    let barrier = Arc::new(Barrier::new(2));
    std::thread::scope(|s| {
        let handles: Vec<_> = [a, b]
            .into_iter()
            .map(|bytes| {
                let barrier = barrier.clone();
                s.spawn(move || {
                    barrier.wait();
                    let r = reg.publish_bytes(Some(token), &bytes);
                    let code = if r.status == 200 {
                        String::new()
                    } else {
                        r.error_code()
                    };
                    (r.status, code)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn version_cksums(reg: &TestRegistry) -> Vec<String> {
    let db = reg.db();
    let mut conn = db.conn().unwrap();
    let mut all: Vec<String> = versions::table
        .select(versions::cksum)
        .load(&mut *conn)
        .unwrap();
    all.sort();
    all
}

every_blob_store! {
    // Before the kind was decided inside the transaction, both of these
    // landed in about half of the tries, and the index then called a
    // field group a form.
    fn racing_first_publishes_of_two_kinds_give_one_package_of_one_kind(reg) {
        let token = reg.owner_of("kassel");
        for i in 0..12 {
            let name = format!("kassel/doppelt-{i}");
            let results = race(
                reg,
                &token,
                form_archive(&name, "1.0.0", ""),
                fieldgroup_archive(&name, "2.0.0"),
            );
            let wins = results.iter().filter(|(s, _)| *s == 200).count();
            assert_eq!(wins, 1, "try {i}: {results:?}");
            let loser = results.iter().find(|(s, _)| *s != 200).unwrap();
            assert_eq!(loser, &(409, "kind_mismatch".to_string()), "try {i}");
        }
        // Every version agrees with its package on the kind, and every blob
        // belongs to a version: the losers left nothing.
        reg.wait_for_jobs();
        let fsck = reg.admin(&["fsck"]);
        assert!(fsck.status.success(), "{}{}", stdout(&fsck), stderr(&fsck));
        assert_eq!(reg.blobs(), version_cksums(reg));
    }

    // On PostgreSQL the loser used to hit the unique key and get a 500.
    fn racing_publishes_of_one_version_give_one_409(reg) {
        let token = reg.owner_of("kassel");
        for i in 0..12 {
            let name = format!("kassel/gleich-{i}");
            let bytes = form_archive(&name, "1.0.0", "");
            // Different bytes, same version: the second blob must go again.
            let other = form_archive(&name, "1.0.0", "keywords = [\"anders\"]\n");
            let results = race(reg, &token, bytes, other);
            let mut statuses: Vec<_> = results.iter().map(|(s, c)| (*s, c.clone())).collect();
            statuses.sort();
            assert_eq!(statuses, vec![(200, String::new()), (409, "version_exists".into())], "try {i}");
        }
        assert_eq!(reg.blobs(), version_cksums(reg));
    }

    // What a race before this fix left behind (a package whose versions
    // disagree on the kind) and what a crash leaves (an orphan blob): fsck
    // names both; an orphan is no problem, and a young one stays.
    fn fsck_reports_a_kind_disagreement_and_orphan_blobs(reg) {
        let token = reg.owner_of("kassel");
        assert_eq!(reg.publish_bytes(Some(&token), &form_archive("kassel/zwitter", "1.0.0", "")).status, 200);
        reg.wait_for_jobs();
        let orphan = "ab".repeat(32);
        reg.put_blob_raw(&orphan, b"left by a crash");
        let fsck = reg.admin(&["fsck"]);
        assert!(fsck.status.success(), "{}", stdout(&fsck));
        assert!(stderr(&fsck).contains("1 orphan blob that no version names"), "{}", stderr(&fsck));
        let repair = reg.admin(&["fsck", "--repair"]);
        assert!(repair.status.success());
        assert!(reg.blobs().contains(&orphan), "a young orphan may belong to a publish in flight");
        {
            let db = reg.db();
            let mut conn = db.conn().unwrap();
            diesel::update(packages::table.filter(packages::name.eq("zwitter")))
                .set(packages::kind.eq("fieldgroup"))
                .execute(&mut *conn)
                .unwrap();
        }
        let fsck = reg.admin(&["fsck"]);
        assert_eq!(fsck.status.code(), Some(1));
        assert!(
            stdout(&fsck).contains("database: kassel/zwitter is a fieldgroup package, but the manifest of 1.0.0 says form"),
            "{}",
            stdout(&fsck)
        );
    }
}

both_backends! {
    fn versions_and_paths_git_cannot_hold_are_refused(reg) {
        let token = reg.owner_of("kassel");
        let before = reg.snapshot();
        for version in ["1.0.0-rc.lock", "1.0.0+x.lock", "1.0.0-a.b.lock"] {
            let r = reg.publish_bytes(Some(&token), &form_archive("kassel/tag", version, ""));
            assert_eq!((r.status, r.error_code()), (422, "version.not_taggable".to_string()), "{version}: {}", r.text());
        }
        let files = gemeinwerk_client::folder::read_folder(pkg("kassel/tag", "1.0.0").path()).unwrap();
        for bad in [".git/config", ".GIT/hooks/pre-commit", "docs/.Git/x", "git~1/x", ".git./x"] {
            let mut with_git: PackageFiles = files.clone();
            with_git.insert(bad.into(), b"x".to_vec());
            let r = reg.publish_bytes(Some(&token), &archive::build("tag-1.0.0", &with_git));
            assert_eq!((r.status, r.error_code()), (400, "archive_reserved_path".to_string()), "{bad}");
        }
        assert_eq!(reg.snapshot(), before);
    }

    // A history that cannot be written (a version from before the tag
    // check) is parked with its error; the queue goes on, the metrics and
    // fsck show it.
    fn a_history_job_that_cannot_succeed_is_parked(reg) {
        let token = reg.owner_of("kassel");
        assert_eq!(reg.publish_bytes(Some(&token), &form_archive("kassel/alt", "1.0.0", "")).status, 200);
        reg.wait_for_jobs();
        {
            let db = reg.db();
            let mut conn = db.conn().unwrap();
            let (pid, cksum, manifest): (i64, String, String) = versions::table
                .inner_join(packages::table)
                .filter(packages::name.eq("alt"))
                .select((versions::package_id, versions::cksum, versions::manifest))
                .first(&mut *conn)
                .unwrap();
            diesel::insert_into(versions::table)
                .values((
                    versions::package_id.eq(pid),
                    versions::num.eq("1.0.1-rc.lock"),
                    versions::canonical_num.eq("1.0.1-rc.lock"),
                    versions::cksum.eq(cksum),
                    versions::size.eq(1i64),
                    versions::manifest.eq(manifest),
                    versions::downloads.eq(0i64),
                    versions::created_at.eq(chrono::Utc::now().naive_utc()),
                ))
                .execute(&mut *conn)
                .unwrap();
            gemeinwerk_server::registry::jobs::enqueue(&mut conn, gemeinwerk_server::registry::jobs::Job::SyncHistory, "kassel/alt").unwrap();
        }
        // A later publish still gets its views.
        assert_eq!(reg.publish_bytes(Some(&token), &form_archive("kassel/neu", "1.0.0", "")).status, 200);
        reg.wait_for_jobs();
        let index = reg.get("/index/kassel/neu");
        assert_eq!(index.status, 200);
        let metrics = reg.get("/metrics").text();
        assert!(metrics.contains("gemeinwerk_jobs_pending 0"), "{metrics}");
        assert!(metrics.contains("gemeinwerk_jobs_parked 1"), "{metrics}");
        let fsck = reg.admin(&["fsck"]);
        assert_eq!(fsck.status.code(), Some(1));
        let report = stdout(&fsck);
        assert!(report.contains("job queue: sync_history kassel/alt is parked"), "{report}");
    }

    fn control_characters_are_refused_in_every_text(reg) {
        let token = reg.owner_of("kassel");
        assert_eq!(reg.publish_bytes(Some(&token), &form_archive("kassel/gut", "1.0.0", "")).status, 200);
        let before = reg.snapshot();
        for (what, extra) in [
            ("title", "title = \"a\\u0000b\"\n"),
            ("keywords", "keywords = [\"\\u001b[31mrot\"]\n"),
        ] {
            let r = reg.publish_bytes(Some(&token), &unchecked_form("kassel/nul", "1.0.0", extra));
            assert_eq!((r.status, r.error_code()), (422, "text.control_character".to_string()), "{what}: {}", r.text());
        }
        let desc = pkg("kassel/nul", "1.0.0");
        desc.write("gemeinwerk.toml", &manifest("kassel/nul", "1.0.0", "").replace("Ein Testformular", "Ein\\u0000Test"));
        let r = reg.publish_bytes(Some(&token), &unchecked(&desc, "nul-1.0.0"));
        assert_eq!((r.status, r.error_code()), (422, "text.control_character".to_string()), "description");
        let label = pkg("kassel/nul", "1.0.0");
        label.write("form.toml", &FORM.replace("label = \"Name\"", "label = \"Na\\u0000me\""));
        let r = reg.publish_bytes(Some(&token), &unchecked(&label, "nul-1.0.0"));
        assert_eq!((r.status, r.error_code()), (422, "text.control_character".to_string()), "label");

        let yank = reg.request("DELETE", "/api/v1/packages/kassel/gut/1.0.0/yank", Some(&token),
            Some(br#"{"reason": "weg\u0000damit"}"#));
        assert_eq!((yank.status, yank.error_code()), (400, "text_control_character".to_string()), "{}", yank.text());
        let dep = reg.request("PUT", "/api/v1/packages/kassel/gut/deprecate", Some(&token),
            Some(br#"{"message": "alt\u001b[2J"}"#));
        assert_eq!((dep.status, dep.error_code()), (400, "text_control_character".to_string()), "{}", dep.text());
        let member = reg.request("PUT", "/api/v1/namespaces/kassel/members", Some(&token),
            Some(br#"{"login": "a\u0000b", "role": "publisher"}"#));
        assert_eq!((member.status, member.error_code()), (404, "user_not_found".to_string()), "{}", member.text());

        for path in [
            "/index/kassel/a%00b",
            "/index/ka%00ssel/gut",
            "/api/v1/packages/kassel/a%00b",
            "/api/v1/packages/kassel/gut/1.0.0%00/download",
            "/api/v1/packages/kassel/a%1Bb/1.0.0/download",
            "/pakete/kassel/a%00b",
            "/api/v1/namespaces/kassel%00/members",
        ] {
            let r = reg.get(path);
            assert_eq!(r.status, 404, "{path}: {}", r.text());
        }
        let q = reg.get("/api/v1/search?q=a%00b");
        assert_eq!((q.status, q.error_code()), (400, "bad_query".to_string()));
        assert_eq!(reg.snapshot(), before);
    }

    fn every_text_has_a_limit(reg) {
        let token = reg.owner_of("kassel");
        let before = reg.snapshot();
        let title = format!("title = \"{}\"\n", "T".repeat(201));
        let r = reg.publish_bytes(Some(&token), &unchecked_form("kassel/lang", "1.0.0", &title));
        assert_eq!((r.status, r.error_code()), (422, "text.too_long".to_string()));
        assert!(r.error_detail().contains("at most 200"), "{}", r.error_detail());
        // A 1 MB title compresses to a tiny upload; it is refused all the same.
        let huge = format!("title = \"{}\"\n", "T".repeat(1_000_000));
        let r = reg.publish_bytes(Some(&token), &unchecked_form("kassel/lang", "1.0.0", &huge));
        assert_eq!((r.status, r.error_code()), (422, "text.too_long".to_string()));
        let readme = pkg("kassel/lang", "1.0.0");
        readme.write("README.md", &"# Zu lang\n".repeat(110_000));
        let r = reg.publish_bytes(Some(&token), &unchecked(&readme, "lang-1.0.0"));
        assert_eq!((r.status, r.error_code()), (422, "readme.too_large".to_string()));

        assert_eq!(reg.snapshot(), before, "refused publishes change nothing");
        let long_reason = format!(r#"{{"reason": "{}"}}"#, "x".repeat(501));
        assert_eq!(reg.publish_bytes(Some(&token), &form_archive("kassel/kurz", "1.0.0", "")).status, 200);
        let before = reg.snapshot();
        let r = reg.request("DELETE", "/api/v1/packages/kassel/kurz/1.0.0/yank", Some(&token), Some(long_reason.as_bytes()));
        assert_eq!((r.status, r.error_code()), (400, "text_too_long".to_string()));
        assert!(r.error_detail().contains("yank reason") && r.error_detail().contains("500"), "{}", r.error_detail());
        // A JSON body over the limit: 413 with the error envelope.
        let big = format!(r#"{{"reason": "{}"}}"#, "x".repeat(100_000));
        let r = reg.request("DELETE", "/api/v1/packages/kassel/kurz/1.0.0/yank", Some(&token), Some(big.as_bytes()));
        assert_eq!((r.status, r.error_code()), (413, "body_too_large".to_string()), "{}", r.text());
        assert_eq!(reg.snapshot(), before);
    }
}

/// A registry that holds a control character from before these checks
/// (or lies): the CLI shows it escaped, never raw.
#[test]
fn the_cli_escapes_control_characters_from_the_registry() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let token = reg.owner_of("kassel");
    assert_eq!(
        reg.publish_bytes(Some(&token), &form_archive("kassel/bunt", "1.0.0", ""))
            .status,
        200
    );
    {
        let db = reg.db();
        let mut conn = db.conn().unwrap();
        diesel::update(packages::table.filter(packages::name.eq("bunt")))
            .set((
                packages::title.eq(Some("\u{1b}[31mRot\u{1b}[0m\r")),
                packages::description.eq("Zeile\u{7}"),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    let out = reg.cli(None, &["info", "kassel/bunt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\r'),
        "{text:?}"
    );
    assert!(text.contains("\\u{1b}[31mRot"), "{text}");
}

/// The package page of the largest README allowed, viewed 30 times at
/// once, keeps the server small: the page is rendered once per version,
/// and only the README's first 256 KiB are shown.
#[test]
fn thirty_views_of_the_largest_page_stay_under_200_mb() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let token = reg.owner_of("kassel");
    let p = pkg("kassel/gross", "1.0.0");
    // Dense Markdown (emphasis, links, lists) expands the most when rendered.
    let line =
        "- **Fett** und _kursiv_ mit [Verweis](https://example.org/a?b=c) & `Code` <b>x</b>\n";
    let readme = line.repeat(gemeinwerk_package::limits::MAX_README_BYTES / line.len());
    p.write("README.md", &readme);
    let r = reg.publish_bytes(Some(&token), &archive_of(&p));
    assert_eq!(r.status, 200, "{}", r.text());

    let rss = |key: &str| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", reg.pid())).unwrap();
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap()
            .parse()
            .unwrap()
    };
    let before = rss("VmRSS:");
    let url = format!("{}/pakete/kassel/gross", reg.url);
    let barrier = Arc::new(Barrier::new(30));
    std::thread::scope(|s| {
        for _ in 0..30 {
            let barrier = barrier.clone();
            let url = url.clone();
            s.spawn(move || {
                barrier.wait();
                let r = ureq::get(&url).set("Accept", "text/html").call().unwrap();
                let body = r.into_string().unwrap();
                assert!(body.contains("Die Beschreibung ist gekürzt"));
                assert!(body.len() < 2_000_000, "{}", body.len());
            });
        }
    });
    let (peak, now) = (rss("VmHWM:"), rss("VmRSS:"));
    eprintln!(
        "server RSS: {} MiB before the views, after 30 views peak {} MiB, now {} MiB",
        before / 1024,
        peak / 1024,
        now / 1024
    );
    assert!(peak < 200 * 1024, "peak RSS {} MiB", peak / 1024);
}

/// Slowloris: 200 connections that send their headers a line at a time
/// do not keep normal requests waiting, and the server closes them once
/// the header timeout (5 s) has passed.
#[test]
fn slow_clients_do_not_stall_normal_requests() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    let reg = TestRegistry::start(Backend::Sqlite);
    let addr = reg.url.trim_start_matches("http://").to_string();
    let opened = Instant::now();
    let mut slow: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s
        })
        .collect();
    let stop = AtomicBool::new(false);
    let mut times = std::thread::scope(|scope| {
        let trickle = scope.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                for s in slow.iter_mut() {
                    let _ = s.write_all(b"X-Slow: 1\r\n");
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        let mut times = Vec::new();
        for _ in 0..30 {
            let started = Instant::now();
            let r = reg.get("/healthz");
            times.push(started.elapsed());
            assert_eq!(r.status, 200);
            std::thread::sleep(Duration::from_millis(50));
        }
        stop.store(true, Ordering::SeqCst);
        trickle.join().unwrap();
        times
    });
    times.sort();
    eprintln!(
        "normal requests beside 200 slow connections: median {:?}, p90 {:?}, max {:?}",
        times[15], times[27], times[29]
    );
    assert!(
        times[27] < Duration::from_millis(100),
        "p90 {:?}",
        times[27]
    );

    // Past the header timeout the server has answered 408 or closed.
    if let Some(left) = Duration::from_secs(7).checked_sub(opened.elapsed()) {
        std::thread::sleep(left);
    }
    let mut closed = 0;
    for s in slow.iter_mut().take(20) {
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(0) => closed += 1,
            Err(e)
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                closed += 1
            }
            Err(_) => {}
            Ok(n) if buf[..n].starts_with(b"HTTP/1.1 408") => closed += 1,
            Ok(_) => {}
        }
    }
    assert_eq!(closed, 20);
}
