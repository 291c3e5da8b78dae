//! Publishing, end to end: the CLI packs and uploads, the registry checks
//! and stores, and every store shows the result — or, on a refusal, is
//! unchanged.

use crate::both_backends;
use crate::common::{self, *};
use crate::every_blob_store;
use gemeinwerk_package::archive::{self, sha256_hex};

fn git_file(reg: &TestRegistry, path: &str) -> Option<String> {
    reg.wait_for_jobs();
    let index = registry_index::GitIndex::open_or_init(&reg.data().join("git/index.git")).unwrap();
    index
        .read_file(path)
        .unwrap()
        .map(|b| String::from_utf8(b).unwrap())
}

every_blob_store! {
    fn publish_lands_in_every_store(reg) {
        let token = reg.owner_of("kassel");
        let p = pkg("kassel/bewohnerparkausweis", "1.0.0");
        let out = reg.cli(Some(&token), &["publish", p.path_str(), "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let local = sha256_hex(&archive_of(&p));
        assert_eq!(answer["cksum"], local.as_str(), "the server hashes exactly what the client built");

        // The sparse index has it as soon as publish returns.
        let index = reg.get("/index/kassel/bewohnerparkausweis");
        assert_eq!(index.status, 200);
        let lines = registry_index::parse_lines(&index.text()).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].vers, "1.0.0");
        assert_eq!(lines[0].cksum, local);
        assert!(!lines[0].yanked);

        // The blob store holds the archive under its checksum.
        assert_eq!(reg.blobs(), vec![local.clone()]);

        // The download is byte for byte the archive.
        let dl = reg.get("/api/v1/packages/kassel/bewohnerparkausweis/1.0.0/download");
        assert_eq!(dl.status, 200);
        assert_eq!(sha256_hex(&dl.body), local);
        assert_eq!(dl.header("x-checksum-sha256"), Some(local.as_str()));

        // The git index caught up and equals the sparse index.
        assert_eq!(git_file(reg, "kassel/bewohnerparkausweis").as_deref(), Some(index.text().as_str()));

        // The audit log names the publisher.
        let audit = reg.request("GET", "/api/v1/namespaces/kassel/audit", Some(&token), None).json();
        let entry = &audit["entries"][0];
        assert_eq!(entry["action"], "publish");
        assert_eq!(entry["actor"], "kassel-owner");
        assert_eq!(entry["target"], "kassel/bewohnerparkausweis@1.0.0");
        assert_eq!(entry["client_addr"], "127.0.0.1");
    }
}

both_backends! {
    fn publish_with_wait_is_searchable_at_once(reg) {
        let token = reg.owner_of("kassel");
        let names = |reg: &TestRegistry| -> Vec<String> {
            let r = reg.get("/api/v1/search?q=&namespace=kassel&sort=name&per_page=100");
            assert_eq!(r.status, 200, "{}", r.text());
            r.json()["hits"].as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap().to_string()).collect()
        };
        // Five in a row: the search follower polls, so an answer that did
        // not wait would be seen by the next search now and then.
        for i in 1..=5 {
            // Search hits name the package without its namespace.
            let name = format!("lesbar-{i}");
            let archive = archive_of(&pkg(&format!("kassel/{name}"), "1.0.0"));
            let r = reg.request("PUT", "/api/v1/packages/new?wait=search", Some(&token), Some(&archive));
            assert_eq!(r.status, 200, "{}", r.text());
            assert!(names(reg).contains(&name), "publish {i} answered before search showed {name}");
        }
        // A wait the server does not know is refused before anything is stored.
        let before = reg.snapshot();
        let r = reg.request("PUT", "/api/v1/packages/new?wait=forever", Some(&token), Some(&archive_of(&pkg("kassel/x", "1.0.0"))));
        assert_eq!(r.status, 400, "{}", r.text());
        assert_eq!(r.error_code(), "bad_query");
        assert!(r.error_detail().contains("wait"), "{}", r.error_detail());
        assert_eq!(reg.snapshot(), before);
    }

    fn existing_version_is_refused(reg) {
        let token = reg.owner_of("kassel");
        let p = pkg("kassel/a", "1.0.0");
        assert!(reg.cli(Some(&token), &["publish", p.path_str()]).status.success());
        let before = reg.snapshot();
        let again = reg.publish_bytes(Some(&token), &archive_of(&p));
        assert_eq!(again.status, 409);
        assert_eq!(again.error_code(), "version_exists");
        let build = reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.0+build.7")));
        assert_eq!(build.status, 409);
        assert!(build.error_detail().contains("only in build metadata"), "{}", build.error_detail());
        assert_eq!(reg.snapshot(), before);
    }

    fn invalid_manifest_reports_every_problem(reg) {
        let token = reg.owner_of("kassel");
        let before = reg.snapshot();
        let p = pkg("kassel/a", "1.0.0");
        p.write(
            "gemeinwerk.toml",
            "[package]\nname = \"kassel/a\"\nversion = \"1.0.0\"\nkind = \"form\"\ndescription = \"x\"\n\
             license = \"not a licence\"\nthemenfeld = \"verkehr\"\nleika = \"123\"\n",
        );
        let files = gemeinwerk_client::folder::read_folder(p.path()).unwrap();
        let bytes = archive::build("a-1.0.0", &files);
        let r = reg.publish_bytes(Some(&token), &bytes);
        assert_eq!(r.status, 422);
        let codes: Vec<String> = r.json()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(codes, ["manifest.invalid_license", "manifest.invalid_themenfeld", "manifest.invalid_leika"]);
        let first = &r.json()["errors"][0];
        assert_eq!(first["file"], "gemeinwerk.toml");
        assert_eq!(first["line"], 6);
        assert_eq!(reg.snapshot(), before);

        // The CLI refuses before uploading, with the same diagnostics.
        let out = reg.cli(Some(&token), &["publish", p.path_str()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("gemeinwerk.toml:6:11: error[manifest.invalid_license]"), "{}", stderr(&out));
    }

    fn hostile_archives_are_refused_and_change_nothing(reg) {
        let token = reg.owner_of("kassel");
        let before = reg.snapshot();
        let good = archive_of(&pkg("kassel/a", "1.0.0"));
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("archive_not_gzip", b"this is not gzip".to_vec()),
            ("archive_corrupt", good[..good.len() - 20].to_vec()),
            ("archive_wrong_prefix", {
                let files = gemeinwerk_client::folder::read_folder(pkg("kassel/a", "1.0.0").path()).unwrap();
                archive::build("other-9.9.9", &files)
            }),
            ("archive_unpacked_too_large", {
                let p = pkg("kassel/a", "1.0.0");
                let mut files = gemeinwerk_client::folder::read_folder(p.path()).unwrap();
                files.insert("bomb.bin".into(), vec![0u8; 51 * 1024 * 1024]);
                archive::build("a-1.0.0", &files)
            }),
        ];
        for (code, bytes) in cases {
            let r = reg.publish_bytes(Some(&token), &bytes);
            assert_eq!(r.status, 400, "{code}: {}", r.text());
            assert_eq!(r.error_code(), code);
        }
        // A raw tar with a path that climbs out of the package.
        let mut header = tar::Header::new_gnu();
        header.as_old_mut().name[..20].copy_from_slice(b"a-1.0.0/../../etc/x\0");
        header.set_size(0);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        let mut raw = header.as_bytes().to_vec();
        raw.extend_from_slice(&[0u8; 1024]);
        let r = reg.publish_bytes(Some(&token), &archive::gzip(&raw));
        assert_eq!(r.error_code(), "archive_unsafe_path");
        assert_eq!(reg.snapshot(), before);
    }

    fn upload_limit_is_enforced(reg) {
        let token = reg.owner_of("kassel");
        let before = reg.snapshot();
        let huge = vec![0x1fu8; 10 * 1024 * 1024 + 1];
        let r = reg.publish_bytes(Some(&token), &huge);
        assert_eq!(r.status, 413);
        assert_eq!(r.error_code(), "upload_too_large");
        assert_eq!(reg.snapshot(), before);
    }

    fn registry_checks_namespace_dependencies_and_kind(reg) {
        let token = reg.owner_of("kassel");
        let before = reg.snapshot();
        let r = reg.publish_bytes(Some(&token), &archive_of(&pkg("nowhere/a", "1.0.0")));
        assert_eq!(r.status, 404);
        assert_eq!(r.error_code(), "namespace_not_found");
        let r = reg.publish_bytes(
            Some(&token),
            &archive_of(&pkg_with("kassel/a", "1.0.0", "\n[dependencies]\n\"fim/anschrift-inland\" = \"^1.2\"\n")),
        );
        assert_eq!(r.status, 422);
        assert_eq!(r.error_code(), "dependency.not_found");
        assert_eq!(reg.snapshot(), before);

        assert_eq!(reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.0"))).status, 200);
        let before = reg.snapshot();
        let p = pkg("kassel/a", "2.0.0");
        p.write("gemeinwerk.toml", &manifest("kassel/a", "2.0.0", "").replace("kind = \"form\"", "kind = \"fieldgroup\""));
        p.write("fieldgroup.toml", "[fieldgroup]\nlabel = \"Gruppe\"\n\n[[field]]\nid = \"x\"\ntype = \"text\"\nlabel = \"X\"\n");
        let r = reg.publish_bytes(Some(&token), &archive_of(&p));
        assert_eq!(r.status, 409);
        assert_eq!(r.error_code(), "kind_mismatch");
        let r = reg.publish_bytes(
            Some(&token),
            &archive_of(&pkg_with("kassel/b", "1.0.0", "\n[dependencies]\n\"kassel/a\" = \"^2\"\n")),
        );
        assert_eq!(r.error_code(), "dependency.no_matching_version");
        assert_eq!(reg.snapshot(), before);

        let r = reg.publish_bytes(
            Some(&token),
            &archive_of(&pkg_with("kassel/b", "1.0.0", "\n[dependencies]\n\"kassel/a\" = \"^1\"\n")),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let line = &registry_index::parse_lines(&reg.get("/index/kassel/b").text()).unwrap()[0];
        assert_eq!(line.deps[0].name, "kassel/a");
        assert_eq!(line.deps[0].req, "^1");
    }
}

#[test]
fn same_folder_same_checksum() {
    let p = pkg("kassel/a", "1.0.0");
    let first = sha256_hex(&archive_of(&p));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    p.write("README.md", "# Testformular\n");
    assert_eq!(
        sha256_hex(&archive_of(&p)),
        first,
        "mtime must not change the archive"
    );
}

/// The package history is appended from the last tagged commit: the
/// history job reads the new version's archive and no earlier one, however
/// long the history is. Counted as archives read, so it does not depend on
/// the machine's speed; a rebuild that trusts no tag reads them all, and
/// writes the same commits.
fn history_appends_from_the_last_tag(backend: Backend) {
    use gemeinwerk_server::registry::audit::Origin;
    use gemeinwerk_server::registry::{history, jobs, publish};

    let mut reg = TestRegistry::start(backend);
    let token = reg.owner_of("kassel");
    // The jobs run here, in this process, where the archives read are seen.
    reg.stop();
    let local = reg.open_locally();
    let origin = Origin {
        actor: None,
        client_addr: None,
    };
    let publish_version = |version: &str| {
        let bytes = archive_of(&pkg("kassel/a", version));
        publish::publish_with_credential(&local, Some(token.as_str()).into(), &origin, &bytes)
            .unwrap();
    };
    const EARLIER: usize = 12;
    for minor in 0..EARLIER {
        publish_version(&format!("1.{minor}.0"));
        jobs::run_due(&local).unwrap();
    }
    let reads = || local.blobs.reads();

    let before = reads();
    let chain = history::sync_history(&local, "kassel/a").unwrap();
    assert_eq!(chain.len(), EARLIER);
    assert_eq!(
        reads() - before,
        0,
        "every version is tagged: nothing to read"
    );

    let before = reads();
    publish_version(&format!("1.{EARLIER}.0"));
    // At most the semver baseline (the version before), once.
    assert!(
        reads() - before <= 1,
        "the publish read {} archives",
        reads() - before
    );
    let before = reads();
    let appended = history::sync_history(&local, "kassel/a").unwrap();
    assert_eq!(
        reads() - before,
        1,
        "only the new version's archive is read"
    );
    assert_eq!(
        appended[..EARLIER],
        chain[..],
        "earlier commits stay as they are"
    );

    let before = reads();
    let rebuilt = history::rebuild_history(&local, "kassel/a").unwrap();
    assert_eq!(
        reads() - before,
        EARLIER as u64 + 1,
        "a rebuild reads every archive"
    );
    assert_eq!(rebuilt, appended, "the same commit ids");
}

#[test]
fn history_appends_from_the_last_tag_sqlite() {
    history_appends_from_the_last_tag(Backend::Sqlite);
}

#[test]
fn history_appends_from_the_last_tag_postgres() {
    history_appends_from_the_last_tag(Backend::Postgres);
}

/// Past the history cache's size the least recently used histories go, and
/// a history asked for again is made again. The eviction runs inside the
/// history job, which holds its own package's history lock: with names
/// that share that lock's stripe it used to wait for the lock it held, and
/// the history lane stopped for good (seen at 100,000 packages). Bounded
/// by a timeout, so a deadlock fails the test instead of hanging it.
#[test]
fn the_history_cache_evicts_without_waiting_for_a_lock_it_holds() {
    use gemeinwerk_server::registry::audit::Origin;
    use gemeinwerk_server::registry::{history, publish};

    let mut reg = TestRegistry::start(Backend::Sqlite);
    let token = reg.owner_of("kassel");
    reg.stop();
    let mut local = reg.open_locally();
    local.history_cache_repos = 2;
    local.history_cache_grace = std::time::Duration::ZERO;
    let origin = Origin {
        actor: None,
        client_addr: None,
    };
    // Names whose history locks are one stripe (the lock's own hash).
    let stripe = |name: &str| {
        name.bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
            % 64
    };
    let names: Vec<String> = (0..)
        .map(|i| format!("kassel/p{i}"))
        .filter(|n| stripe(n) == stripe("kassel/p0"))
        .take(6)
        .collect();
    for name in &names {
        let bytes = archive_of(&pkg(name, "1.0.0"));
        publish::publish_with_credential(&local, Some(token.as_str()).into(), &origin, &bytes)
            .unwrap();
    }
    let data = reg.data().to_path_buf();
    let (done, finished) = std::sync::mpsc::channel();
    let worker_names = names.clone();
    std::thread::spawn(move || {
        for name in &worker_names {
            // Older than the grace of zero: the next one's eviction may
            // take it.
            std::thread::sleep(std::time::Duration::from_millis(20));
            history::sync_history(&local, name).unwrap();
        }
        // Made again on demand after its eviction.
        let again = history::sync_history(&local, &worker_names[0]).unwrap();
        done.send(again.len()).unwrap();
    });
    let again = finished
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the history syncs did not finish: a deadlock in the cache's eviction");
    assert_eq!(again, 1);
    let kept = std::fs::read_dir(data.join("git/packages/kassel"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "git")
        })
        .count();
    assert!(kept <= 3, "{kept} histories kept with room for 2");
}
