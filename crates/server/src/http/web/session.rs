//! Signed-in sessions of the web UI and their CSRF tokens.
//!
//! The browser holds only a random session id in an HttpOnly cookie; the
//! session is a row in the database (`registry::sessions`), so every
//! server node knows it and a restart keeps it. The row holds no token:
//! use cases authenticate with `Credential::Session`, which acts through
//! the token row the member signed in with.

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest};

pub use crate::registry::secrets::random_hex;
pub use crate::registry::sessions::Session;

pub const SESSION_COOKIE: &str = "gw_sitzung";
/// Before sign-in, the sign-in form's CSRF token is paired with this
/// cookie (double submit).
pub const SIGNIN_COOKIE: &str = "gw_anmeldung";

/// Middleware: looks the request's session up once, off the async
/// threads, so that pages and form handlers read it with `current`.
pub async fn load(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // The stylesheet, script and icon show nobody's name: no lookup.
    let assets = req.path().starts_with("/static/") || req.path() == "/favicon.ico";
    let id = req
        .cookie(SESSION_COOKIE)
        .filter(|_| !assets)
        .map(|c| c.value().to_string())
        // Our ids are 64 hex digits; anything else cannot be one.
        .filter(|id| id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()));
    let reg = req.app_data::<crate::http::Reg>().cloned();
    if let (Some(id), Some(reg)) = (id, reg) {
        let found = actix_web::web::block(move || {
            let mut conn = reg.db.conn()?;
            crate::registry::sessions::find(&mut conn, &id)
        })
        .await;
        match found {
            Ok(Ok(Some(session))) => {
                req.extensions_mut().insert(session);
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "looking up a web session"),
            Err(e) => tracing::error!(error = %e, "looking up a web session"),
        }
    }
    next.call(req).await
}

/// The live session of a request, as `load` found it.
pub fn current(req: &HttpRequest) -> Option<Session> {
    req.extensions().get::<Session>().cloned()
}

/// `Secure` when the registry's public URL is https: the browser then
/// sends the cookie over TLS only, also behind a TLS-terminating proxy.
pub fn cookie(req: &HttpRequest, name: &'static str, value: String) -> Cookie<'static> {
    let secure = req
        .app_data::<crate::http::Reg>()
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
}
