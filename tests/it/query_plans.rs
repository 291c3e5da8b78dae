//! Issue 19, point 2: with 20,000 packages, versions and audit entries
//! loaded in bulk and statistics gathered, every statement that publish,
//! the job runner, the sparse index, package info, the start page's
//! lists, a download and a search follower step run is bounded by what it
//! returns. The statements are the real ones: every query the registry
//! sends while it works is recorded (diesel's instrumentation) and then
//! explained. On PostgreSQL `EXPLAIN ANALYZE` must show no sequential scan
//! of a large table and no plan node that reads more than [`MOST_ROWS`]
//! rows of one; on SQLite `EXPLAIN QUERY PLAN` must show a SEARCH, never a
//! SCAN, of a large table (but an index walked in the asked order up to a
//! LIMIT), and a real run of the statement must take fewer than
//! [`MOST_SQLITE_STEPS`] virtual machine steps. The old late-commit query of the search
//! follower is explained as well and must be refused, so that the check
//! itself is known to catch what the issue found.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::sql_types::Text;
use gemeinwerk_package::archive::ArchiveLimits;
use gemeinwerk_server::registry::audit::Origin;
use gemeinwerk_server::registry::downloads::{self, Purpose};
use gemeinwerk_server::registry::{
    index, jobs, packages, publish, search, views, Registry, RegistryConfig,
};
use gemeinwerk_server::store::DbConn;

use crate::common::{self, archive_of, pkg, Backend, BIN};

const PACKAGES: i64 = 20_000;
/// Tables that grow with the registry.
const LARGE: [&str; 6] = [
    "packages",
    "dependents",
    "versions",
    "audit_log",
    "dependencies",
    "version_downloads",
];
/// A bounded statement reads at most a feed batch (1,000) of a table.
const MOST_ROWS: f64 = 2_000.0;
/// SQLite tells no rows read; its virtual machine's steps grow with them:
/// reading a feed batch (1,000 entries) takes about 9,000, the old
/// late-commit query's walk over 20,000 entries about 100,000.
const MOST_SQLITE_STEPS: i64 = 40_000;

// ---- recording the statements -------------------------------------------

/// Statements by database URL, recorded while the URL is switched on.
static RECORDED: Mutex<Option<HashMap<String, Vec<String>>>> = Mutex::new(None);

struct Recorder {
    url: Option<String>,
}

impl Instrumentation for Recorder {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartEstablishConnection { url, .. } => {
                self.url = Some(url.to_string())
            }
            InstrumentationEvent::StartQuery { query, .. } => {
                let Some(url) = &self.url else { return };
                if let Some(map) = RECORDED.lock().unwrap().as_mut() {
                    if let Some(list) = map.get_mut(url) {
                        list.push(query.to_string());
                    }
                }
            }
            _ => {}
        }
    }
}

fn install_recorder() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        *RECORDED.lock().unwrap() = Some(HashMap::new());
        diesel::connection::set_default_instrumentation(|| Some(Box::new(Recorder { url: None })))
            .unwrap();
    });
}

fn record(url: &str, on: bool) -> Vec<String> {
    let mut guard = RECORDED.lock().unwrap();
    let map = guard.as_mut().unwrap();
    if on {
        map.insert(url.to_string(), Vec::new());
        Vec::new()
    } else {
        map.remove(url).unwrap_or_default()
    }
}

// ---- a database of 20,000 packages -------------------------------------

struct Database {
    backend: Backend,
    url: String,
    pg_name: Option<String>,
    dir: tempfile::TempDir,
}

impl Database {
    /// The registry on this database, opened in the test's process (no
    /// job runner, no follower).
    fn registry(&self) -> Registry {
        Registry::open(
            self.dir.path(),
            Some(&self.url),
            RegistryConfig {
                limits: ArchiveLimits::default(),
                base_url: "http://127.0.0.1:1".into(),
            },
        )
        .unwrap()
    }

    fn new(backend: Backend, tag: &str) -> Database {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg_name) = match backend {
            Backend::Sqlite => (dir.path().join("gemeinwerk.db").display().to_string(), None),
            Backend::Postgres => {
                let name = format!("gw_plans_{tag}_{}", std::process::id());
                let mut admin =
                    PgConnection::establish(&format!("{}/postgres", common::postgres_base()))
                        .unwrap();
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .unwrap();
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .unwrap();
                (format!("{}/{name}", common::postgres_base()), Some(name))
            }
        };
        Database {
            backend,
            url,
            pg_name,
            dir,
        }
    }

    fn admin(&self, args: &[&str]) -> String {
        let out = Command::new(BIN)
            .arg("admin")
            .args(["--data-dir", self.dir.path().to_str().unwrap()])
            .args(["--database-url", &self.url])
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "admin {args:?}: {}",
            common::stderr(&out)
        );
        common::stdout(&out)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            if let Ok(mut admin) =
                PgConnection::establish(&format!("{}/postgres", common::postgres_base()))
            {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// The same rows on both databases, written by the database itself: 400
/// namespaces, 20,000 packages with a version each (every tenth a second
/// one with a dependency), 20,000 audit entries, a month of downloads for
/// every hundredth version.
fn bulk_load(conn: &mut DbConn) {
    let seq = format!(
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {PACKAGES})"
    );
    let at = "'2026-10-01 08:00:00'";
    let statements = [
        format!("INSERT INTO namespaces (slug, display_name, created_at) {seq} SELECT 'gemeinde' || i, 'Gemeinde ' || i, {at} FROM seq WHERE i <= 400"),
        format!("INSERT INTO packages (namespace_id, name, kind, title, description, downloads, created_at, updated_at, recent_downloads) \
                 {seq} SELECT (SELECT id FROM namespaces WHERE slug = 'gemeinde' || (1 + i % 400)), 'formular-' || i, 'form', 'Antrag ' || i, 'Ein Formular', i % 50, {at}, {at}, i % 50 FROM seq"),
        // Every hundredth package's oldest counted day leaves the window.
        "UPDATE packages SET recent_downloads_until = DATE '2026-12-30' WHERE id % 100 = 0".to_string(),
        format!("INSERT INTO versions (package_id, num, canonical_num, cksum, size, manifest, downloads, created_at) \
                 SELECT id, '1.0.0', '1.0.0', 'ab' || id, 1000, '', 0, {at} FROM packages WHERE name LIKE 'formular-%'"),
        format!("INSERT INTO versions (package_id, num, canonical_num, cksum, size, manifest, downloads, created_at) \
                 SELECT id, '1.1.0', '1.1.0', 'cd' || id, 1000, '', 0, {at} FROM packages WHERE name LIKE 'formular-%' AND id % 10 = 0"),
        "INSERT INTO dependencies (version_id, dep_name, req) SELECT id, 'gemeinde1/formular-400', '^1' FROM versions WHERE num = '1.1.0'".to_string(),
        // What those publishes record of who depends on whom.
        "INSERT INTO dependents (dependency, dependent) SELECT DISTINCT d.dep_name, n.slug || '/' || p.name \
         FROM dependencies d JOIN versions v ON v.id = d.version_id JOIN packages p ON p.id = v.package_id \
         JOIN namespaces n ON n.id = p.namespace_id".to_string(),
        "INSERT INTO dependent_namespaces (dependency, namespace) SELECT DISTINCT d.dep_name, n.slug \
         FROM dependencies d JOIN versions v ON v.id = d.version_id JOIN packages p ON p.id = v.package_id \
         JOIN namespaces n ON n.id = p.namespace_id".to_string(),
        format!("INSERT INTO audit_log (created_at, actor, action, namespace, target, details) \
                 {seq} SELECT {at}, 'loader', 'member_add', 'gemeinde' || (1 + i % 400), 'user' || i, '{{}}' FROM seq"),
        "INSERT INTO version_downloads (version_id, day, count) \
         SELECT v.id, d.day, 3 FROM versions v, (SELECT DATE '2026-10-01' AS day UNION ALL SELECT DATE '2026-10-15' UNION ALL SELECT DATE '2026-11-01') d \
         WHERE v.id % 100 = 0".to_string(),
    ];
    for sql in &statements {
        let sql = match conn {
            // SQLite has no DATE literal; its dates are text.
            DbConn::Sqlite(_) => sql.replace("DATE '", "'"),
            DbConn::Postgres(_) => sql.clone(),
        };
        diesel::sql_query(&sql)
            .execute(conn)
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
}

// ---- explaining ---------------------------------------------------------

/// Whether a recorded statement is worth explaining: reads and writes
/// that find rows; not transaction control or a plain VALUES insert.
fn explainable(sql: &str) -> bool {
    let s = sql.trim_start().to_uppercase();
    (s.starts_with("SELECT")
        || s.starts_with("UPDATE")
        || s.starts_with("DELETE")
        || s.starts_with("WITH")
        || (s.starts_with("INSERT") && (s.contains(" SELECT ") || s.contains("ON CONFLICT"))))
        && s != "SELECT 1"
        && !s.contains("PG_STAT_USER_TABLES")
}

/// Splits diesel's debug form "SQL -- binds: [..]".
fn split_binds(recorded: &str) -> (String, String) {
    match recorded.rsplit_once(" -- binds: ") {
        Some((sql, binds)) => (sql.to_string(), binds.to_string()),
        None => (recorded.to_string(), "[]".to_string()),
    }
}

/// A bind value as diesel's debug form shows it.
#[derive(Debug, Clone)]
enum Bind {
    Null,
    Text(String),
    /// A number, a boolean, a date or a time: written as shown.
    Plain(String),
    Array(Vec<Bind>),
}

impl Bind {
    fn is_date(raw: &str) -> bool {
        raw.contains('-') && raw.chars().next().is_some_and(|c| c.is_ascii_digit())
    }

    /// As a PostgreSQL literal; `in_array` for an element of `'{…}'`.
    fn postgres(&self, in_array: bool) -> String {
        match self {
            Bind::Null => "NULL".into(),
            Bind::Text(s) if in_array => {
                format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")).replace('\'', "''")
            }
            Bind::Text(s) => format!("'{}'", s.replace('\'', "''")),
            Bind::Plain(raw) if Bind::is_date(raw) && in_array => format!("\"{raw}\""),
            Bind::Plain(raw) if Bind::is_date(raw) => format!("'{raw}'"),
            Bind::Plain(raw) => raw.clone(),
            Bind::Array(items) => format!(
                "'{{{}}}'",
                items
                    .iter()
                    .map(|b| b.postgres(true))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

/// Bind values in Rust's debug form: `[1, "a", Some(2026-11-30), None]`.
fn parse_binds(binds: &str) -> Vec<Bind> {
    let chars: Vec<char> = binds.trim().chars().collect();
    assert_eq!(chars.first(), Some(&'['), "binds: {binds}");
    let mut pos = 0;
    match value(&chars, &mut pos) {
        Bind::Array(items) => items,
        other => panic!("binds: {other:?}"),
    }
}

fn string_at(chars: &[char], pos: &mut usize) -> String {
    let mut s = String::new();
    *pos += 1;
    while chars[*pos] != '"' {
        if chars[*pos] == '\\' {
            *pos += 1;
            match chars[*pos] {
                'n' => s.push('\n'),
                't' => s.push('\t'),
                'u' => {
                    let end = chars[*pos..].iter().position(|c| *c == '}').unwrap() + *pos;
                    let hex: String = chars[*pos + 2..end].iter().collect();
                    s.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                    *pos = end;
                }
                c => s.push(c),
            }
        } else {
            s.push(chars[*pos]);
        }
        *pos += 1;
    }
    *pos += 1;
    s
}

fn value(chars: &[char], pos: &mut usize) -> Bind {
    let rest: String = chars[*pos..].iter().take(5).collect();
    if chars[*pos] == '"' {
        return Bind::Text(string_at(chars, pos));
    }
    if rest.starts_with("Some(") {
        *pos += 5;
        let v = value(chars, pos);
        *pos += 1; // ')'
        return v;
    }
    if rest.starts_with("None") {
        *pos += 4;
        return Bind::Null;
    }
    if chars[*pos] == '[' {
        *pos += 1;
        let mut items = Vec::new();
        loop {
            while chars[*pos] == ' ' || chars[*pos] == ',' {
                *pos += 1;
            }
            if chars[*pos] == ']' {
                *pos += 1;
                return Bind::Array(items);
            }
            items.push(value(chars, pos));
        }
    }
    let start = *pos;
    while *pos < chars.len() && !matches!(chars[*pos], ',' | ']' | ')') {
        *pos += 1;
    }
    Bind::Plain(
        chars[start..*pos]
            .iter()
            .collect::<String>()
            .trim()
            .to_string(),
    )
}

#[derive(QueryableByName)]
struct Plan {
    #[diesel(sql_type = Text)]
    plan: String,
}

#[derive(QueryableByName)]
struct SqlitePlan {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// Why a plan is not bounded, if it is not. The statement runs inside
/// EXPLAIN ANALYZE in a transaction that is rolled back.
fn check_postgres(conn: &mut PgConnection, recorded: &str) -> Result<(), String> {
    let (sql, binds) = split_binds(recorded);
    let args: Vec<String> = parse_binds(&binds)
        .iter()
        .map(|b| b.postgres(false))
        .collect();
    let execute = if args.is_empty() {
        "EXECUTE gw_plan".to_string()
    } else {
        format!("EXECUTE gw_plan({})", args.join(", "))
    };
    conn.batch_execute("BEGIN").unwrap();
    let plan = conn
        .batch_execute(&format!("PREPARE gw_plan AS {sql}"))
        .and_then(|_| {
            diesel::sql_query("SELECT gw_explain($1) AS plan")
                .bind::<Text, _>(&execute)
                .load::<Plan>(conn)
        });
    conn.batch_execute("ROLLBACK").unwrap();
    let _ = conn.batch_execute("DEALLOCATE gw_plan");
    let plan = plan.map_err(|e| format!("cannot explain ({e}): {execute} for {sql}"))?;
    let json: serde_json::Value = serde_json::from_str(&plan[0].plan).unwrap();
    let mut problems = Vec::new();
    walk(&json[0]["Plan"], &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n  in {sql}\n  plan {}",
            problems.join("; "),
            json[0]["Plan"]
        ))
    }
}

fn walk(node: &serde_json::Value, problems: &mut Vec<String>) {
    let table = node["Relation Name"].as_str().unwrap_or_default();
    if LARGE.contains(&table) {
        let kind = node["Node Type"].as_str().unwrap_or_default();
        let loops = node["Actual Loops"].as_f64().unwrap_or(1.0);
        let read = (node["Actual Rows"].as_f64().unwrap_or(0.0)
            + node["Rows Removed by Filter"].as_f64().unwrap_or(0.0)
            + node["Rows Removed by Index Recheck"]
                .as_f64()
                .unwrap_or(0.0))
            * loops;
        if kind == "Seq Scan" {
            problems.push(format!("Seq Scan on {table} ({read} rows read)"));
        } else if read > MOST_ROWS {
            problems.push(format!("{kind} on {table} reads {read} rows"));
        }
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        walk(child, problems);
    }
}

fn check_sqlite(conn: &mut SqliteConnection, path: &str, recorded: &str) -> Result<(), String> {
    let (sql, binds) = split_binds(recorded);
    let rows: Vec<SqlitePlan> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load(conn)
        .map_err(|e| format!("cannot explain ({e}): {sql}"))?;
    let details: Vec<String> = rows.into_iter().map(|r| r.detail).collect();
    // An index walked in the order the statement asks for, stopping at its
    // LIMIT, reads what it returns; any other SCAN of a large table reads
    // all of it.
    let ordered_walk =
        sql.contains(" LIMIT ") && !details.iter().any(|d| d.contains("TEMP B-TREE"));
    for d in &details {
        let words: Vec<&str> = d.split_whitespace().collect();
        if words.first() == Some(&"SCAN") {
            let table = if words.get(1) == Some(&"TABLE") {
                words.get(2)
            } else {
                words.get(1)
            };
            let through_index = d.contains(" USING INDEX ") || d.contains(" USING COVERING INDEX ");
            if table.is_some_and(|t| LARGE.contains(t)) && !(through_index && ordered_walk) {
                return Err(format!("{d}\n  in {sql}\n  plan {details:?}"));
            }
        }
    }
    // A SEARCH can still walk far (a range open on one side, filtered):
    // count the virtual machine's steps of a real run.
    let steps = sqlite_vm_steps(path, &sql, &parse_binds(&binds))?;
    if std::env::var_os("GEMEINWERK_SHOW_PLANS").is_some() {
        eprintln!("{steps:>8} steps: {sql}");
    }
    if steps > MOST_SQLITE_STEPS {
        return Err(format!(
            "{steps} virtual machine steps\n  in {sql}\n  plan {details:?}"
        ));
    }
    Ok(())
}

/// Runs a statement on its own connection, in a transaction that is
/// rolled back, and counts SQLite's virtual machine steps.
fn sqlite_vm_steps(path: &str, sql: &str, binds: &[Bind]) -> Result<i64, String> {
    use libsqlite3_sys as ffi;
    use std::ffi::CString;
    let flat: Vec<&Bind> = binds
        .iter()
        .flat_map(|b| match b {
            Bind::Array(items) => items.iter().collect(),
            other => vec![other],
        })
        .collect();
    let c_path = CString::new(path).unwrap();
    let c_sql = CString::new(sql).unwrap();
    // SAFETY: plain use of the C API; every handle is finalised or closed
    // before returning, and text is copied by SQLite (SQLITE_TRANSIENT).
    unsafe {
        let mut db = std::ptr::null_mut();
        assert_eq!(
            ffi::sqlite3_open_v2(
                c_path.as_ptr(),
                &mut db,
                ffi::SQLITE_OPEN_READWRITE,
                std::ptr::null()
            ),
            ffi::SQLITE_OK
        );
        ffi::sqlite3_busy_timeout(db, 10_000);
        let begin = CString::new("BEGIN").unwrap();
        ffi::sqlite3_exec(
            db,
            begin.as_ptr(),
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        let mut stmt = std::ptr::null_mut();
        let rc = ffi::sqlite3_prepare_v2(db, c_sql.as_ptr(), -1, &mut stmt, std::ptr::null_mut());
        let mut result = if rc == ffi::SQLITE_OK {
            Ok(0)
        } else {
            Err(format!("cannot prepare ({rc}): {sql}"))
        };
        if result.is_ok() {
            for (i, b) in flat.iter().enumerate() {
                let i = i as i32 + 1;
                match b {
                    Bind::Null => ffi::sqlite3_bind_null(stmt, i),
                    Bind::Plain(raw) if raw == "true" || raw == "false" => {
                        ffi::sqlite3_bind_int64(stmt, i, (raw == "true") as i64)
                    }
                    Bind::Plain(raw) if Bind::is_date(raw) => {
                        // Diesel writes times as "YYYY-MM-DD HH:MM:SS.f".
                        let text = CString::new(raw.replace('T', " ")).unwrap();
                        ffi::sqlite3_bind_text(stmt, i, text.as_ptr(), -1, ffi::SQLITE_TRANSIENT())
                    }
                    Bind::Plain(raw) => match raw.parse::<i64>() {
                        Ok(n) => ffi::sqlite3_bind_int64(stmt, i, n),
                        Err(_) => ffi::sqlite3_bind_double(stmt, i, raw.parse().unwrap()),
                    },
                    Bind::Text(t) => {
                        let text = CString::new(t.as_str()).unwrap();
                        ffi::sqlite3_bind_text(stmt, i, text.as_ptr(), -1, ffi::SQLITE_TRANSIENT())
                    }
                    Bind::Array(_) => unreachable!("flattened"),
                };
            }
            loop {
                match ffi::sqlite3_step(stmt) {
                    ffi::SQLITE_ROW => continue,
                    ffi::SQLITE_DONE => break,
                    rc => {
                        result = Err(format!("step failed ({rc}): {sql}"));
                        break;
                    }
                }
            }
            if result.is_ok() {
                result =
                    Ok(ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_VM_STEP, 0) as i64);
            }
        }
        ffi::sqlite3_finalize(stmt);
        let rollback = CString::new("ROLLBACK").unwrap();
        ffi::sqlite3_exec(
            db,
            rollback.as_ptr(),
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        ffi::sqlite3_close(db);
        result
    }
}

fn check(conn: &mut DbConn, url: &str, recorded: &str) -> Result<(), String> {
    match conn {
        DbConn::Postgres(c) => check_postgres(c, recorded),
        DbConn::Sqlite(c) => check_sqlite(c, url, recorded),
    }
}

// ---- the test -------------------------------------------------------------

fn plans_are_bounded(backend: Backend, analyse: bool) {
    install_recorder();
    let db = Database::new(backend, if analyse { "analysed" } else { "raw" });
    // Accounts through the operator's commands, as an operator makes them.
    db.admin(&["namespace", "add", "kassel", "--name", "Stadt Kassel"]);
    db.admin(&["user", "add", "anna"]);
    db.admin(&["member", "add", "kassel", "anna", "--role", "owner"]);
    let token = db.admin(&["token", "create", "anna", "--scope", "publish,yank,owners"]);
    let token = format!("Bearer {}", token.trim());
    let reg = Arc::new(
        Registry::open(
            db.dir.path(),
            Some(&db.url),
            RegistryConfig {
                limits: ArchiveLimits::default(),
                base_url: "http://127.0.0.1:1".into(),
            },
        )
        .unwrap(),
    );
    reg.search.set_adoption_refresh(Duration::ZERO);
    // The follower starts on the empty registry, then catches up with the
    // bulk of the audit log, as a running server would.
    let mut follower = search::Follower::start(reg.clone()).unwrap();
    {
        let mut conn = reg.db.conn().unwrap();
        bulk_load(&mut conn);
        if analyse {
            conn.batch_execute("ANALYZE").unwrap();
        }
        if let DbConn::Postgres(c) = &mut *conn {
            c.batch_execute(
                "CREATE FUNCTION gw_explain(q text) RETURNS text LANGUAGE plpgsql AS $$ \
                 DECLARE plan json; BEGIN EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO plan; \
                 RETURN plan::text; END $$",
            )
            .unwrap();
        }
    }
    while follower.step().unwrap() {}
    follower.step().unwrap();

    // One id is taken and never committed (a rolled-back transaction), so
    // that the follower watches it.
    {
        let mut conn = reg.db.conn().unwrap();
        match &mut *conn {
            DbConn::Postgres(c) => c.batch_execute("SELECT nextval('audit_log_id_seq')").unwrap(),
            DbConn::Sqlite(c) => c
                .batch_execute(
                    "INSERT INTO audit_log (created_at, action, target, details) VALUES ('2026-11-01 00:00:00', 'x', 'x', '{}'); \
                     DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log);",
                )
                .unwrap(),
        }
    }

    record(&db.url, true);
    let origin = Origin {
        actor: None,
        client_addr: Some("127.0.0.1".into()),
    };
    for version in ["1.0.0", "1.1.0"] {
        publish::publish_with_credential(
            &reg,
            Some(token.as_str()).into(),
            &origin,
            &archive_of(&pkg("kassel/parkausweis", version)),
        )
        .unwrap();
        jobs::run_due(&reg).unwrap();
        // /healthz and /metrics while search is a few changes behind, and
        // once it is current.
        views::view_lags(&reg).unwrap();
        follower.step().unwrap();
    }
    follower.step().unwrap();
    views::view_lags(&reg).unwrap();
    reg.index_cache
        .get(&reg.db, reg.index_cache_trusted(), "kassel", "parkausweis")
        .unwrap()
        .unwrap();
    reg.index_cache
        .get(
            &reg.db,
            reg.index_cache_trusted(),
            "gemeinde8",
            "formular-7",
        )
        .unwrap()
        .unwrap();
    packages::package_view(&reg, "kassel", "parkausweis").unwrap();
    packages::package_view(&reg, "gemeinde8", "formular-7").unwrap();
    // The fork network of the package page.
    gemeinwerk_server::registry::forks::network(&reg, "kassel", "parkausweis").unwrap();
    // The dependents of a package a tenth of the registry depends on.
    let dependents = packages::dependents(&reg, "gemeinde1/formular-400").unwrap();
    assert_eq!(dependents.shown.len() as i64, packages::DEPENDENTS_SHOWN);
    assert!(dependents.count > packages::DEPENDENTS_SHOWN);
    packages::list(&reg, packages::Order::Newest, 6).unwrap();
    packages::list(&reg, packages::Order::MostDownloaded, 6).unwrap();
    packages::download(&reg, "kassel", "parkausweis", "1.1.0", Purpose::Use).unwrap();
    downloads::flush(&reg).unwrap();
    downloads::recent_days(&reg, &mut reg.db.conn().unwrap(), 1).unwrap();
    // The roll-off on a day when some packages' oldest day left the window.
    downloads::roll_off(&reg, chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()).unwrap();
    follower.step().unwrap();
    {
        let mut conn = reg.db.conn().unwrap();
        index::find_package(&mut conn, "gemeinde10", "formular-9")
            .unwrap()
            .unwrap();
    }
    // A follower that starts again reads just below its cursor (and,
    // once, every package's downloads: not a per-step query).
    follower.finish().unwrap();
    reg.search.set_adoption_refresh(Duration::from_secs(3600));
    let mut follower = search::Follower::start(reg.clone()).unwrap();
    follower.step().unwrap();
    follower.finish().unwrap();
    let statements = record(&db.url, false);

    let unique: BTreeSet<String> = statements
        .into_iter()
        .filter(|s| explainable(&split_binds(s).0))
        .collect();
    let kinds: BTreeSet<String> = unique.iter().map(|s| split_binds(s).0).collect();
    assert!(
        kinds.len() >= 25,
        "the work ran only {} distinct statements: {kinds:#?}",
        kinds.len()
    );
    for must in [
        "audit_log",
        "downloads_changed_at",
        "version_downloads",
        "recent_downloads_until",
    ] {
        assert!(
            kinds.iter().any(|s| s.contains(must)),
            "no statement with {must} was recorded: {kinds:#?}"
        );
    }
    let mut conn = reg.db.conn().unwrap();
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for recorded in &unique {
        // One plan per statement text; the first set of values stands for all.
        if !seen.insert(split_binds(recorded).0) {
            continue;
        }
        if let Err(why) = check(&mut conn, &db.url, recorded) {
            failures.push(why);
        }
    }
    assert!(
        failures.is_empty(),
        "{:?}: {} unbounded statement(s):\n{}",
        db.backend,
        failures.len(),
        failures.join("\n\n")
    );

    // The check catches the late-commit query the follower used to run
    // (issue 19): it walks the log from its first entry.
    let old = match db.backend {
        Backend::Postgres => "SELECT \"audit_log\".\"id\" FROM \"audit_log\" WHERE ((\"audit_log\".\"id\" <= $1) AND (\"audit_log\".\"created_at\" >= $2)) ORDER BY \"audit_log\".\"id\" LIMIT $3 -- binds: [20000, 2026-11-30T10:00:00, 1000]",
        Backend::Sqlite => "SELECT `audit_log`.`id` FROM `audit_log` WHERE ((`audit_log`.`id` <= ?) AND (`audit_log`.`created_at` >= ?)) ORDER BY `audit_log`.`id` LIMIT ? -- binds: [20000, 2026-11-30T10:00:00, 1000]",
    };
    assert!(
        check(&mut conn, &db.url, old).is_err(),
        "the old late-commit query passed the check"
    );
    // And the search lag /healthz used to count (issue 12): the whole log
    // on PostgreSQL when the planner cannot see the cursor is at its end.
    if db.backend == Backend::Postgres && !analyse {
        let old = "SELECT COUNT(*), min(\"audit_log\".\"created_at\") FROM \"audit_log\" WHERE (\"audit_log\".\"id\" > $1) -- binds: [20000]";
        assert!(
            check(&mut conn, &db.url, old).is_err(),
            "the old search lag query passed the check"
        );
    }
}

#[test]
fn plans_are_bounded_on_sqlite() {
    plans_are_bounded(Backend::Sqlite, true);
}

#[test]
fn plans_are_bounded_on_postgres() {
    plans_are_bounded(Backend::Postgres, true);
}

/// As a server meets a database whose autovacuum is off: no statistics
/// at all. The queries are shaped so that even the planner's guesses stay
/// bounded.
#[test]
fn plans_are_bounded_on_postgres_without_statistics() {
    plans_are_bounded(Backend::Postgres, false);
}

/// A figure of `pg_stat_user_tables` for `table` (an expression of its
/// columns), once this connection's counts have arrived.
fn table_statistic(conn: &mut DbConn, table: &str, figure: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    conn.batch_execute("SELECT pg_stat_force_next_flush()")
        .unwrap();
    diesel::sql_query(format!(
        "SELECT ({figure})::bigint AS n FROM pg_stat_user_tables WHERE relname = '{table}'"
    ))
    .get_result::<Count>(conn)
    .unwrap()
    .n
}

/// A statement first run on a young registry must not keep the plan of
/// that moment while the tables grow: PostgreSQL may cache a generic plan
/// after five runs of a prepared statement, and one made while `packages`
/// fit in a page scans it whole for ever after (no ANALYZE invalidates it
/// when autovacuum is off). Counted as sequential scans of `packages` by
/// the lookups after a bulk load of 20,000 packages, on one pooled
/// connection (20 of 20 lookups scanned before the fix).
#[test]
fn a_plan_made_on_a_young_registry_is_not_kept_as_it_grows() {
    let db = Database::new(Backend::Postgres, "growing");
    let reg = db.registry();
    let mut conn = reg.db.conn().unwrap();
    let lookups = |conn: &mut DbConn| {
        for i in 0..20 {
            index::find_package(conn, "gemeinde7", &format!("formular-{i}")).unwrap();
        }
    };
    let seq_scans = |conn: &mut DbConn| table_statistic(conn, "packages", "seq_scan");
    // A young registry: one namespace, 100 packages, a page or two, where
    // a sequential scan is the cheapest plan.
    conn.batch_execute(
        "INSERT INTO namespaces (slug, display_name, created_at) VALUES ('klein', 'Klein', now()); \
         INSERT INTO packages (namespace_id, name, kind, title, description, downloads, created_at, updated_at, recent_downloads) \
         SELECT (SELECT id FROM namespaces WHERE slug = 'klein'), 'antrag-' || i, 'form', 'Antrag', 'Ein Formular', 0, now(), now(), 0 \
         FROM generate_series(1, 100) AS i",
    )
    .unwrap();
    lookups(&mut conn);
    bulk_load(&mut conn);
    let before = seq_scans(&mut conn);
    lookups(&mut conn);
    let after = seq_scans(&mut conn);
    assert_eq!(
        after - before,
        0,
        "the lookups scanned packages {} times",
        after - before
    );
}

/// A lane's claim reads its own jobs, not another lane's backlog: with
/// 50,000 git index jobs waiting (a bulk load), the history lane's claim
/// read every one of them on each poll, and the registry of the growth
/// benchmark spent its database on that at a million packages. Counted as
/// rows of `jobs` read, on PostgreSQL without statistics (autovacuum off,
/// as on this machine).
#[test]
fn a_lane_claims_without_reading_the_other_lanes_backlog() {
    let db = Database::new(Backend::Postgres, "lanes");
    let reg = db.registry();
    let mut conn = reg.db.conn().unwrap();
    conn.batch_execute(
        "INSERT INTO jobs (kind, payload, attempts, run_after, created_at) \
         SELECT 'sync_index', 'gemeinde/formular-' || i, 0, now() - interval '1 minute', now() \
         FROM generate_series(1, 50000) AS i; \
         INSERT INTO jobs (kind, payload, attempts, run_after, created_at) \
         VALUES ('sync_history', 'gemeinde/formular-1', 0, now() - interval '1 minute', now())",
    )
    .unwrap();
    let rows_read = |conn: &mut DbConn| {
        table_statistic(
            conn,
            "jobs",
            "COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0)",
        )
    };
    let before = rows_read(&mut conn);
    let claimed = jobs::claim(&mut conn, jobs::Lane::Others, "node-a", jobs::LEASE, 256).unwrap();
    let read = rows_read(&mut conn) - before;
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_eq!(claimed[0].kind, "sync_history");
    assert!(
        read < 100,
        "the history lane's claim read {read} rows of jobs"
    );
    // Nothing left for it: the next poll reads as little.
    let before = rows_read(&mut conn);
    assert!(
        jobs::claim(&mut conn, jobs::Lane::Others, "node-a", jobs::LEASE, 256)
            .unwrap()
            .is_empty()
    );
    let read = rows_read(&mut conn) - before;
    assert!(read < 100, "an empty poll read {read} rows of jobs");
    // The git index lane still takes its own, oldest first.
    let claimed = jobs::claim(&mut conn, jobs::Lane::GitIndex, "node-a", jobs::LEASE, 10).unwrap();
    assert_eq!(claimed.len(), 10);
    assert!(claimed.iter().all(|j| j.kind == "sync_index"));
    assert!(jobs::any_pending(&mut conn).unwrap());
}
