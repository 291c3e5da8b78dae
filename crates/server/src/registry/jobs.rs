//! The job queue: rows written in the same transaction as the change they
//! follow, processed at least once. Every job recomputes its view from the
//! database, so running one twice, or late, repairs instead of corrupting.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use registry_index::{package_path, serialize_lines, GitIndex, IndexConfig};

use super::error::{RegistryError, Result};
use super::{index, Registry};
use crate::store::db::now;
use crate::store::models::Job;
use crate::store::schema::jobs;
use crate::store::{write_tx, DbConn};

/// Rewrites one package's file in the git index from the database.
pub const SYNC_INDEX: &str = "sync_index";

/// Adds a job; call it inside the transaction of the change.
pub fn enqueue(conn: &mut DbConn, kind: &str, payload: &str) -> Result<()> {
    let at = now();
    diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(kind),
            jobs::payload.eq(payload),
            jobs::attempts.eq(0),
            jobs::run_after.eq(at),
            jobs::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// A job that failed this often is parked: it stays in the table with its
/// last error, for `admin fsck` and the metrics, but is not run again until
/// an operator requeues it (`admin fsck --repair`).
pub const MAX_ATTEMPTS: i32 = 8;

/// A parked job's `run_after`: a date no clock reaches. The queue keeps its
/// shape (no new column); "parked" is `run_after >= parked_at()`.
pub fn parked_at() -> chrono::NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .expect("a valid date")
        .and_hms_opt(0, 0, 0)
        .expect("a valid time")
}

/// Jobs still to run (not the parked ones).
pub fn pending_count(conn: &mut DbConn) -> Result<i64> {
    Ok(jobs::table
        .filter(jobs::run_after.lt(parked_at()))
        .count()
        .get_result(conn)?)
}

/// The jobs that were given up on, oldest first.
pub fn parked(conn: &mut DbConn) -> Result<Vec<Job>> {
    Ok(jobs::table
        .filter(jobs::run_after.ge(parked_at()))
        .order(jobs::id)
        .select(Job::as_select())
        .load(conn)?)
}

/// Puts the parked jobs back into the queue with fresh attempts.
pub fn requeue_parked(conn: &mut DbConn) -> Result<usize> {
    Ok(
        diesel::update(jobs::table.filter(jobs::run_after.ge(parked_at())))
            .set((jobs::attempts.eq(0), jobs::run_after.eq(now())))
            .execute(conn)?,
    )
}

/// Errors that running the job again cannot change: the data itself is
/// what git or the archive reader refuses.
fn is_permanent(e: &RegistryError) -> bool {
    match e {
        RegistryError::Archive(_) | RegistryError::BadRequest { .. } => true,
        RegistryError::History(g) => {
            matches!(
                g.class(),
                git2::ErrorClass::Reference
                    | git2::ErrorClass::Tree
                    | git2::ErrorClass::Index
                    | git2::ErrorClass::Invalid
                    | git2::ErrorClass::Filesystem
            ) || g.code() == git2::ErrorCode::InvalidSpec
        }
        _ => false,
    }
}

/// Wakes the runner when a change committed, so that views follow within
/// milliseconds rather than at the next poll.
#[derive(Default)]
pub struct Wakeup {
    flag: Mutex<bool>,
    cond: Condvar,
}

impl Wakeup {
    pub fn notify(&self) {
        *self.flag.lock().expect("wakeup lock") = true;
        self.cond.notify_all();
    }

    /// Waits until notified or until `timeout` passed.
    pub fn wait(&self, timeout: Duration) {
        let guard = self.flag.lock().expect("wakeup lock");
        let (mut guard, _) = self
            .cond
            .wait_timeout_while(guard, timeout, |notified| !*notified)
            .expect("wakeup lock");
        *guard = false;
    }
}

/// The git index behind a lock: one writer at a time.
pub struct GitWriter {
    index: Mutex<Option<GitIndex>>,
}

impl GitWriter {
    pub fn new() -> Self {
        GitWriter {
            index: Mutex::new(None),
        }
    }

    pub fn with<T>(&self, reg: &Registry, f: impl FnOnce(&GitIndex) -> Result<T>) -> Result<T> {
        let mut guard = self.index.lock().expect("git index lock");
        if guard.is_none() {
            *guard = Some(GitIndex::open_or_init(&reg.git_index_path())?);
        }
        f(guard.as_ref().expect("opened above"))
    }
}

impl Default for GitWriter {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes `config.json` for the URL this server is reached at. Only the
/// server knows that URL, so only it writes the file, at start.
pub fn write_index_config(reg: &Registry) -> Result<()> {
    let config = IndexConfig::for_base_url(&reg.config.base_url).to_json();
    reg.git.with(reg, |git| {
        git.commit_files(
            &[("config.json".into(), Some(config))],
            "Update config.json",
        )?;
        Ok(())
    })
}

/// Runs every job that is due, one after another. Returns how many ran.
pub fn run_due(reg: &Registry) -> Result<usize> {
    let mut done = 0;
    loop {
        let mut conn = reg.db.conn()?;
        let job: Option<Job> = jobs::table
            .filter(jobs::run_after.le(now()))
            .order(jobs::id)
            .select(Job::as_select())
            .first(&mut *conn)
            .optional()?;
        let Some(job) = job else { return Ok(done) };
        match run_job(reg, &job) {
            Ok(()) => {
                diesel::delete(jobs::table.find(job.id)).execute(&mut *conn)?;
                done += 1;
            }
            Err(e) => {
                let attempts = job.attempts + 1;
                let backoff = 2i64.saturating_pow(attempts.min(8) as u32).min(300);
                let run_after = if attempts >= MAX_ATTEMPTS || is_permanent(&e) {
                    tracing::error!(job.id = job.id, job.kind = %job.kind, job.payload = %job.payload, attempts, error = %e, "job cannot succeed; parked");
                    parked_at()
                } else {
                    tracing::warn!(job.id = job.id, job.kind = %job.kind, attempts, error = %e, "job failed; will retry");
                    now() + chrono::Duration::seconds(backoff)
                };
                write_tx(&mut conn, |c| {
                    diesel::update(jobs::table.find(job.id))
                        .set((
                            jobs::attempts.eq(attempts),
                            jobs::last_error.eq(Some(e.to_string())),
                            jobs::run_after.eq(run_after),
                        ))
                        .execute(c)
                        .map_err(RegistryError::from)
                })?;
            }
        }
    }
}

fn run_job(reg: &Registry, job: &Job) -> Result<()> {
    match job.kind.as_str() {
        SYNC_INDEX => sync_index(reg, &job.payload),
        super::history::SYNC_HISTORY => super::history::sync_history(reg, &job.payload).map(|_| ()),
        other => {
            tracing::error!(job.id = job.id, job.kind = %other, "unknown job kind; dropping it");
            Ok(())
        }
    }
}

/// Writes the package's index file as the database says it is now.
pub fn sync_index(reg: &Registry, full_name: &str) -> Result<()> {
    let (ns, name) = full_name.split_once('/').ok_or_else(|| {
        RegistryError::bad_request("invalid_job", format!("bad package name {full_name:?}"))
    })?;
    let lines = {
        let mut conn = reg.db.conn()?;
        index::index_lines(&mut conn, ns, name)?
    };
    let content = lines.filter(|l| !l.is_empty()).map(|l| serialize_lines(&l));
    reg.git.with(reg, |git| {
        git.commit_files(
            &[(package_path(ns, name), content)],
            &format!("Update {full_name}"),
        )?;
        Ok(())
    })
}

/// Starts the in-process runner thread. It stops when `stop` is set.
pub fn spawn_runner(
    reg: Arc<Registry>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let stopping = stop.clone();
    super::supervisor::spawn("gemeinwerk-jobs", stop, move || {
        use std::sync::atomic::Ordering;
        while !stopping.load(Ordering::SeqCst) {
            if let Err(e) = run_due(&reg) {
                tracing::error!(error = %e, "job runner");
            }
            reg.wakeup.wait(Duration::from_millis(500));
        }
        // Drain what is due so that a graceful stop leaves the views current.
        if let Err(e) = run_due(&reg) {
            tracing::error!(error = %e, "job runner at shutdown");
        }
    })
}
