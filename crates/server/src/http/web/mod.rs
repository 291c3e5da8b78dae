//! The web UI at `/`: German, server-rendered, usable without JavaScript.
//!
//! One handler module per page type; each builds a small view model from
//! the registry's use cases and renders an askama template (compile-time
//! checked, escaping by default). Every page is sent with a strict
//! Content-Security-Policy: no inline script or style, so the one CSS file
//! and the one script under `/static/` are all that can run or style.

mod account;
mod chart;
pub mod diagram;
mod diff;
mod feeds;
pub mod markdown;
mod namespace;
mod oidc;
mod package;
pub mod preview;
mod publisher;
mod rendered;
mod search;
pub mod session;
mod start;
mod subscriptions;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use super::error::ApiError;
use crate::registry::{ErrorKind, RegistryError};

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Only the web UI reads form bodies; a malformed one gets a page.
    cfg.app_data(web::FormConfig::default().error_handler(|_, req| {
        WebError::new(
            StatusCode::BAD_REQUEST,
            "Ungültige Eingabe",
            "Das Formular kam nicht lesbar an. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
        )
        .with_chrome(req)
        .into()
    }))
    .service(stylesheet)
        .service(script)
        .service(favicon)
        .service(start::page)
        .service(search::page)
        .service(package::page)
        .service(package::preview_page)
        .service(package::yank_version)
        .service(package::unyank_version)
        .service(package::deprecate)
        .service(diff::page)
        .service(feeds::package)
        .service(feeds::upstream)
        .service(feeds::namespace)
        .service(feeds::themenfeld)
        .service(namespace::page)
        .service(namespace::add_member)
        .service(namespace::remove_member)
        .service(namespace::end_member_sessions)
        .service(namespace::add_pipeline)
        .service(namespace::remove_pipeline)
        .service(subscriptions::list_page)
        .service(subscriptions::create)
        .service(subscriptions::log_page)
        .service(subscriptions::remove)
        .service(subscriptions::resume)
        .service(subscriptions::redeliver)
        .service(account::signin_form)
        .service(account::signin)
        .service(oidc::begin)
        .service(oidc::callback)
        .service(account::signout)
        .service(account::account_page)
        .service(account::create_token)
        .service(account::revoke_token);
}

/// The pages and forms above with their methods, for the catch-all's 405
/// answer (`super::routes`); `tests/it/contract.rs` holds this list against
/// the route attributes in this folder.
pub const PAGES: &[(&str, &str)] = &[
    ("GET", "/static/gemeinwerk.css"),
    ("GET", "/static/gemeinwerk.js"),
    ("GET", "/favicon.ico"),
    ("GET", "/"),
    ("GET", "/suche"),
    ("GET", "/pakete/{ns}/{name}"),
    ("GET", "/pakete/{ns}/{name}/vorschau"),
    (
        "POST",
        "/pakete/{ns}/{name}/versionen/{version}/zurueckziehen",
    ),
    ("POST", "/pakete/{ns}/{name}/versionen/{version}/freigeben"),
    ("POST", "/pakete/{ns}/{name}/veraltet"),
    ("GET", "/vergleich"),
    ("GET", "/feeds/pakete/{ns}/{name}"),
    ("GET", "/feeds/pakete/{ns}/{name}/upstream"),
    ("GET", "/feeds/namensraeume/{ns}"),
    ("GET", "/feeds/themenfelder/{themenfeld}"),
    ("GET", "/namensraeume/{ns}"),
    ("POST", "/namensraeume/{ns}/mitglieder"),
    ("POST", "/namensraeume/{ns}/mitglieder/{login}/entfernen"),
    ("POST", "/namensraeume/{ns}/mitglieder/{login}/abmelden"),
    ("POST", "/namensraeume/{ns}/pipelines"),
    ("POST", "/namensraeume/{ns}/pipelines/{id}/entfernen"),
    ("GET", "/namensraeume/{ns}/benachrichtigungen"),
    ("POST", "/namensraeume/{ns}/benachrichtigungen"),
    ("GET", "/namensraeume/{ns}/benachrichtigungen/{id}"),
    (
        "POST",
        "/namensraeume/{ns}/benachrichtigungen/{id}/entfernen",
    ),
    (
        "POST",
        "/namensraeume/{ns}/benachrichtigungen/{id}/fortsetzen",
    ),
    (
        "POST",
        "/namensraeume/{ns}/benachrichtigungen/{id}/zustellungen/{delivery}/erneut",
    ),
    ("GET", "/anmelden"),
    ("POST", "/anmelden"),
    ("GET", "/anmelden/oidc/{provider}"),
    ("GET", "/anmelden/oidc/{provider}/zurueck"),
    ("POST", "/abmelden"),
    ("GET", "/konto"),
    ("POST", "/konto/tokens"),
    ("POST", "/konto/tokens/{id}/widerrufen"),
];

/// What every page shows around its content: who is signed in, and the
/// CSRF token for the forms of a signed-in member.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub login: Option<String>,
    pub csrf: String,
    /// The search box in the header (the start page has its own).
    pub header_search: bool,
}

impl Chrome {
    pub fn of(req: &HttpRequest) -> Chrome {
        let session = session::current(req);
        Chrome {
            login: session.as_ref().map(|s| s.login.clone()),
            csrf: session.map(|s| s.csrf).unwrap_or_default(),
            header_search: true,
        }
    }
}

/// The headers every page carries.
fn secure(mut response: HttpResponse) -> HttpResponse {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// A rendered page with its status and the security headers.
pub fn page(status: StatusCode, template: &impl Template) -> HttpResponse {
    match template.render() {
        Ok(html) => secure(
            HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                // Pages change with every publish and show who is signed in.
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(html),
        ),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            secure(
                HttpResponse::InternalServerError()
                    .content_type("text/plain; charset=utf-8")
                    .body("Die Seite konnte nicht erstellt werden."),
            )
        }
    }
}

pub fn ok(template: &impl Template) -> HttpResponse {
    page(StatusCode::OK, template)
}

/// After a successful form post: back to a page (POST/redirect/GET).
pub fn see_other(location: &str) -> HttpResponse {
    secure(
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .finish(),
    )
}

#[get("/static/gemeinwerk.css")]
async fn stylesheet() -> HttpResponse {
    secure(
        HttpResponse::Ok()
            .content_type("text/css; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(include_str!("static/gemeinwerk.css")),
    )
}

/// Browsers ask for `/favicon.ico` on their own; answering it keeps the
/// log free of 404s and gives the tab an icon.
#[get("/favicon.ico")]
async fn favicon() -> HttpResponse {
    secure(
        HttpResponse::Ok()
            .content_type("image/x-icon")
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .body(&include_bytes!("static/favicon.ico")[..]),
    )
}

#[get("/static/gemeinwerk.js")]
async fn script() -> HttpResponse {
    secure(
        HttpResponse::Ok()
            .content_type("text/javascript; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(include_str!("static/gemeinwerk.js")),
    )
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: String,
    message: String,
    detail: String,
}

/// An error shown as a German page. The status comes from the one mapping
/// in `server::error`.
#[derive(Debug)]
pub struct WebError(Box<WebErrorBody>);

#[derive(Debug)]
struct WebErrorBody {
    status: StatusCode,
    heading: String,
    message: String,
    /// The registry's own (English) wording, for support requests.
    detail: String,
    chrome: Chrome,
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.heading, self.0.message)
    }
}

impl WebError {
    pub fn new(status: StatusCode, heading: &str, message: impl Into<String>) -> WebError {
        WebError(Box::new(WebErrorBody {
            status,
            heading: heading.to_string(),
            message: message.into(),
            detail: String::new(),
            chrome: Chrome::default(),
        }))
    }

    pub fn not_found(message: impl Into<String>) -> WebError {
        Self::new(StatusCode::NOT_FOUND, "Nicht gefunden", message)
    }

    pub fn forbidden(message: impl Into<String>) -> WebError {
        Self::new(StatusCode::FORBIDDEN, "Nicht erlaubt", message)
    }

    /// Shows who is signed in on the error page too.
    pub fn with_chrome(mut self, req: &HttpRequest) -> WebError {
        self.0.chrome = Chrome::of(req);
        self
    }
}

/// German wording for the errors a visitor meets on the web pages.
/// What a new token's form may get wrong, in German.
const TOKEN_INPUT: [(&str, &str); 3] = [
    (
        "invalid_expiry",
        "Ein Token gilt mindestens 1 und höchstens 365 Tage.",
    ),
    (
        "invalid_token_name",
        "Der Name des Tokens hat 1 bis 64 Zeichen, ohne Steuerzeichen.",
    ),
    (
        "invalid_scope",
        "Ein Token braucht mindestens eine Berechtigung.",
    ),
];

fn german(e: &RegistryError) -> (&'static str, String) {
    match e {
        RegistryError::UnknownPackage(p) => {
            ("Nicht gefunden", format!("Das Paket „{p}“ gibt es nicht."))
        }
        RegistryError::UnknownVersion { package, version } => (
            "Nicht gefunden",
            format!("Die Version {version} von „{package}“ gibt es nicht."),
        ),
        RegistryError::UnknownNamespace(ns) => (
            "Nicht gefunden",
            format!("Den Namensraum „{ns}“ gibt es nicht."),
        ),
        RegistryError::UnknownUser(u) => (
            "Nicht gefunden",
            format!("Die Benutzerin oder den Benutzer „{u}“ gibt es nicht."),
        ),
        RegistryError::MissingScope(s) => (
            "Nicht erlaubt",
            format!("Ihr Token hat nicht die Berechtigung „{s}“."),
        ),
        RegistryError::NotAMember { namespace, .. } => (
            "Nicht erlaubt",
            format!("Sie sind nicht Mitglied im Namensraum „{namespace}“."),
        ),
        RegistryError::NotAnOwner(ns) => (
            "Nicht erlaubt",
            format!("Nur Eigentümerinnen und Eigentümer von „{ns}“ dürfen das."),
        ),
        RegistryError::ScopeNotHeld(s) => (
            "Nicht erlaubt",
            format!("Das Token, mit dem Sie angemeldet sind, hat die Berechtigung „{s}“ nicht; ein neues Token kann sie darum auch nicht bekommen."),
        ),
        RegistryError::ExpiryNotHeld(at) => (
            "Nicht erlaubt",
            format!("Ein neues Token kann nicht länger gelten als das Token, mit dem Sie angemeldet sind; es läuft am {} ab.", date(at)),
        ),
        RegistryError::BadRequest { code, .. } if code.starts_with("invalid_") && TOKEN_INPUT.iter().any(|(c, _)| c == code) => (
            "Ungültige Eingabe",
            TOKEN_INPUT.iter().find(|(c, _)| c == code).map(|(_, m)| m.to_string()).unwrap_or_default(),
        ),
        RegistryError::BadRequest { code, .. } if *code == "invalid_trusted_publisher" => (
            "Ungültige Eingabe",
            "Bitte geben Sie das Projekt als gruppe/projekt (GitLab) oder besitzer/repository (GitHub) an; Paket, Ref-Muster und Umgebung ohne Leerzeichen.".to_string(),
        ),
        RegistryError::BadRequest { code, .. } if *code == "id_token_unknown_issuer" => (
            "Ungültige Eingabe",
            "Diesem Aussteller vertraut die Registry nicht; bitte wählen Sie einen der angebotenen.".to_string(),
        ),
        RegistryError::BadRequest { code, detail } if *code == "webhook_target_refused" => (
            "Ungültige Eingabe",
            format!("Diese Adresse ruft die Registry nicht auf: {detail}. Bitte geben Sie eine öffentlich erreichbare https-Adresse an."),
        ),
        RegistryError::BadRequest { code, .. } if *code == "invalid_subscription" => (
            "Ungültige Eingabe",
            "Bitte geben Sie zu „einem Paket“ das Paket als namensraum/name an, zu „allen Paketen eines Namensraums“ den Namensraum, und zu „allem, was abgeleitet oder genutzt wird“ nichts.".to_string(),
        ),
        RegistryError::BadRequest { code, .. } if *code == "invalid_email" => (
            "Ungültige Eingabe",
            "Bitte geben Sie eine gültige Mail-Adresse an.".to_string(),
        ),
        RegistryError::Conflict { code, .. } if *code == "mail_not_configured" => (
            "Nicht möglich",
            "Diese Registry versendet keine Mails: Ihr Betrieb hat keinen Mail-Server eingerichtet.".to_string(),
        ),
        RegistryError::Conflict { code, .. } if *code == "subscription_limit" => (
            "Nicht möglich",
            "Dieser Namensraum hat schon 100 Benachrichtigungen, mehr gehen nicht. Bitte entfernen Sie zuerst eine.".to_string(),
        ),
        RegistryError::Conflict { code, .. } if *code == "subscription_paused" => (
            "Nicht möglich",
            "Diese Benachrichtigung ist angehalten. Bitte setzen Sie sie zuerst fort.".to_string(),
        ),
        RegistryError::Conflict { code, .. } if *code == "trusted_publisher_exists" => (
            "Nicht möglich",
            "Diese Pipeline ist schon eingetragen.".to_string(),
        ),
        RegistryError::ProviderUnavailable { .. } => (
            "Anmeldedienst nicht erreichbar",
            "Der Anmeldedienst Ihrer Verwaltung ist gerade nicht erreichbar oder antwortet fehlerhaft. Bitte versuchen Sie es später noch einmal.".to_string(),
        ),
        RegistryError::IdToken { code, .. } => (
            "Anmeldung fehlgeschlagen",
            match *code {
                "oidc_state_invalid" => "Diese Anmeldung ist abgelaufen, schon abgeschlossen oder in einem anderen Browser begonnen worden. Bitte melden Sie sich erneut an.",
                "oidc_code_refused" => "Der Anmeldedienst hat die Anmeldung abgelehnt. Bitte melden Sie sich erneut an.",
                "oidc_login_invalid" => "Der Anmeldedienst hat keine Kennung geschickt, die die Registry verwenden kann. Bitte wenden Sie sich an den Betrieb.",
                "oidc_login_taken" => "Ihre Kennung gehört in der Registry schon einem anderen Konto. Bitte wenden Sie sich an den Betrieb.",
                _ => "Der Anmeldedienst hat keinen gültigen Nachweis Ihrer Anmeldung geschickt. Bitte melden Sie sich erneut an.",
            }
            .to_string(),
        ),
        RegistryError::BadRequest { code, .. } if *code == "oidc_unknown_provider" => (
            "Nicht gefunden",
            "Diesen Anmeldedienst kennt die Registry nicht.".to_string(),
        ),
        RegistryError::TokenNamespace { allowed, .. } => (
            "Nicht erlaubt",
            format!("Ihr Token gilt nur für den Namensraum „{allowed}“."),
        ),
        e => match e.kind() {
            ErrorKind::Unauthenticated => (
                "Anmeldung nötig",
                "Bitte melden Sie sich erneut an.".to_string(),
            ),
            ErrorKind::Forbidden => ("Nicht erlaubt", "Das dürfen Sie nicht.".to_string()),
            ErrorKind::NotFound => ("Nicht gefunden", "Das gibt es nicht.".to_string()),
            ErrorKind::Conflict => (
                "Nicht möglich",
                "Das geht im jetzigen Zustand nicht.".to_string(),
            ),
            ErrorKind::BadRequest | ErrorKind::Invalid | ErrorKind::TooLarge => (
                "Ungültige Eingabe",
                "Bitte prüfen Sie Ihre Eingabe.".to_string(),
            ),
            ErrorKind::TooManyRequests => (
                "Zu viele Anfragen",
                "Sie haben das zu oft in kurzer Zeit versucht. Bitte warten Sie einen Moment und versuchen Sie es dann noch einmal."
                    .to_string(),
            ),
            ErrorKind::Unavailable => (
                "Vorübergehend nicht verfügbar",
                "Dieser Teil der Registry ist gerade nicht verfügbar. Bitte versuchen Sie es gleich noch einmal."
                    .to_string(),
            ),
            ErrorKind::Internal => (
                "Fehler im Server",
                "Etwas ist schiefgegangen. Der Betrieb findet die Ursache im Protokoll des Servers."
                    .to_string(),
            ),
        },
    }
}

impl From<RegistryError> for WebError {
    fn from(e: RegistryError) -> WebError {
        let (heading, message) = german(&e);
        let internal = e.kind() == ErrorKind::Internal;
        let api = ApiError::from(e);
        if internal {
            tracing::error!(error = %api, "internal error on a web page");
        }
        WebError(Box::new(WebErrorBody {
            status: api.status_code(),
            heading: heading.to_string(),
            message,
            detail: if internal {
                String::new()
            } else {
                api.to_string()
            },
            chrome: Chrome::default(),
        }))
    }
}

impl From<actix_web::error::BlockingError> for WebError {
    fn from(_: actix_web::error::BlockingError) -> WebError {
        WebError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Überlastet",
            "Der Server ist gerade überlastet. Bitte versuchen Sie es gleich noch einmal.",
        )
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        let e = &self.0;
        page(
            e.status,
            &ErrorPage {
                chrome: Chrome {
                    header_search: true,
                    ..e.chrome.clone()
                },
                heading: e.heading.clone(),
                message: e.message.clone(),
                detail: e.detail.clone(),
            },
        )
    }
}

pub type WebResult = Result<HttpResponse, WebError>;

/// Runs a registry call off the async threads, with German errors that show
/// who is signed in.
pub async fn block<T: Send + 'static>(
    req: &HttpRequest,
    f: impl FnOnce() -> Result<T, RegistryError> + Send + 'static,
) -> Result<T, WebError> {
    match web::block(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(WebError::from(e).with_chrome(req)),
        Err(e) => Err(WebError::from(e).with_chrome(req)),
    }
}

/// Whether a request comes from a browser that wants a page, not JSON.
pub fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// The German 404 page for addresses that match no route.
pub fn not_found_page(req: &HttpRequest) -> HttpResponse {
    WebError::not_found("Unter dieser Adresse gibt es keine Seite.")
        .with_chrome(req)
        .error_response()
}

/// The German 405 page for a page asked with a method it does not answer
/// (the caller adds the `Allow` header).
pub fn method_not_allowed_page(req: &HttpRequest, allow: &str) -> HttpResponse {
    WebError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Methode nicht erlaubt",
        format!(
            "Diese Adresse gibt es, aber nicht für {}. Erlaubt: {allow}.",
            req.method()
        ),
    )
    .with_chrome(req)
    .error_response()
}

/// Thousands separated the German way: 12.345.
pub fn number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A count with the German singular or plural: „1 Download“, „2 Downloads“,
/// „1.234 Ableitungen“.
pub fn count(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", number(n), if n == 1 { one } else { many })
}

/// A date the German way: 29.11.2026.
pub fn date(at: &chrono::NaiveDateTime) -> String {
    at.format("%d.%m.%Y").to_string()
}

pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "form" => "Formular",
        "process" => "Prozess",
        "fieldgroup" => "Feldgruppe",
        "codelist" => "Codeliste",
        _ => "Paket",
    }
}

pub fn themenfeld_label(slug: &str) -> String {
    gemeinwerk_package::manifest::THEMENFELDER
        .iter()
        .find(|(s, _)| *s == slug)
        .map(|(_, l)| l.to_string())
        .unwrap_or_else(|| slug.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_take_the_german_singular_and_plural() {
        assert_eq!(super::count(1, "Download", "Downloads"), "1 Download");
        assert_eq!(super::count(0, "Download", "Downloads"), "0 Downloads");
        assert_eq!(
            super::count(1234, "Ableitung", "Ableitungen"),
            "1.234 Ableitungen"
        );
    }

    use super::*;

    #[test]
    fn numbers_and_dates_read_german() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(12345), "12.345");
        assert_eq!(number(1234567), "1.234.567");
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 9)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(date(&at), "09.11.2026");
    }
}
