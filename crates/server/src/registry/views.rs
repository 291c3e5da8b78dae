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
    let (n, oldest): (i64, Option<chrono::NaiveDateTime>) = audit_log::table
        .filter(audit_log::id.gt(cursor))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(audit_log::created_at),
        ))
        .first(&mut *conn)?;
    lags.push(ViewLag {
        view: "search",
        lag_changes: n,
        lag_seconds: seconds_since(oldest),
    });
    Ok(lags)
}
