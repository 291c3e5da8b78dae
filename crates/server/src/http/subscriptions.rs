//! Subscriptions over HTTP: webhooks and mails about package events, their
//! delivery log, redelivery and resuming a paused subscription.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::api::{done, read_json_body, required_json};
use super::error::{ApiError, ApiResult};
use super::{auth_header, origin_of, Reg};
use crate::registry::subscriptions::{self, SubscriptionRequest};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(one)
        .service(remove)
        .service(resume)
        .service(deliveries)
        .service(redeliver);
}

fn id_of(raw: &str, what: &'static str) -> ApiResult<i64> {
    raw.parse().map_err(|_| {
        ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "invalid_id",
            format!("a {what}'s id is a number, as the list shows it"),
        )
    })
}

#[post("/api/v1/namespaces/{ns}/subscriptions")]
async fn create(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let ns = path.into_inner();
    let body = read_json_body(payload).await?;
    let request: SubscriptionRequest = required_json(
        &body,
        r#"{"url": "https://portal.example.de/hooks", "scope": "package", "target": "kassel/parken", "events": ["published", "advisory"]} (or "email" instead of "url")"#,
    )?;
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    let created = web::block(move || {
        subscriptions::create(&reg, auth.as_deref().into(), &origin, &ns, &request)
    })
    .await??;
    Ok(HttpResponse::Created().json(created))
}

#[get("/api/v1/namespaces/{ns}/subscriptions")]
async fn list(reg: Reg, req: HttpRequest, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let ns = path.into_inner();
    let auth = auth_header(&req);
    let list = web::block(move || subscriptions::list(&reg, auth.as_deref().into(), &ns)).await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "subscriptions": list })))
}

#[get("/api/v1/namespaces/{ns}/subscriptions/{id}")]
async fn one(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, id) = path.into_inner();
    let id = id_of(&id, "subscription")?;
    let auth = auth_header(&req);
    let view =
        web::block(move || subscriptions::get(&reg, auth.as_deref().into(), &ns, id)).await??;
    Ok(HttpResponse::Ok().json(view))
}

#[delete("/api/v1/namespaces/{ns}/subscriptions/{id}")]
async fn remove(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, id) = path.into_inner();
    let id = id_of(&id, "subscription")?;
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    web::block(move || subscriptions::remove(&reg, auth.as_deref().into(), &origin, &ns, id))
        .await??;
    Ok(done())
}

#[post("/api/v1/namespaces/{ns}/subscriptions/{id}/resume")]
async fn resume(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, id) = path.into_inner();
    let id = id_of(&id, "subscription")?;
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    let view =
        web::block(move || subscriptions::resume(&reg, auth.as_deref().into(), &origin, &ns, id))
            .await??;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    limit: Option<String>,
}

#[get("/api/v1/namespaces/{ns}/subscriptions/{id}/deliveries")]
async fn deliveries(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<LogQuery>,
) -> ApiResult<HttpResponse> {
    let (ns, id) = path.into_inner();
    let id = id_of(&id, "subscription")?;
    let limit = match query.into_inner().limit.as_deref() {
        None => 50,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| {
                ApiError::new(
                    actix_web::http::StatusCode::BAD_REQUEST,
                    "invalid_limit",
                    format!(
                        "limit \"{}\" must be a number from 1 to 500",
                        raw.escape_default()
                    ),
                )
            })?,
    };
    let auth = auth_header(&req);
    let log =
        web::block(move || subscriptions::deliveries(&reg, auth.as_deref().into(), &ns, id, limit))
            .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deliveries": log })))
}

#[post("/api/v1/namespaces/{ns}/subscriptions/{id}/deliveries/{delivery}/redeliver")]
async fn redeliver(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, id, delivery) = path.into_inner();
    let id = id_of(&id, "subscription")?;
    let delivery = id_of(&delivery, "delivery")?;
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    web::block(move || {
        subscriptions::redeliver(&reg, auth.as_deref().into(), &origin, &ns, id, delivery)
    })
    .await??;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "ok": true })))
}
