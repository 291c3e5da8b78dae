//! Issue 6: the CI story against a real server. A consuming project adds
//! dependencies, locks them, fetches them verified, fetches again from the
//! cache with the server stopped and from a vendored folder; yanked,
//! tampered, outdated and broken inputs are handled as promised.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::both_backends;
use crate::common::{self, *};
use crate::every_blob_store;
use serde_json::Value;

/// A consuming project folder with its own, isolated user cache.
struct Project {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Project {
    fn new(manifest: &str) -> Project {
        let p = Project {
            dir: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        };
        p.write("gemeinwerk.toml", manifest);
        p
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    /// Runs the CLI in the project folder with the given cache.
    fn run_with(&self, reg: &TestRegistry, cache: &Path, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(self.dir.path())
            .env("GEMEINWERK_REGISTRY", &reg.url)
            .env("HOME", reg.home.path())
            .env("XDG_CACHE_HOME", cache)
            .env("CI", "true")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C")
            .env_remove("GEMEINWERK_TOKEN")
            .env_remove("GEMEINWERK_VENDORED")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn run(&self, reg: &TestRegistry, args: &[&str]) -> Output {
        self.run_with(reg, self.cache.path(), args)
    }

    fn ok(&self, reg: &TestRegistry, args: &[&str]) -> Output {
        let out = self.run(reg, args);
        assert!(out.status.success(), "{args:?} failed: {}", stderr(&out));
        out
    }

    fn json(&self, reg: &TestRegistry, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&stdout(&self.ok(reg, &all))).unwrap()
    }

    /// name → version of the lockfile.
    fn locked(&self) -> Vec<(String, String)> {
        let lock: toml::Value = toml::from_str(&self.read("gemeinwerk.lock")).unwrap();
        lock["package"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["version"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn cksum_of(&self, name: &str) -> String {
        let lock: toml::Value = toml::from_str(&self.read("gemeinwerk.lock")).unwrap();
        lock["package"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"].as_str() == Some(name))
            .unwrap()["cksum"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Every file below `dir` with its content, for "nothing changed" checks.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn publish(reg: &TestRegistry, token: &str, dir: &PackageDir) {
    let r = reg.publish_bytes(Some(token), &archive_of(dir));
    assert_eq!(r.status, 200, "{}", r.text());
}

/// fim/anschrift 1.0.0, 1.1.0, 2.0.0 and kassel/antrag 1.0.0 (needs
/// fim/anschrift ^1). Returns fim's owner token.
fn registry_with_packages(reg: &TestRegistry) -> String {
    let fim = reg.owner_of("fim");
    let kassel = reg.owner_of("kassel");
    for v in ["1.0.0", "1.1.0", "2.0.0"] {
        publish(reg, &fim, &pkg("fim/anschrift", v));
    }
    publish(
        reg,
        &kassel,
        &pkg_with(
            "kassel/antrag",
            "1.0.0",
            "\n[dependencies]\n\"fim/anschrift\" = \"^1\"\n",
        ),
    );
    fim
}

const PORTAL: &str = "# Unser Portal\n[dependencies]\n\"kassel/antrag\" = \"^1\" # Anträge\n";

both_backends! {
    fn lock_fetch_and_fetch_again_without_the_server(reg) {
        registry_with_packages(reg);
        let p = Project::new("# Unser Portal: Formulare aus der Registry\n[dependencies]\n");
        p.ok(reg, &["add", "kassel/antrag"]);
        assert_eq!(
            p.read("gemeinwerk.toml"),
            "# Unser Portal: Formulare aus der Registry\n[dependencies]\n\"kassel/antrag\" = \"^1.0.0\"\n"
        );

        // `add` fetched kassel/antrag's index file; `lock` revalidates it (304).
        let first = p.json(reg, &["lock"]);
        assert_eq!(first["index"]["fresh"], 1, "{first}");
        assert_eq!(first["index"]["not_modified"], 1, "{first}");
        assert_eq!(
            p.locked(),
            pairs(&[("fim/anschrift", "1.1.0"), ("kassel/antrag", "1.0.0")]),
            "highest compatible versions"
        );
        let index_line = reg
            .get("/index/fim/anschrift")
            .text()
            .lines()
            .find(|l| l.contains("\"1.1.0\""))
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .unwrap();
        assert_eq!(p.cksum_of("fim/anschrift"), index_line["cksum"].as_str().unwrap());
        let lock_text = p.read("gemeinwerk.lock");
        assert!(lock_text.contains("[requires]\n\"kassel/antrag\" = \"^1.0.0\"\n"), "{lock_text}");
        assert!(lock_text.contains(&format!("registry = \"{}\"", reg.url)), "{lock_text}");

        // Locking again revalidates the cached index files: 304, no bodies.
        let again = p.json(reg, &["lock"]);
        assert_eq!(again["index"]["fresh"], 0, "{again}");
        assert_eq!(again["index"]["not_modified"], 2, "{again}");
        assert_eq!(p.read("gemeinwerk.lock"), lock_text, "the same lock, byte for byte");

        let fetched = p.json(reg, &["fetch", "--locked"]);
        assert_eq!(fetched["report"]["downloaded"], 2, "{fetched}");
        assert!(p.read("gemeinwerk_packages/kassel/antrag/gemeinwerk.toml").contains("version = \"1.0.0\""));
        assert!(p.read("gemeinwerk_packages/fim/anschrift/gemeinwerk.toml").contains("version = \"1.1.0\""));
        assert!(p.path("gemeinwerk_packages/fim/anschrift/form.toml").is_file());

        let second = p.json(reg, &["fetch", "--locked"]);
        assert_eq!(second["report"]["downloaded"], 0, "the second run downloads nothing: {second}");
        assert_eq!(second["report"]["from_cache"], 2);

        let vendored = tempfile::tempdir().unwrap();
        let vdir = vendored.path().to_str().unwrap();
        p.ok(reg, &["vendor", vdir]);
        let cksum = p.cksum_of("fim/anschrift");
        assert!(vendored.path().join(format!("archives/{cksum}.tar.gz")).is_file());
        assert!(vendored.path().join("index/fim/anschrift").is_file());
        assert!(vendored.path().join("index/config.json").is_file());

        reg.halt();
        std::fs::remove_dir_all(p.path("gemeinwerk_packages")).unwrap();
        let offline = p.json(reg, &["fetch", "--locked"]);
        assert_eq!(offline["report"]["from_cache"], 2, "{offline}");
        assert!(p.path("gemeinwerk_packages/kassel/antrag/form.toml").is_file());
        p.ok(reg, &["lock", "--offline"]);
        assert_eq!(p.read("gemeinwerk.lock"), lock_text);

        // A CI machine with an empty cache and no registry: the vendored folder.
        let empty = tempfile::tempdir().unwrap();
        let out = p.run_with(reg, empty.path(), &["fetch", "--locked", "--offline", "--dest", "ci"]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("--offline"), "{}", stderr(&out));
        assert!(!p.path("ci").exists());
        let out = p.run_with(
            reg,
            empty.path(),
            &["fetch", "--locked", "--offline", "--vendored", vdir, "--dest", "ci"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(p.read("ci/fim/anschrift/gemeinwerk.toml").contains("1.1.0"));
    }

    fn a_locked_version_yanked_meanwhile_is_still_fetched(reg) {
        let fim = registry_with_packages(reg);
        let p = Project::new(PORTAL);
        p.ok(reg, &["lock"]);
        assert_eq!(p.locked()[0], ("fim/anschrift".to_string(), "1.1.0".to_string()));
        let out = reg.cli(Some(&fim), &["yank", "fim/anschrift@1.1.0", "--reason", "Fehler in der PLZ"]);
        assert!(out.status.success(), "{}", stderr(&out));

        let fresh_cache = tempfile::tempdir().unwrap();
        let out = p.run_with(reg, fresh_cache.path(), &["fetch", "--locked"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(p.read("gemeinwerk_packages/fim/anschrift/gemeinwerk.toml").contains("version = \"1.1.0\""));

        p.ok(reg, &["lock"]);
        assert_eq!(p.locked()[0].1, "1.1.0", "a locked yanked version stays");
        p.ok(reg, &["lock", "--update"]);
        assert_eq!(p.locked()[0].1, "1.0.0", "a new resolution never picks a yanked version");
        std::fs::remove_file(p.path("gemeinwerk.lock")).unwrap();
        p.ok(reg, &["lock"]);
        assert_eq!(p.locked()[0].1, "1.0.0");
    }

}

every_blob_store! {
    fn an_archive_tampered_with_on_the_server_is_refused(reg) {
        registry_with_packages(reg);
        let p = Project::new(PORTAL);
        p.ok(reg, &["lock"]);
        p.ok(reg, &["fetch", "--locked"]);
        let before = tree(&p.path("gemeinwerk_packages"));
        assert_eq!(before.len(), 6);

        // Bytes changed in the blob store: the server checks every archive
        // it reads against its name and does not serve these.
        let cksum = p.cksum_of("fim/anschrift");
        assert!(reg.blobs().contains(&cksum), "the blob store keeps archives by SHA-256");
        let evil = pkg("fim/anschrift", "1.1.0");
        evil.write("README.md", "# Manipuliert\n");
        reg.put_blob_raw(&cksum, &archive_of(&evil));
        let r = reg.get("/api/v1/packages/fim/anschrift/1.1.0/download");
        assert_eq!((r.status, r.error_code().as_str()), (500, "internal"), "{}", r.text());
        let fresh_cache = tempfile::tempdir().unwrap();
        let out = p.run_with(reg, fresh_cache.path(), &["fetch", "--locked"]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("fim/anschrift/1.1.0/download: status code 500"), "{}", stderr(&out));
        assert_eq!(tree(&p.path("gemeinwerk_packages")), before, "the destination is as it was");

        // A registry that serves other bytes than were locked (here its
        // database was changed to name another archive): the client's own
        // check refuses them.
        let lines = registry_index::parse_lines(&reg.get("/index/fim/anschrift").text()).unwrap();
        let other = lines.iter().find(|l| l.vers == "1.0.0").unwrap().cksum.clone();
        {
            use diesel::prelude::*;
            use gemeinwerk_server::store::schema::versions;
            let db = reg.db();
            let mut conn = db.conn().unwrap();
            diesel::update(versions::table.filter(versions::cksum.eq(&cksum)))
                .set(versions::cksum.eq(&other))
                .execute(&mut *conn)
                .unwrap();
        }
        let out = p.run_with(reg, fresh_cache.path(), &["fetch", "--locked"]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("checksum mismatch for fim/anschrift@1.1.0"), "{err}");
        assert!(err.contains(&cksum), "{err}");
        assert_eq!(tree(&p.path("gemeinwerk_packages")), before, "the destination is as it was");
        assert!(
            !fresh_cache.path().join(format!("gemeinwerk/archives/{cksum}.tar.gz")).exists(),
            "a tampered archive is not cached"
        );
        let out = p.run_with(reg, fresh_cache.path(), &["fetch", "--locked", "--dest", "neu"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(!p.path("neu").exists(), "nothing is written");
        let leftovers: Vec<String> = std::fs::read_dir(p.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

both_backends! {
    fn a_manifest_change_is_caught_by_locked(reg) {
        registry_with_packages(reg);
        let p = Project::new(PORTAL);
        p.ok(reg, &["lock"]);
        let lock = p.read("gemeinwerk.lock");
        p.write("gemeinwerk.toml", &PORTAL.replace("\"^1\"", "\"=1.0.0\""));
        let out = p.run(reg, &["fetch", "--locked"]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("gemeinwerk.lock no longer matches gemeinwerk.toml"), "{err}");
        assert!(err.contains("kassel/antrag changed from ^1 to =1.0.0"), "{err}");
        assert!(!p.path("gemeinwerk_packages").exists());
        assert_eq!(p.read("gemeinwerk.lock"), lock);

        // Without --locked the lock is brought up to date, then fetched.
        p.ok(reg, &["fetch"]);
        assert!(p.read("gemeinwerk.lock").contains("\"kassel/antrag\" = \"=1.0.0\""));
        assert!(p.path("gemeinwerk_packages/kassel/antrag").is_dir());

        std::fs::remove_file(p.path("gemeinwerk.lock")).unwrap();
        let out = p.run(reg, &["fetch", "--locked"]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("has no gemeinwerk.lock"), "{}", stderr(&out));
        assert!(!p.path("gemeinwerk.lock").exists());
    }

    fn conflicts_are_explained(reg) {
        registry_with_packages(reg);
        let p = Project::new(
            "[dependencies]\n\"kassel/antrag\" = \"^1\"\n\"fim/anschrift\" = \"^2\"\n",
        );
        let out = p.run(reg, &["lock"]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("kassel/antrag 1.0.0 requires fim/anschrift ^1"), "{err}");
        assert!(err.contains("your gemeinwerk.toml requires fim/anschrift ^2"), "{err}");
        assert!(!p.path("gemeinwerk.lock").exists());

        p.write("gemeinwerk.toml", "[dependencies]\n\"fim/gibt-es-nicht\" = \"^1\"\n");
        let out = p.run(reg, &["lock"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("your gemeinwerk.toml requires fim/gibt-es-nicht ^1, which does not exist in the registry"), "{}", stderr(&out));
        assert!(!p.path("gemeinwerk.lock").exists());
    }

    fn bad_inputs_are_refused_and_change_nothing(reg) {
        registry_with_packages(reg);
        let p = Project::new(PORTAL);
        for (spec, code, says) in [
            ("kassel", 2, "namespace/name"),
            ("kassel/antrag@^^1", 2, "is not a version requirement"),
            ("Kassel/antrag", 2, "lowercase"),
            ("kassel/gibt-es-nicht", 1, "does not exist in the registry"),
            ("kassel/antrag@^3", 1, "no published, non-yanked version"),
        ] {
            let out = p.run(reg, &["add", spec]);
            assert_eq!(out.status.code(), Some(code), "{spec}: {}", stderr(&out));
            assert!(stderr(&out).contains(says), "{spec}: {}", stderr(&out));
            assert_eq!(p.read("gemeinwerk.toml"), PORTAL, "{spec}");
        }
        let broken = "[dependencies]\n\"kassel/antrag\" = \"^^1\"\n";
        p.write("gemeinwerk.toml", broken);
        let out = p.run(reg, &["add", "fim/anschrift"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("gemeinwerk.toml:2:"), "{}", stderr(&out));
        assert_eq!(p.read("gemeinwerk.toml"), broken);

        p.write("gemeinwerk.toml", PORTAL);
        p.ok(reg, &["lock"]);
        let good = p.read("gemeinwerk.lock");
        let cksum = p.cksum_of("kassel/antrag");
        for (bad, says) in [
            (good.replace(&cksum, "nicht-hex"), "lock.invalid_cksum"),
            (good.replace("[[package]]", "[[package]"), "toml.syntax"),
            (good.replace("version = 1", "version = 7"), "lock.unknown_version"),
        ] {
            p.write("gemeinwerk.lock", &bad);
            for args in [&["fetch", "--locked"][..], &["fetch"][..], &["lock"][..]] {
                let out = p.run(reg, args);
                assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
                let err = stderr(&out);
                assert!(err.contains("gemeinwerk.lock:") && err.contains(says), "{args:?}: {err}");
                assert_eq!(p.read("gemeinwerk.lock"), bad, "{args:?}");
                assert!(!p.path("gemeinwerk_packages").exists(), "{args:?}");
            }
        }
    }
}
