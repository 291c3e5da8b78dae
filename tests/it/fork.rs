//! Package histories in git, forks and the fork network, through the CLI
//! and a stock git client.

use std::path::Path;

use crate::both_backends;
use crate::common::{self, *};

fn clone(reg: &TestRegistry, package: &str, into: &Path) -> std::path::PathBuf {
    reg.wait_for_jobs();
    let dest = into.join(package.replace('/', "-"));
    git(
        into,
        &[
            "clone",
            "-q",
            &format!("{}/git/packages/{package}.git", reg.url),
            dest.to_str().unwrap(),
        ],
    );
    dest
}

/// The test form with one more optional field: a minor change.
fn with_optional_field(p: &PackageDir) {
    let form = std::fs::read_to_string(p.path().join("form.toml")).unwrap();
    p.write(
        "form.toml",
        &format!("{form}\n[[field]]\nid = \"telefon\"\ntype = \"phone\"\nlabel = \"Telefon\"\n"),
    );
}

both_backends! {
    fn fork_story_through_the_cli(reg) {
        let kassel = reg.owner_of("kassel");
        let darmstadt = reg.owner_of("darmstadt");
        let tmp = tempfile::tempdir().unwrap();
        let up = pkg("kassel/bewohnerparkausweis", "1.0.0");
        assert!(reg.cli(Some(&kassel), &["publish", up.path_str()]).status.success());

        // Every version is a tagged commit that stock git clones and logs.
        let kassel_repo = clone(reg, "kassel/bewohnerparkausweis", tmp.path());
        let upstream_commit = git(&kassel_repo, &["rev-parse", "v1.0.0"]);
        assert_eq!(git(&kassel_repo, &["log", "--format=%an: %s"]), "kassel-owner: kassel/bewohnerparkausweis 1.0.0");
        assert!(kassel_repo.join("form.toml").is_file());

        // Darmstadt forks: a folder with the new name, exact provenance and
        // the upstream's history.
        let dir = tmp.path().join("darmstadt-fork");
        let out = reg.cli(
            Some(&darmstadt),
            &["fork", "kassel/bewohnerparkausweis@1.0.0", "darmstadt/bewohnerparkausweis", "--dir", dir.to_str().unwrap(), "--json"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["with_history"], true);
        let manifest = std::fs::read_to_string(dir.join("gemeinwerk.toml")).unwrap();
        assert!(manifest.contains("name = \"darmstadt/bewohnerparkausweis\""), "{manifest}");
        assert!(manifest.contains("[forked-from]\npackage = \"kassel/bewohnerparkausweis\"\nversion = \"1.0.0\"\ncksum = \""), "{manifest}");
        assert_eq!(git(&dir, &["rev-parse", "HEAD"]), upstream_commit, "the folder starts at the upstream commit");

        // The name is reserved: it exists, with no versions yet.
        assert_eq!(reg.get("/index/darmstadt/bewohnerparkausweis").status, 404);
        assert_eq!(reg.get("/api/v1/packages/darmstadt/bewohnerparkausweis").status, 200);

        // Adapt and publish; in the registry's history of the fork, the
        // upstream commit is an ancestor.
        let form = std::fs::read_to_string(dir.join("form.toml")).unwrap();
        std::fs::write(dir.join("form.toml"), form.replace("label = \"Name\"", "label = \"Vollständiger Name\"")).unwrap();
        let out = reg.cli(Some(&darmstadt), &["publish", dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let fork_repo = clone(reg, "darmstadt/bewohnerparkausweis", tmp.path());
        git(&fork_repo, &["fetch", "-q", kassel_repo.to_str().unwrap(), "main"]);
        assert_eq!(git(&fork_repo, &["merge-base", "HEAD", &upstream_commit]), upstream_commit);
        assert!(git(&fork_repo, &["diff", &upstream_commit, "v1.0.0", "--stat"]).contains("form.toml"));

        // Kassel moves on; the network shows Darmstadt one release behind.
        with_optional_field(&up);
        up.write("gemeinwerk.toml", &manifest_text("kassel/bewohnerparkausweis", "1.1.0"));
        let out = reg.cli(Some(&kassel), &["publish", up.path_str()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let network = reg.get("/api/v1/packages/kassel/bewohnerparkausweis/forks").json();
        assert_eq!(network["forks"][0]["package"], "darmstadt/bewohnerparkausweis");
        assert_eq!(network["forks"][0]["base"], "kassel/bewohnerparkausweis@1.0.0");
        assert_eq!(network["forks"][0]["behind"], 1);
        std::fs::create_dir(tmp.path().join("again")).unwrap();
        let kassel_repo2 = clone(reg, "kassel/bewohnerparkausweis", &tmp.path().join("again"));
        assert!(git(&kassel_repo2, &["diff", "v1.0.0", "v1.1.0"]).contains("+id = \"telefon\""));

        let info = reg.cli(None, &["info", "darmstadt/bewohnerparkausweis"]);
        assert!(stdout(&info).contains("forked from kassel/bewohnerparkausweis@1.0.0 (1 upstream release behind)"), "{}", stdout(&info));
    }

    fn fork_refusals_change_nothing(reg) {
        let kassel = reg.owner_of("kassel");
        let darmstadt = reg.owner_of("darmstadt");
        assert_eq!(reg.publish_bytes(Some(&kassel), &archive_of(&pkg("kassel/a", "1.0.0"))).status, 200);
        let before = reg.snapshot();
        let fork = |token: &str, body: &str| reg.request("POST", "/api/v1/packages/kassel/a/forks", Some(token), Some(body.as_bytes()));
        let r = fork(&darmstadt, r#"{"target":"kassel/b"}"#);
        assert_eq!((r.status, r.error_code().as_str()), (403, "not_a_member"));
        let r = fork(&kassel, r#"{"target":"kassel/a"}"#);
        assert_eq!((r.status, r.error_code().as_str()), (409, "package_exists"));
        let r = fork(&darmstadt, r#"{"target":"darmstadt/b","version":"9.0.0"}"#);
        assert_eq!((r.status, r.error_code().as_str()), (404, "version_not_found"));
        let r = fork(&darmstadt, r#"{"target":"Darmstadt"}"#);
        assert_eq!((r.status, r.error_code().as_str()), (400, "invalid_target"));
        let r = fork(&darmstadt, r#"{"ziel":"darmstadt/b"}"#);
        assert_eq!((r.status, r.error_code().as_str()), (400, "bad_json"));
        let r = reg.request("POST", "/api/v1/packages/kassel/a/forks", None, Some(br#"{"target":"darmstadt/b"}"#));
        assert_eq!(r.status, 401);

        let occupied = tempfile::tempdir().unwrap();
        std::fs::write(occupied.path().join("notiz.txt"), "meins").unwrap();
        let out = reg.cli(Some(&darmstadt), &["fork", "kassel/a", "darmstadt/b", "--dir", occupied.path().to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("is not empty"), "{}", stderr(&out));
        assert_eq!(std::fs::read_to_string(occupied.path().join("notiz.txt")).unwrap(), "meins");
        assert_eq!(reg.snapshot(), before);
    }

    fn fork_of_a_yanked_version_and_fork_of_a_fork(reg) {
        let kassel = reg.owner_of("kassel");
        let darmstadt = reg.owner_of("darmstadt");
        let fulda = reg.owner_of("fulda");
        assert_eq!(reg.publish_bytes(Some(&kassel), &archive_of(&pkg("kassel/a", "1.0.0"))).status, 200);
        reg.request("DELETE", "/api/v1/packages/kassel/a/1.0.0/yank", Some(&kassel), Some(r#"{"reason":"falsche Gebühr"}"#.as_bytes()));
        let tmp = tempfile::tempdir().unwrap();

        let d = tmp.path().join("d");
        let out = reg.cli(Some(&darmstadt), &["fork", "kassel/a@1.0.0", "darmstadt/a", "--dir", d.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("warning: kassel/a@1.0.0 is yanked (falsche Gebühr)"), "{}", stderr(&out));
        assert!(reg.cli(Some(&darmstadt), &["publish", d.to_str().unwrap()]).status.success());

        let f = tmp.path().join("f");
        let out = reg.cli(Some(&fulda), &["fork", "darmstadt/a", "fulda/a", "--dir", f.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = reg.cli(Some(&fulda), &["publish", f.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));

        let network = reg.get("/api/v1/packages/kassel/a/forks").json();
        let forks: Vec<(String, u64)> = network["forks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["package"].as_str().unwrap().to_string(), f["depth"].as_u64().unwrap()))
            .collect();
        assert_eq!(forks, [("darmstadt/a".to_string(), 1), ("fulda/a".to_string(), 2)]);
        let up = reg.get("/api/v1/packages/fulda/a/forks").json();
        let chain: Vec<&str> = up["upstream"].as_array().unwrap().iter().map(|u| u["package"].as_str().unwrap()).collect();
        assert_eq!(chain, ["darmstadt/a", "kassel/a"]);

        // Kassel's commit is an ancestor in Fulda's history, two forks down.
        let kassel_repo = clone(reg, "kassel/a", tmp.path());
        let fulda_repo = clone(reg, "fulda/a", tmp.path());
        let kassel_commit = git(&kassel_repo, &["rev-parse", "v1.0.0"]);
        git(&fulda_repo, &["cat-file", "-e", &kassel_commit]);
        assert_eq!(git(&fulda_repo, &["merge-base", "HEAD", &kassel_commit]), kassel_commit);
    }

    fn history_is_rebuilt_with_the_same_commit_ids(reg) {
        let kassel = reg.owner_of("kassel");
        let darmstadt = reg.owner_of("darmstadt");
        let p = pkg("kassel/a", "1.0.0");
        assert_eq!(reg.publish_bytes(Some(&kassel), &archive_of(&p)).status, 200);
        with_optional_field(&p);
        p.write("gemeinwerk.toml", &manifest_text("kassel/a", "1.1.0"));
        assert_eq!(reg.publish_bytes(Some(&kassel), &archive_of(&p)).status, 200);
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("d");
        assert!(reg.cli(Some(&darmstadt), &["fork", "kassel/a@1.0.0", "darmstadt/a", "--dir", d.to_str().unwrap()]).status.success());
        assert!(reg.cli(Some(&darmstadt), &["publish", d.to_str().unwrap()]).status.success());
        reg.wait_for_jobs();
        let tags = |package: &str| {
            let repo = git2::Repository::open_bare(reg.data().join(format!("git/packages/{package}.git"))).unwrap();
            let mut out: Vec<(String, String)> = repo
                .references_glob("refs/tags/*")
                .unwrap()
                .flatten()
                .map(|r| (r.name().unwrap().to_string(), r.target().unwrap().to_string()))
                .collect();
            out.sort();
            out
        };
        let before = (tags("kassel/a"), tags("darmstadt/a"));
        assert_eq!(before.0.len(), 2);

        // Histories are a cache: gone from disk, fsck has nothing to say,
        // and a client asking for one gets it back with the same commits.
        std::fs::remove_dir_all(reg.data().join("git/packages")).unwrap();
        assert!(reg.admin(&["fsck"]).status.success());
        for package in ["darmstadt/a", "kassel/a"] {
            assert_eq!(reg.get(&format!("/git/packages/{package}.git/info/refs")).status, 200);
        }
        assert_eq!((tags("kassel/a"), tags("darmstadt/a")), before, "the same commit ids");

        // A history that disagrees with the database is found and repaired.
        {
            let repo = git2::Repository::open_bare(reg.data().join("git/packages/kassel/a.git")).unwrap();
            let first = repo.refname_to_id("refs/tags/v1.0.0").unwrap();
            repo.reference("refs/tags/v1.1.0", first, true, "tampered").unwrap();
        }
        let out = reg.admin(&["fsck"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stdout(&out).contains("package history: kassel/a differs from the database"), "{}", stdout(&out));
        let out = reg.admin(&["fsck", "--repair"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!((tags("kassel/a"), tags("darmstadt/a")), before, "the same commit ids");
        assert!(reg.admin(&["fsck"]).status.success());

        // A registered fork without versions has no history, and a check
        // does not make one.
        let e = tmp.path().join("e");
        assert!(reg.cli(Some(&darmstadt), &["fork", "kassel/a", "darmstadt/b", "--dir", e.to_str().unwrap()]).status.success());
        assert!(reg.admin(&["fsck"]).status.success());
        assert!(!reg.data().join("git/packages/darmstadt/b.git").exists());
    }
}

fn manifest_text(name: &str, version: &str) -> String {
    common::manifest(name, version, "")
}

both_backends! {
    fn publishing_a_fork_enforces_the_adaptation_policy(reg) {
        let kassel = reg.owner_of("kassel");
        let darmstadt = reg.owner_of("darmstadt");
        let up = pkg("kassel/a", "1.0.0");
        up.write(
            "form.toml",
            &FORM
                .replace("vertrauensniveau = \"niedrig\"", "vertrauensniveau = \"substanziell\"\nableitungsmodifikation = \"einschraenken\""),
        );
        assert_eq!(reg.publish_bytes(Some(&kassel), &archive_of(&up)).status, 200);
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("d");
        let out = reg.cli(Some(&darmstadt), &["fork", "kassel/a", "darmstadt/a", "--dir", d.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let form = std::fs::read_to_string(d.join("form.toml")).unwrap();

        // Only restricting is allowed: a new field extends.
        let before = reg.snapshot();
        std::fs::write(d.join("form.toml"), format!("{form}\n[[field]]\nid = \"extra\"\ntype = \"text\"\nlabel = \"Extra\"\n")).unwrap();
        let out = reg.cli(Some(&darmstadt), &["publish", d.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("[adaptation.not_allowed]"), "{}", stderr(&out));

        // Lowering the Vertrauensniveau needs the manifest to say so.
        std::fs::write(d.join("form.toml"), form.replace("\"substanziell\"", "\"niedrig\"")).unwrap();
        let out = reg.cli(Some(&darmstadt), &["publish", d.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("[adaptation.lowers_vertrauensniveau]"), "{}", stderr(&out));
        assert_eq!(reg.snapshot(), before);

        let manifest = std::fs::read_to_string(d.join("gemeinwerk.toml")).unwrap();
        std::fs::write(
            d.join("gemeinwerk.toml"),
            manifest.replacen("kind = \"form\"", "kind = \"form\"\nlowers-vertrauensniveau = true", 1),
        )
        .unwrap();
        let out = reg.cli(Some(&darmstadt), &["publish", d.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
}
