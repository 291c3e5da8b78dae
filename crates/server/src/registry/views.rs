//! How far each derived view is behind the database, for `/healthz` and
//! `/metrics`. The database (and with it the sparse index and the JSON
//! API) is the authority: a publish is visible there when it returns; the
//! git index, the package histories and search follow.

use diesel::prelude::*;

use super::error::Result;
use super::jobs::{self, Job};
use super::Registry;
use crate::store::db::now;
use crate::store::schema::audit_log;
use crate::store::DbConn;

/// One view's distance from the database.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ViewLag {
    /// `git_index`, `package_histories` or `search`.
    pub view: &'static str,
    /// Changes the view has not applied yet: waiting jobs for the git
    /// views, change-feed entries for search.
    pub lag_changes: i64,
    /// Age of the oldest of them in seconds (0 when there is none).
    pub lag_seconds: f64,
}

fn seconds_since(t: Option<chrono::NaiveDateTime>) -> f64 {
    t.map_or(0.0, |t| {
        ((now() - t).num_milliseconds().max(0) as f64) / 1000.0
    })
}

pub fn view_lags(reg: &Registry) -> Result<Vec<ViewLag>> {
    let mut conn = reg.db.conn()?;
    let pending = jobs::pending_by_kind(&mut conn)?;
    let job_lag = |view, job: Job| {
        let (n, oldest) = pending.get(job.as_str()).cloned().unwrap_or((0, None));
        ViewLag {
            view,
            lag_changes: n,
            lag_seconds: seconds_since(oldest),
        }
    };
    let mut lags = vec![
        job_lag("git_index", Job::SyncIndex),
        job_lag("package_histories", Job::SyncHistory),
    ];
    // Without a search index in use yet, everything in the feed is behind.
    let cursor = reg.search.applied_cursor().unwrap_or(0);
    let (n, oldest) = feed_behind(&mut conn, cursor)?;
    lags.push(ViewLag {
        view: "search",
        lag_changes: n,
        lag_seconds: seconds_since(oldest),
    });
    Ok(lags)
}

/// Up to this many entries behind, the search lag is counted; beyond it,
/// the distance in ids stands for the count (an upper bound: ids of
/// rolled-back transactions are never used).
const COUNTED_UP_TO: i64 = 1_000;

/// The change-feed entries after `cursor` and the time of the first. Every
/// read walks the primary key from a bound on both sides: `id > cursor`
/// alone, counted, is planned as a scan of the whole log when the planner
/// cannot tell that the cursor is near its end (a generic plan, or no
/// statistics), and monitoring asks for this every few seconds.
fn feed_behind(conn: &mut DbConn, cursor: i64) -> Result<(i64, Option<chrono::NaiveDateTime>)> {
    let newest: i64 = audit_log::table
        .select(diesel::dsl::max(audit_log::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0);
    if newest <= cursor {
        return Ok((0, None));
    }
    let oldest = audit_log::table
        .filter(audit_log::id.gt(cursor))
        .order(audit_log::id)
        .select(audit_log::created_at)
        .first(conn)
        .optional()?;
    let n = if newest - cursor > COUNTED_UP_TO {
        newest - cursor
    } else {
        audit_log::table
            .filter(audit_log::id.gt(cursor))
            .filter(audit_log::id.le(newest))
            .count()
            .get_result(conn)?
    };
    Ok((n, oldest))
}
