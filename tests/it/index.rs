//! The sparse index over HTTP and the git index through a stock git client;
//! fsck finds and repairs a damaged view.

use crate::both_backends;
use crate::common::{self, *};
use crate::every_blob_store;

both_backends! {
    fn sparse_index_caches_with_etags(reg) {
        let token = reg.owner_of("kassel");
        assert_eq!(reg.get("/index/kassel/a").status, 404);
        assert_eq!(reg.get("/index/kassel/a").error_code(), "not_found");
        assert_eq!(reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.0"))).status, 200);

        let first = reg.get("/index/kassel/a");
        assert_eq!(first.status, 200);
        let etag = first.header("etag").unwrap().to_string();
        assert!(etag.starts_with('"') && !etag.starts_with("W/"), "a strong ETag: {etag}");
        assert_eq!(first.header("cache-control"), Some("public, max-age=0, must-revalidate"));

        let again = reg.request_with("GET", "/index/kassel/a", None, None, &[("If-None-Match", &etag)]);
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
        let weak = format!("W/{etag}");
        let behind_proxy = reg.request_with("GET", "/index/kassel/a", None, None, &[("If-None-Match", &weak)]);
        assert_eq!(behind_proxy.status, 304, "If-None-Match compares weakly");

        assert_eq!(reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.1.0"))).status, 200);
        let changed = reg.request_with("GET", "/index/kassel/a", None, None, &[("If-None-Match", &etag)]);
        assert_eq!(changed.status, 200, "a new version is visible as soon as publish returns");
        assert_eq!(changed.text().lines().count(), 2);

        // The node keeps the file it served, and says so. On PostgreSQL the
        // publish's notification may reach the node after the read above
        // and drop the file again: read until it stays.
        let mut cache = vec![0.0, 0.0];
        for _ in 0..50 {
            assert_eq!(reg.get("/index/kassel/a").status, 200);
            cache = reg.metrics(&["gemeinwerk_index_cache_files", "gemeinwerk_index_cache_bytes"]);
            if cache[0] == 1.0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(cache[0], 1.0, "one file read, one kept");
        assert!(cache[1] > changed.body.len() as f64, "{cache:?}");

        let config = reg.get("/index/config.json").json();
        assert_eq!(config["api"], reg.url.as_str());
        assert_eq!(config["dl"], format!("{}/api/v1/packages/{{ns}}/{{name}}/{{version}}/download", reg.url));
    }

    fn git_index_clones_with_stock_git_and_equals_sparse(reg) {
        let token = reg.owner_of("kassel");
        // Changes that reach the job runner together share a commit (each
        // job writes what the database says now); spaced out, each change
        // is a commit of its own.
        for v in ["1.0.0", "1.1.0"] {
            assert_eq!(reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", v))).status, 200);
            reg.wait_for_jobs();
        }
        assert_eq!(reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/b", "0.1.0"))).status, 200);
        reg.wait_for_jobs();
        reg.request("DELETE", "/api/v1/packages/kassel/a/1.0.0/yank", Some(&token), None);
        reg.wait_for_jobs();

        let tmp = tempfile::tempdir().unwrap();
        git(tmp.path(), &["clone", "-q", &format!("{}/git/index.git", reg.url), "index"]);
        let clone = tmp.path().join("index");
        for file in ["kassel/a", "kassel/b"] {
            let on_disk = std::fs::read(clone.join(file)).unwrap();
            assert_eq!(on_disk, reg.get(&format!("/index/{file}")).body, "{file}");
        }
        let log = git(&clone, &["log", "--format=%s"]);
        assert_eq!(log.lines().count(), 5, "one commit per change: {log}");
        assert!(log.starts_with("Update kassel/a"));

        // A later change arrives with a plain pull.
        assert_eq!(reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/b", "0.2.0"))).status, 200);
        reg.wait_for_jobs();
        git(&clone, &["pull", "-q"]);
        assert_eq!(std::fs::read(clone.join("kassel/b")).unwrap(), reg.get("/index/kassel/b").body);
    }

}

every_blob_store! {
    fn fsck_finds_and_repairs_the_git_index(reg) {
        let token = reg.owner_of("kassel");
        assert_eq!(reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.0"))).status, 200);
        reg.wait_for_jobs();
        let head = reg.git_head();
        let out = reg.admin(&["fsck"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(reg.git_head(), head, "a check without --repair writes nothing");
        let git = registry_index::GitIndex::open_or_init(&reg.data().join("git/index.git")).unwrap();
        assert_eq!(
            git.read_file("config.json").unwrap().unwrap(),
            reg.get("/index/config.json").body,
            "the git index's config.json is the server's"
        );

        // Damage the view behind the registry's back.
        git.commit_files(
            &[("kassel/a".into(), Some("garbage\n".into())), ("kassel/ghost".into(), Some("{}\n".into()))],
            &registry_index::CommitInfo { time: 0, message: "damage".into() },
        )
        .unwrap();
        let shared = reg.blobs_in == Blobs::S3 && reg.backend == Backend::Postgres;
        if shared {
            // Several nodes serve the bucket's git index: damage that one.
            share_local_index(reg);
        }
        let out = reg.admin(&["fsck"]);
        assert_eq!(out.status.code(), Some(1));
        let report = stdout(&out);
        assert!(report.contains("git index: kassel/a differs from the database"), "{report}");
        assert!(report.contains("git index: kassel/ghost is not a package in the database"), "{report}");

        assert!(reg.admin(&["fsck", "--repair"]).status.success());
        // Shared: the repair is the writer's, through the job queue.
        reg.wait_for_jobs();
        assert!(reg.admin(&["fsck"]).status.success());
        assert_eq!(git.read_file("kassel/a").unwrap().unwrap(), reg.get("/index/kassel/a").body);
        assert_eq!(git.read_file("kassel/ghost").unwrap(), None);

        // A lost archive is reported, not hidden.
        let blob = reg.blobs()[0].clone();
        reg.remove_blob(&blob);
        let out = reg.admin(&["fsck", "--repair"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stdout(&out).contains("archive of kassel/a@1.0.0"), "{}", stdout(&out));
    }
}

/// Puts the local git index's files into the bucket, as its writer does.
fn share_local_index(reg: &TestRegistry) {
    let local = reg.data().join("git/index.git");
    let store = reg.blob_store();
    let packs = std::fs::read_dir(local.join("objects/pack")).unwrap();
    let mut files: Vec<String> = packs
        .flatten()
        .map(|e| format!("objects/pack/{}", e.file_name().to_string_lossy()))
        .collect();
    files.extend(["objects/info/packs", "info/refs", "HEAD"].map(String::from));
    for file in files {
        let bytes = std::fs::read(local.join(&file)).unwrap();
        store
            .put_file(&format!("git/index.git/{file}"), &bytes)
            .unwrap();
    }
}
