//! The authorization matrix: every mutating endpoint with every kind of bad
//! token answers 401 or 403 with a stable code, and changes nothing.

use diesel::prelude::*;
use gemeinwerk_server::store::schema::api_tokens;
use gemeinwerk_server::store::{Db, DbUrl};

use crate::both_backends;
use crate::common::{self, *};

struct Endpoint {
    method: &'static str,
    path: &'static str,
    body: Option<Vec<u8>>,
    /// The scope it needs; a token with every other scope must fail.
    scope: &'static str,
    owners_only: bool,
}

fn endpoints() -> Vec<Endpoint> {
    let archive = archive_of(&pkg("kassel/a", "1.1.0"));
    vec![
        Endpoint {
            method: "PUT",
            path: "/api/v1/packages/new",
            body: Some(archive),
            scope: "publish",
            owners_only: false,
        },
        Endpoint {
            method: "DELETE",
            path: "/api/v1/packages/kassel/a/1.0.0/yank",
            body: None,
            scope: "yank",
            owners_only: false,
        },
        Endpoint {
            method: "PUT",
            path: "/api/v1/packages/kassel/a/1.0.0/unyank",
            body: None,
            scope: "yank",
            owners_only: false,
        },
        Endpoint {
            method: "PUT",
            path: "/api/v1/packages/kassel/a/deprecate",
            body: Some(br#"{"message":"bitte kassel/b nutzen"}"#.to_vec()),
            scope: "yank",
            owners_only: false,
        },
        Endpoint {
            method: "DELETE",
            path: "/api/v1/packages/kassel/a/deprecate",
            body: None,
            scope: "yank",
            owners_only: false,
        },
        Endpoint {
            method: "POST",
            path: "/api/v1/packages/kassel/a/advisories",
            body: Some(br#"{"kind":"fehler","severity":"niedrig","text":"Feld falsch","affected":"=1.0.0"}"#.to_vec()),
            scope: "yank",
            owners_only: false,
        },
        Endpoint {
            method: "PUT",
            path: "/api/v1/namespaces/kassel/members",
            body: Some(br#"{"login":"stranger","role":"owner"}"#.to_vec()),
            scope: "owners",
            owners_only: true,
        },
        Endpoint {
            method: "DELETE",
            path: "/api/v1/namespaces/kassel/members/kassel-owner",
            body: None,
            scope: "owners",
            owners_only: true,
        },
        Endpoint {
            method: "DELETE",
            path: "/api/v1/namespaces/kassel/members/kassel-owner/sessions",
            body: None,
            scope: "owners",
            owners_only: true,
        },
        Endpoint {
            method: "GET",
            path: "/api/v1/namespaces/kassel/audit",
            body: None,
            scope: "owners",
            owners_only: true,
        },
        Endpoint {
            method: "GET",
            path: "/api/v1/namespaces/kassel/tokens",
            body: None,
            scope: "owners",
            owners_only: true,
        },
        Endpoint {
            method: "DELETE",
            path: "/api/v1/namespaces/kassel/tokens/1",
            body: None,
            scope: "owners",
            owners_only: true,
        },
        Endpoint {
            method: "GET",
            path: "/api/v1/namespaces/kassel/trusted-publishers",
            body: None,
            scope: "owners",
            owners_only: true,
        },
        Endpoint {
            method: "POST",
            path: "/api/v1/namespaces/kassel/trusted-publishers",
            body: Some(
                br#"{"issuer":"https://gitlab.com","project":"stadt-kassel/formulare"}"#.to_vec(),
            ),
            scope: "owners",
            owners_only: true,
        },
        Endpoint {
            method: "DELETE",
            path: "/api/v1/namespaces/kassel/trusted-publishers/1",
            body: None,
            scope: "owners",
            owners_only: true,
        },
    ]
}

fn all_scopes_but(scope: &str) -> String {
    ["publish", "yank", "owners"]
        .iter()
        .filter(|s| **s != scope)
        .copied()
        .collect::<Vec<_>>()
        .join(",")
}

both_backends! {
    fn every_bad_token_is_refused_and_changes_nothing(reg) {
        let owner = reg.owner_of("kassel");
        reg.namespace("darmstadt");
        reg.user("stranger", "darmstadt", "owner");
        reg.user("kassel-pub", "kassel", "publisher");
        reg.admin_ok(&["member", "add", "darmstadt", "kassel-owner", "--role", "owner"]);
        assert_eq!(reg.publish_bytes(Some(&owner), &archive_of(&pkg("kassel/a", "1.0.0"))).status, 200);

        let all = ["--scope", "publish,yank,owners"];
        let revoked = reg.token("kassel-owner", &all);
        reg.admin_ok(&["token", "revoke", &revoked]);
        let expired = reg.token("kassel-owner", &[&all[..], &["--expires-in", "1d"]].concat());
        {
            let db = Db::open(&DbUrl::parse(&reg.database_url)).unwrap();
            let mut conn = db.conn().unwrap();
            diesel::update(api_tokens::table.filter(api_tokens::token_hash.eq(gemeinwerk_server::registry::secrets::digest(&expired))))
                .set(api_tokens::expires_at.eq(Some(chrono::Utc::now().naive_utc() - chrono::Duration::hours(1))))
                .execute(&mut *conn)
                .unwrap();
        }
        let other_namespace = reg.token("kassel-owner", &["--scope", "publish,yank,owners", "--namespace", "darmstadt"]);
        let not_a_member = reg.token("stranger", &all);
        let publisher = reg.token("kassel-pub", &all);
        let unknown = format!("gw_{}", "0".repeat(64));

        let before = reg.snapshot();
        let mut checked = 0;
        for e in endpoints() {
            let no_scope = reg.token("kassel-owner", &["--scope", &all_scopes_but(e.scope)]);
            let mut cases: Vec<(Option<&str>, u16, &str)> = vec![
                (None, 401, "missing_token"),
                (Some("gw_not-a-token"), 401, "malformed_token"),
                (Some(&unknown), 401, "unknown_token"),
                (Some(&revoked), 401, "revoked_token"),
                (Some(&expired), 401, "expired_token"),
                (Some(&no_scope), 403, "missing_scope"),
                (Some(&other_namespace), 403, "token_namespace_forbidden"),
                (Some(&not_a_member), 403, "not_a_member"),
            ];
            if e.owners_only {
                cases.push((Some(&publisher), 403, "not_an_owner"));
            }
            // The no-scope token's creation is an audited change of its own.
            let before_case = reg.snapshot();
            for (token, status, code) in cases {
                let r = reg.request(e.method, e.path, token, e.body.as_deref());
                assert_eq!((r.status, r.error_code().as_str()), (status, code), "{} {} with {code}: {}", e.method, e.path, r.text());
                if status == 401 {
                    assert!(r.header("www-authenticate").is_some());
                }
                checked += 1;
            }
            assert_eq!(reg.snapshot(), before_case, "{} {} changed something", e.method, e.path);
        }
        assert!(checked >= 8 * 8);
        assert_ne!(reg.snapshot(), before, "only the scope-less tokens were added");
    }

    fn revocation_takes_effect_at_once(reg) {
        let token = reg.owner_of("kassel");
        // The scheme is case-insensitive, and a bare token works too.
        let lower = format!("bearer {token}");
        let r = reg.request_with("PUT", "/api/v1/packages/new", None, Some(&archive_of(&pkg("kassel/a", "1.0.0"))), &[("Authorization", &lower)]);
        assert_eq!(r.status, 200, "{}", r.text());
        let r = reg.request_with("DELETE", "/api/v1/packages/kassel/a/1.0.0/yank", None, None, &[("Authorization", &token)]);
        assert_eq!(r.status, 200, "{}", r.text());
        reg.admin_ok(&["token", "revoke", &token]);
        let r = reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.1")));
        assert_eq!(r.status, 401);
        assert_eq!(r.error_code(), "revoked_token");
        let listed = reg.admin_ok(&["token", "list", "kassel-owner"]);
        assert!(listed.contains("revoked"), "{listed}");
        assert!(!listed.contains(&token), "a token is never shown again");
        assert!(!listed.contains("last used never"), "the publish recorded its use: {listed}");
    }
}
