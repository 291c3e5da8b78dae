//! Advisories: a publisher marks affected versions; portals ask about their
//! pins; the package page, a fork's page and the feed show them.

use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::both_backends;
use crate::common::{self, *};

fn advisory(reg: &TestRegistry, token: Option<&str>, v: Value) -> Response {
    reg.request(
        "POST",
        "/api/v1/packages/kassel/parken/advisories",
        token,
        Some(&serde_json::to_vec(&v).unwrap()),
    )
}

both_backends! {
    fn a_publisher_warns_and_portals_fork_and_feed_hear_of_it(reg) {
        let kassel = reg.owner_of("kassel");
        let darmstadt = reg.owner_of("darmstadt");
        for v in ["1.0.0", "1.1.0", "1.2.0"] {
            assert_eq!(reg.publish_bytes(Some(&kassel), &archive_of(&pkg("kassel/parken", v))).status, 200);
        }
        let good = json!({
            "kind": "gebuehren", "severity": "mittel",
            "text": "Die Gebühr ist seit 1. Januar 30 € statt 25 €.",
            "affected": ">=1.0.0, <1.2.0", "fixed": "1.2.0",
        });
        let with = |changes: Value| {
            let mut v = good.clone();
            for (k, x) in changes.as_object().unwrap() {
                v[k] = x.clone();
            }
            v
        };

        // Refused, each with its reason, and nothing written.
        let before = reg.snapshot();
        for (v, status, code, says) in [
            (with(json!({"kind": "steuern"})), 400, "invalid_advisory", "kind"),
            (with(json!({"severity": "egal"})), 400, "invalid_advisory", "severity"),
            (with(json!({"text": "  "})), 400, "invalid_advisory", "text"),
            (with(json!({"text": "Gebühr\u{7}"})), 400, "text_control_character", "control"),
            (with(json!({"text": "x".repeat(2001)})), 400, "text_too_long", "2000"),
            (with(json!({"affected": "ab 1.0"})), 400, "invalid_advisory", "not a version range"),
            (with(json!({"affected": ">=9.0.0"})), 409, "advisory_range_unpublished", "affects no published version"),
            (with(json!({"fixed": "9.9.9"})), 409, "advisory_fixed_unpublished", "not published"),
            (with(json!({"fixed": "1.1.0"})), 409, "advisory_fixed_in_range", "inside the affected range"),
            (with(json!({"fixed": "neu"})), 400, "invalid_advisory", "not a version"),
            (with(json!({"extra": true})), 400, "bad_json", "extra"),
        ] {
            let r = advisory(reg, Some(&kassel), v.clone());
            assert_eq!((r.status, r.error_code().as_str()), (status, code), "{v}: {}", r.text());
            assert!(r.error_detail().contains(says), "{v}: {}", r.text());
        }
        let r = advisory(reg, None, good.clone());
        assert_eq!((r.status, r.error_code().as_str()), (401, "missing_token"));
        let r = advisory(reg, Some(&darmstadt), good.clone());
        assert_eq!((r.status, r.error_code().as_str()), (403, "not_a_member"));
        let r = reg.request("POST", "/api/v1/packages/kassel/gibtsnicht/advisories", Some(&kassel), Some(&serde_json::to_vec(&good).unwrap()));
        assert_eq!(r.status, 404);
        assert_eq!(reg.snapshot(), before, "no refused advisory was written");

        let r = advisory(reg, Some(&kassel), good.clone());
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.json()["affected"], ">=1.0.0, <1.2.0");
        assert_eq!(r.json()["created_by"], "kassel-owner");

        // A portal asks about its pins.
        let affects = |spec: &str| reg.get(&format!("/api/v1/advisories?affects={spec}"));
        assert_eq!(affects("kassel/parken@1.1.0").json()["advisories"].as_array().unwrap().len(), 1);
        assert_eq!(affects("kassel/parken@1.2.0").json()["advisories"].as_array().unwrap().len(), 0);
        for bad in ["kassel/parken", "kassel/parken@eins", "Kassel/parken@1.0.0"] {
            let r = affects(bad);
            assert_eq!((r.status, r.error_code().as_str()), (400, "invalid_affects"), "{bad}");
        }
        assert_eq!(reg.get("/api/v1/advisories").error_code(), "invalid_affects");
        assert_eq!(affects("kassel/gibtsnicht@1.0.0").status, 404);
        assert_eq!(reg.get("/api/v1/packages/kassel/parken/advisories").json()["advisories"].as_array().unwrap().len(), 1);

        // The package page of an affected version shows it, a fixed one not.
        let page = reg.get("/pakete/kassel/parken?version=1.1.0").text();
        assert!(page.contains("Hinweis (Gebühren, mittel) zu kassel/parken"), "{page}");
        assert!(page.contains("Die Gebühr ist seit 1. Januar 30 € statt 25 €."), "{page}");
        assert!(page.contains("Behoben in"), "{page}");
        assert!(!reg.get("/pakete/kassel/parken?version=1.2.0").text().contains("Hinweis (Gebühren"));

        // Darmstadt's fork of 1.1.0 is based on an affected version.
        let r = reg.request("POST", "/api/v1/packages/kassel/parken/forks", Some(&darmstadt), Some(br#"{"target": "darmstadt/parken", "version": "1.1.0"}"#));
        assert_eq!(r.status, 201, "{}", r.text());
        assert!(reg.get("/pakete/darmstadt/parken").text().contains("Hinweis (Gebühren, mittel) zu kassel/parken"));

        // The feeds carry it; the audit log has it.
        for feed in ["/feeds/pakete/kassel/parken", "/feeds/pakete/darmstadt/parken/upstream"] {
            let xml = reg.get(feed).text();
            assert!(xml.contains("<title>Hinweis (Gebühren, mittel): kassel/parken "), "{feed}: {xml}");
        }
        let audit = reg.request("GET", "/api/v1/namespaces/kassel/audit", Some(&kassel), None).json();
        assert!(audit["entries"].as_array().unwrap().iter().any(|e| e["action"] == "advisory"));
    }
}

/// `gemeinwerk lock` and `fetch` warn about advisories that affect a pin,
/// and fail with `--deny-advisories` (for CI); offline they ask nobody.
#[test]
fn lock_and_fetch_warn_and_deny_in_ci() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let kassel = reg.owner_of("kassel");
    for v in ["1.0.0", "1.1.0"] {
        assert_eq!(
            reg.publish_bytes(Some(&kassel), &archive_of(&pkg("kassel/parken", v)))
                .status,
            200
        );
    }
    let r = advisory(
        &reg,
        Some(&kassel),
        json!({
            "kind": "rechtsaenderung", "severity": "hoch",
            "text": "Die Satzung gilt seit März anders.", "affected": "<1.1.0",
        }),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("gemeinwerk.toml"),
        "[dependencies]\n\"kassel/parken\" = \"=1.0.0\"\n",
    )
    .unwrap();
    let run = |args: &[&str], lang: &str| {
        Command::new(common::bin())
            .args(args)
            .current_dir(dir.path())
            .env("GEMEINWERK_REGISTRY", &reg.url)
            .env("HOME", dir.path())
            .env("XDG_CACHE_HOME", cache.path())
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", lang)
            .env_remove("GEMEINWERK_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = run(&["lock"], "C");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: advisory for kassel/parken 1.0.0 (rechtsaenderung, hoch): Die Satzung gilt seit März anders."), "{}", stderr(&out));
    let out = run(&["lock", "--json"], "C");
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["advisories"][0]["advisory"]["kind"], "rechtsaenderung");
    let out = run(&["lock", "--deny-advisories"], "C");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 advisories affect locked versions"),
        "{}",
        stderr(&out)
    );
    let out = run(&["fetch", "--locked", "--deny-advisories"], "de_DE.UTF-8");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Warnung: Hinweis zu kassel/parken 1.0.0"),
        "{}",
        stderr(&out)
    );
    // Offline there is nobody to ask: no warning, no failure.
    let out = run(
        &["fetch", "--locked", "--offline", "--deny-advisories"],
        "C",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // A fork based on the affected version hears of it in `upstream status`.
    let darmstadt = reg.owner_of("darmstadt");
    let fork = dir.path().join("fork");
    let out = reg.cli(
        Some(&darmstadt),
        &[
            "fork",
            "kassel/parken@1.0.0",
            "darmstadt/parken",
            "--dir",
            fork.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = reg.cli(None, &["upstream", "status", fork.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "advisory for the base (rechtsaenderung, hoch): Die Satzung gilt seit März anders."
        ),
        "{}",
        stdout(&out)
    );
    let out = reg.cli(
        None,
        &["upstream", "status", fork.to_str().unwrap(), "--json"],
    );
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["advisories"][0]["severity"], "hoch");

    // A pin outside the range is not affected.
    std::fs::write(
        dir.path().join("gemeinwerk.toml"),
        "[dependencies]\n\"kassel/parken\" = \"=1.1.0\"\n",
    )
    .unwrap();
    let out = run(&["lock", "--deny-advisories"], "C");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("advisory"), "{}", stderr(&out));
}
