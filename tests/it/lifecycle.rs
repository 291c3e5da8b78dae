//! Yank, unyank, deprecate, members and the audit log, through the CLI.

use crate::both_backends;
use crate::common::{self, *};

fn index_lines(reg: &TestRegistry, path: &str) -> Vec<registry_index::IndexLine> {
    registry_index::parse_lines(&reg.get(path).text()).unwrap()
}

both_backends! {
    fn yank_and_unyank_with_reason(reg) {
        let token = reg.owner_of("kassel");
        let p = pkg("kassel/a", "1.0.0");
        assert!(reg.cli(Some(&token), &["publish", p.path_str()]).status.success());
        let out = reg.cli(Some(&token), &["yank", "kassel/a@1.0.0", "--reason", "Gebühr falsch berechnet"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(index_lines(reg, "/index/kassel/a")[0].yanked, "the sparse index shows the yank at once");

        // A yanked version stays downloadable, so pinned builds keep working.
        assert_eq!(reg.get("/api/v1/packages/kassel/a/1.0.0/download").status, 200);
        let info = reg.cli(None, &["info", "kassel/a", "--json"]);
        let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
        assert_eq!(info["versions"][0]["yanked"], true);
        assert_eq!(info["versions"][0]["yank_reason"], "Gebühr falsch berechnet");
        assert_eq!(info["downloads"], 1);

        let out = reg.cli(Some(&token), &["unyank", "kassel/a@1.0.0"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(!index_lines(reg, "/index/kassel/a")[0].yanked);
        reg.wait_for_jobs();
        let git = registry_index::GitIndex::open_or_init(&reg.data().join("git/index.git")).unwrap();
        assert_eq!(git.read_file("kassel/a").unwrap().unwrap(), reg.get("/index/kassel/a").body);

        let audit = reg.cli(Some(&token), &["audit", "kassel", "--json"]);
        let audit: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
        let actions: Vec<&str> = audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(&actions[..3], ["unyank", "yank", "publish"]);
        assert_eq!(audit["entries"][1]["details"]["reason"], "Gebühr falsch berechnet");
    }

    fn yank_refusals_change_nothing(reg) {
        let token = reg.owner_of("kassel");
        assert!(reg.cli(Some(&token), &["publish", pkg("kassel/a", "1.0.0").path_str()]).status.success());
        let before = reg.snapshot();
        let r = reg.request("DELETE", "/api/v1/packages/kassel/a/9.9.9/yank", Some(&token), None);
        assert_eq!((r.status, r.error_code().as_str()), (404, "version_not_found"));
        let r = reg.request("DELETE", "/api/v1/packages/kassel/nope/1.0.0/yank", Some(&token), None);
        assert_eq!((r.status, r.error_code().as_str()), (404, "package_not_found"));
        let r = reg.request("DELETE", "/api/v1/packages/kassel/a/1.0.0/yank", Some(&token), Some(b"{\"reason\": 5}"));
        assert_eq!((r.status, r.error_code().as_str()), (400, "bad_json"));
        let r = reg.request("DELETE", "/api/v1/packages/kassel/a/1.0.0/yank", Some(&token), Some(b"{\"why\": \"x\"}"));
        assert_eq!((r.status, r.error_code().as_str()), (400, "bad_json"));
        let long = format!("{{\"reason\": \"{}\"}}", "x".repeat(501));
        let r = reg.request("DELETE", "/api/v1/packages/kassel/a/1.0.0/yank", Some(&token), Some(long.as_bytes()));
        assert_eq!((r.status, r.error_code().as_str()), (400, "text_too_long"));
        let out = reg.cli(Some(&token), &["yank", "kassel/a"]);
        assert_eq!(out.status.code(), Some(2), "a spec without version is a usage error");
        let out = reg.cli(Some(&token), &["yank", "kassel/a@2.0.0"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("version 2.0.0 of \"kassel/a\" does not exist [version_not_found]"), "{}", stderr(&out));
        assert_eq!(reg.snapshot(), before);
    }

    fn deprecation_warns_but_does_not_change_resolution(reg) {
        let token = reg.owner_of("kassel");
        assert!(reg.cli(Some(&token), &["publish", pkg("kassel/a", "1.0.0").path_str()]).status.success());
        let before = reg.snapshot();
        let r = reg.request("PUT", "/api/v1/packages/kassel/a/deprecate", Some(&token), Some(b"{}"));
        assert_eq!((r.status, r.error_code().as_str()), (400, "missing_message"));
        assert_eq!(reg.snapshot(), before);
        let index_before = reg.get("/index/kassel/a").body;

        let out = reg.cli(Some(&token), &["deprecate", "kassel/a", "--message", "Bitte kassel/b verwenden"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(reg.get("/index/kassel/a").body, index_before, "the index, and so resolution, is unchanged");
        let info = reg.get("/api/v1/packages/kassel/a").json();
        assert_eq!(info["deprecated"], "Bitte kassel/b verwenden");

        // Publishing into a deprecated package warns.
        let out = reg.cli(Some(&token), &["publish", pkg("kassel/a", "1.0.1").path_str(), "--json"]);
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["warnings"][0]["code"], "package.deprecated");

        assert!(reg.cli(Some(&token), &["deprecate", "kassel/a", "--undo"]).status.success());
        assert!(reg.get("/api/v1/packages/kassel/a").json()["deprecated"].is_null());
    }

    fn owners_manage_members(reg) {
        let token = reg.owner_of("kassel");
        reg.admin_ok(&["user", "add", "anna"]);
        let out = reg.cli(Some(&token), &["owner", "add", "kassel", "anna"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let list = stdout(&reg.cli(None, &["owner", "list", "kassel"]));
        assert_eq!(list, "anna\tpublisher\nkassel-owner\towner\n");

        reg.admin_ok(&["user", "add", "bernd"]);
        // The last owner cannot leave; nothing changes.
        let before = reg.snapshot();
        let out = reg.cli(Some(&token), &["owner", "remove", "kassel", "kassel-owner"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("must keep at least one owner"), "{}", stderr(&out));
        let r = reg.request("PUT", "/api/v1/namespaces/kassel/members", Some(&token), Some(br#"{"login":"anna","role":"king"}"#));
        assert_eq!((r.status, r.error_code().as_str()), (400, "invalid_role"));
        let r = reg.request("PUT", "/api/v1/namespaces/kassel/members", Some(&token), Some(br#"{"login":"nobody"}"#));
        assert_eq!((r.status, r.error_code().as_str()), (404, "user_not_found"));
        let r = reg.request("DELETE", "/api/v1/namespaces/kassel/members/anna-nobody", Some(&token), None);
        assert_eq!((r.status, r.error_code().as_str()), (404, "user_not_found"));
        let r = reg.request("DELETE", "/api/v1/namespaces/kassel/members/bernd", Some(&token), None);
        assert_eq!((r.status, r.error_code().as_str()), (404, "member_not_found"));
        let r = reg.request("PUT", "/api/v1/namespaces/kassel/members", Some(&token), Some(b"not json"));
        assert_eq!((r.status, r.error_code().as_str()), (400, "bad_json"));
        assert_eq!(reg.snapshot(), before);

        assert!(reg.cli(Some(&token), &["owner", "add", "kassel", "anna", "--role", "owner"]).status.success());
        assert!(reg.cli(Some(&token), &["owner", "remove", "kassel", "kassel-owner"]).status.success());
        assert_eq!(stdout(&reg.cli(None, &["owner", "list", "kassel"])), "anna\towner\n");

        let anna = reg.token("anna", &["--scope", "owners"]);
        let audit: serde_json::Value = serde_json::from_slice(&reg.cli(Some(&anna), &["audit", "kassel", "--json"]).stdout).unwrap();
        let entries = audit["entries"].as_array().unwrap();
        let actions: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
            .collect();
        assert!(actions.contains(&("member_remove", "kassel-owner")), "{actions:?}");
        assert!(actions.contains(&("member_add", "kassel-owner")), "{actions:?}");
        assert!(actions.contains(&("namespace_add", "admin")), "{actions:?}");
    }
}

both_backends! {
    fn admin_refusals_change_nothing(reg) {
        reg.owner_of("kassel");
        let before = reg.snapshot();
        let cases: &[(&[&str], i32, &str)] = &[
            (&["namespace", "add", "Kassel", "--name", "Stadt Kassel"], 1, "only lowercase a–z, 0–9 and \"-\" are allowed"),
            (&["namespace", "add", "kassel", "--name", "Stadt Kassel"], 1, "namespace \"kassel\" already exists"),
            (&["namespace", "add", "fulda", "--name", "Stadt Fulda", "--ars", "0663"], 1, "must be 12 digits"),
            (&["namespace", "add", "fulda", "--name", "  "], 1, "needs a display name"),
            (&["user", "add", "kassel-owner"], 1, "user \"kassel-owner\" already exists"),
            (&["member", "add", "kassel", "nobody"], 1, "user \"nobody\" does not exist"),
            (&["member", "add", "nowhere", "kassel-owner"], 1, "namespace \"nowhere\" does not exist"),
            (&["member", "add", "kassel", "kassel-owner", "--role", "king"], 2, "invalid value 'king'"),
            (&["token", "create", "nobody"], 1, "user \"nobody\" does not exist"),
            (&["token", "create", "kassel-owner", "--scope", "admin"], 2, "unknown scope \"admin\""),
            (&["token", "create", "kassel-owner", "--expires-in", "soon"], 2, "not a duration"),
            (&["token", "create", "kassel-owner", "--namespace", "nowhere"], 1, "namespace \"nowhere\" does not exist"),
            (&["token", "revoke", "999"], 1, "not known"),
        ];
        for (args, code, message) in cases {
            let out = reg.admin(args);
            assert_eq!(out.status.code(), Some(*code), "{args:?}: {}", stderr(&out));
            assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        }
        assert_eq!(reg.snapshot(), before);
    }
}
