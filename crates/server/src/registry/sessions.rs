//! Signed-in sessions of the web UI, as rows in the database, so that any
//! server node answers any request and a restart signs nobody out.
//!
//! The browser holds a random session id; the row holds only its SHA-256,
//! the session's CSRF token and the id of the API token signed in with. A
//! session acts through that token row (`auth::Credential::Session`), so
//! the token's scopes, namespace restriction, expiry and revocation apply
//! unchanged, and no raw token is kept anywhere.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::error::Result;
use super::secrets::{self, random_hex};
use crate::store::db::now;
use crate::store::schema::{api_tokens, users, web_sessions};
use crate::store::DbConn;

/// A session ends after this long without a request.
pub const IDLE_HOURS: i64 = 8;
/// `last_seen_at` is written at most this often, not on every page.
const TOUCH_SECONDS: i64 = 60;

/// A live session, as a request finds it.
#[derive(Clone)]
pub struct Session {
    /// The raw id from the cookie: the request's credential.
    pub id: String,
    pub login: String,
    /// The id of the API token signed in with (not the token).
    pub token_id: i64,
    pub csrf: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the session id, not even in a debug log.
        f.debug_struct("Session")
            .field("login", &self.login)
            .finish()
    }
}

fn idle_since(at: NaiveDateTime) -> NaiveDateTime {
    at - Duration::hours(IDLE_HOURS)
}

/// Starts a session for a token that has just authenticated; returns the
/// raw id (for the cookie only) and the CSRF token.
pub fn create(conn: &mut DbConn, token_id: i64) -> Result<(String, String)> {
    start(conn, token_id, false)
}

/// Starts a session that owns its token (made for it at an OIDC
/// sign-in): the token is revoked when the session ends.
pub fn create_owning(conn: &mut DbConn, token_id: i64) -> Result<(String, String)> {
    start(conn, token_id, true)
}

fn start(conn: &mut DbConn, token_id: i64, own_token: bool) -> Result<(String, String)> {
    let at = now();
    // Sessions nobody came back to go now, so the table stays small
    // without a timer.
    let idle: Vec<(String, i64, bool)> = web_sessions::table
        .filter(web_sessions::last_seen_at.le(idle_since(at)))
        .select((
            web_sessions::id_hash,
            web_sessions::token_id,
            web_sessions::own_token,
        ))
        .load(conn)?;
    end_rows(conn, &idle)?;
    let id = random_hex();
    let csrf = random_hex();
    diesel::insert_into(web_sessions::table)
        .values((
            web_sessions::id_hash.eq(secrets::digest(&id)),
            web_sessions::token_id.eq(token_id),
            web_sessions::csrf.eq(&csrf),
            web_sessions::created_at.eq(at),
            web_sessions::last_seen_at.eq(at),
            web_sessions::own_token.eq(own_token),
        ))
        .execute(conn)?;
    Ok((id, csrf))
}

/// The live session with this raw id, if any. An idle one ends here; a
/// live one is marked seen (at most once a minute).
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<Session>> {
    let hash = secrets::digest(id);
    let row: Option<(i64, String, NaiveDateTime, String)> = web_sessions::table
        .inner_join(api_tokens::table.inner_join(users::table))
        .filter(web_sessions::id_hash.eq(&hash))
        .select((
            web_sessions::token_id,
            web_sessions::csrf,
            web_sessions::last_seen_at,
            users::login,
        ))
        .first(conn)
        .optional()?;
    let Some((token_id, csrf, last_seen, login)) = row else {
        return Ok(None);
    };
    let at = now();
    if last_seen <= idle_since(at) {
        end(conn, id)?;
        return Ok(None);
    }
    if at - last_seen >= Duration::seconds(TOUCH_SECONDS) {
        diesel::update(web_sessions::table.find(&hash))
            .set(web_sessions::last_seen_at.eq(at))
            .execute(conn)?;
    }
    Ok(Some(Session {
        id: id.to_string(),
        login,
        token_id,
        csrf,
    }))
}

/// The token a live session acts through.
pub fn token_of(conn: &mut DbConn, id: &str) -> Result<Option<i64>> {
    Ok(web_sessions::table
        .find(secrets::digest(id))
        .filter(web_sessions::last_seen_at.gt(idle_since(now())))
        .select(web_sessions::token_id)
        .first(conn)
        .optional()?)
}

/// Ends a session (sign-out, idle); a token it owns is revoked with it.
pub fn end(conn: &mut DbConn, id: &str) -> Result<()> {
    let rows: Vec<(String, i64, bool)> = web_sessions::table
        .find(secrets::digest(id))
        .select((
            web_sessions::id_hash,
            web_sessions::token_id,
            web_sessions::own_token,
        ))
        .load(conn)?;
    end_rows(conn, &rows)
}

/// Ends every session of a user (an owner cuts a member off, or the
/// operator); answers how many ended.
pub fn end_all_of_user(conn: &mut DbConn, user_id: i64) -> Result<usize> {
    let rows: Vec<(String, i64, bool)> = web_sessions::table
        .inner_join(api_tokens::table)
        .filter(api_tokens::user_id.eq(user_id))
        .select((
            web_sessions::id_hash,
            web_sessions::token_id,
            web_sessions::own_token,
        ))
        .load(conn)?;
    end_rows(conn, &rows)?;
    Ok(rows.len())
}

/// Deletes session rows (id hash, token, owns it) and revokes the tokens
/// they own.
fn end_rows(conn: &mut DbConn, rows: &[(String, i64, bool)]) -> Result<()> {
    let owned: Vec<i64> = rows.iter().filter(|r| r.2).map(|r| r.1).collect();
    if !owned.is_empty() {
        diesel::update(
            api_tokens::table
                .filter(api_tokens::id.eq_any(&owned))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(Some(now())))
        .execute(conn)?;
    }
    let ids: Vec<&String> = rows.iter().map(|r| &r.0).collect();
    diesel::delete(web_sessions::table.filter(web_sessions::id_hash.eq_any(ids))).execute(conn)?;
    Ok(())
}

/// Ends every session signed in with a token (when it is revoked).
pub fn end_all_of_token(conn: &mut DbConn, token_id: i64) -> Result<()> {
    diesel::delete(web_sessions::table.filter(web_sessions::token_id.eq(token_id)))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_session_id() {
        let s = Session {
            id: random_hex(),
            login: "anna".into(),
            token_id: 1,
            csrf: random_hex(),
        };
        assert!(!format!("{s:?}").contains(&s.id));
        assert_ne!(random_hex(), random_hex());
        assert_eq!(random_hex().len(), 64);
    }
}
