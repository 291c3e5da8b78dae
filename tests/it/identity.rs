//! Sign-in with an OpenID Connect provider: a real one (`oidc-provider`
//! from npm, `tests/oidc-provider`, started here with its own client and
//! users), driven through the whole redirect flow by headless Chromium
//! (`tests/browser/oidc.mjs`); group mapping, sign-out, the refusals, and
//! removing a user.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::common::{self, *};
use crate::web::Visitor;
use gemeinwerk_server::store::schema::{api_tokens, user_identities, users, web_sessions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The provider, a child process that ends when this is dropped.
struct Provider {
    child: Child,
    url: String,
}

impl Provider {
    fn start(port: u16, redirect_uri: &str, users: Value) -> Provider {
        let dir = root().join("tests/oidc-provider");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "tests/oidc-provider/node_modules is missing: run `npm ci` there (scripts/setup-test-env does)"
        );
        let clients = json!([{
            "client_id": "gemeinwerk",
            "client_secret": "test-geheimnis",
            "redirect_uris": [redirect_uri],
        }]);
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_CLIENTS", clients.to_string())
            .env("OIDC_USERS", users.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node is missing: install Node.js (apt-get install nodejs npm)");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut line).unwrap();
        // Whatever it prints later must find the pipe open.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let url = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("the provider did not start: {line:?}"))
            .to_string();
        Provider { child, url }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn users(anna_groups: Value) -> Value {
    json!({
        "anna.muster": {
            "preferred_username": "Anna.Muster", "name": "Anna Muster",
            "email": "anna.muster@kassel.de", "groups": anna_groups,
        },
    })
}

fn identity_config(dir: &std::path::Path, port: u16, down: u16) -> PathBuf {
    let path = dir.join("identity.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[[provider]]
id = "test"
name = "Test-Anmeldedienst"
issuer = "http://127.0.0.1:{port}"
client_id = "gemeinwerk"
client_secret_env = "GW_TEST_OIDC_SECRET"

[[provider.role]]
group = "kassel-owners"
namespace = "kassel"
role = "owner"

[[provider.role]]
group = "kassel-redaktion"
namespace = "kassel"
role = "publisher"

[[provider]]
id = "kaputt"
name = "Abgeschalteter Dienst"
issuer = "http://127.0.0.1:{down}"
client_id = "gemeinwerk"

[[provider]]
id = "muell"
name = "Dienst, der Unsinn antwortet"
issuer = "http://127.0.0.1:{port}/muell"
client_id = "gemeinwerk"
"#
        ),
    )
    .unwrap();
    path
}

fn chromium() -> &'static str {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("Chromium is missing: install Debian's `chromium` (apt-get install chromium); .ci/run does")
}

/// Signs in through the browser; answers the script's report.
fn browser_sign_in(reg: &TestRegistry, login: &str) -> String {
    let dir = root().join("tests/browser");
    let out = Command::new("node")
        .arg(dir.join("oidc.mjs"))
        .env("GW_BASE_URL", &reg.url)
        .env("GW_CHROMIUM", chromium())
        .env("GW_LOGIN", login)
        .current_dir(&dir)
        .output()
        .expect("node is missing");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser sign-in failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    stdout
}

/// How many users, memberships, tokens, sessions and identities there are.
fn accounts(reg: &TestRegistry) -> [i64; 5] {
    use gemeinwerk_server::store::schema::members;
    let db = reg.db();
    let mut conn = db.conn().unwrap();
    let c = &mut *conn;
    [
        users::table.count().get_result(c).unwrap(),
        members::table.count().get_result(c).unwrap(),
        api_tokens::table.count().get_result(c).unwrap(),
        web_sessions::table.count().get_result(c).unwrap(),
        user_identities::table.count().get_result(c).unwrap(),
    ]
}

fn members_of(reg: &TestRegistry, ns: &str) -> Vec<(String, String)> {
    reg.get(&format!("/api/v1/namespaces/{ns}/members")).json()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["login"].as_str().unwrap().to_string(),
                m["role"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn sign_in_with_a_real_provider_in_headless_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = identity_config(tmp.path(), port, free_port());
    std::env::set_var("GW_TEST_OIDC_SECRET", "test-geheimnis");
    let reg = TestRegistry::start_with(
        Backend::Sqlite,
        &["--identity-config", config.to_str().unwrap()],
    );
    let owner = reg.owner_of("kassel");
    let redirect = format!("{}/anmelden/oidc/test/zurueck", reg.url);

    // The sign-in page names the providers.
    let page = reg.get("/anmelden").text();
    assert!(page.contains("Anmelden mit Test-Anmeldedienst"), "{page}");
    assert!(page.contains("href=\"/anmelden/oidc/test\""), "{page}");

    // A provider that is down, one that answers garbage, one not
    // configured: German pages, nothing written.
    let provider = Provider::start(port, &redirect, users(json!(["kassel-owners"])));
    assert_eq!(provider.url, format!("http://127.0.0.1:{port}"));
    let before = accounts(&reg);
    for (path, status, text) in [
        (
            "/anmelden/oidc/kaputt",
            503,
            "Anmeldedienst nicht erreichbar",
        ),
        (
            "/anmelden/oidc/muell",
            503,
            "Anmeldedienst nicht erreichbar",
        ),
        (
            "/anmelden/oidc/gibtsnicht",
            400,
            "Diesen Anmeldedienst kennt die Registry nicht",
        ),
    ] {
        let r = reg.get(path);
        assert_eq!(r.status, status, "{path}: {}", r.text());
        assert!(r.text().contains(text), "{path}: {}", r.text());
        assert!(r.text().contains("lang=\"de\""));
    }
    // A callback this registry did not start, or without its cookie.
    for path in [
        "/anmelden/oidc/test/zurueck?code=abc&state=erfunden",
        "/anmelden/oidc/test/zurueck",
        "/anmelden/oidc/test/zurueck?error=access_denied&state=x",
    ] {
        let r = reg.get(path);
        assert!(matches!(r.status, 400 | 401), "{path}: {}", r.status);
        assert!(r.text().contains("lang=\"de\""), "{path}");
        assert!(
            r.header("set-cookie")
                .is_none_or(|c| !c.contains("gw_sitzung=") || c.contains("Max-Age=0")),
            "{path}: no session"
        );
    }
    assert_eq!(
        accounts(&reg),
        before,
        "no refused sign-in made a user, member, token or session"
    );
    let failed: i64 = {
        use gemeinwerk_server::store::schema::audit_log;
        let db = reg.db();
        let mut conn = db.conn().unwrap();
        audit_log::table
            .filter(audit_log::action.eq("sign_in_failed"))
            .count()
            .get_result(&mut *conn)
            .unwrap()
    };
    assert_eq!(failed, 1, "the refused callback with a state is audited");

    // The whole flow in Chromium: the first sign-in makes the user, the
    // group mapping makes her owner of kassel; a replayed callback is
    // refused; sign-out ends the session and revokes its token.
    let report = browser_sign_in(&reg, "anna.muster");
    println!("{report}");
    assert!(members_of(&reg, "kassel").contains(&("anna-muster".into(), "owner".into())));
    {
        let db = reg.db();
        let mut conn = db.conn().unwrap();
        let identities: Vec<(String, String)> = user_identities::table
            .inner_join(users::table)
            .select((users::login, user_identities::provider))
            .load(&mut *conn)
            .unwrap();
        assert_eq!(
            identities,
            [("anna-muster".to_string(), "test".to_string())]
        );
        let sessions: i64 = web_sessions::table.count().get_result(&mut *conn).unwrap();
        assert_eq!(sessions, 0, "signed out: no session left");
        let live: i64 = api_tokens::table
            .inner_join(users::table)
            .filter(users::login.eq("anna-muster"))
            .filter(api_tokens::revoked_at.is_null())
            .count()
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(live, 0, "the session's token was revoked at sign-out");
    }
    let audit = reg
        .request(
            "GET",
            "/api/v1/namespaces/kassel/audit?limit=100",
            Some(&owner),
            None,
        )
        .json();
    let entries = audit["entries"].as_array().unwrap();
    let mapped = entries
        .iter()
        .find(|e| e["action"] == "member_add" && e["target"] == "anna-muster")
        .expect("the group mapping's role change is audited");
    assert_eq!(mapped["details"]["source"], "group_mapping");
    assert_eq!(mapped["details"]["group"], "kassel-owners");

    // Out of the group at the provider (restarted: new keys too, so the
    // registry must fetch them again): the next sign-in takes the role.
    drop(provider);
    let provider = Provider::start(port, &redirect, users(json!(["kassel-redaktion"])));
    browser_sign_in(&reg, "anna.muster");
    assert!(members_of(&reg, "kassel").contains(&("anna-muster".into(), "publisher".into())));
    drop(provider);
    let provider = Provider::start(port, &redirect, users(json!([])));
    browser_sign_in(&reg, "anna.muster");
    assert!(!members_of(&reg, "kassel")
        .iter()
        .any(|(l, _)| l == "anna-muster"));
    let audit = reg
        .request(
            "GET",
            "/api/v1/namespaces/kassel/audit?limit=100",
            Some(&owner),
            None,
        )
        .json();
    assert!(audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "member_remove" && e["target"] == "anna-muster"));

    // Removed by the operator: the account stays for the audit log, but
    // the person cannot sign in to it again.
    let out = reg.admin(&["user", "remove", "anna-muster"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = Command::new("node")
        .arg(root().join("tests/browser/oidc.mjs"))
        .env("GW_BASE_URL", &reg.url)
        .env("GW_CHROMIUM", chromium())
        .env("GW_LOGIN", "anna.muster")
        .env(
            "GW_EXPECT_REFUSAL",
            "gehört in der Registry schon einem anderen Konto",
        )
        .current_dir(root().join("tests/browser"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let removed: Option<chrono::NaiveDateTime> = {
        let db = reg.db();
        let mut conn = db.conn().unwrap();
        users::table
            .filter(users::login.eq("anna-muster"))
            .select(users::removed_at)
            .first(&mut *conn)
            .unwrap()
    };
    assert!(removed.is_some());
    drop(provider);
}

/// An owner invites a login, ends a member's sessions; both audited.
fn invitations_and_ending_sessions(reg: &TestRegistry) {
    let owner = reg.owner_of("kassel");
    let put = |v: Value| {
        reg.request(
            "PUT",
            "/api/v1/namespaces/kassel/members",
            Some(&owner),
            Some(&serde_json::to_vec(&v).unwrap()),
        )
    };
    let r = put(json!({"login": "bernd", "role": "publisher"}));
    assert_eq!((r.status, r.error_code().as_str()), (404, "user_not_found"));
    let r = put(json!({"login": "Bernd Becker", "role": "publisher", "invite": true}));
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid_login"));
    let r = put(json!({"login": "bernd", "role": "publisher", "invite": true}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(members_of(reg, "kassel").contains(&("bernd".into(), "publisher".into())));

    // Bernd signs in twice (with tokens here); his owner ends both.
    let token = reg.token("bernd", &["--scope", "publish"]);
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let mut v = Visitor::new(reg);
        assert_eq!(v.sign_in(&token).status, 303);
        sessions.push(v);
    }
    let r = reg.request(
        "DELETE",
        "/api/v1/namespaces/kassel/members/bernd/sessions",
        Some(&owner),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["ended"], 2);
    for v in &mut sessions {
        assert!(
            !v.get("/konto").text().contains("Angemeldet als"),
            "the session ended"
        );
    }
    let r = reg.request(
        "DELETE",
        "/api/v1/namespaces/kassel/members/niemand/sessions",
        Some(&owner),
        None,
    );
    assert_eq!(r.status, 404);
    let audit = reg
        .request("GET", "/api/v1/namespaces/kassel/audit", Some(&owner), None)
        .json();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"sessions_end") && actions.contains(&"user_add"),
        "{actions:?}"
    );

    // Removed: tokens dead, memberships gone, the login kept.
    let out = reg.admin(&["user", "remove", "bernd"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/x", "1.0.0")))
            .status,
        401
    );
    assert!(!members_of(reg, "kassel").iter().any(|(l, _)| l == "bernd"));
    let r = put(json!({"login": "bernd", "role": "publisher"}));
    assert_eq!((r.status, r.error_code().as_str()), (409, "user_removed"));
    let out = reg.admin(&["user", "remove", "bernd"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn invitations_and_ending_sessions_sqlite() {
    invitations_and_ending_sessions(&TestRegistry::start(Backend::Sqlite));
}

#[test]
fn invitations_and_ending_sessions_postgres() {
    invitations_and_ending_sessions(&TestRegistry::start(Backend::Postgres));
}

/// Wrong identity settings stop `serve` before any store is touched,
/// naming the setting.
#[test]
fn wrong_identity_settings_stop_the_start_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let missing = tmp.path().join("fehlt.toml");
    for (args, says) in [
        (
            vec![
                "--oidc-issuer",
                "https://sso.example",
                "--oidc-client-id",
                "gw",
                "--oidc-group-role",
                "kassel-owners",
            ],
            "--oidc-group-role",
        ),
        (
            vec![
                "--oidc-issuer",
                "https://sso.example",
                "--oidc-client-id",
                "gw",
                "--oidc-group-role",
                "g=kassel:chef",
            ],
            "neither owner nor publisher",
        ),
        (
            vec!["--trusted-publishing-issuer", "ftp://gitlab.example"],
            "--trusted-publishing-issuer",
        ),
        (
            vec!["--identity-config", missing.to_str().unwrap()],
            "--identity-config",
        ),
    ] {
        let out = Command::new(common::bin())
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--data-dir",
                data.to_str().unwrap(),
            ])
            .args(&args)
            .env_remove("GEMEINWERK_DATABASE_URL")
            .env("LANG", "C")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert!(!data.exists(), "{args:?} wrote the data dir");
    }
}
