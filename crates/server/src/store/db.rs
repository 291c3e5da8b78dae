//! The database: one diesel codebase over SQLite (embedded default) and
//! PostgreSQL (scale-out), chosen by the URL.

use std::path::Path;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// The server does not answer (down, starting, not reachable on the
    /// network): waiting may help, unlike a wrong password or database.
    #[error("the database server does not answer (--database-url): {0}")]
    Unreachable(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Where the database is: `postgres://…` selects PostgreSQL, anything else
/// is a SQLite file path (`sqlite://` prefix optional).
#[derive(Debug, Clone)]
pub struct DbUrl {
    pub backend: Backend,
    url: String,
}

impl DbUrl {
    pub fn parse(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DbUrl {
                backend: Backend::Postgres,
                url: url.to_string(),
            }
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            DbUrl {
                backend: Backend::Sqlite,
                url: path.to_string(),
            }
        }
    }

    pub fn sqlite_file(path: &Path) -> Self {
        DbUrl {
            backend: Backend::Sqlite,
            url: path.display().to_string(),
        }
    }

    /// The URL as given, to connect with (it may hold a password: never log it).
    pub fn connection_string(&self) -> &str {
        &self.url
    }

    /// The SQLite file's path as given (meaningless for PostgreSQL).
    pub fn sqlite_path(&self) -> &str {
        &self.url
    }

    /// The URL without a password, for logs and `config show`.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.url) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.url.clone(),
        }
    }
}

/// libpq says why in text only; these are the answers of a server that is
/// not there (yet), as opposed to one that refuses this client.
fn connect_error(message: String) -> DbError {
    const UNREACHABLE: [&str; 8] = [
        "Connection refused",
        "could not connect to server",
        "timeout expired",
        "could not translate host name",
        "No route to host",
        "Network is unreachable",
        "the database system is starting up",
        "the database system is shutting down",
    ];
    if UNREACHABLE.iter().any(|m| message.contains(m)) {
        DbError::Unreachable(message)
    } else {
        DbError::Connect(message)
    }
}

/// Opens connections of the backend the URL names, never falling back to
/// another one: a PostgreSQL that is down must not silently become a new
/// SQLite file.
#[derive(Debug)]
pub struct ConnectionManager {
    url: DbUrl,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = DbError;

    fn connect(&self) -> Result<DbConn, DbError> {
        match self.url.backend {
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(&self.url.url)
                    .map_err(|e| connect_error(e.to_string()))?;
                // A pooled connection lives for hours and diesel prepares
                // every statement. After five runs PostgreSQL may keep a
                // generic plan, made with the table sizes of that moment:
                // on a young registry a sequential scan of `packages`,
                // kept while the table grows to 100,000 rows (seen: 58,000
                // rows read per publish at 10,000 packages without
                // ANALYZE). A plan per run sees the table as it is now;
                // for these small queries planning costs microseconds.
                conn.batch_execute("SET plan_cache_mode = force_custom_plan")?;
                Ok(DbConn::Postgres(conn))
            }
            Backend::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(&self.url.url)
                    .map_err(|e| DbError::Connect(e.to_string()))?;
                // WAL lets readers go on while one writer writes; the busy
                // timeout makes a second writer wait instead of failing.
                // busy_timeout first: switching to WAL takes a lock, and
                // another process may hold one for a moment.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::from)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// The pool plus what the rest of the code needs to know about the backend.
#[derive(Clone)]
pub struct Db {
    pub pool: Pool,
    pub backend: Backend,
    pub url: DbUrl,
}

impl Db {
    /// Connects, runs pending migrations and returns the pool.
    pub fn open(url: &DbUrl) -> Result<Db, DbError> {
        let manager = ConnectionManager { url: url.clone() };
        let mut first = manager.connect()?;
        let migrations = match url.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        first
            .run_pending_migrations(migrations)
            .map_err(|e| DbError::Migration(e.to_string()))?;
        drop(first);
        let size = match url.backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        let pool = r2d2::Pool::builder()
            .max_size(size)
            // Open connections as they are needed. A pool that keeps idle
            // ones opens them on a background thread, and a short-lived
            // `admin` process can then exit while libpq is mid-handshake.
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| DbError::Connect(e.to_string()))?;
        Ok(Db {
            pool,
            backend: url.backend,
            url: url.clone(),
        })
    }

    pub fn conn(&self) -> Result<PooledConn, DbError> {
        self.pool.get().map_err(|e| DbError::Connect(e.to_string()))
    }
}

/// Runs `f` in a transaction that may write. On SQLite it starts with
/// `BEGIN IMMEDIATE`, taking the write lock up front, so that two writers
/// queue on the busy timeout instead of one failing when it upgrades a read
/// lock.
pub fn write_tx<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // The error that made us roll back is the one worth reporting.
            let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}

pub fn now() -> chrono::NaiveDateTime {
    // Microseconds are what both backends store, so that a value read back
    // equals the value written.
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros())
        .unwrap_or(now)
        .naive_utc()
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::{Nullable, Text};

    use super::*;

    #[derive(QueryableByName)]
    struct Upstream {
        #[diesel(sql_type = Nullable<Text>)]
        upstream: Option<String>,
    }

    /// A registry with forks, made before `upstream` existed, gets the
    /// column filled by the migration, on both backends.
    fn upstream_is_filled_for_existing_forks(url: DbUrl) {
        let migrations = || match url.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let mut conn = ConnectionManager { url: url.clone() }.connect().unwrap();
        for _ in 0..2 {
            conn.run_next_migration(migrations()).unwrap();
        }
        for sql in [
            "INSERT INTO namespaces (slug, display_name, created_at) VALUES ('darmstadt', 'D', '2026-11-29 00:00:00')",
            "INSERT INTO packages (namespace_id, name, kind, description, created_at, updated_at, forked_from) \
             SELECT id, 'a', 'form', 'x', '2026-11-29 00:00:00', '2026-11-29 00:00:00', 'kassel/a@1.0.0' FROM namespaces",
            "INSERT INTO packages (namespace_id, name, kind, description, created_at, updated_at) \
             SELECT id, 'b', 'form', 'x', '2026-11-29 00:00:00', '2026-11-29 00:00:00' FROM namespaces",
        ] {
            diesel::sql_query(sql).execute(&mut conn).unwrap();
        }
        conn.run_pending_migrations(migrations()).unwrap();
        let rows: Vec<Upstream> = diesel::sql_query("SELECT upstream FROM packages ORDER BY name")
            .load(&mut conn)
            .unwrap();
        let got: Vec<Option<String>> = rows.into_iter().map(|r| r.upstream).collect();
        assert_eq!(got, [Some("kassel/a".to_string()), None]);
    }

    #[test]
    fn the_upstream_migration_fills_existing_forks_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = DbUrl::sqlite_file(&dir.path().join("t.db"));
        upstream_is_filled_for_existing_forks(url);
    }

    #[test]
    fn the_upstream_migration_fills_existing_forks_on_postgres() {
        let base = std::env::var("GEMEINWERK_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!("gw_unit_migration_{}", std::process::id());
        let mut admin = ConnectionManager {
            url: DbUrl::parse(&format!("{base}/postgres")),
        }
        .connect()
        .expect("PostgreSQL on 127.0.0.1:5432 (see .ci/run)");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut admin)
            .unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        upstream_is_filled_for_existing_forks(DbUrl::parse(&format!("{base}/{name}")));
        diesel::sql_query(format!("DROP DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
    }
}
