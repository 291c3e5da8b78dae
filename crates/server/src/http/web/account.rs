//! Signing in with an API token, signing out, and the member's own page
//! (namespaces, tokens). Every form post checks the session's CSRF token;
//! the sign-in form, which has no session yet, checks a cookie-paired one.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::{self, Session, SESSION_COOKIE, SIGNIN_COOKIE};
use super::{block, ok, page, see_other, Chrome, WebError, WebResult};
use crate::http::{origin_of, Reg};
use crate::registry::auth::CreatedToken;
use crate::registry::auth::Credential;
use crate::registry::rate_limits::Limited;
use crate::registry::tokens::{self, TokenRequest};
use crate::registry::{accounts, auth, sessions, RegistryError};

/// The session of a signed-in member whose form carried the right CSRF
/// token; anything else is refused before a use case runs.
pub fn member_session(req: &HttpRequest, csrf: &str) -> Result<Session, WebError> {
    let Some(session) = session::current(req) else {
        return Err(WebError::forbidden(
            "Dafür müssen Sie angemeldet sein. Bitte melden Sie sich an und versuchen Sie es noch einmal.",
        )
        .with_chrome(req));
    };
    if csrf.is_empty() || !session::same_secret(csrf, &session.csrf) {
        return Err(WebError::forbidden(
            "Das Formular war nicht gültig (Schutz vor untergeschobenen Anfragen). Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
        )
        .with_chrome(req));
    }
    Ok(session)
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage {
    chrome: Chrome,
    csrf: String,
    error: String,
    /// The identity providers: id and display name.
    providers: Vec<(String, String)>,
}

pub(super) fn signin_page(req: &HttpRequest, status: StatusCode, error: &str) -> HttpResponse {
    let csrf = session::random_hex();
    let providers = req
        .app_data::<Reg>()
        .map(|r| r.oidc.names())
        .unwrap_or_default();
    let mut response = page(
        status,
        &SigninPage {
            chrome: Chrome::of(req),
            csrf: csrf.clone(),
            error: error.to_string(),
            providers,
        },
    );
    let _ = response.add_cookie(&session::cookie(req, SIGNIN_COOKIE, csrf));
    response
}

#[get("/anmelden")]
pub(super) async fn signin_form(req: HttpRequest) -> HttpResponse {
    signin_page(&req, StatusCode::OK, "")
}

#[derive(Deserialize)]
pub(super) struct SigninForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

#[post("/anmelden")]
pub(super) async fn signin(reg: Reg, req: HttpRequest, form: web::Form<SigninForm>) -> WebResult {
    let form = form.into_inner();
    let paired = req
        .cookie(SIGNIN_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if form.csrf.is_empty() || !session::same_secret(&form.csrf, &paired) {
        return Ok(signin_page(
            &req,
            StatusCode::FORBIDDEN,
            "Das Anmeldeformular war nicht gültig. Bitte versuchen Sie es noch einmal.",
        ));
    }
    let addr = crate::http::client_addr(&req).unwrap_or_default();
    if let Err(RegistryError::RateLimited { retry_after, .. }) =
        reg.rate.check(Limited::SignIn, &addr)
    {
        let mut page = signin_page(
            &req,
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Zu viele Anmeldeversuche von Ihrer Adresse. Bitte warten Sie {retry_after} Sekunden und versuchen Sie es dann noch einmal."),
        );
        page.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(retry_after),
        );
        return Ok(page);
    }
    let token = form.token.trim().to_string();
    let origin = origin_of(&req);
    let started = web::block(move || {
        let mut conn = reg.db.conn()?;
        auth::sign_in(&mut conn, &origin, &token)
    })
    .await?;
    let (id, _csrf) = match started {
        Ok(s) => s,
        Err(e) => {
            let message = match e.code() {
                "missing_token" => "Bitte geben Sie Ihr API-Token ein.",
                "malformed_token" => {
                    "Das ist kein gemeinwerk-Token. Ein Token beginnt mit „gw_“ und hat danach 64 Zeichen."
                }
                "revoked_token" => "Dieses Token wurde widerrufen.",
                "expired_token" => "Dieses Token ist abgelaufen.",
                "unknown_token" => "Dieses Token kennt die Registry nicht.",
                _ => return Err(WebError::from(e).with_chrome(&req)),
            };
            return Ok(signin_page(&req, StatusCode::UNAUTHORIZED, message));
        }
    };
    let mut response = see_other("/konto");
    let _ = response.add_cookie(&session::cookie(&req, SESSION_COOKIE, id));
    let _ = response.add_removal_cookie(&session::removal(&req, SIGNIN_COOKIE));
    Ok(response)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

#[post("/abmelden")]
pub(super) async fn signout(reg: Reg, req: HttpRequest, form: web::Form<CsrfForm>) -> WebResult {
    let session = member_session(&req, &form.csrf)?;
    block(&req, move || {
        let mut conn = reg.db.conn()?;
        sessions::end(&mut conn, &session.id)
    })
    .await?;
    let mut response = see_other("/");
    let _ = response.add_removal_cookie(&session::removal(&req, SESSION_COOKIE));
    Ok(response)
}

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub scopes: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    pub state: &'static str,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    memberships: Vec<(String, String, String)>,
    tokens: Vec<TokenRow>,
    /// A token just made: shown on this one page, never again.
    created: Option<CreatedToken>,
}

pub fn role_de(role: &str) -> &'static str {
    match role {
        "owner" => "Eigentümer/in",
        "publisher" => "Veröffentlicher/in",
        _ => "Mitglied",
    }
}

#[get("/konto")]
pub(super) async fn account_page(reg: Reg, req: HttpRequest) -> WebResult {
    let chrome = Chrome::of(&req);
    let Some(login) = chrome.login.clone() else {
        return Ok(see_other("/anmelden"));
    };
    render_account(reg, &req, chrome, login, None).await
}

/// The account page, with the token just made, if any.
async fn render_account(
    reg: Reg,
    req: &HttpRequest,
    chrome: Chrome,
    login: String,
    created: Option<CreatedToken>,
) -> WebResult {
    let (memberships, tokens) = block(req, move || {
        let mut conn = reg.db.conn()?;
        let memberships = accounts::memberships(&mut conn, &login)?;
        let tokens = auth::list_tokens(&mut conn, &login)?;
        Ok((memberships, tokens))
    })
    .await?;
    let now = chrono::Utc::now().naive_utc();
    let tokens = tokens
        .into_iter()
        .map(|t| {
            let expired = t.expires_at.is_some_and(|e| e <= now);
            let (state, active) = match (t.revoked_at.is_some(), expired) {
                (true, _) => ("widerrufen", false),
                (_, true) => ("abgelaufen", false),
                _ => ("gültig", true),
            };
            TokenRow {
                id: t.id,
                name: t.name,
                scopes: t.scopes.replace(',', ", "),
                created: super::date(&t.created_at),
                last_used: t.last_used_at.as_ref().map(super::date).unwrap_or_default(),
                expires: t.expires_at.as_ref().map(super::date).unwrap_or_default(),
                state,
                active,
            }
        })
        .collect();
    Ok(ok(&AccountPage {
        chrome,
        memberships: memberships
            .into_iter()
            .map(|(slug, name, role)| (slug, name, role_de(&role).to_string()))
            .collect(),
        tokens,
        created,
    }))
}

#[derive(Deserialize)]
pub(super) struct NewTokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    /// The checkboxes: present ("ja") when ticked.
    #[serde(default)]
    publish: Option<String>,
    #[serde(default)]
    yank: Option<String>,
    #[serde(default)]
    owners: Option<String>,
    /// A namespace slug, or empty for all of the member's.
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    days: String,
}

/// Makes a token for the signed-in member, through the token the session
/// acts with (so never more than it may do), and shows it once.
#[post("/konto/tokens")]
pub(super) async fn create_token(
    reg: Reg,
    req: HttpRequest,
    form: web::Form<NewTokenForm>,
) -> WebResult {
    let session = member_session(&req, &form.csrf)?;
    let form = form.into_inner();
    let scopes = [
        ("publish", &form.publish),
        ("yank", &form.yank),
        ("owners", &form.owners),
    ]
    .iter()
    .filter(|(_, ticked)| ticked.is_some())
    .map(|(s, _)| s.to_string())
    .collect();
    let request = TokenRequest {
        name: form.name,
        scopes,
        namespace: Some(form.namespace).filter(|n| !n.is_empty()),
        // Not a number: out of range, refused with the German message.
        expires_in_days: form.days.trim().parse().unwrap_or(-1),
    };
    let origin = origin_of(&req);
    let reg2 = reg.clone();
    let created = block(&req, move || {
        let mut conn = reg2.db.conn()?;
        tokens::create(
            &mut conn,
            &reg2.rate,
            Credential::Session(&session.id),
            &origin,
            &request,
        )
    })
    .await?;
    let chrome = Chrome::of(&req);
    let login = created.login.clone();
    render_account(reg, &req, chrome, login, Some(created)).await
}

/// Revokes one of the member's own tokens.
#[post("/konto/tokens/{id}/widerrufen")]
pub(super) async fn revoke_token(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> WebResult {
    let session = member_session(&req, &form.csrf)?;
    let id = path.into_inner();
    let origin = origin_of(&req);
    let session_id = session.id.clone();
    let owned = block(&req, move || {
        let mut conn = reg.db.conn()?;
        let revoked =
            auth::revoke_own_token(&mut conn, Credential::Session(&session_id), &origin, id)?;
        Ok(revoked.is_some())
    })
    .await?;
    if !owned {
        return Err(
            WebError::not_found("Dieses Token gibt es in Ihrem Konto nicht.").with_chrome(&req),
        );
    }
    if id == session.token_id {
        // The token this session acts with is gone, and revoking it ended
        // the session.
        let mut response = see_other("/anmelden");
        let _ = response.add_removal_cookie(&session::removal(&req, SESSION_COOKIE));
        return Ok(response);
    }
    Ok(see_other("/konto#tokens"))
}
