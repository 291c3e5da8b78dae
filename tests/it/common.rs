//! Test helpers that read like the story: a real `gemeinwerk serve` on a
//! free port, over a real SQLite file or a fresh PostgreSQL database, driven
//! through HTTP and the real CLI binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use gemeinwerk_server::store::blobs::{BlobConfig, S3Config};
use gemeinwerk_server::store::models::{AuditEntry, Namespace, Package, TrustedPublisher, Version};
use gemeinwerk_server::store::schema::*;
use gemeinwerk_server::store::{BlobStore, Db, DbUrl};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_gemeinwerk");

/// The binary the helpers run: this build's, or another one named by
/// `GEMEINWERK_TEST_BIN` (a benchmark compares an earlier build that way).
pub fn bin() -> String {
    std::env::var("GEMEINWERK_TEST_BIN").unwrap_or_else(|_| BIN.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one test body against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($(fn $name:ident($reg:ident) $body:block)*) => {
        $(mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body($reg: &common::TestRegistry) $body
            #[test]
            fn sqlite() {
                let r = common::TestRegistry::start(common::Backend::Sqlite);
                body(&r);
            }
            #[test]
            fn postgres() {
                let r = common::TestRegistry::start(common::Backend::Postgres);
                body(&r);
            }
        })*
    };
}

/// Where the registry under test keeps its archives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blobs {
    /// The data dir's `blobs` folder (the default).
    Folder,
    /// A prefix of its own in the bucket of the test S3 server
    /// (`scripts/s3-server`, a real Garage node).
    S3,
}

/// Runs one test body against SQLite and PostgreSQL with the blob folder,
/// and against PostgreSQL with the S3 blob store: the bodies of the tests
/// that look at the blob store.
#[macro_export]
macro_rules! every_blob_store {
    ($(fn $name:ident($reg:ident) $body:block)*) => {
        $(mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body($reg: &common::TestRegistry) $body
            #[test]
            fn sqlite() {
                let r = common::TestRegistry::start(common::Backend::Sqlite);
                body(&r);
            }
            #[test]
            fn postgres() {
                let r = common::TestRegistry::start(common::Backend::Postgres);
                body(&r);
            }
            #[test]
            fn postgres_s3() {
                let r = common::TestRegistry::start_on(common::Backend::Postgres, common::Blobs::S3, &[]);
                body(&r);
            }
        })*
    };
}

/// The test S3 server's settings, from the env file `scripts/s3-server`
/// writes (`GEMEINWERK_TEST_S3_ENV`, default /var/tmp/gemeinwerk-s3/env).
#[derive(Debug, Clone)]
pub struct S3Env {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub key_id: String,
    pub secret: String,
}

pub fn s3_env() -> &'static S3Env {
    static ENV: std::sync::OnceLock<S3Env> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let path = std::env::var("GEMEINWERK_TEST_S3_ENV")
            .unwrap_or_else(|_| "/var/tmp/gemeinwerk-s3/env".into());
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("the S3 tests need the test S3 server: run scripts/s3-server (scripts/test does); {path}: {e}")
        });
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .unwrap_or_else(|| panic!("{path} has no {key}"))
                .trim()
                .to_string()
        };
        S3Env {
            endpoint: get("GEMEINWERK_TEST_S3_ENDPOINT"),
            region: get("GEMEINWERK_TEST_S3_REGION"),
            bucket: get("GEMEINWERK_TEST_S3_BUCKET"),
            key_id: get("AWS_ACCESS_KEY_ID"),
            secret: get("AWS_SECRET_ACCESS_KEY"),
        }
    })
}

pub fn postgres_base() -> String {
    std::env::var("GEMEINWERK_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct TestRegistry {
    pub backend: Backend,
    pub url: String,
    pub data_dir: tempfile::TempDir,
    pub home: tempfile::TempDir,
    pub database_url: String,
    pg_database: Option<String>,
    child: Option<Child>,
    pub extra_args: Vec<String>,
    /// The binary this registry's server, admin and client commands run.
    pub bin: String,
    pub blobs_in: Blobs,
    /// The S3 prefix of this registry's archives; the first node removes
    /// them when it is dropped.
    s3_prefix: String,
    owns_s3_prefix: bool,
    /// Another way to the test S3 server than its own address (a link
    /// that a test can cut); used from the next launch on.
    pub s3_endpoint: Option<String>,
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// Reads a whole answer; a header sent several times (Set-Cookie) has
    /// its values joined by newlines.
    pub fn read(response: ureq::Response) -> Response {
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .map(|n| {
                let v = response.all(&n).join("\n");
                (n, v)
            })
            .collect();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut response.into_reader(), &mut body).unwrap();
        Response {
            status,
            headers,
            body,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first error code of an error envelope.
    pub fn error_code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn error_detail(&self) -> String {
        self.json()["errors"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl TestRegistry {
    pub fn start(backend: Backend) -> TestRegistry {
        Self::start_with(backend, &[])
    }

    pub fn start_with(backend: Backend, extra_args: &[&str]) -> TestRegistry {
        Self::start_full(backend, Blobs::Folder, extra_args, &bin())
    }

    /// A registry served by another build (a benchmark runs an earlier
    /// build beside this one that way).
    pub fn start_bin(backend: Backend, extra_args: &[&str], bin: &str) -> TestRegistry {
        Self::start_full(backend, Blobs::Folder, extra_args, bin)
    }

    pub fn start_on(backend: Backend, blobs_in: Blobs, extra_args: &[&str]) -> TestRegistry {
        Self::start_full(backend, blobs_in, extra_args, &bin())
    }

    fn start_full(
        backend: Backend,
        blobs_in: Blobs,
        extra_args: &[&str],
        bin: &str,
    ) -> TestRegistry {
        let data_dir = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let (database_url, pg_database) = match backend {
            Backend::Sqlite => (
                data_dir.path().join("gemeinwerk.db").display().to_string(),
                None,
            ),
            Backend::Postgres => {
                let name = format!(
                    "gw_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    Instant::now().elapsed().as_nanos() % 1000
                );
                let mut admin = PgConnection::establish(&format!("{}/postgres", postgres_base()))
                    .expect("PostgreSQL must run on 127.0.0.1:5432 for the tests (see .ci/run)");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .unwrap();
                (format!("{}/{name}", postgres_base()), Some(name))
            }
        };
        let mut reg = TestRegistry {
            backend,
            url: String::new(),
            data_dir,
            home,
            database_url,
            pg_database,
            child: None,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            bin: bin.to_string(),
            blobs_in,
            s3_prefix: format!(
                "t/{}-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            ),
            owns_s3_prefix: blobs_in == Blobs::S3,
            s3_endpoint: None,
        };
        reg.launch();
        reg
    }

    /// A second `serve` node on the same database (its own data dir), as
    /// behind a load balancer. Dropping it stops it; the database stays.
    pub fn second_node(&self) -> TestRegistry {
        let mut node = TestRegistry {
            backend: self.backend,
            url: String::new(),
            data_dir: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
            database_url: self.database_url.clone(),
            pg_database: None,
            child: None,
            extra_args: self.extra_args.clone(),
            bin: self.bin.clone(),
            blobs_in: self.blobs_in,
            s3_prefix: self.s3_prefix.clone(),
            owns_s3_prefix: false,
            s3_endpoint: self.s3_endpoint.clone(),
        };
        node.launch();
        node
    }

    /// Starts the server process (again) on a new free port.
    pub fn launch(&mut self) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        self.launch_on(port);
    }

    /// Starts the server process again on the port it had, as a node behind
    /// a load balancer comes back.
    pub fn relaunch(&mut self) {
        let port: u16 = self.url.rsplit(':').next().unwrap().parse().unwrap();
        self.launch_on(port);
    }

    fn launch_on(&mut self, port: u16) {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--data-dir", self.data_dir.path().to_str().unwrap()])
            .args(["--database-url", &self.database_url]);
        self.blob_store_args(&mut cmd);
        let child = cmd
            .args(&self.extra_args)
            // GEMEINWERK_TEST_LOG=gemeinwerk=debug shows a test's server log.
            .env(
                "RUST_LOG",
                std::env::var("GEMEINWERK_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Ok(r) = ureq::get(&format!("{}/healthz", self.url)).call() {
                if r.status() == 200 {
                    break;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the server exited at start: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not start"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Stops the server with SIGTERM and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let started = Instant::now();
            while child.try_wait().unwrap().is_none() {
                if started.elapsed() > Duration::from_secs(20) {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Kills the server (SIGKILL): no graceful stop, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server (SIGTERM) from a shared reference, as the bodies of
    /// `both_backends!` have it; `Drop` reaps the process.
    pub fn halt(&self) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let started = Instant::now();
            while ureq::get(&format!("{}/healthz", self.url)).call().is_ok() {
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "the server did not stop"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            // The listener closes first; the job lanes may still claim for
            // a moment. A test that takes the queue over after `halt`
            // (nodes.rs) must not share it with them: wait for the exit.
            let stat = format!("/proc/{}/stat", child.id());
            let exited = || {
                std::fs::read_to_string(&stat).map_or(true, |s| {
                    s.rsplit_once(')')
                        .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
                })
            };
            while !exited() {
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "the server did not exit"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// The server's process id, to read its memory use from /proc.
    /// The API token of a namespace's demo account, from the file that
    /// `serve --demo` writes.
    pub fn demo_token(&self, namespace: &str) -> String {
        let tokens = std::fs::read_to_string(self.data().join("demo-tokens.toml")).unwrap();
        let table = format!("[{namespace}]");
        tokens
            .lines()
            .skip_while(|l| *l != table)
            .find_map(|l| l.strip_prefix("token = \""))
            .map(|t| t.trim_end_matches('"').to_string())
            .unwrap_or_else(|| panic!("the demo token of {namespace}"))
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server runs").id()
    }

    pub fn data(&self) -> &Path {
        self.data_dir.path()
    }

    /// The registry opened in this test's process on the server's data dir,
    /// database and blob store (no job runner): for tests and benchmarks
    /// that run jobs or publish without the server.
    pub fn open_locally(&self) -> gemeinwerk_server::registry::Registry {
        gemeinwerk_server::registry::Registry::open_with_blobs(
            self.data(),
            Some(&self.database_url),
            self.blob_store(),
            gemeinwerk_server::registry::RegistryConfig {
                limits: gemeinwerk_package::archive::ArchiveLimits::default(),
                base_url: "http://127.0.0.1:1".into(),
            },
        )
        .unwrap()
    }

    /// The value of a metric without labels in `/metrics`.
    pub fn metric(&self, name: &str) -> f64 {
        self.metrics(&[name])[0]
    }

    /// Several values of one read of /metrics, in the order named.
    pub fn metrics(&self, names: &[&str]) -> Vec<f64> {
        let text = self.get("/metrics").text();
        names
            .iter()
            .map(|name| {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("{name} ")))
                    .unwrap_or_else(|| panic!("{name} missing from /metrics"))
                    .parse()
                    .unwrap()
            })
            .collect()
    }

    // ---- the operator's commands -------------------------------------

    /// The flags and environment that point `serve` and `admin` at this
    /// registry's blob store.
    pub fn blob_store_args(&self, cmd: &mut Command) {
        if self.blobs_in == Blobs::S3 {
            let s3 = s3_env();
            cmd.args([
                "--blob-store",
                &format!("s3://{}/{}", s3.bucket, self.s3_prefix),
            ])
            .args([
                "--s3-endpoint",
                self.s3_endpoint.as_deref().unwrap_or(&s3.endpoint),
            ])
            .args(["--s3-region", &s3.region])
            .env("AWS_ACCESS_KEY_ID", &s3.key_id)
            .env("AWS_SECRET_ACCESS_KEY", &s3.secret);
        }
    }

    pub fn admin(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("admin")
            .args(["--data-dir", self.data().to_str().unwrap()])
            .args(["--database-url", &self.database_url]);
        self.blob_store_args(&mut cmd);
        let out = cmd
            .args(args)
            .env("RUST_LOG", "warn")
            // English whatever the developer's locale.
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C")
            .output()
            .unwrap();
        out
    }

    pub fn admin_ok(&self, args: &[&str]) -> String {
        let out = self.admin(args);
        assert!(
            out.status.success(),
            "admin {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn namespace(&self, slug: &str) -> &Self {
        self.admin_ok(&["namespace", "add", slug, "--name", &format!("Stadt {slug}")]);
        self
    }

    pub fn user(&self, login: &str, namespace: &str, role: &str) -> &Self {
        self.admin_ok(&["user", "add", login]);
        self.admin_ok(&["member", "add", namespace, login, "--role", role]);
        self
    }

    pub fn token(&self, login: &str, extra: &[&str]) -> String {
        let mut args = vec!["token", "create", login];
        args.extend_from_slice(extra);
        self.admin_ok(&args).trim().to_string()
    }

    /// A namespace with an owner, and that owner's all-scope token.
    pub fn owner_of(&self, namespace: &str) -> String {
        let login = format!("{namespace}-owner");
        self.namespace(namespace).user(&login, namespace, "owner");
        self.token(&login, &["--scope", "publish,yank,owners"])
    }

    // ---- the client ---------------------------------------------------

    pub fn cli(&self, token: Option<&str>, args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env("GEMEINWERK_REGISTRY", &self.url)
            .env("HOME", self.home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("GEMEINWERK_TOKEN")
            // English whatever the developer's locale; `cli_in` picks one.
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C")
            .stdin(Stdio::null());
        if let Some(t) = token {
            cmd.env("GEMEINWERK_TOKEN", t);
        }
        cmd.output().unwrap()
    }

    /// The CLI with `LANG` set to `lang`.
    pub fn cli_in(&self, lang: &str, token: Option<&str>, args: &[&str]) -> Output {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .env("GEMEINWERK_REGISTRY", &self.url)
            .env("HOME", self.home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("GEMEINWERK_TOKEN")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", lang)
            .stdin(Stdio::null());
        if let Some(t) = token {
            cmd.env("GEMEINWERK_TOKEN", t);
        }
        cmd.output().unwrap()
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Response {
        self.request_with(method, path, token, body, &[])
    }

    pub fn request_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut req = ureq::request(method, &format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let result = match body {
            Some(b) => req.send_bytes(b),
            None => req.call(),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        Response::read(response)
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, None, None)
    }

    pub fn publish_bytes(&self, token: Option<&str>, archive: &[u8]) -> Response {
        self.request("PUT", "/api/v1/packages/new", token, Some(archive))
    }

    // ---- looking at every store --------------------------------------

    pub fn db(&self) -> Db {
        Db::open(&DbUrl::parse(&self.database_url)).unwrap()
    }

    /// Waits until the job queue is empty, so the views have caught up.
    /// Waits until this node's search index has applied every change.
    pub fn wait_for_search_current(&self) {
        self.wait_for_search_current_within(Duration::from_secs(10))
    }

    pub fn wait_for_search_current_within(&self, limit: Duration) {
        let started = Instant::now();
        loop {
            let health = self.get("/healthz").json();
            if health["views"]["search"]["lag_changes"] == 0 {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "search did not catch up: {health}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_for_jobs(&self) {
        self.wait_for_jobs_within(Duration::from_secs(10))
    }

    pub fn wait_for_jobs_within(&self, limit: Duration) {
        let db = self.db();
        let started = Instant::now();
        loop {
            let mut conn = db.conn().unwrap();
            // Parked jobs wait for an operator, not for time.
            if !gemeinwerk_server::registry::jobs::any_pending(&mut conn).unwrap() {
                return;
            }
            assert!(started.elapsed() < limit, "jobs did not finish");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything a request could have changed: database rows (but the
    /// tokens' last use), stored blobs and the git index's head.
    pub fn snapshot(&self) -> String {
        self.wait_for_jobs();
        let db = self.db();
        let mut conn = db.conn().unwrap();
        let c = &mut *conn;
        let ns: Vec<Namespace> = namespaces::table
            .order(namespaces::id)
            .select(Namespace::as_select())
            .load(c)
            .unwrap();
        let pk: Vec<Package> = packages::table
            .order(packages::id)
            .select(Package::as_select())
            .load(c)
            .unwrap();
        let vs: Vec<Version> = versions::table
            .order(versions::id)
            .select(Version::as_select())
            .load(c)
            .unwrap();
        let au: Vec<AuditEntry> = audit_log::table
            .order(audit_log::id)
            .select(AuditEntry::as_select())
            .load(c)
            .unwrap();
        let mb: Vec<(i64, i64, String)> = members::table
            .order((members::namespace_id, members::user_id))
            .select((members::namespace_id, members::user_id, members::role))
            .load(c)
            .unwrap();
        let tk: Vec<(i64, Option<chrono::NaiveDateTime>)> = api_tokens::table
            .order(api_tokens::id)
            .select((api_tokens::id, api_tokens::revoked_at))
            .load(c)
            .unwrap();
        // Not last_seen_at: a page view may mark a session seen.
        let ws: Vec<(String, i64, String, chrono::NaiveDateTime)> = web_sessions::table
            .order(web_sessions::id_hash)
            .select((
                web_sessions::id_hash,
                web_sessions::token_id,
                web_sessions::csrf,
                web_sessions::created_at,
            ))
            .load(c)
            .unwrap();
        let deps: i64 = dependencies::table.count().get_result(c).unwrap();
        let jb: i64 = jobs::table.count().get_result(c).unwrap();
        let tp: Vec<TrustedPublisher> = trusted_publishers::table
            .order(trusted_publishers::id)
            .select(TrustedPublisher::as_select())
            .load(c)
            .unwrap();
        let tx: i64 = trusted_exchanges::table.count().get_result(c).unwrap();
        let adv: i64 = advisories::table.count().get_result(c).unwrap();
        let subs: Vec<(i64, Option<chrono::NaiveDateTime>)> = subscriptions::table
            .order(subscriptions::id)
            .select((subscriptions::id, subscriptions::paused_at))
            .load(c)
            .unwrap();
        let evs: i64 = subscription_events::table.count().get_result(c).unwrap();
        let dls: i64 = deliveries::table.count().get_result(c).unwrap();
        format!(
            "{ns:?}\n{pk:?}\n{vs:?}\n{au:?}\n{mb:?}\n{tk:?}\n{ws:?}\ndeps={deps} jobs={jb}\n{tp:?} exchanges={tx} advisories={adv}\nsubscriptions={subs:?} events={evs} deliveries={dls}\nblobs={:?}\ngit={:?}",
            self.blobs(),
            self.git_head()
        )
    }

    pub fn s3_prefix(&self) -> &str {
        &self.s3_prefix
    }

    /// This registry's blob store, opened as the server opens it.
    pub fn blob_store(&self) -> BlobStore {
        match self.blobs_in {
            Blobs::Folder => BlobStore::open(&self.data().join("blobs")).unwrap(),
            Blobs::S3 => {
                let s3 = s3_env();
                let config = S3Config {
                    bucket: s3.bucket.clone(),
                    prefix: self.s3_prefix.clone(),
                    endpoint: Some(s3.endpoint.clone()),
                    region: Some(s3.region.clone()),
                    credentials: Some((s3.key_id.clone(), s3.secret.clone())),
                };
                BlobStore::open_config(&BlobConfig::S3(config), self.data()).unwrap()
            }
        }
    }

    pub fn blobs(&self) -> Vec<String> {
        self.blob_store().list().unwrap()
    }

    /// Loses an archive, as a failed disk or a careless operator would.
    pub fn remove_blob(&self, cksum: &str) {
        self.blob_store().delete(cksum).unwrap();
        assert!(!self.blobs().contains(&cksum.to_string()));
    }

    /// Stores `bytes` under `name` whatever they hash to: a damaged or
    /// tampered archive, or an orphan left by a crash.
    pub fn put_blob_raw(&self, name: &str, bytes: &[u8]) {
        let store = self.blob_store();
        store.delete(name).unwrap();
        store.put(name, bytes).unwrap();
    }

    pub fn git_head(&self) -> Option<String> {
        let repo = git2::Repository::open_bare(self.data().join("git/index.git")).ok()?;
        repo.refname_to_id("refs/heads/main")
            .ok()
            .map(|o| o.to_string())
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.stop();
        if self.owns_s3_prefix && !std::thread::panicking() {
            let store = self.blob_store();
            for blob in store.list().unwrap_or_default() {
                let _ = store.delete(&blob);
            }
        }
        if let Some(name) = &self.pg_database {
            if let Ok(mut admin) = PgConnection::establish(&format!("{}/postgres", postgres_base()))
            {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// A package folder on disk, for the CLI.
pub struct PackageDir {
    pub dir: tempfile::TempDir,
}

impl PackageDir {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn path_str(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    pub fn write(&self, file: &str, content: &str) -> &Self {
        let p: PathBuf = self.dir.path().join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }
}

pub fn manifest(full_name: &str, version: &str, extra: &str) -> String {
    format!(
        "[package]\nname = \"{full_name}\"\nversion = \"{version}\"\nkind = \"form\"\n\
         description = \"Ein Testformular\"\nlicense = \"EUPL-1.2\"\nthemenfeld = \"mobilitaet_reisen\"\n{extra}"
    )
}

pub const FORM: &str =
    "[form]\ntitle = \"Testantrag\"\nvertrauensniveau = \"niedrig\"\naccounts = [\"BundID\"]\n\n\
[[field]]\nid = \"name\"\ntype = \"text\"\nlabel = \"Name\"\nrequired = true\n";

/// A small valid form package folder.
pub fn pkg(full_name: &str, version: &str) -> PackageDir {
    pkg_with(full_name, version, "")
}

pub fn pkg_with(full_name: &str, version: &str, extra_manifest: &str) -> PackageDir {
    let p = PackageDir {
        dir: tempfile::tempdir().unwrap(),
    };
    p.write(
        "gemeinwerk.toml",
        &manifest(full_name, version, extra_manifest),
    )
    .write("form.toml", FORM)
    .write("README.md", "# Testformular\n");
    p
}

/// The deterministic archive of a package folder, as the client builds it.
pub fn archive_of(dir: &PackageDir) -> Vec<u8> {
    gemeinwerk_client::folder::pack(dir.path())
        .unwrap()
        .unwrap_or_else(|d| panic!("test package invalid: {d:?}"))
        .archive
}

/// Runs stock git in `dir`; fails the test when git fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls the search (its index follows a change within about a second)
/// until `done` accepts the answer to `/api/v1/search?{query}`; returns how
/// long it took. A 503 (the index still being built at start-up) counts as
/// not yet. Fails with the last answer after `limit`.
/// The names search finds in `namespace`, all pages, and the status of
/// the last answer (200 unless search refused, e.g. 503 while it rebuilds).
pub fn searchable_names(
    reg: &TestRegistry,
    namespace: &str,
) -> (std::collections::BTreeSet<String>, u16) {
    let mut found = std::collections::BTreeSet::new();
    for page in 1.. {
        let r = reg.get(&format!(
            "/api/v1/search?q=&namespace={namespace}&sort=name&per_page=100&page={page}"
        ));
        if r.status != 200 {
            return (found, r.status);
        }
        let hits = r.json()["hits"].as_array().cloned().unwrap_or_default();
        if hits.is_empty() {
            break;
        }
        found.extend(hits.iter().map(|h| h["name"].as_str().unwrap().to_string()));
    }
    (found, 200)
}

pub fn wait_for_search(
    reg: &TestRegistry,
    query: &str,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let r = reg.get(&format!("/api/v1/search?{query}"));
        if r.status == 200 && done(&r.json()) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "search {query:?} did not get there within {limit:?}: {} {}",
            r.status,
            r.text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The network between a node and a store (the test S3 server, PostgreSQL)
/// as a TCP relay on a port of its own that can be cut and mended: cut,
/// the port is closed (connections are refused, as when the store is
/// down) and open connections are dropped; the stores stay real.
pub struct Link {
    pub port: u16,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Link {
    /// A link to `target` (`host:port`, an `http://` prefix is ignored).
    pub fn to(target: &str) -> Link {
        Self::start(target, false)
    }

    /// A link that starts cut.
    pub fn cut_to(target: &str) -> Link {
        Self::start(target, true)
    }

    fn start(target: &str, down: bool) -> Link {
        use std::net::{TcpListener, TcpStream};
        use std::sync::atomic::Ordering;
        let target = target.trim_start_matches("http://").to_string();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let link = Link {
            port,
            down: std::sync::Arc::new(down.into()),
            open: Default::default(),
        };
        let (down, open) = (link.down.clone(), link.open.clone());
        std::thread::spawn(move || {
            let mut listener: Option<TcpListener> = None;
            loop {
                if down.load(Ordering::SeqCst) {
                    listener = None;
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                let Some(l) = &listener else {
                    // std sets SO_REUSEADDR: the port is ours again at once.
                    if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
                        l.set_nonblocking(true).unwrap();
                        listener = Some(l);
                    }
                    continue;
                };
                let client = match l.accept() {
                    Ok((c, _)) => c,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                };
                client.set_nonblocking(false).unwrap();
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let mut open = open.lock().unwrap();
                open.push(client.try_clone().unwrap());
                open.push(server.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        link
    }

    pub fn cut(&self) {
        self.down.store(true, std::sync::atomic::Ordering::SeqCst);
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        // Until the relay has let the port go.
        std::thread::sleep(Duration::from_millis(50));
    }

    pub fn mend(&self) {
        self.down.store(false, std::sync::atomic::Ordering::SeqCst);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the link did not come back"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// `git ls-remote URL`, which must succeed.
pub fn ls_remote(url: &str) -> String {
    let out = Command::new("git")
        .args(["ls-remote", url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git ls-remote {url}: {}",
        stderr(&out)
    );
    stdout(&out)
}
