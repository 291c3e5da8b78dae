//! The S3 blob store's start-up checks against the test S3 server: a wrong
//! setting stops `serve` with a message that names it, and nothing is
//! written. (What the store does once running is tested by the bodies of
//! `every_blob_store!` on both backends.)

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, Blobs, TestRegistry};

/// Starts `serve` on an empty data dir with `args` and the test key (or
/// `key` instead); it must fail. Returns the exit code and stderr.
fn failed_start(data: &Path, args: &[&str], key: Option<(&str, &str)>) -> (Option<i32>, String) {
    let s3 = common::s3_env();
    let (id, secret) = key.unwrap_or((&s3.key_id, &s3.secret));
    let mut cmd = Command::new(common::bin());
    // Without waiting: an unreachable store stops the start at once.
    cmd.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--wait-for-stores-secs",
        "0",
        "--data-dir",
        data.to_str().unwrap(),
    ])
    .args(args)
    .env("RUST_LOG", "warn")
    .env_remove("GEMEINWERK_BLOB_STORE")
    .env_remove("GEMEINWERK_S3_ENDPOINT")
    .env_remove("GEMEINWERK_S3_REGION")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_")) {
        cmd.env_remove(k);
    }
    if !id.is_empty() {
        cmd.env("AWS_ACCESS_KEY_ID", id)
            .env("AWS_SECRET_ACCESS_KEY", secret);
    }
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("serve {args:?} did not stop");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `serve` with `args` must stop with exit code 2, say `expected` and
/// leave no data dir behind.
fn refused(data: &Path, args: &[&str], key: Option<(&str, &str)>, expected: &str) {
    let (code, err) = failed_start(data, args, key);
    assert_eq!(code, Some(2), "{args:?}: {err}");
    assert!(
        err.contains(expected),
        "{args:?}: expected {expected:?} in {err}"
    );
    assert!(!data.exists(), "{args:?}: the data dir was created");
}

#[test]
fn a_wrong_s3_setting_stops_the_start_names_the_setting_and_writes_nothing() {
    let s3 = common::s3_env();
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let bucket = format!("s3://{}/t/start-checks", s3.bucket);
    let (endpoint, region) = (s3.endpoint.as_str(), s3.region.as_str());
    let with = |blob_store: &str, endpoint: &str, region: &str| {
        [
            "--blob-store",
            blob_store,
            "--s3-endpoint",
            endpoint,
            "--s3-region",
            region,
        ]
        .map(str::to_string)
    };
    let args = with(&bucket, "http://127.0.0.1:1", region);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(
        &data,
        &args,
        None,
        "cannot reach the S3 endpoint http://127.0.0.1:1 (--s3-endpoint",
    );

    let args = with("s3://gemeinwerk-no-such-bucket", endpoint, region);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(
        &data,
        &args,
        None,
        "the bucket \"gemeinwerk-no-such-bucket\" does not exist",
    );

    let args = with(&bucket, endpoint, region);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let wrong_secret = "0".repeat(64);
    refused(
        &data,
        &args,
        Some((&s3.key_id, &wrong_secret)),
        "refused the credentials for bucket",
    );
    refused(
        &data,
        &args,
        Some(("", "")),
        "has no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    );

    let args = with(&bucket, endpoint, "eu-central-1");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(
        &data,
        &args,
        None,
        "expects another region than \"eu-central-1\" (--s3-region",
    );

    refused(
        &data,
        &["--blob-store", "gemeinwerk-test"],
        None,
        "expected s3://BUCKET or s3://BUCKET/PREFIX",
    );
    refused(
        &data,
        &["--s3-endpoint", endpoint],
        None,
        "--s3-endpoint and --s3-region need --blob-store s3://BUCKET",
    );
}

#[test]
fn a_bucket_prefix_holding_foreign_objects_is_refused() {
    // A registry's archives under PREFIX/inner: at PREFIX, `inner/` is a
    // folder that is not a shard, as another application's would be.
    let inner = TestRegistry::start_on(common::Backend::Sqlite, Blobs::S3, &[]);
    let token = inner.owner_of("kassel");
    let r = inner.publish_bytes(
        Some(&token),
        &common::archive_of(&common::pkg("kassel/a", "1.0.0")),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let prefix = inner.s3_prefix();
    let outer = prefix.rsplit_once('/').unwrap().0;
    let s3 = common::s3_env();
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let url = format!("s3://{}/{outer}", s3.bucket);
    let (code, err) = failed_start(
        &data,
        &[
            "--blob-store",
            &url,
            "--s3-endpoint",
            &s3.endpoint,
            "--s3-region",
            &s3.region,
        ],
        None,
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not gemeinwerk archives"), "{err}");
    assert!(
        err.contains("give the registry a bucket or a prefix of its own"),
        "{err}"
    );
    assert!(!data.exists());
}

#[test]
fn the_object_store_failing_during_a_publish_gives_503_and_writes_nothing() {
    let link = common::Link::to(&common::s3_env().endpoint);
    let mut reg = TestRegistry::start_on(common::Backend::Postgres, Blobs::S3, &[]);
    reg.stop();
    reg.s3_endpoint = Some(format!("http://127.0.0.1:{}", link.port));
    reg.launch();
    let token = reg.owner_of("kassel");
    let health = reg.get("/healthz").json();
    assert_eq!(health["blob_store"], "ok", "{health}");

    let before = reg.snapshot();
    link.cut();
    let started = Instant::now();
    let r = reg.publish_bytes(
        Some(&token),
        &common::archive_of(&common::pkg("kassel/a", "1.0.0")),
    );
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.error_code(), "blob_store_unavailable");
    assert!(
        r.error_detail().contains("try again"),
        "{}",
        r.error_detail()
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the publish hung for {:?}",
        started.elapsed()
    );
    // Reads that need no archive go on; /healthz reports the store.
    assert_eq!(reg.get("/index/kassel/a").status, 404);
    let health = reg.get("/healthz");
    assert_eq!(health.status, 200);
    assert_eq!(
        health.json()["blob_store"],
        "unreachable",
        "{}",
        health.text()
    );
    assert!(
        health.text().contains("the blob store does not answer"),
        "{}",
        health.text()
    );
    let metrics = reg.get("/metrics").text();
    let errors: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("gemeinwerk_blob_store_errors_total "))
        .expect("the blob store error counter")
        .parse()
        .unwrap();
    assert!(
        errors >= 2,
        "{errors} errors counted (the publish and the health check)"
    );
    link.mend();
    assert_eq!(reg.snapshot(), before, "the failed publish wrote something");

    // The store is back: the same publish goes through, no restart.
    let r = reg.publish_bytes(
        Some(&token),
        &common::archive_of(&common::pkg("kassel/a", "1.0.0")),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(reg.get("/healthz").json()["blob_store"], "ok");
}

/// `serve` on a free port with `args`, its stderr to the test's.
fn serve_in_background(args: &[String], env: &[(&str, &str)]) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(common::bin());
    cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(args)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    (cmd.spawn().unwrap(), format!("http://127.0.0.1:{port}"))
}

/// /healthz of `url`: status and body, once the port answers.
fn health(url: &str) -> (u16, serde_json::Value) {
    let started = Instant::now();
    loop {
        match ureq::get(&format!("{url}/healthz")).call() {
            Ok(r) => return (r.status(), r.into_json().unwrap()),
            Err(ureq::Error::Status(code, r)) => return (code, r.into_json().unwrap()),
            Err(_) => {
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "{url} never answered"
                );
                std::thread::sleep(Duration::from_millis(25));
            }
        }
    }
}

fn until_healthy(url: &str) {
    let started = Instant::now();
    while health(url).0 != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "{url} did not recover"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_node_started_while_its_stores_are_down_waits_answers_503_and_recovers() {
    let s3 = common::s3_env();
    let work = tempfile::tempdir().unwrap();

    // The object store is down at start.
    let store = common::Link::cut_to(&s3.endpoint);
    let data = work.path().join("s3");
    let args: Vec<String> = [
        "--data-dir",
        data.to_str().unwrap(),
        "--blob-store",
        &format!("s3://{}/t/waiting-{}", s3.bucket, std::process::id()),
        "--s3-endpoint",
        &format!("http://127.0.0.1:{}", store.port),
        "--s3-region",
        &s3.region,
        "--wait-for-stores-secs",
        "90",
    ]
    .map(str::to_string)
    .to_vec();
    let (mut node, url) = serve_in_background(
        &args,
        &[
            ("AWS_ACCESS_KEY_ID", &s3.key_id),
            ("AWS_SECRET_ACCESS_KEY", &s3.secret),
        ],
    );
    let (code, body) = health(&url);
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["status"], "starting");
    assert!(
        body["reason"].as_str().unwrap().contains("--s3-endpoint"),
        "{body}"
    );
    let api = ureq::get(&format!("{url}/api/v1/search?q=x"))
        .call()
        .unwrap_err();
    assert!(matches!(api, ureq::Error::Status(503, _)));
    assert!(
        !data.exists(),
        "the data dir was made while the store was down"
    );
    store.mend();
    until_healthy(&url);
    assert!(data.exists());
    let _ = node.kill();
    let _ = node.wait();

    // PostgreSQL is down at start.
    let reg = TestRegistry::start(common::Backend::Postgres);
    let pg = common::Link::cut_to("127.0.0.1:5432");
    let through_link = reg
        .database_url
        .replace("127.0.0.1:5432", &format!("127.0.0.1:{}", pg.port));
    assert_ne!(
        through_link, reg.database_url,
        "the test's URL names 127.0.0.1:5432"
    );
    let data = work.path().join("pg");
    let args: Vec<String> = [
        "--data-dir",
        data.to_str().unwrap(),
        "--database-url",
        &through_link,
        "--wait-for-stores-secs",
        "90",
    ]
    .map(str::to_string)
    .to_vec();
    let (mut node, url) = serve_in_background(&args, &[]);
    let (code, body) = health(&url);
    assert_eq!(code, 503, "{body}");
    assert!(
        body["reason"].as_str().unwrap().contains("--database-url"),
        "{body}"
    );
    pg.mend();
    until_healthy(&url);
    let _ = node.kill();
    let _ = node.wait();

    // Waiting does not mend a wrong password: that stops at once.
    let wrong = common::Link::to("127.0.0.1:5432");
    let bad_db = reg
        .database_url
        .replace("127.0.0.1:5432", &format!("127.0.0.1:{}", wrong.port))
        .replace("/gw_", "/no_such_db_gw_");
    let data = work.path().join("bad");
    let args: Vec<String> = [
        "--data-dir",
        data.to_str().unwrap(),
        "--database-url",
        &bad_db,
        "--wait-for-stores-secs",
        "90",
    ]
    .map(str::to_string)
    .to_vec();
    let started = Instant::now();
    let (mut node, _) = serve_in_background(&args, &[]);
    let status = node.wait().unwrap();
    assert!(!status.success());
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "a store that refuses this client was waited for"
    );
}
