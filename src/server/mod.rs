//! The HTTP server: JSON API, sparse index, git over HTTP, health and
//! metrics, the web UI. Handlers translate HTTP to the registry's use cases
//! and back.

mod api;
pub mod error;
mod git_http;
mod ops;
mod sparse;
pub mod web;

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer};

use crate::registry::audit::Origin;
use crate::registry::{jobs, search, Registry};

pub type Reg = actix_web::web::Data<Registry>;

/// Who is calling, for the audit log. The peer address, not a forwarded
/// header: a client could write any header it likes.
pub(crate) fn origin_of(req: &HttpRequest) -> Origin {
    Origin {
        actor: None,
        client_addr: req.peer_addr().map(|a| a.ip().to_string()),
    }
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

/// Browsers get the German page, API clients the JSON envelope.
async fn not_found(req: HttpRequest) -> HttpResponse {
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
        .configure(api::configure);
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

/// Runs the server until SIGINT or SIGTERM, then stops gracefully: finish
/// the requests in flight, then drain the due jobs.
pub async fn serve(registry: Registry, listener: TcpListener) -> std::io::Result<()> {
    let registry = actix_web::web::Data::new(registry);
    // The git index exists (with its config.json) before the first clone.
    if let Err(e) = jobs::write_index_config(&registry) {
        tracing::error!(error = %e, "cannot open the git index");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let runner = jobs::spawn_runner(registry.clone().into_inner(), stop.clone());
    let follower = search::spawn_follower(registry.clone().into_inner(), stop.clone());
    let data = registry.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .configure(configure)
            .default_service(actix_web::web::to(not_found))
            .wrap(actix_web::middleware::from_fn(web::session::load))
            .wrap_fn(head_as_get)
    })
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
    let _ = tokio::task::spawn_blocking(move || runner.join()).await;
    let _ = tokio::task::spawn_blocking(move || follower.join()).await;
    tracing::info!("stopped");
    result
}
