//! The HTTP server: JSON API, sparse index, git over HTTP, health and
//! metrics, the web UI. Handlers translate HTTP to the registry's use cases
//! and back.

mod access;
mod actor;
mod advisories;
mod api;
pub mod error;
mod git_http;
mod ops;
pub mod routes;
mod sparse;
pub mod starting;
mod subscriptions;
mod trusted_publishing;
pub mod web;

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer};

use crate::registry::audit::Origin;
use crate::registry::{downloads, jobs, search, Registry};

pub type Reg = actix_web::web::Data<Registry>;

/// Who is calling, for the audit log and the rate limits.
pub(crate) fn origin_of(req: &HttpRequest) -> Origin {
    Origin {
        actor: None,
        client_addr: client_addr(req),
    }
}

/// The client's address: the peer's, or, when the peer is a proxy the
/// operator trusts (`serve --trusted-proxy`), the address that proxy put
/// last into `X-Forwarded-For`. Any other peer's header is ignored: a
/// client could write any header it likes.
pub(crate) fn client_addr(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    let trusted = req
        .app_data::<Reg>()
        .is_some_and(|r| r.trusted_proxies.contains(&peer));
    if trusted {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
            .last();
        if let Some(client) = forwarded {
            return Some(client.to_string());
        }
    }
    Some(peer.to_string())
}

pub(crate) fn auth_header(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Malformed paths and query strings get the same JSON envelope as every
/// other error.
fn bad_request(code: &'static str, e: impl std::fmt::Display) -> actix_web::Error {
    error::ApiError::new(
        actix_web::http::StatusCode::BAD_REQUEST,
        code,
        e.to_string(),
    )
    .into()
}

/// What matched no route: a known path asked with another method gets 405
/// with `Allow`, anything else 404. Browsers get the German page, API
/// clients the JSON envelope.
async fn not_found(req: HttpRequest) -> HttpResponse {
    let allowed = routes::allowed_methods(req.path());
    if !allowed.is_empty() && !allowed.contains(req.method()) {
        let allow = routes::allow_header(&allowed);
        let mut response = if web::wants_html(&req) {
            web::method_not_allowed_page(&req, &allow)
        } else {
            actix_web::ResponseError::error_response(&error::ApiError::new(
                actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("this address answers {allow}, not {}", req.method()),
            ))
        };
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
            response
                .headers_mut()
                .insert(actix_web::http::header::ALLOW, value);
        }
        return response;
    }
    if web::wants_html(&req) {
        return web::not_found_page(&req);
    }
    actix_web::ResponseError::error_response(&error::ApiError::not_found(
        "there is nothing at this address",
    ))
}

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    use actix_web::web::{PathConfig, QueryConfig};
    cfg.app_data(QueryConfig::default().error_handler(|e, _| bad_request("bad_query", e)))
        .app_data(PathConfig::default().error_handler(|e, _| bad_request("bad_path", e)))
        .service(ops::healthz)
        .service(ops::metrics)
        .configure(web::configure)
        .service(sparse::config_json)
        .service(sparse::package_file)
        .service(git_http::index_repo)
        .service(git_http::index_archive_repo)
        .service(git_http::package_repo)
        .configure(api::configure)
        .configure(trusted_publishing::configure)
        .configure(advisories::configure)
        .configure(subscriptions::configure);
}

/// No name in this registry holds a control character, and PostgreSQL
/// cannot even be asked about one (NUL): a path that encodes one names
/// nothing (404), a query string that does is malformed (400). Decided
/// here, before any handler, so that every route on both databases
/// answers alike.
async fn refuse_control_characters(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use crate::registry::text::encodes_control;
    if encodes_control(req.path()) {
        let (req, _) = req.into_parts();
        let response = not_found(req.clone()).await;
        return Ok(actix_web::dev::ServiceResponse::new(req, response).map_into_right_body());
    }
    if encodes_control(req.query_string()) {
        let (req, _) = req.into_parts();
        let response = actix_web::ResponseError::error_response(&error::ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "bad_query",
            "the query string holds a control character",
        ));
        return Ok(actix_web::dev::ServiceResponse::new(req, response).map_into_right_body());
    }
    next.call(req).await.map(|r| r.map_into_left_body())
}

/// A HEAD request is answered as its GET (link checkers, caches and some
/// package clients ask HEAD first); actix leaves the body out of the reply
/// because the request on the wire was HEAD.
fn head_as_get<S>(mut req: actix_web::dev::ServiceRequest, srv: &S) -> S::Future
where
    S: actix_web::dev::Service<actix_web::dev::ServiceRequest>,
{
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    srv.call(req)
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// Concurrent connections one node accepts, over all its workers.
pub const MAX_CONNECTIONS: usize = 4096;

/// How long a client may take to send the request line and headers.
pub const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a request body may take to arrive: a JSON body, an upload.
pub const JSON_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
pub const UPLOAD_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs the server until SIGINT or SIGTERM, then stops gracefully: finish
/// the requests in flight, write the counted downloads, then drain the due
/// jobs.
pub async fn serve(registry: Registry, listener: TcpListener) -> std::io::Result<()> {
    let registry = actix_web::web::Data::new(registry);
    // The git index exists (with its config.json) before the first clone.
    // A shared one is written by the node that leads it (shared_index.rs).
    if !crate::registry::shared_index::is_shared(&registry) {
        if let Err(e) = jobs::write_index_config(&registry) {
            tracing::error!(error = %e, "cannot open the git index");
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let runner = jobs::spawn_runner(registry.clone().into_inner(), stop.clone());
    let follower = search::spawn_follower(registry.clone().into_inner(), stop.clone());
    let flusher = downloads::spawn_flusher(registry.clone().into_inner(), stop.clone());
    let listener_thread =
        crate::registry::changes::spawn_listener(registry.clone().into_inner(), stop.clone());
    let data = registry.clone();
    let request_metrics = actix_web::web::Data::new(access::RequestMetrics::default());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(request_metrics.clone())
            .configure(configure)
            .default_service(actix_web::web::to(not_found))
            .wrap(actix_web::middleware::from_fn(web::session::load))
            .wrap(actix_web::middleware::from_fn(refuse_control_characters))
            .wrap_fn(head_as_get)
            .wrap(actix_web::middleware::from_fn(access::record))
    })
    .workers(workers)
    // Slow and abusive clients: a client has 5 s to send its request head
    // and 30 s of idle keep-alive; each worker serves at most its share of
    // MAX_CONNECTIONS at once, so that one node degrades by refusing new
    // connections instead of running out of memory or file descriptors.
    .client_request_timeout(HEADER_TIMEOUT)
    .client_disconnect_timeout(std::time::Duration::from_secs(2))
    .keep_alive(std::time::Duration::from_secs(30))
    .max_connections(MAX_CONNECTIONS.div_ceil(workers))
    .listen(listener)?
    .shutdown_timeout(30)
    // actix stops at once on SIGINT; a Ctrl-C deserves the same grace as
    // a SIGTERM from the service manager.
    .disable_signals()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        wait_for_stop_signal().await;
        tracing::info!("stopping: finishing requests in flight");
        handle.stop(true).await;
    });
    let result = server.await;
    stop.store(true, Ordering::SeqCst);
    registry.wakeup.notify();
    registry.index_wakeup.notify();
    registry.search.wakeup.notify();
    // No request runs any more: the flusher writes the last counts and ends.
    registry.downloads.wakeup.notify();
    let _ = tokio::task::spawn_blocking(move || flusher.join()).await;
    let _ = tokio::task::spawn_blocking(move || runner.join()).await;
    let _ = tokio::task::spawn_blocking(move || follower.join()).await;
    if let Some(listener_thread) = listener_thread {
        let _ = tokio::task::spawn_blocking(move || listener_thread.join()).await;
    }
    tracing::info!("stopped");
    result
}
