//! Download counts: counted in memory, written in one transaction every
//! few seconds, kept per version and UTC day.
//!
//! A download takes no database lock: it adds one to a counter in this
//! process. The flusher thread writes the counters every
//! [`FLUSH_EVERY`] (or as configured) in one transaction, and once more
//! when the server stops cleanly, so a clean stop loses nothing; a crash
//! loses at most the last few seconds of counts, never a download.
//!
//! What is written per flush: `version_downloads` (version, day, count)
//! gets the day's count added; `versions.downloads` and
//! `packages.downloads` are the totals; `packages.recent_downloads` is the
//! sum of the last [`RECENT_DAYS`] days, which the start page's "most
//! used" list and the search ranking read. A day leaving that window is
//! taken off by the roll-off, which reads only the packages whose oldest
//! counted day left (`recent_downloads_until`). Every change stamps
//! `packages.downloads_changed_at`, so that the search follower reads only
//! what moved since its last pass.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::error::{RegistryError, Result};
use super::jobs::Wakeup;
use super::Registry;
use crate::store::db::now;
use crate::store::schema::{packages, version_downloads, versions};
use crate::store::{write_tx, DbConn};

/// How many days "recent" downloads cover: the package page's chart, the
/// start page's "most used" and the search ranking.
pub const RECENT_DAYS: i64 = 90;
/// How often counted downloads are written, unless the operator says
/// otherwise (`serve --downloads-flush-secs`).
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// Packages recomputed per roll-off transaction.
const ROLL_OFF_BATCH: i64 = 500;

/// Why a download is made. Only a download for use is counted: a pipeline
/// or a person fetching a version to use it. A client that only looks at
/// a version (`diff`, `info`, `upstream`, `fork`) says so with
/// `?purpose=inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Purpose {
    #[default]
    Use,
    Inspect,
}

impl Purpose {
    /// The `purpose` query parameter; none means use.
    pub fn from_query(value: Option<&str>) -> Result<Purpose> {
        match value {
            None | Some("use") => Ok(Purpose::Use),
            Some("inspect") => Ok(Purpose::Inspect),
            Some(other) => Err(RegistryError::bad_request(
                "bad_download_purpose",
                format!("purpose \"{other}\" is not known; use \"use\" or \"inspect\""),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    package_id: i64,
    version_id: i64,
    day: NaiveDate,
}

/// Downloads counted in this process and not yet written.
pub struct DownloadCounter {
    pending: Mutex<BTreeMap<Key, i64>>,
    flush_every: Mutex<Duration>,
    pub wakeup: Wakeup,
}

impl Default for DownloadCounter {
    fn default() -> Self {
        DownloadCounter {
            pending: Mutex::new(BTreeMap::new()),
            flush_every: Mutex::new(FLUSH_EVERY),
            wakeup: Wakeup::default(),
        }
    }
}

pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

impl DownloadCounter {
    pub fn count(&self, package_id: i64, version_id: i64) {
        let key = Key {
            package_id,
            version_id,
            day: today(),
        };
        *self
            .pending
            .lock()
            .expect("download counter lock")
            .entry(key)
            .or_default() += 1;
    }

    pub fn set_flush_every(&self, every: Duration) {
        *self.flush_every.lock().expect("download counter lock") = every;
    }

    fn flush_every(&self) -> Duration {
        *self.flush_every.lock().expect("download counter lock")
    }

    /// Counted and not yet written for a package: its total, by version.
    /// Added to what the database says, a download shows on this node at
    /// once.
    pub fn pending_for(&self, package_id: i64) -> BTreeMap<i64, i64> {
        let mut by_version = BTreeMap::new();
        for (key, n) in self.pending.lock().expect("download counter lock").iter() {
            if key.package_id == package_id {
                *by_version.entry(key.version_id).or_default() += n;
            }
        }
        by_version
    }

    fn take(&self) -> BTreeMap<Key, i64> {
        std::mem::take(&mut *self.pending.lock().expect("download counter lock"))
    }

    /// Puts counts that could not be written back, for the next flush.
    fn give_back(&self, counts: BTreeMap<Key, i64>) {
        let mut pending = self.pending.lock().expect("download counter lock");
        for (key, n) in counts {
            *pending.entry(key).or_default() += n;
        }
    }
}

/// Writes the counted downloads in one transaction; returns how many.
/// On failure the counts stay for the next flush.
pub fn flush(reg: &Registry) -> Result<i64> {
    let counts = reg.downloads.take();
    if counts.is_empty() {
        return Ok(0);
    }
    let written = reg
        .db
        .conn()
        .map_err(Into::into)
        .and_then(|mut conn| write_tx(&mut conn, |conn| write_counts(conn, &counts)));
    match written {
        Ok(()) => Ok(counts.values().sum()),
        Err(e) => {
            reg.downloads.give_back(counts);
            Err(e)
        }
    }
}

fn write_counts(conn: &mut DbConn, counts: &BTreeMap<Key, i64>) -> Result<()> {
    let at = now();
    // Rows are touched in key order (package, version, day) by every
    // node, so that two flushing nodes on PostgreSQL never wait on each
    // other in a circle.
    let mut per_version: BTreeMap<i64, i64> = BTreeMap::new();
    let mut per_package: BTreeMap<i64, (i64, NaiveDate)> = BTreeMap::new();
    for (key, n) in counts {
        add_to_day(conn, key.version_id, key.day, *n)?;
        *per_version.entry(key.version_id).or_default() += n;
        let entry = per_package.entry(key.package_id).or_insert((0, key.day));
        entry.0 += n;
        entry.1 = entry.1.min(key.day);
    }
    for (version_id, n) in per_version {
        diesel::update(versions::table.find(version_id))
            .set(versions::downloads.eq(versions::downloads + n))
            .execute(conn)?;
    }
    for (package_id, (n, oldest_day)) in per_package {
        diesel::update(packages::table.find(package_id))
            .set((
                packages::downloads.eq(packages::downloads + n),
                packages::recent_downloads.eq(packages::recent_downloads + n),
                packages::downloads_changed_at.eq(Some(at)),
            ))
            .execute(conn)?;
        // The first counted day sets when the sum will first drop.
        diesel::update(packages::table.find(package_id))
            .filter(packages::recent_downloads_until.is_null())
            .set(packages::recent_downloads_until.eq(Some(leaves_window(oldest_day))))
            .execute(conn)?;
    }
    Ok(())
}

/// The first day on which downloads of `day` no longer count as recent.
fn leaves_window(day: NaiveDate) -> NaiveDate {
    day + chrono::Duration::days(RECENT_DAYS)
}

/// The first day that still counts as recent on `today`.
pub fn window_start(today: NaiveDate) -> NaiveDate {
    today - chrono::Duration::days(RECENT_DAYS - 1)
}

/// One statement on both backends: the day's row is added to or made.
fn add_to_day(conn: &mut DbConn, version_id: i64, day: NaiveDate, n: i64) -> Result<()> {
    use diesel::sql_types::{BigInt, Date};
    const UPSERT: &str = "INSERT INTO version_downloads (version_id, day, count) VALUES ({1}, {2}, {3}) \
         ON CONFLICT (version_id, day) DO UPDATE SET count = version_downloads.count + excluded.count";
    match conn {
        DbConn::Postgres(c) => diesel::sql_query(
            UPSERT
                .replace("{1}", "$1")
                .replace("{2}", "$2")
                .replace("{3}", "$3"),
        )
        .bind::<BigInt, _>(version_id)
        .bind::<Date, _>(day)
        .bind::<BigInt, _>(n)
        .execute(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(
            UPSERT
                .replace("{1}", "?")
                .replace("{2}", "?")
                .replace("{3}", "?"),
        )
        .bind::<BigInt, _>(version_id)
        .bind::<Date, _>(day)
        .bind::<BigInt, _>(n)
        .execute(c)?,
    };
    Ok(())
}

/// Takes the days that left the window off `recent_downloads`, reading
/// only the packages whose oldest counted day left it. Returns how many
/// packages moved.
pub fn roll_off(reg: &Registry, today: NaiveDate) -> Result<usize> {
    let mut conn = reg.db.conn()?;
    let mut moved = 0;
    loop {
        let due: Vec<i64> = packages::table
            .filter(packages::recent_downloads_until.le(today))
            .order(packages::recent_downloads_until)
            .limit(ROLL_OFF_BATCH)
            .select(packages::id)
            .load(&mut *conn)?;
        if due.is_empty() {
            return Ok(moved);
        }
        write_tx(&mut conn, |conn| -> Result<()> {
            for id in &due {
                recompute(conn, *id, today)?;
            }
            Ok(())
        })?;
        moved += due.len();
    }
}

/// Sets a package's recent downloads from its days: exact, whatever was
/// added before.
fn recompute(conn: &mut DbConn, package_id: i64, today: NaiveDate) -> Result<()> {
    // Lock the row first (a no-op update): on PostgreSQL the next
    // statement then sees every flush that committed before, and a flush
    // after waits for us, so no count is lost between read and write.
    diesel::update(packages::table.find(package_id))
        .set(packages::recent_downloads.eq(packages::recent_downloads))
        .execute(conn)?;
    let days = package_days(conn, package_id, window_start(today))?;
    let total: i64 = days.values().sum();
    let until = days.keys().next().map(|d| leaves_window(*d));
    diesel::update(packages::table.find(package_id))
        .set((
            packages::recent_downloads.eq(total),
            packages::recent_downloads_until.eq(until),
            packages::downloads_changed_at.eq(Some(now())),
        ))
        .execute(conn)?;
    Ok(())
}

/// A package's downloads per day since `from`, all versions together.
/// Two lookups by key rather than a join: without statistics PostgreSQL
/// may hash-join the join by reading every day of every version.
pub fn package_days(
    conn: &mut DbConn,
    package_id: i64,
    from: NaiveDate,
) -> Result<BTreeMap<NaiveDate, i64>> {
    let version_ids: Vec<i64> = versions::table
        .filter(versions::package_id.eq(package_id))
        .select(versions::id)
        .load(conn)?;
    let rows: Vec<(NaiveDate, i64)> = version_downloads::table
        .filter(version_downloads::version_id.eq_any(&version_ids))
        .filter(version_downloads::day.ge(from))
        .select((version_downloads::day, version_downloads::count))
        .load(conn)?;
    let mut days = BTreeMap::new();
    for (day, n) in rows {
        *days.entry(day).or_default() += n;
    }
    Ok(days)
}

/// A package's downloads of the last [`RECENT_DAYS`] days, one entry per
/// day from the oldest to today (days without downloads are 0), with the
/// counts this process has not written yet.
///
/// It takes the caller's connection: a page that held one and asked the
/// pool for a second could wait for ever under load.
pub fn recent_days(
    reg: &Registry,
    conn: &mut DbConn,
    package_id: i64,
) -> Result<Vec<(NaiveDate, i64)>> {
    let today = today();
    let start = window_start(today);
    let mut days = package_days(conn, package_id, start)?;
    for (key, n) in reg
        .downloads
        .pending
        .lock()
        .expect("download counter lock")
        .iter()
    {
        if key.package_id == package_id && key.day >= start {
            *days.entry(key.day).or_default() += n;
        }
    }
    Ok(start
        .iter_days()
        .take_while(|d| *d <= today)
        .map(|d| (d, days.get(&d).copied().unwrap_or(0)))
        .collect())
}

/// Starts the flusher thread. When `stop` is set it writes what is left
/// and ends; the server sets it after the last request finished.
pub fn spawn_flusher(reg: Arc<Registry>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("gemeinwerk-downloads".into())
        .spawn(move || {
            let mut rolled_off: Option<NaiveDate> = None;
            loop {
                let stopping = stop.load(Ordering::SeqCst);
                match flush(&reg) {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::debug!(downloads = n, "download counts written");
                        reg.search.wakeup.notify();
                    }
                    Err(e) => tracing::error!(error = %e, "download counts not written; keeping them for the next try"),
                }
                // The roll-off is due once a day; checking is one index
                // lookup, so every node does it, and a node that starts
                // late catches up.
                let day = today();
                if rolled_off != Some(day) {
                    match roll_off(&reg, day) {
                        Ok(_) => rolled_off = Some(day),
                        Err(e) => tracing::error!(error = %e, "download roll-off"),
                    }
                }
                if stopping {
                    break;
                }
                reg.downloads.wakeup.wait(reg.downloads.flush_every());
            }
        })
        .expect("spawning the download flusher")
}
