//! What the operator must know about the database itself: on PostgreSQL,
//! tables that were never analysed. Without statistics the planner guesses
//! row counts, and a guess can turn a lookup of a few rows into a walk
//! over a whole table; autovacuum gathers them, and may be off.
//! `admin fsck` and `/healthz` warn; `admin fsck --repair` analyses.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde::Serialize;

use super::error::Result;
use crate::store::DbConn;

/// Tables with fewer live rows than this are planned well without
/// statistics (the planner reads them whole either way).
pub const UNANALYSED_MIN_ROWS: i64 = 1000;

/// A table the planner has no statistics for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, QueryableByName)]
pub struct Unanalysed {
    #[diesel(sql_type = Text)]
    pub table: String,
    #[diesel(sql_type = BigInt)]
    pub rows: i64,
}

impl Unanalysed {
    pub fn warning(&self) -> String {
        format!(
            "database: table {} has about {} rows and has never been analysed, so PostgreSQL plans its queries on guesses; turn autovacuum on or run ANALYZE (`gemeinwerk admin fsck --repair` does)",
            self.table, self.rows
        )
    }
}

/// What `/healthz` reports about the database: it answers (`Err` when it
/// does not), and the warnings of [`never_analysed`].
pub fn check(conn: &mut DbConn) -> Result<Vec<String>> {
    diesel::sql_query("SELECT 1").execute(conn)?;
    Ok(never_analysed(conn)?
        .iter()
        .map(Unanalysed::warning)
        .collect())
}

/// The tables of this registry's schema with more than
/// [`UNANALYSED_MIN_ROWS`] live rows and no statistics, by name. SQLite
/// has none: its planner needs no statistics for these queries.
pub fn never_analysed(conn: &mut DbConn) -> Result<Vec<Unanalysed>> {
    match conn {
        DbConn::Sqlite(_) => Ok(Vec::new()),
        DbConn::Postgres(c) => Ok(diesel::sql_query(
            "SELECT relname::text AS \"table\", n_live_tup AS rows FROM pg_stat_user_tables \
             WHERE schemaname = current_schema() AND last_analyze IS NULL \
             AND last_autoanalyze IS NULL AND n_live_tup >= $1 ORDER BY relname",
        )
        .bind::<BigInt, _>(UNANALYSED_MIN_ROWS)
        .load(c)?),
    }
}

/// Gathers statistics for the tables given.
pub fn analyse(conn: &mut DbConn, tables: &[Unanalysed]) -> Result<()> {
    if let DbConn::Postgres(c) = conn {
        for t in tables {
            // The name comes from the catalogue; quoted all the same.
            let quoted = format!("\"{}\"", t.table.replace('"', "\"\""));
            diesel::sql_query(format!("ANALYZE {quoted}")).execute(c)?;
        }
    }
    Ok(())
}
