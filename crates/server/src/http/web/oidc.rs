//! Sign-in with an OpenID Connect provider: `/anmelden/oidc/{id}` sends
//! the browser to the provider, `/anmelden/oidc/{id}/zurueck` takes it
//! back. The pending sign-in is bound to the browser by a cookie that
//! only these two addresses see; it is `SameSite=Lax`, as the way back
//! is a navigation from the provider's site.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::{self, SESSION_COOKIE};
use super::{block, page, secure, Chrome, WebError, WebResult};
use crate::http::{origin_of, Reg};
use crate::registry::rate_limits::Limited;

const FLOW_COOKIE: &str = "gw_oidc";
const FLOW_PATH: &str = "/anmelden/oidc";

fn flow_cookie(req: &HttpRequest, value: String) -> Cookie<'static> {
    let mut cookie = session::cookie(req, FLOW_COOKIE, value);
    cookie.set_path(FLOW_PATH);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_max_age(time::Duration::minutes(10));
    cookie
}

#[get("/anmelden/oidc/{provider}")]
pub(super) async fn begin(reg: Reg, req: HttpRequest, path: web::Path<String>) -> WebResult {
    let provider = path.into_inner();
    let addr = crate::http::client_addr(&req).unwrap_or_default();
    reg.rate
        .check(Limited::SignIn, &addr)
        .map_err(|e| WebError::from(e).with_chrome(&req))?;
    let begun = block(&req, move || {
        let mut conn = reg.db.conn()?;
        reg.oidc.begin(&mut conn, &provider)
    })
    .await?;
    let mut response = secure(
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, begun.authorize_url))
            .finish(),
    );
    let _ = response.add_cookie(&flow_cookie(&req, begun.browser_secret));
    Ok(response)
}

#[derive(Deserialize)]
pub(super) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "signed_in.html")]
struct SignedInPage {
    chrome: Chrome,
    login: String,
}

#[get("/anmelden/oidc/{provider}/zurueck")]
pub(super) async fn callback(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<Callback>,
) -> WebResult {
    let provider = path.into_inner();
    let query = query.into_inner();
    if let Some(error) = query.error {
        return Err(WebError::new(
            StatusCode::UNAUTHORIZED,
            "Anmeldung abgebrochen",
            format!(
                "Der Anmeldedienst hat die Anmeldung nicht bestätigt ({}). Bitte versuchen Sie es noch einmal.",
                error.chars().filter(|c| !c.is_control()).take(100).collect::<String>()
            ),
        )
        .with_chrome(&req));
    }
    let (Some(code), Some(state)) = (query.code, query.state) else {
        return Err(WebError::new(
            StatusCode::BAD_REQUEST,
            "Ungültige Anmeldung",
            "Dieser Adresse fehlt die Antwort des Anmeldedienstes. Bitte melden Sie sich über die Anmeldeseite an.",
        )
        .with_chrome(&req));
    };
    let browser = req
        .cookie(FLOW_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let origin = origin_of(&req);
    let signed_in = block(&req, move || {
        let mut conn = reg.db.conn()?;
        reg.oidc
            .finish(&mut conn, &origin, &provider, &code, &state, &browser)
    })
    .await?;
    // A page, not a redirect: the session cookie is `SameSite=Strict`, and
    // a redirect that continues the provider's navigation would arrive
    // without it.
    let mut response = page(
        StatusCode::OK,
        &SignedInPage {
            chrome: Chrome::default(),
            login: signed_in.login,
        },
    );
    let _ = response.add_cookie(&session::cookie(&req, SESSION_COOKIE, signed_in.session_id));
    let mut gone = flow_cookie(&req, String::new());
    gone.make_removal();
    let _ = response.add_removal_cookie(&gone);
    Ok(response)
}
