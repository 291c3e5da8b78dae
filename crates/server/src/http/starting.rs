//! What a node answers while it waits for its stores at start: 503 on
//! every path, `/healthz` with the reason, so that a load balancer keeps
//! it out and an operator sees why, instead of a refused connection.

use std::net::TcpListener;
use std::sync::{Arc, RwLock};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

/// The stand-in server; [`Starting::stop`] gives the listener back.
pub struct Starting {
    handle: ServerHandle,
    reason: Arc<RwLock<String>>,
}

impl Starting {
    /// Serves on a clone of `listener` (the caller keeps the socket for the
    /// real server). Call inside an actix system.
    pub fn start(listener: &TcpListener, reason: &str) -> std::io::Result<Starting> {
        let shared = Arc::new(RwLock::new(reason.to_string()));
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .disable_signals()
        .listen(listener.try_clone()?)?
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Ok(Starting {
            handle,
            reason: shared,
        })
    }

    pub fn set_reason(&self, reason: &str) {
        *self.reason.write().expect("reason lock") = reason.to_string();
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

async fn answer(req: HttpRequest, reason: web::Data<RwLock<String>>) -> HttpResponse {
    let reason = reason.read().expect("reason lock").clone();
    if req.path() == "/healthz" {
        HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "status": "starting", "reason": reason }))
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "5"))
            .json(serde_json::json!({ "errors": [{
                "code": "starting",
                "detail": format!("the registry is starting and waits for its stores: {reason}"),
            }]}))
    }
}
