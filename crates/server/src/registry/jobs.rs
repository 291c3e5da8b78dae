//! The job queue: rows written in the same transaction as the change they
//! follow, processed at least once. Every job recomputes its view from the
//! database, so running one twice, or late, repairs instead of corrupting.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use registry_index::{package_path, serialize_lines, CommitInfo, GitIndex, IndexConfig};

use super::error::{RegistryError, Result};
use super::{index, Registry};
use crate::store::db::now;
use crate::store::models::JobRow;
use crate::store::schema::jobs;
use crate::store::{write_tx, DbConn};

/// What a job does: the sync kinds recompute one view of one package (the
/// payload, a full name) from the database; the event kinds fan an event
/// out and send a delivery (the payload, a row id). The column `jobs.kind` keeps
/// the text of [`Job::as_str`]: those spellings are what existing queues
/// hold, so they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Job {
    /// Rewrites the package's file in the git index.
    SyncIndex,
    /// Rewrites the package's history repository.
    SyncHistory,
    /// Makes the deliveries of an event ([`super::deliveries::fan_out`]).
    FanOutEvent,
    /// Sends one delivery; it reschedules itself while the receiver fails.
    Deliver,
}

impl Job {
    pub const ALL: [Job; 4] = [
        Job::SyncIndex,
        Job::SyncHistory,
        Job::FanOutEvent,
        Job::Deliver,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Job::SyncIndex => "sync_index",
            Job::SyncHistory => "sync_history",
            Job::FanOutEvent => "fan_out_event",
            Job::Deliver => "deliver_event",
        }
    }

    /// The lane that runs it.
    pub const fn lane(self) -> Lane {
        match self {
            Job::SyncIndex => Lane::GitIndex,
            Job::SyncHistory => Lane::Others,
            Job::FanOutEvent | Job::Deliver => Lane::Webhooks,
        }
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored job kind this build does not know: written by a newer release,
/// or by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownJob(pub String);

impl fmt::Display for UnknownJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown job kind {:?}", self.0)
    }
}

impl std::error::Error for UnknownJob {}

impl FromStr for Job {
    type Err = UnknownJob;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Job::ALL
            .into_iter()
            .find(|j| j.as_str() == s)
            .ok_or_else(|| UnknownJob(s.to_string()))
    }
}

/// Adds a job for the package `payload`; call it inside the transaction of
/// the change.
pub fn enqueue(conn: &mut DbConn, job: Job, payload: &str) -> Result<()> {
    let at = now();
    diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(job.as_str()),
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

/// Whether any job is still to run (not the parked ones): one index probe,
/// where [`pending_count`] reads the whole backlog.
pub fn any_pending(conn: &mut DbConn) -> Result<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        jobs::table.filter(jobs::run_after.lt(parked_at())),
    ))
    .get_result(conn)?)
}

/// Jobs still to run (not the parked ones).
pub fn pending_count(conn: &mut DbConn) -> Result<i64> {
    Ok(jobs::table
        .filter(jobs::run_after.lt(parked_at()))
        .count()
        .get_result(conn)?)
}

/// The jobs that were given up on, oldest first.
pub fn parked(conn: &mut DbConn) -> Result<Vec<JobRow>> {
    Ok(jobs::table
        .filter(jobs::run_after.ge(parked_at()))
        .order(jobs::id)
        .select(JobRow::as_select())
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

/// Pending jobs by kind: how many, and when the oldest was written.
pub fn pending_by_kind(
    conn: &mut DbConn,
) -> Result<BTreeMap<String, (i64, Option<chrono::NaiveDateTime>)>> {
    let rows: Vec<(String, i64, Option<chrono::NaiveDateTime>)> = jobs::table
        .group_by(jobs::kind)
        .select((
            jobs::kind,
            diesel::dsl::count_star(),
            diesel::dsl::min(jobs::created_at),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(kind, n, oldest)| (kind, (n, oldest)))
        .collect())
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

/// Squash the git index after this many commits since the last snapshot,
/// unless the operator says otherwise (`serve --index-squash-after`).
pub const SQUASH_AFTER_COMMITS: u64 = 10_000;

/// The git index behind a lock: one writer at a time.
pub struct GitWriter {
    index: Mutex<Option<GitIndex>>,
    squash_after: AtomicU64,
    commits_since_maintenance: AtomicU64,
}

impl GitWriter {
    pub fn new() -> Self {
        GitWriter {
            index: Mutex::new(None),
            squash_after: AtomicU64::new(SQUASH_AFTER_COMMITS),
            commits_since_maintenance: AtomicU64::new(0),
        }
    }

    /// Commits after which the history is squashed; 0 never squashes.
    pub fn set_squash_after(&self, commits: u64) {
        self.squash_after.store(commits, Ordering::SeqCst);
    }

    /// Drops the open index, so that the next use opens it afresh after
    /// packs and refs were put into the repository from outside (a shared
    /// index's takeover) and counts its commits again.
    pub fn reopen(&self) {
        *self.index.lock().expect("git index lock") = None;
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
/// server knows that URL, so only it writes the file, at start (with the
/// time of the newest change in the database).
pub fn write_index_config(reg: &Registry) -> Result<()> {
    let config = IndexConfig::for_base_url(&reg.config.base_url).to_json();
    let newest: Option<chrono::NaiveDateTime> = {
        let mut conn = reg.db.conn()?;
        crate::store::schema::packages::table
            .select(diesel::dsl::max(crate::store::schema::packages::updated_at))
            .first(&mut *conn)?
    };
    reg.git.with(reg, |git| {
        git.commit_files(
            &[("config.json".into(), Some(config))],
            &CommitInfo {
                time: newest.map_or(0, |t| t.and_utc().timestamp()),
                message: "Update config.json".into(),
            },
        )?;
        if super::shared_index::is_shared(reg) {
            super::shared_index::publish(reg, git)?;
        }
        Ok(())
    })
}

/// Which jobs a runner lane takes: the git index's own lane keeps its lag
/// low while package histories (slower: they unpack archives) run beside
/// it, and deliveries (which wait for other people's servers) have a lane
/// of their own, so that a slow receiver delays no view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    GitIndex,
    Others,
    Webhooks,
}

impl Lane {
    /// Jobs claimed in one round: the git index takes many, so that a bulk
    /// load becomes a few large commits instead of one per publish; the
    /// histories take fewer, so that a round ends well within the lease.
    pub const fn batch(self) -> i64 {
        match self {
            Lane::GitIndex => 20_000,
            Lane::Others => 256,
            // Sixteen senders, each attempt at most the timeout (5 s): a
            // round ends well within the lease.
            Lane::Webhooks => 64,
        }
    }

    /// The job kinds the lane runs. A kind this build does not know stays
    /// in the queue for a node that does (a newer release, during a
    /// rolling upgrade).
    pub fn kinds(self) -> impl Iterator<Item = Job> {
        Job::ALL.into_iter().filter(move |j| j.lane() == self)
    }

    /// The name of the lane's thread (logs, `/metrics`).
    pub const fn thread_name(self) -> &'static str {
        match self {
            Lane::GitIndex => "gemeinwerk-jobs-index",
            Lane::Others => "gemeinwerk-jobs",
            Lane::Webhooks => "gemeinwerk-jobs-webhooks",
        }
    }
}

/// Runs every job that is due, in every lane. Returns how many ran.
pub fn run_due(reg: &Registry) -> Result<usize> {
    Ok(run_lane(reg, Lane::GitIndex)?
        + run_lane(reg, Lane::Others)?
        + run_lane(reg, Lane::Webhooks)?)
}

/// Runs the due jobs of one lane, a batch at a time, until none is due.
pub fn run_lane(reg: &Registry, lane: Lane) -> Result<usize> {
    // A shared git index has one writer; the other nodes leave its jobs.
    if lane == Lane::GitIndex
        && super::shared_index::is_shared(reg)
        && !super::shared_index::lead(reg)?
    {
        return Ok(0);
    }
    let mut done = 0;
    loop {
        let batch = claim(
            &mut *reg.db.conn()?,
            lane,
            &reg.node_id,
            reg.job_lease,
            lane.batch(),
        )?;
        if batch.is_empty() {
            if lane == Lane::GitIndex
                && reg.git.commits_since_maintenance.load(Ordering::SeqCst) > 0
            {
                reg.git.with(reg, |git| maintain_index(reg, git))?;
            }
            return Ok(done);
        }
        let outcomes: Vec<std::result::Result<Option<chrono::NaiveDateTime>, Failure>> = match lane
        {
            Lane::GitIndex => sync_index_batch(reg, &batch)
                .into_iter()
                .map(|r| r.map(|()| None).map_err(|e| Failure::of(&e)))
                .collect(),
            Lane::Others => run_each_package(reg, &batch)
                .into_iter()
                .map(|r| r.map(|()| None))
                .collect(),
            Lane::Webhooks => super::deliveries::run_batch(reg, &batch)
                .into_iter()
                .map(|r| r.map_err(|e| Failure::of(&e)))
                .collect(),
        };
        let mut succeeded = Vec::new();
        for (job, outcome) in batch.iter().zip(outcomes) {
            match outcome {
                Ok(None) => succeeded.push(job.id),
                Ok(Some(at)) => due_again(reg, job, at)?,
                Err(e) => retry_later(reg, job, &e)?,
            }
        }
        done += succeeded.len();
        let mut conn = reg.db.conn()?;
        for ids in succeeded.chunks(1000) {
            // Only while still ours: a node whose lease ran out leaves the
            // job to the node that claimed it since (it runs it again,
            // which recomputes the same view).
            diesel::delete(
                jobs::table
                    .filter(jobs::id.eq_any(ids))
                    .filter(jobs::claimed_by.eq(&reg.node_id)),
            )
            .execute(&mut *conn)?;
        }
    }
}

/// How long a claim holds unless the operator says otherwise (`serve
/// --job-lease-secs`): a node that dies mid-batch leaves its jobs due
/// again this long after it claimed them. A batch takes seconds (see
/// [`Lane::batch`]); a node restarted on the same data dir takes its own
/// claims back at once ([`release_claims`]).
pub const LEASE: Duration = Duration::from_secs(60);

/// Claims up to `limit` due jobs of `lane` for `node`: their lease starts
/// (`run_after` moves to the lease's end) and the claim counts as an
/// attempt. On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets nodes claim at the
/// same time without waiting for, or taking, each other's jobs; on SQLite
/// one node serves, and `BEGIN IMMEDIATE` orders the claims.
pub fn claim(
    conn: &mut DbConn,
    lane: Lane,
    node: &str,
    lease: Duration,
    limit: i64,
) -> Result<Vec<JobRow>> {
    let now = now();
    let lease_end = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    write_tx(conn, |conn| {
        // The binds below come in the order of the placeholders.
        let (p, skip_locked): ([&str; 4], &str) = match conn {
            DbConn::Postgres(_) => (["$1", "$2", "$3", "$4"], "FOR UPDATE SKIP LOCKED"),
            DbConn::Sqlite(_) => (["?"; 4], ""),
        };
        // The lane's kinds by equality, so that the (kind, id) index finds
        // them without reading another lane's backlog. They are constants
        // of this build, not input.
        let kinds = lane
            .kinds()
            .map(|j| format!("'{}'", j.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE jobs SET claimed_by = {}, run_after = {}, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE kind IN ({kinds}) AND run_after <= {} \
             ORDER BY id LIMIT {} {skip_locked}) \
             RETURNING id, kind, payload, attempts, last_error, run_after, created_at, claimed_by",
            p[0], p[1], p[2], p[3]
        );
        use diesel::sql_types::{BigInt, Text, Timestamp};
        let query = diesel::sql_query(sql)
            .bind::<Text, _>(node)
            .bind::<Timestamp, _>(lease_end)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit);
        let mut claimed: Vec<JobRow> = query.load(conn)?;
        // RETURNING gives no order.
        claimed.sort_by_key(|j| j.id);
        Ok(claimed)
    })
}

/// Makes the jobs `node` claimed due again at once: for a node restarted
/// on its data dir, whose earlier process died with claims in hand.
pub fn release_claims(conn: &mut DbConn, node: &str) -> Result<usize> {
    Ok(diesel::update(
        jobs::table
            .filter(jobs::claimed_by.eq(node))
            .filter(jobs::run_after.lt(parked_at())),
    )
    .set((
        jobs::claimed_by.eq(None::<String>),
        jobs::run_after.eq(now()),
    ))
    .execute(conn)?)
}

/// Why a job failed, as the queue needs it: the text to log and keep, and
/// whether trying again can help. Taken from the error before it becomes
/// text, since one package's outcome is shared by all of its waiting jobs.
#[derive(Debug, Clone)]
struct Failure {
    message: String,
    permanent: bool,
}

impl Failure {
    fn of(e: &RegistryError) -> Failure {
        Failure {
            message: e.to_string(),
            permanent: is_permanent(e),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A job that went as planned and is due again at `at` (a delivery
/// waiting for its next attempt): not a failure, so its attempts start
/// over and it is never parked for them.
fn due_again(reg: &Registry, job: &JobRow, at: chrono::NaiveDateTime) -> Result<()> {
    let mut conn = reg.db.conn()?;
    diesel::update(
        jobs::table
            .find(job.id)
            .filter(jobs::claimed_by.eq(&reg.node_id)),
    )
    .set((
        jobs::attempts.eq(0),
        jobs::run_after.eq(at),
        jobs::claimed_by.eq(None::<String>),
    ))
    .execute(&mut *conn)?;
    Ok(())
}

fn retry_later(reg: &Registry, job: &JobRow, e: &Failure) -> Result<()> {
    let attempts = job.attempts;
    let backoff = 2i64.saturating_pow(attempts.min(8) as u32).min(300);
    // A job that cannot succeed is parked with its error instead of being
    // retried for ever (it would count as lag and hide the jobs behind it).
    let run_after = if attempts >= MAX_ATTEMPTS || e.permanent {
        tracing::error!(job.id = job.id, job.kind = %job.kind, job.payload = %job.payload, attempts, error = %e, "job cannot succeed; parked");
        parked_at()
    } else {
        tracing::warn!(job.id = job.id, job.kind = %job.kind, attempts, error = %e, "job failed; will retry");
        now() + chrono::Duration::seconds(backoff)
    };
    let mut conn = reg.db.conn()?;
    write_tx(&mut conn, |c| {
        diesel::update(
            jobs::table
                .find(job.id)
                .filter(jobs::claimed_by.eq(&reg.node_id)),
        )
        .set((
            jobs::last_error.eq(Some(e.to_string())),
            jobs::run_after.eq(run_after),
            jobs::claimed_by.eq(None::<String>),
        ))
        .execute(c)
        .map_err(RegistryError::from)
    })?;
    Ok(())
}

/// Jobs other than the git index's: each package once per batch, however
/// many of its jobs are waiting (each recomputes the whole view). Packages
/// are independent (each history is its own repository), so two workers
/// share them: a history unpacks archives and writes files, and a bulk
/// load leaves thousands waiting.
fn run_each_package(reg: &Registry, batch: &[JobRow]) -> Vec<std::result::Result<(), Failure>> {
    let mut keys: Vec<(&str, &str)> = batch
        .iter()
        .map(|job| (job.kind.as_str(), job.payload.as_str()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Mutex<BTreeMap<JobKey<'_>, std::result::Result<(), Failure>>> = Mutex::default();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(HISTORY_WORKERS));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(&(kind, payload)) = keys.get(i) else {
                    return;
                };
                let outcome = match kind.parse::<Job>() {
                    Ok(Job::SyncHistory) => super::history_cache::worth_warming(reg, payload)
                        .and_then(|warm| match warm {
                            true => super::history::sync_history(reg, payload).map(|_| ()),
                            false => Ok(()),
                        }),
                    Ok(Job::SyncIndex) => sync_index(reg, payload),
                    // Another lane's (see Lane::kinds).
                    Ok(Job::FanOutEvent | Job::Deliver) => Ok(()),
                    // Not claimed (see Lane::kinds); should one come, a
                    // newer release's job is its own to run.
                    Err(unknown) => {
                        tracing::error!(job.kind = %unknown.0, "unknown job kind; dropping it");
                        Ok(())
                    }
                };
                outcomes
                    .lock()
                    .expect("outcomes lock")
                    .insert((kind, payload), outcome.map_err(|e| Failure::of(&e)));
            });
        }
    });
    let outcomes = outcomes.into_inner().expect("outcomes lock");
    batch
        .iter()
        .map(
            |job| match outcomes.get(&(job.kind.as_str(), job.payload.as_str())) {
                Some(Err(e)) => Err(e.clone()),
                _ => Ok(()),
            },
        )
        .collect()
}

/// A job's kind and payload: what makes two jobs the same work.
type JobKey<'a> = (&'a str, &'a str);

/// Threads that write package histories at the same time.
const HISTORY_WORKERS: usize = 2;

/// The commit message of a batch: its packages, sorted (at most 100 named).
fn batch_message(names: &[&str]) -> String {
    match names {
        [one] => format!("Update {one}"),
        _ => {
            let mut message = format!("Update {} packages\n\n", names.len());
            for name in names.iter().take(100) {
                message.push_str(name);
                message.push('\n');
            }
            if names.len() > 100 {
                message.push_str(&format!("and {} more\n", names.len() - 100));
            }
            message
        }
    }
}

/// Writes the index files of every package in `batch` as the database says
/// they are now, in one commit. The commit's time is the newest change
/// among them (`packages.updated_at`), so it comes from the database.
/// Returns one outcome per job.
fn sync_index_batch(reg: &Registry, batch: &[JobRow]) -> Vec<Result<()>> {
    let started = std::time::Instant::now();
    let mut files: BTreeMap<&str, Result<Option<String>, String>> = BTreeMap::new();
    let mut time = 0i64;
    let computed = (|| -> Result<()> {
        let mut names = Vec::new();
        for job in batch {
            match job.payload.split_once('/') {
                Some(pair) => names.push(pair),
                None => {
                    files.insert(
                        job.payload.as_str(),
                        Err(format!("bad package name {:?}", job.payload)),
                    );
                }
            }
        }
        names.sort_unstable();
        names.dedup();
        let mut conn = reg.db.conn()?;
        let (lines, newest) = index::index_lines_many(&mut conn, &names)?;
        time = newest;
        for job in batch {
            if let Some(lines) = lines.get(job.payload.as_str()) {
                let content = lines
                    .as_ref()
                    .filter(|l| !l.is_empty())
                    .map(|l| serialize_lines(l));
                files.insert(job.payload.as_str(), Ok(content));
            }
        }
        Ok(())
    })();
    let written = computed.and_then(|()| {
        let changes: Vec<(String, Option<String>)> = files
            .iter()
            .filter_map(|(full_name, content)| {
                let (ns, name) = full_name.split_once('/')?;
                Some((package_path(ns, name), content.as_ref().ok()?.clone()))
            })
            .collect();
        if changes.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = files
            .iter()
            .filter(|(_, c)| c.is_ok())
            .map(|(n, _)| *n)
            .collect();
        let info = CommitInfo {
            time,
            message: batch_message(&names),
        };
        let computed_at = std::time::Instant::now();
        reg.git.with(reg, |git| {
            git.commit_files(&changes, &info)?;
            tracing::debug!(
                jobs = batch.len(),
                packages = changes.len(),
                compute_ms = (computed_at - started).as_millis() as u64,
                commit_ms = computed_at.elapsed().as_millis() as u64,
                "git index batch written"
            );
            let since = reg
                .git
                .commits_since_maintenance
                .fetch_add(1, Ordering::SeqCst)
                + 1;
            if since >= MAINTAIN_EVERY {
                maintain_index(reg, git)?;
            }
            if super::shared_index::is_shared(reg) {
                super::shared_index::publish(reg, git)?;
            }
            Ok(())
        })
    });
    let failed = written.as_ref().err().map(|e| e.to_string());
    batch
        .iter()
        .map(|job| match (&failed, files.get(job.payload.as_str())) {
            (Some(e), _) => Err(RegistryError::Io(std::io::Error::other(e.clone()))),
            (None, Some(Err(e))) => Err(RegistryError::bad_request("invalid_job", e.clone())),
            (None, _) => Ok(()),
        })
        .collect()
}

/// The archive repository that keeps the git index's history from before
/// each squash.
pub fn index_archive_path(reg: &Registry) -> std::path::PathBuf {
    reg.data_dir.join("git").join("index-archive.git")
}

/// Commits after which the git index lane rolls up packs even if more
/// jobs are waiting; otherwise it does so when it runs out of work, so
/// that roll-ups do not delay the commits of waiting changes.
const MAINTAIN_EVERY: u64 = 16;

/// Rolls up packs and squashes when due; timed in the debug log.
fn maintain_index(reg: &Registry, git: &GitIndex) -> Result<()> {
    let started = std::time::Instant::now();
    reg.git.commits_since_maintenance.store(0, Ordering::SeqCst);
    git.maintain()?;
    squash_if_due(reg, git)?;
    if super::shared_index::is_shared(reg) {
        super::shared_index::publish(reg, git)?;
    }
    tracing::debug!(
        maintain_ms = started.elapsed().as_millis() as u64,
        "git index maintained"
    );
    Ok(())
}

fn squash_if_due(reg: &Registry, git: &GitIndex) -> Result<()> {
    let after = reg.git.squash_after.load(Ordering::SeqCst);
    // Only by count: a fetch across a squash downloads the new base pack's
    // index (and the base itself if the clone was behind), so squashes must
    // be rare events, not a reaction to every burst of commits.
    if after == 0 || git.commits_since_snapshot()? < after {
        return Ok(());
    }
    if let Some(s) = git.squash(&index_archive_path(reg))? {
        tracing::info!(snapshot = %s.snapshot, archived_as = %s.archived_as, previous = %s.previous, "git index history squashed");
    }
    Ok(())
}

/// Writes one package's index file as the database says it is now.
pub fn sync_index(reg: &Registry, full_name: &str) -> Result<()> {
    let job = JobRow {
        id: 0,
        kind: Job::SyncIndex.as_str().into(),
        payload: full_name.into(),
        attempts: 0,
        last_error: None,
        run_after: now(),
        created_at: now(),
        claimed_by: None,
    };
    sync_index_batch(reg, std::slice::from_ref(&job))
        .pop()
        .expect("one outcome per job")
}

/// How often the webhook lane drops old deliveries.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Starts the in-process runner threads, one per [`Lane`]. They stop when
/// `stop` is set.
pub fn spawn_runner(
    reg: Arc<Registry>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let released = reg
        .db
        .conn()
        .map_err(RegistryError::from)
        .and_then(|mut c| release_claims(&mut c, &reg.node_id));
    match released {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(jobs = n, node = %reg.node_id, "took back the claims of this node's previous run")
        }
        Err(e) => tracing::warn!(error = %e, "cannot take back this node's earlier claims"),
    }
    let others = spawn_lane(reg.clone(), stop.clone(), Lane::Others, reg.wakeup.clone());
    let webhooks = spawn_lane(
        reg.clone(),
        stop.clone(),
        Lane::Webhooks,
        reg.webhook_wakeup.clone(),
    );
    let index = spawn_lane(reg.clone(), stop, Lane::GitIndex, reg.index_wakeup.clone());
    std::thread::Builder::new()
        .name("gemeinwerk-jobs".into())
        .spawn(move || {
            let _ = index.join();
            let _ = others.join();
            let _ = webhooks.join();
        })
        .expect("spawning the job runner")
}

fn spawn_lane(
    reg: Arc<Registry>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    lane: Lane,
    wakeup: Arc<Wakeup>,
) -> std::thread::JoinHandle<()> {
    let stopping = stop.clone();
    super::supervisor::spawn(lane.thread_name(), stop, move || {
        let mut pruned = std::time::Instant::now();
        while !stopping.load(Ordering::SeqCst) {
            if let Err(e) = run_lane(&reg, lane) {
                tracing::error!(error = %e, ?lane, "job runner");
            }
            if lane == Lane::Webhooks && pruned.elapsed() > PRUNE_EVERY {
                pruned = std::time::Instant::now();
                match reg
                    .db
                    .conn()
                    .map_err(RegistryError::from)
                    .and_then(|mut c| super::deliveries::prune(&mut c))
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(rows = n, "old deliveries and events pruned"),
                    Err(e) => tracing::warn!(error = %e, "pruning old deliveries"),
                }
            }
            wakeup.wait(Duration::from_millis(500));
        }
        // Drain what is due so that a graceful stop leaves the views current.
        if let Err(e) = run_lane(&reg, lane) {
            tracing::error!(error = %e, ?lane, "job runner at shutdown");
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_reads_back_from_its_stored_kind() {
        for job in Job::ALL {
            assert_eq!(job.as_str().parse::<Job>(), Ok(job));
        }
    }

    #[test]
    fn the_stored_kinds_stay_as_they_were() {
        assert_eq!(Job::SyncIndex.as_str(), "sync_index");
        assert_eq!(Job::SyncHistory.as_str(), "sync_history");
        assert_eq!(Job::FanOutEvent.as_str(), "fan_out_event");
        assert_eq!(Job::Deliver.as_str(), "deliver_event");
        assert_eq!(
            "rebuild_everything".parse::<Job>(),
            Err(UnknownJob("rebuild_everything".into()))
        );
    }
}
