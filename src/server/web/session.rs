//! Signed-in sessions of the web UI and their CSRF tokens.
//!
//! A session lives on the server: the browser holds only a random session
//! id in an HttpOnly cookie. The API token the member signed in with stays
//! in this store (the use cases authenticate with it, so yank and member
//! changes keep the token's scopes and namespace restriction) and is never
//! written into a page or a cookie.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;
use rand::RngCore;

pub const SESSION_COOKIE: &str = "gw_sitzung";
/// Before sign-in, the sign-in form's CSRF token is paired with this
/// cookie (double submit).
pub const SIGNIN_COOKIE: &str = "gw_anmeldung";

/// A session ends after this long without a request.
const IDLE: Duration = Duration::from_secs(8 * 3600);
/// Bounds the memory a flood of sign-ins can take.
const MAX_SESSIONS: usize = 10_000;

pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[derive(Clone)]
pub struct Session {
    pub id: String,
    pub login: String,
    /// The id of the API token signed in with (not the token).
    pub token_id: i64,
    pub csrf: String,
    token: String,
    last_seen: Instant,
}

impl Session {
    /// The `Authorization` value the use cases authenticate with.
    pub fn auth_header(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token, not even in a debug log.
        f.debug_struct("Session")
            .field("login", &self.login)
            .finish()
    }
}

#[derive(Default)]
pub struct Sessions {
    inner: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    pub fn create(&self, login: &str, token_id: i64, token: &str) -> Session {
        let session = Session {
            id: random_hex(),
            login: login.to_string(),
            token_id,
            csrf: random_hex(),
            token: token.to_string(),
            last_seen: Instant::now(),
        };
        let mut map = self.inner.lock().expect("sessions lock");
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| s.last_seen.elapsed() < IDLE);
            if map.len() >= MAX_SESSIONS {
                // Still full: the oldest session goes.
                if let Some(oldest) = map
                    .values()
                    .min_by_key(|s| s.last_seen)
                    .map(|s| s.id.clone())
                {
                    map.remove(&oldest);
                }
            }
        }
        map.insert(session.id.clone(), session.clone());
        session
    }

    /// The live session of a request, if any; touching it keeps it alive.
    pub fn of(&self, req: &HttpRequest) -> Option<Session> {
        let id = req.cookie(SESSION_COOKIE)?.value().to_string();
        let mut map = self.inner.lock().expect("sessions lock");
        let s = map.get_mut(&id)?;
        if s.last_seen.elapsed() >= IDLE {
            map.remove(&id);
            return None;
        }
        s.last_seen = Instant::now();
        Some(s.clone())
    }

    pub fn end(&self, id: &str) {
        self.inner.lock().expect("sessions lock").remove(id);
    }
}

/// `Secure` when the registry's public URL is https: the browser then
/// sends the cookie over TLS only, also behind a TLS-terminating proxy.
pub fn cookie(req: &HttpRequest, name: &'static str, value: String) -> Cookie<'static> {
    let secure = req
        .app_data::<crate::server::Reg>()
        .is_some_and(|r| r.config.base_url.starts_with("https://"));
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .finish()
}

pub fn removal(req: &HttpRequest, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(req, name, String::new());
    c.make_removal();
    c
}

/// Compares without an early exit, so the time taken says nothing about
/// how much of a guessed token was right.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let s = Sessions::default().create("anna", 1, "gw_secret");
        assert!(!format!("{s:?}").contains("gw_secret"));
        assert!(s.auth_header().ends_with("gw_secret"));
    }
}
