//! Tokens a user makes, lists and revokes through the API, and the
//! tokens that act on a namespace, for its owners; `gemeinwerk logout`.

use serde_json::json;

use crate::both_backends;
use crate::common::{self, *};

fn json_body(v: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap()
}

both_backends! {
    fn a_member_makes_lists_and_revokes_own_tokens(reg) {
        let owner = reg.owner_of("kassel");
        let r = reg.request(
            "POST",
            "/api/v1/tokens",
            Some(&owner),
            Some(&json_body(json!({"name": "CI Kassel", "scopes": ["publish"], "namespace": "kassel", "expires_in_days": 90}))),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let made = r.json();
        let token = made["token"].as_str().unwrap().to_string();
        assert!(token.starts_with("gw_") && token.len() == 67, "{token}");
        assert_eq!(made["scopes"], json!(["publish"]));
        assert_eq!(made["namespace"], "kassel");
        let expires = chrono::NaiveDateTime::parse_from_str(made["expires_at"].as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%.f").unwrap();
        let days = (expires - chrono::Utc::now().naive_utc()).num_days();
        assert!((89..=90).contains(&days), "{days}");

        // It works for what it may do, and for nothing more.
        let r = reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.0")));
        assert_eq!(r.status, 200, "{}", r.text());
        let r = reg.request("DELETE", "/api/v1/packages/kassel/a/1.0.0/yank", Some(&token), None);
        assert_eq!((r.status, r.error_code().as_str()), (403, "missing_scope"));

        // Listed, without the token itself.
        let list = reg.request("GET", "/api/v1/tokens", Some(&owner), None);
        assert_eq!(list.status, 200);
        let tokens = list.json()["tokens"].as_array().unwrap().clone();
        assert_eq!(tokens.len(), 2, "the admin-made one and the new one");
        assert_eq!(tokens[0]["name"], "CI Kassel");
        assert!(tokens[0]["last_used_at"].is_string(), "it was used");
        assert!(!list.text().contains(&token[3..]), "the token is shown once only");

        // Revoked by its user: refused at once.
        let id = made["id"].as_i64().unwrap();
        let r = reg.request("DELETE", &format!("/api/v1/tokens/{id}"), Some(&owner), None);
        assert_eq!(r.status, 200, "{}", r.text());
        let r = reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.1")));
        assert_eq!((r.status, r.error_code().as_str()), (401, "revoked_token"));

        // Both are in the namespace's audit log.
        let audit = reg.request("GET", "/api/v1/namespaces/kassel/audit", Some(&owner), None).json();
        let actions: Vec<&str> = audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"token_create"), "{actions:?}");

        // Another user's token is not found, and stays.
        reg.namespace("darmstadt");
        reg.user("anna", "darmstadt", "owner");
        let anna = reg.token("anna", &["--scope", "publish,yank,owners"]);
        let annas: i64 = reg.request("GET", "/api/v1/tokens", Some(&anna), None).json()["tokens"][0]["id"].as_i64().unwrap();
        let before = reg.snapshot();
        let r = reg.request("DELETE", &format!("/api/v1/tokens/{annas}"), Some(&owner), None);
        assert_eq!((r.status, r.error_code().as_str()), (404, "token_not_found"));
        let r = reg.request("DELETE", "/api/v1/tokens/abc", Some(&owner), None);
        assert_eq!((r.status, r.error_code().as_str()), (400, "invalid_token_id"));
        assert_eq!(reg.snapshot(), before);
        assert_eq!(reg.publish_bytes(Some(&anna), &archive_of(&pkg("darmstadt/b", "1.0.0"))).status, 200);
    }

    fn bad_token_requests_are_refused_and_change_nothing(reg) {
        let owner = reg.owner_of("kassel");
        reg.namespace("darmstadt");
        let publish_only = reg.token("kassel-owner", &["--scope", "publish"]);
        let kassel_only = reg.token("kassel-owner", &["--scope", "publish,yank,owners", "--namespace", "kassel"]);
        let short_lived = reg.token("kassel-owner", &["--scope", "publish", "--expires-in", "7d"]);
        let before = reg.snapshot();
        let ok = json!({"name": "x", "scopes": ["publish"], "expires_in_days": 30});
        let with = |k: &str, v: serde_json::Value| {
            let mut b = ok.clone();
            b[k] = v;
            b
        };
        let without = |k: &str| {
            let mut b = ok.clone();
            b.as_object_mut().unwrap().remove(k);
            b
        };
        let (owner, publish_only, kassel_only, short_lived) = (owner.as_str(), publish_only.as_str(), kassel_only.as_str(), short_lived.as_str());
        let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
            (owner, json_body(without("expires_in_days")), 400, "bad_json"),
            (owner, json_body(with("expires_in_days", json!(0))), 400, "invalid_expiry"),
            (owner, json_body(with("expires_in_days", json!(366))), 400, "invalid_expiry"),
            (owner, json_body(with("expires_in_days", json!("30"))), 400, "bad_json"),
            (owner, json_body(with("expires_in_days", json!(30.5))), 400, "invalid_expiry"),
            (owner, json_body(with("scopes", json!([]))), 400, "invalid_scope"),
            (owner, json_body(with("scopes", json!(["admin"]))), 400, "invalid_scope"),
            (owner, json_body(with("name", json!(""))), 400, "invalid_token_name"),
            (owner, json_body(with("name", json!("a".repeat(65)))), 400, "invalid_token_name"),
            (owner, json_body(with("name", json!("a\u{7}b"))), 400, "invalid_token_name"),
            (owner, json_body(with("admin", json!(true))), 400, "bad_json"),
            (owner, b"{".to_vec(), 400, "bad_json"),
            (owner, json_body(with("namespace", json!("nirgendwo"))), 404, "namespace_not_found"),
            (owner, json_body(with("namespace", json!("darmstadt"))), 403, "not_a_member"),
            (publish_only, json_body(with("scopes", json!(["publish", "owners"]))), 403, "scope_not_held"),
            (kassel_only, json_body(ok.clone()), 403, "token_namespace_forbidden"),
            (kassel_only, json_body(with("namespace", json!("darmstadt"))), 403, "token_namespace_forbidden"),
            (short_lived, json_body(with("expires_in_days", json!(30))), 403, "expiry_not_held"),
            ("gw_not-a-token", json_body(ok.clone()), 401, "malformed_token"),
        ];
        for (token, b, status, code) in cases {
            let r = reg.request("POST", "/api/v1/tokens", Some(token), Some(&b));
            assert_eq!((r.status, r.error_code().as_str()), (status, code), "{}: {}", String::from_utf8_lossy(&b), r.text());
        }
        let r = reg.request("POST", "/api/v1/tokens", None, Some(&json_body(ok.clone())));
        assert_eq!((r.status, r.error_code().as_str()), (401, "missing_token"));
        for (method, path) in [("GET", "/api/v1/tokens"), ("DELETE", "/api/v1/tokens/1")] {
            let r = reg.request(method, path, None, None);
            assert_eq!((r.status, r.error_code().as_str()), (401, "missing_token"), "{method} {path}");
        }
        assert_eq!(reg.snapshot(), before, "nothing was written");
        // A restricted token may make one for its own namespace.
        let r = reg.request("POST", "/api/v1/tokens", Some(kassel_only), Some(&json_body(with("namespace", json!("kassel")))));
        assert_eq!(r.status, 201, "{}", r.text());
    }

    fn owners_see_and_revoke_the_tokens_that_act_on_their_namespace(reg) {
        let owner = reg.owner_of("kassel");
        reg.namespace("darmstadt");
        reg.user("paul", "kassel", "publisher");
        reg.admin_ok(&["member", "add", "darmstadt", "paul", "--role", "owner"]);
        let everywhere = reg.token("paul", &["--scope", "publish"]);
        let in_kassel = reg.token("paul", &["--scope", "publish", "--namespace", "kassel"]);
        let in_darmstadt = reg.token("paul", &["--scope", "publish,owners", "--namespace", "darmstadt"]);

        let r = reg.request("GET", "/api/v1/namespaces/kassel/tokens", Some(&owner), None);
        assert_eq!(r.status, 200, "{}", r.text());
        let listed: Vec<(String, Option<String>)> = r.json()["tokens"].as_array().unwrap().iter()
            .map(|t| (t["login"].as_str().unwrap().to_string(), t["namespace"].as_str().map(str::to_string)))
            .collect();
        assert!(listed.contains(&("paul".into(), None)), "{listed:?}");
        assert!(listed.contains(&("paul".into(), Some("kassel".into()))), "{listed:?}");
        assert!(!listed.contains(&("paul".into(), Some("darmstadt".into()))), "{listed:?}");

        // A publisher is no owner; a token of another namespace is not theirs to revoke.
        let r = reg.request("GET", "/api/v1/namespaces/kassel/tokens", Some(&everywhere), None);
        assert_eq!((r.status, r.error_code().as_str()), (403, "missing_scope"));
        let darmstadt_id: i64 = reg.request("GET", "/api/v1/namespaces/darmstadt/tokens", Some(&in_darmstadt), None).json()["tokens"]
            .as_array().unwrap().iter()
            .find(|t| t["namespace"] == "darmstadt").unwrap()["id"].as_i64().unwrap();
        let before = reg.snapshot();
        let r = reg.request("DELETE", &format!("/api/v1/namespaces/kassel/tokens/{darmstadt_id}"), Some(&owner), None);
        assert_eq!((r.status, r.error_code().as_str()), (404, "token_not_found"));
        assert_eq!(reg.snapshot(), before);

        // The owner cuts paul's Kassel token off.
        let kassel_id: i64 = reg.request("GET", "/api/v1/namespaces/kassel/tokens", Some(&owner), None).json()["tokens"]
            .as_array().unwrap().iter()
            .find(|t| t["namespace"] == "kassel").unwrap()["id"].as_i64().unwrap();
        let r = reg.request("DELETE", &format!("/api/v1/namespaces/kassel/tokens/{kassel_id}"), Some(&owner), None);
        assert_eq!(r.status, 200, "{}", r.text());
        let r = reg.publish_bytes(Some(&in_kassel), &archive_of(&pkg("kassel/a", "1.0.0")));
        assert_eq!((r.status, r.error_code().as_str()), (401, "revoked_token"));
        assert_eq!(reg.publish_bytes(Some(&everywhere), &archive_of(&pkg("kassel/a", "1.0.0"))).status, 200);
        let audit = reg.request("GET", "/api/v1/namespaces/kassel/audit", Some(&owner), None).json();
        let revoke = audit["entries"].as_array().unwrap().iter().find(|e| e["action"] == "token_revoke").unwrap();
        assert_eq!(revoke["actor"], "kassel-owner", "{revoke}");
    }
}

#[test]
fn logout_removes_the_stored_token() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let token = reg.owner_of("kassel");
    let out = reg.cli(None, &["login", "--token", &token]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = reg.home.path().join(".config/gemeinwerk/credentials.toml");
    assert!(std::fs::read_to_string(&file).unwrap().contains(&token));
    let out = reg.cli(None, &["logout"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("was removed from"),
        "{}",
        stderr(&out)
    );
    assert!(!std::fs::read_to_string(&file).unwrap().contains(&token));
    // Publishing now needs a token again.
    let dir = pkg("kassel/a", "1.0.0");
    let out = reg.cli(None, &["publish", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let out = reg.cli_in("de_DE.UTF-8", None, &["logout"]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("ist kein Token gespeichert"),
        "{}",
        stderr(&out)
    );
}
