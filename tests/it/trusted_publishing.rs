//! Trusted publishing against a test issuer: ID tokens built here and
//! signed by the `openssl` command with real RSA keys, the issuer's
//! discovery document and key set served over HTTP on loopback (an
//! actix-web server in this process), a key rotation, and every refusal
//! with its own code and nothing changed. The registry checks signatures
//! as in production: nothing here turns that off.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::common::{self, *};
use gemeinwerk_server::store::schema::api_tokens;

/// An RSA key made by `openssl`, with its id and public JWK.
struct Key {
    kid: String,
    pem: PathBuf,
    jwk: Value,
}

impl Key {
    fn generate(dir: &Path, kid: &str) -> Key {
        let pem = dir.join(format!("{kid}.pem"));
        let out = Command::new("openssl")
            .args(["genrsa", "-traditional", "-out"])
            .arg(&pem)
            .arg("2048")
            .output()
            .expect("openssl must be installed for the tests");
        assert!(out.status.success(), "{}", stderr(&out));
        let out = Command::new("openssl")
            .args(["rsa", "-noout", "-modulus", "-in"])
            .arg(&pem)
            .output()
            .unwrap();
        let modulus = String::from_utf8(out.stdout).unwrap();
        let hex = modulus.trim().trim_start_matches("Modulus=");
        let n: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let jwk = json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(n), "e": "AQAB",
        });
        Key {
            kid: kid.to_string(),
            pem,
            jwk,
        }
    }

    /// A JWT with `header` and `claims`, signed RS256 by `openssl dgst`.
    fn sign_with_header(&self, header: Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut child = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(&self.pem)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(out.stdout))
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            json!({"alg": "RS256", "typ": "JWT", "kid": self.kid}),
            claims,
        )
    }
}

/// A JWT signed HS256 with `secret`, by `openssl dgst -hmac`.
fn hs256(secret: &str, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input");
    std::fs::write(&file, &input).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-binary", "-hmac", secret])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(out.stdout))
}

/// The issuer: `/.well-known/openid-configuration` and `/jwks` with the
/// keys it publishes now; under `/garbage` a discovery document that is
/// none.
struct Issuer {
    url: String,
    published: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<Mutex<u32>>,
}

impl Issuer {
    fn start() -> Issuer {
        use actix_web::{web, App, HttpResponse, HttpServer};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let published: Arc<Mutex<Vec<Value>>> = Arc::default();
        let fetches: Arc<Mutex<u32>> = Arc::default();
        let (keys, count, base) = (published.clone(), fetches.clone(), url.clone());
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                HttpServer::new(move || {
                    let (keys, count, base) = (keys.clone(), count.clone(), base.clone());
                    let discovery = base.clone();
                    App::new()
                        .route(
                            "/.well-known/openid-configuration",
                            web::get().to(move || {
                                let base = discovery.clone();
                                async move {
                                    HttpResponse::Ok().json(json!({
                                        "issuer": base, "jwks_uri": format!("{base}/jwks"),
                                        "id_token_signing_alg_values_supported": ["RS256"],
                                    }))
                                }
                            }),
                        )
                        .route(
                            "/jwks",
                            web::get().to(move || {
                                let (keys, count) = (keys.clone(), count.clone());
                                async move {
                                    *count.lock().unwrap() += 1;
                                    let keys = keys.lock().unwrap().clone();
                                    HttpResponse::Ok().json(json!({ "keys": keys }))
                                }
                            }),
                        )
                        .route(
                            "/garbage/.well-known/openid-configuration",
                            web::get()
                                .to(|| async { HttpResponse::Ok().body("<html>Wartung</html>") }),
                        )
                })
                .workers(1)
                .listen(listener)
                .unwrap()
                .run()
                .await
            })
        });
        Issuer {
            url,
            published,
            fetches,
        }
    }

    fn publish(&self, keys: &[&Key]) {
        *self.published.lock().unwrap() = keys.iter().map(|k| k.jwk.clone()).collect();
    }

    fn fetches(&self) -> u32 {
        *self.fetches.lock().unwrap()
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn jti() -> String {
    format!(
        "{}-{}",
        now(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    )
}

/// A GitLab job's ID token for the release tag `v1.0.0` of
/// `stadt-kassel/parkausweis` in environment `production`.
fn gitlab_claims(issuer: &str, audience: &str) -> Value {
    json!({
        "iss": issuer, "aud": audience, "sub": "project_path:stadt-kassel/parkausweis:ref_type:tag:ref:v1.0.0",
        "iat": now(), "nbf": now() - 5, "exp": now() + 300, "jti": jti(),
        "namespace_path": "stadt-kassel", "project_path": "stadt-kassel/parkausweis",
        "ref": "v1.0.0", "ref_type": "tag", "ref_protected": "true",
        "environment": "production", "pipeline_id": "4711", "user_login": "ci-bot",
    })
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

fn body(v: Value) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap()
}

fn exchange(reg: &TestRegistry, id_token: &str, package: Option<&str>) -> Response {
    reg.request(
        "POST",
        "/api/v1/trusted-publishing/token",
        None,
        Some(&body(json!({ "id_token": id_token, "package": package }))),
    )
}

fn start(backend: Backend, issuer: &Issuer) -> TestRegistry {
    let down = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let garbage = format!("{}/garbage", issuer.url);
    TestRegistry::start_with(
        backend,
        &[
            "--trusted-publishing-issuer",
            &issuer.url,
            "--trusted-publishing-issuer",
            &down,
            "--trusted-publishing-issuer",
            &garbage,
        ],
    )
}

fn the_whole_story(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (k1, k2, stranger) = (
        Key::generate(tmp.path(), "k1"),
        Key::generate(tmp.path(), "k2"),
        Key::generate(tmp.path(), "stranger"),
    );
    let issuer = Issuer::start();
    issuer.publish(&[&k1]);
    let reg = start(backend, &issuer);
    let owner = reg.owner_of("kassel");
    reg.user("kassel-pub", "kassel", "publisher");
    let publisher = reg.token("kassel-pub", &["--scope", "publish,yank,owners"]);

    let answer = reg.get("/api/v1/trusted-publishing/audience").json();
    let audience = answer["audience"].as_str().unwrap().to_string();
    assert_eq!(
        audience, reg.url,
        "the default audience is the registry's address"
    );
    assert!(answer["issuers"]
        .as_array()
        .unwrap()
        .contains(&json!(issuer.url)));

    // Registrations: refused when wrong, by whom may not, and nothing written.
    let register = |token: Option<&str>, v: Value| {
        reg.request(
            "POST",
            "/api/v1/namespaces/kassel/trusted-publishers",
            token,
            Some(&body(v)),
        )
    };
    let before = reg.snapshot();
    for (v, status, code) in [
        (
            json!({"issuer": "https://gitlab.example", "project": "stadt-kassel/parkausweis"}),
            400,
            "id_token_unknown_issuer",
        ),
        (
            json!({"issuer": issuer.url, "project": "parkausweis"}),
            400,
            "invalid_trusted_publisher",
        ),
        (
            json!({"issuer": issuer.url, "project": "a/../b"}),
            400,
            "invalid_trusted_publisher",
        ),
        (
            json!({"issuer": issuer.url, "project": "a/b", "package": "Park Ausweis"}),
            400,
            "invalid_trusted_publisher",
        ),
        (
            json!({"issuer": issuer.url, "project": "a/b", "ref_pattern": "main\nx"}),
            400,
            "invalid_trusted_publisher",
        ),
        (json!({"issuer": issuer.url}), 400, "bad_json"),
        (
            json!({"issuer": issuer.url, "project": "a/b", "extra": 1}),
            400,
            "bad_json",
        ),
    ] {
        let r = register(Some(&owner), v.clone());
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (status, code),
            "{v}: {}",
            r.text()
        );
    }
    let good = json!({"issuer": issuer.url, "project": "stadt-kassel/parkausweis", "package": "parkausweis", "ref_pattern": "v*", "environment": "production"});
    let r = register(Some(&publisher), good.clone());
    assert_eq!((r.status, r.error_code().as_str()), (403, "not_an_owner"));
    let r = register(None, good.clone());
    assert_eq!((r.status, r.error_code().as_str()), (401, "missing_token"));
    assert_eq!(
        reg.snapshot(),
        before,
        "no refused registration wrote anything"
    );

    let r = register(Some(&owner), good.clone());
    assert_eq!(r.status, 201, "{}", r.text());
    let registration = r.json();
    assert_eq!(registration["created_by"], "kassel-owner");
    let r = register(Some(&owner), good.clone());
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (409, "trusted_publisher_exists")
    );
    let list = reg.request(
        "GET",
        "/api/v1/namespaces/kassel/trusted-publishers",
        Some(&owner),
        None,
    );
    assert_eq!(
        list.json()["trusted_publishers"].as_array().unwrap().len(),
        1
    );

    // The exchange: a short-lived token that publishes this package.
    let claims = gitlab_claims(&issuer.url, &audience);
    let id_token = k1.sign(&claims);
    let r = exchange(&reg, &id_token, Some("kassel/parkausweis"));
    assert_eq!(r.status, 201, "{}", r.text());
    let made = r.json();
    let token = made["token"].as_str().unwrap().to_string();
    assert_eq!(made["package"], "parkausweis");
    let expires = chrono::NaiveDateTime::parse_from_str(
        made["expires_at"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.f",
    )
    .unwrap();
    let minutes = (expires - chrono::Utc::now().naive_utc()).num_minutes();
    assert!((14..=15).contains(&minutes), "{minutes}");

    let r = reg.publish_bytes(
        Some(&token),
        &archive_of(&pkg("kassel/parkausweis", "1.0.0")),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // It publishes nothing else and does nothing else.
    let before = reg.snapshot();
    let r = reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/anderes", "1.0.0")));
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (403, "outside_trusted_publisher"),
        "{}",
        r.text()
    );
    let r = reg.publish_bytes(
        Some(&token),
        &archive_of(&pkg("darmstadt/parkausweis", "1.0.0")),
    );
    assert_eq!(r.status / 100, 4, "{}", r.text());
    let r = reg.request(
        "DELETE",
        "/api/v1/packages/kassel/parkausweis/1.0.0/yank",
        Some(&token),
        None,
    );
    assert_eq!((r.status, r.error_code().as_str()), (403, "missing_scope"));
    let r = reg.request(
        "POST",
        "/api/v1/tokens",
        Some(&token),
        Some(&body(
            json!({"name": "x", "scopes": ["publish"], "expires_in_days": 1}),
        )),
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (403, "trusted_token_limited")
    );
    let r = reg.request(
        "GET",
        "/api/v1/namespaces/kassel/trusted-publishers",
        Some(&token),
        None,
    );
    assert_eq!((r.status, r.error_code().as_str()), (403, "missing_scope"));
    assert_eq!(reg.get("/api/v1/packages/kassel/anderes").status, 404);
    assert_eq!(
        reg.snapshot(),
        before,
        "nothing outside the registration was written"
    );

    // Every refusal of an ID token has its own code, and writes nothing.
    let sign = |changes: Value| k1.sign(&with(gitlab_claims(&issuer.url, &audience), changes));
    let tampered = {
        let good = sign(json!({}));
        let other = sign(json!({"ref": "v9.9.9"}));
        let (head, _) = good.rsplit_once('.').unwrap();
        let (_, sig) = other.rsplit_once('.').unwrap();
        format!("{head}.{sig}")
    };
    let unsigned = {
        let claims = gitlab_claims(&issuer.url, &audience);
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    };
    // An HMAC keyed with the public key: the classic confusion of a
    // verifier that takes the algorithm from the token.
    let hmac = hs256(&k1.jwk.to_string(), &gitlab_claims(&issuer.url, &audience));
    let cases: Vec<(String, Option<&str>, u16, &str)> = vec![
        (
            id_token.clone(),
            Some("kassel/parkausweis"),
            401,
            "id_token_replayed",
        ),
        (tampered, None, 401, "id_token_bad_signature"),
        (unsigned, None, 401, "id_token_algorithm_refused"),
        (hmac, None, 401, "id_token_algorithm_refused"),
        (
            stranger.sign(&gitlab_claims(&issuer.url, &audience)),
            None,
            401,
            "id_token_unknown_key",
        ),
        (
            sign(json!({"iss": "https://gitlab.example"})),
            None,
            401,
            "id_token_unknown_issuer",
        ),
        (
            sign(json!({"aud": "https://other-registry.example"})),
            None,
            401,
            "id_token_wrong_audience",
        ),
        (
            sign(json!({"iat": now() - 900, "nbf": now() - 900, "exp": now() - 60})),
            None,
            401,
            "id_token_expired",
        ),
        (
            sign(json!({"nbf": now() + 600})),
            None,
            401,
            "id_token_not_yet_valid",
        ),
        (
            sign(json!({"project_path": "stadt-kassel/anderes"})),
            None,
            403,
            "no_trusted_publisher",
        ),
        (
            sign(json!({})),
            Some("kassel/anderes"),
            403,
            "no_trusted_publisher",
        ),
        (
            sign(json!({"ref": "main", "ref_type": "branch"})),
            None,
            403,
            "trusted_publisher_ref_refused",
        ),
        (
            sign(json!({"environment": "staging"})),
            None,
            403,
            "trusted_publisher_environment_refused",
        ),
        (sign(json!({"jti": null})), None, 401, "id_token_malformed"),
        ("not.a.token".to_string(), None, 401, "id_token_malformed"),
        (
            sign(json!({})),
            Some("Kassel Park"),
            400,
            "invalid_package_name",
        ),
    ];
    let before = reg.snapshot();
    for (id_token, package, status, code) in &cases {
        let r = exchange(&reg, id_token, *package);
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (*status, *code),
            "{}",
            r.text()
        );
    }
    assert_eq!(reg.snapshot(), before, "no refused exchange wrote anything");

    // The issuer rotates its keys: a token signed with the new key is
    // accepted once the registry has fetched the keys again, one signed
    // with the withdrawn key no longer.
    issuer.publish(&[&k2]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let fetches = issuer.fetches();
    let rotated = k2.sign(&gitlab_claims(&issuer.url, &audience));
    let r = exchange(&reg, &rotated, None);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(issuer.fetches(), fetches + 1, "one fetch for the new key");
    let r = exchange(&reg, &k1.sign(&gitlab_claims(&issuer.url, &audience)), None);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (401, "id_token_unknown_key")
    );

    // A provider that is down, or answers garbage: 503, nothing written.
    let before = reg.snapshot();
    for iss in [reg_issuer(&reg, 1), format!("{}/garbage", issuer.url)] {
        let r = exchange(
            &reg,
            &k2.sign(&with(
                gitlab_claims(&issuer.url, &audience),
                json!({"iss": iss}),
            )),
            None,
        );
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (503, "provider_unavailable"),
            "{}",
            r.text()
        );
    }
    assert_eq!(reg.snapshot(), before);

    // A token past its expiry is refused like any other.
    let short = exchange(&reg, &k2.sign(&gitlab_claims(&issuer.url, &audience)), None).json()
        ["token"]
        .as_str()
        .unwrap()
        .to_string();
    {
        let db = reg.db();
        let mut conn = db.conn().unwrap();
        diesel::update(api_tokens::table.filter(
            api_tokens::token_hash.eq(gemeinwerk_server::registry::secrets::digest(&short)),
        ))
        .set(api_tokens::expires_at.eq(Some(
            chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1),
        )))
        .execute(&mut *conn)
        .unwrap();
    }
    let r = reg.publish_bytes(
        Some(&short),
        &archive_of(&pkg("kassel/parkausweis", "1.0.1")),
    );
    assert_eq!((r.status, r.error_code().as_str()), (401, "expired_token"));

    // Removing the registration revokes the tokens it made at once.
    let live = exchange(&reg, &k2.sign(&gitlab_claims(&issuer.url, &audience)), None).json()
        ["token"]
        .as_str()
        .unwrap()
        .to_string();
    let id = registration["id"].as_i64().unwrap();
    let r = reg.request(
        "DELETE",
        &format!("/api/v1/namespaces/kassel/trusted-publishers/{id}"),
        Some(&publisher),
        None,
    );
    assert_eq!((r.status, r.error_code().as_str()), (403, "not_an_owner"));
    let r = reg.request(
        "DELETE",
        &format!("/api/v1/namespaces/kassel/trusted-publishers/{id}"),
        Some(&owner),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = reg.publish_bytes(
        Some(&live),
        &archive_of(&pkg("kassel/parkausweis", "1.0.1")),
    );
    assert_eq!((r.status, r.error_code().as_str()), (401, "revoked_token"));
    let r = reg.request(
        "DELETE",
        &format!("/api/v1/namespaces/kassel/trusted-publishers/{id}"),
        Some(&owner),
        None,
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (404, "trusted_publisher_not_found")
    );
    let r = exchange(&reg, &k2.sign(&gitlab_claims(&issuer.url, &audience)), None);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (403, "no_trusted_publisher")
    );

    // The audit log tells who registered, which pipeline published, and
    // the removal.
    let audit = reg
        .request(
            "GET",
            "/api/v1/namespaces/kassel/audit?limit=100",
            Some(&owner),
            None,
        )
        .json();
    let entries = audit["entries"].as_array().unwrap();
    let find = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {entries:?}"))
            .clone()
    };
    assert_eq!(find("trusted_publisher_add")["actor"], "kassel-owner");
    let exchanged = find("trusted_token_create");
    assert_eq!(exchanged["details"]["pipeline_id"], "4711");
    assert_eq!(exchanged["details"]["ref"], "v1.0.0");
    let published = entries
        .iter()
        .find(|e| e["action"] == "publish" && e["target"] == "kassel/parkausweis@1.0.0")
        .unwrap();
    let trusted = &published["details"]["trusted_publishing"];
    assert_eq!(
        (
            trusted["issuer"].as_str(),
            trusted["project"].as_str(),
            trusted["ref"].as_str(),
            trusted["pipeline_id"].as_str()
        ),
        (
            Some(issuer.url.as_str()),
            Some("stadt-kassel/parkausweis"),
            Some("v1.0.0"),
            Some("4711")
        )
    );
    // Every token it made that was not revoked: the first, the one after
    // the rotation, the expired one and the live one.
    assert_eq!(
        find("trusted_publisher_remove")["details"]["revoked_tokens"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

/// The n-th issuer the registry was started with.
fn reg_issuer(reg: &TestRegistry, n: usize) -> String {
    reg.get("/api/v1/trusted-publishing/audience").json()["issuers"][n]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_whole_story_sqlite() {
    the_whole_story(Backend::Sqlite);
}

#[test]
fn the_whole_story_postgres() {
    the_whole_story(Backend::Postgres);
}

/// `gemeinwerk publish` in a GitLab job: no token, the job's ID token in
/// `GEMEINWERK_ID_TOKEN`; the registration covers the whole namespace.
#[test]
fn the_cli_publishes_from_a_gitlab_job_with_its_id_token() {
    let tmp = tempfile::tempdir().unwrap();
    let key = Key::generate(tmp.path(), "ci");
    let issuer = Issuer::start();
    issuer.publish(&[&key]);
    let reg = start(Backend::Sqlite, &issuer);
    let owner = reg.owner_of("kassel");
    let r = reg.request(
        "POST",
        "/api/v1/namespaces/kassel/trusted-publishers",
        Some(&owner),
        Some(&body(json!({"issuer": issuer.url, "project": "stadt-kassel/formulare", "ref_pattern": "main"}))),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let claims = with(
        gitlab_claims(&issuer.url, &reg.url),
        json!({"project_path": "stadt-kassel/formulare", "ref": "main", "ref_type": "branch", "environment": null}),
    );
    let dir = pkg("kassel/hundesteuer", "1.0.0");
    let publish = |id_token: Option<&str>| {
        let mut cmd = Command::new(common::bin());
        cmd.args(["publish", dir.path_str()])
            .env("GEMEINWERK_REGISTRY", &reg.url)
            .env("HOME", tmp.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("GEMEINWERK_TOKEN")
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
            .env("LANG", "C");
        match id_token {
            Some(t) => cmd.env("GEMEINWERK_ID_TOKEN", t),
            None => cmd.env_remove("GEMEINWERK_ID_TOKEN"),
        };
        cmd.output().unwrap()
    };
    let out = publish(None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no API token"), "{}", stderr(&out));
    let id_token = key.sign(&claims);
    let out = publish(Some(&id_token));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(reg.get("/api/v1/packages/kassel/hundesteuer").status, 200);
    // The same job token again: refused, with the registry's reason.
    let out = publish(Some(&id_token));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exchanged before"),
        "{}",
        stderr(&out)
    );
}
