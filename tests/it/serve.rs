//! `serve --demo`, restarts, health and metrics, and the CLI's exit codes.

use crate::both_backends;
use crate::common::{self, *};

both_backends! {
    fn demo_seeds_a_living_registry_once(reg) {
        let _ = reg;
        let mut demo = TestRegistry::start_with(reg.backend, &["--demo"]);
        let tokens = std::fs::read_to_string(demo.data().join("demo-tokens.toml")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(demo.data().join("demo-tokens.toml")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the tokens file is readable only by its owner");
        }
        let parsed: toml::Table = tokens.parse().unwrap();
        for ns in ["kassel", "darmstadt", "fim"] {
            assert!(parsed[ns]["token"].as_str().unwrap().starts_with("gw_"));
        }
        let kassel = demo.get("/api/v1/packages/kassel/bewohnerparkausweis").json();
        assert_eq!(kassel["versions"][0]["published_by"], "kassel-redaktion");
        let members = demo.get("/api/v1/namespaces/darmstadt/members").json();
        assert_eq!(members["members"][0]["login"], "darmstadt-redaktion");
        assert_eq!(demo.get("/index/fim/anschrift-inland").status, 200);
        let token = parsed["kassel"]["token"].as_str().unwrap().to_string();
        assert_eq!(demo.request("DELETE", "/api/v1/packages/kassel/bewohnerparkausweis/1.0.0/yank", Some(&token), None).status, 200);

        // A restart keeps everything and seeds nothing twice. (The git
        // index gains a commit: config.json names the new port.)
        let stores = |s: String| s.rsplit_once("\ngit=").unwrap().0.to_string();
        let before = stores(demo.snapshot());
        demo.stop();
        demo.launch();
        assert_eq!(stores(demo.snapshot()), before);
        assert_eq!(std::fs::read_to_string(demo.data().join("demo-tokens.toml")).unwrap(), tokens);
    }

    fn health_and_metrics(reg) {
        let token = reg.owner_of("kassel");
        assert_eq!(reg.get("/healthz").json()["status"], "ok");
        assert_eq!(reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.0"))).status, 200);
        let metrics = reg.get("/metrics").text();
        assert!(metrics.contains("gemeinwerk_packages 1\n"), "{metrics}");
        assert!(metrics.contains("gemeinwerk_versions 1\n"), "{metrics}");
        let missing = reg.get("/no/such/page");
        assert_eq!((missing.status, missing.error_code().as_str()), (404, "not_found"));
        let bad = reg.request("GET", "/api/v1/namespaces/kassel/audit?limit=lots", Some(&token), None);
        assert_eq!((bad.status, bad.error_code().as_str()), (400, "bad_query"));
        let start = reg.get("/");
        assert!(start.text().contains("<html lang=\"de\">"));

        // Every request is counted by its route pattern and status, never
        // by its path (a million packages would be a million series).
        reg.get("/index/kassel/a");
        let metrics = reg.get("/metrics").text();
        assert!(
            metrics.contains(
                "gemeinwerk_http_requests_total{method=\"PUT\",route=\"/api/v1/packages/new\",status=\"200\"} 1\n"
            ),
            "{metrics}"
        );
        assert!(
            metrics.contains(
                "gemeinwerk_http_requests_total{method=\"GET\",route=\"/index/{ns}/{name}\",status=\"200\"} 1\n"
            ),
            "{metrics}"
        );
        assert!(metrics.contains("gemeinwerk_http_request_duration_seconds_bucket{method=\"GET\",route=\"/index/{ns}/{name}\",status=\"200\",le=\"+Inf\"} 1\n"), "{metrics}");
        assert!(!metrics.contains("route=\"/index/kassel/a\""), "{metrics}");
        assert!(
            metrics.contains("gemeinwerk_background_panics_total{thread=\"gemeinwerk-search\"} 0\n"),
            "{metrics}"
        );
    }
}

both_backends! {
    fn cli_exit_codes(reg) {
        let token = reg.owner_of("kassel");
        let p = pkg("kassel/a", "1.0.0");

        // 0: success; validate and package work offline.
        assert_eq!(
            reg.cli(None, &["validate", p.path_str()]).status.code(),
            Some(0)
        );
        let out = reg.cli(None, &["package", p.path_str(), "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let packed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            packed["cksum"],
            gemeinwerk_package::archive::sha256_hex(&archive_of(&p)).as_str()
        );
        let dry = reg.cli(Some(&token), &["publish", p.path_str(), "--dry-run"]);
        assert_eq!(dry.status.code(), Some(0));
        assert_eq!(
            reg.get("/index/kassel/a").status,
            404,
            "a dry run uploads nothing"
        );

        // 1: a refusal or failed check.
        let bad = pkg("kassel/a", "1.0");
        let out = reg.cli(None, &["validate", bad.path_str()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("error[manifest.invalid_version]"),
            "{}",
            stderr(&out)
        );
        assert!(reg
            .cli(Some(&token), &["publish", p.path_str()])
            .status
            .success());
        let out = reg.cli(Some(&token), &["publish", p.path_str()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("[version_exists]"),
            "{}",
            stderr(&out)
        );

        // 2: usage or environment.
        assert_eq!(
            reg.cli(None, &["publish", p.path_str()]).status.code(),
            Some(2),
            "no token"
        );
        assert_eq!(reg.cli(None, &["frobnicate"]).status.code(), Some(2));
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            reg.cli(None, &["validate", empty.path().to_str().unwrap()])
                .status
                .code(),
            Some(2)
        );
        let out = std::process::Command::new(BIN)
            .args(["info", "kassel/a", "--registry", "http://127.0.0.1:9"])
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "registry unreachable");
        assert!(
            stderr(&out).contains("cannot reach the registry"),
            "{}",
            stderr(&out)
        );

        // login stores the token with mode 0600 and the CLI uses it.
        let out = reg.cli(None, &["login", "--token", &token]);
        assert!(out.status.success(), "{}", stderr(&out));
        let cred = reg.home.path().join(".config/gemeinwerk/credentials.toml");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&cred).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let out = reg.cli(None, &["yank", "kassel/a@1.0.0"]);
        assert!(
            out.status.success(),
            "the stored token is used: {}",
            stderr(&out)
        );
        assert_eq!(
            reg.cli(None, &["login", "--token", "hunter2"])
                .status
                .code(),
            Some(2)
        );
    }
}

#[test]
fn package_folder_with_a_symlink_is_refused() {
    let p = pkg("kassel/a", "1.0.0");
    std::os::unix::fs::symlink("/etc/passwd", p.path().join("passwd")).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["validate", p.path_str()])
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
}

/// HEAD gets the GET's status and headers without a body, on every kind
/// of address: web page, sparse index, API, missing page.
#[test]
fn head_is_answered_like_get() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let token = reg.owner_of("kassel");
    let archive = archive_of(&pkg("kassel/a", "1.0.0"));
    assert_eq!(reg.publish_bytes(Some(&token), &archive).status, 200);
    for path in [
        "/",
        "/pakete/kassel/a",
        "/index/config.json",
        "/index/kassel/a",
        "/api/v1/packages/kassel/a",
        "/no/such/page",
    ] {
        let get = reg.get(path);
        let head = reg.request("HEAD", path, None, None);
        assert_eq!(head.status, get.status, "{path}");
        assert!(head.body.is_empty(), "{path}: HEAD has no body");
        for name in ["content-type", "content-length", "etag", "cache-control"] {
            assert_eq!(head.header(name), get.header(name), "{path}: {name}");
        }
    }
}
