//! Trusted publishing over HTTP: the exchange a pipeline calls, and the
//! registrations a namespace's owners manage.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::api::{done, read_json_body, required_json};
use super::error::{ApiError, ApiResult};
use super::{auth_header, origin_of, Reg};
use crate::registry::trusted_publishing::{self, ExchangeRequest, PublisherRequest};
use crate::registry::RegistryError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(audience)
        .service(exchange)
        .service(list)
        .service(register)
        .service(remove);
}

/// What a pipeline needs to ask its CI for the right ID token.
#[get("/api/v1/trusted-publishing/audience")]
async fn audience(reg: Reg) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "audience": reg.ci_issuers.audience(),
        "issuers": reg.ci_issuers.issuers(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeBody {
    id_token: String,
    #[serde(default)]
    package: Option<String>,
}

#[post("/api/v1/trusted-publishing/token")]
async fn exchange(reg: Reg, req: HttpRequest, payload: web::Payload) -> ApiResult<HttpResponse> {
    let body = read_json_body(payload).await?;
    let body: ExchangeBody = required_json(
        &body,
        r#"{"id_token": "<the pipeline's OIDC ID token>", "package": "namespace/name"}"#,
    )?;
    let origin = origin_of(&req);
    let request = ExchangeRequest {
        id_token: body.id_token,
        package: body.package,
    };
    let exchanged = web::block(move || -> Result<_, RegistryError> {
        let mut conn = reg.db.conn()?;
        trusted_publishing::exchange(&mut conn, &reg.ci_issuers, &reg.rate, &origin, &request)
    })
    .await??;
    Ok(HttpResponse::Created().json(exchanged))
}

#[get("/api/v1/namespaces/{ns}/trusted-publishers")]
async fn list(reg: Reg, req: HttpRequest, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let ns = path.into_inner();
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    let list = web::block(move || -> Result<_, RegistryError> {
        let mut conn = reg.db.conn()?;
        trusted_publishing::list(&mut conn, auth.as_deref().into(), &origin, &ns)
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "trusted_publishers": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublisherBody {
    #[serde(default)]
    package: Option<String>,
    issuer: String,
    project: String,
    #[serde(default)]
    ref_pattern: Option<String>,
    #[serde(default)]
    environment: Option<String>,
}

#[post("/api/v1/namespaces/{ns}/trusted-publishers")]
async fn register(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let ns = path.into_inner();
    let body = read_json_body(payload).await?;
    let body: PublisherBody = required_json(
        &body,
        r#"{"issuer": "https://gitlab.com", "project": "group/project", "package": "name", "ref_pattern": "main", "environment": "production"}"#,
    )?;
    let request = PublisherRequest {
        package: body.package,
        issuer: body.issuer,
        project: body.project,
        ref_pattern: body.ref_pattern,
        environment: body.environment,
    };
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    let view = web::block(move || -> Result<_, RegistryError> {
        let mut conn = reg.db.conn()?;
        trusted_publishing::register(
            &mut conn,
            auth.as_deref().into(),
            &origin,
            &reg.ci_issuers,
            &ns,
            &request,
        )
    })
    .await??;
    Ok(HttpResponse::Created().json(view))
}

#[delete("/api/v1/namespaces/{ns}/trusted-publishers/{id}")]
async fn remove(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, id) = path.into_inner();
    let id: i64 = id.parse().map_err(|_| {
        ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "invalid_trusted_publisher_id",
            "a trusted publisher's id is a number, as the list shows it",
        )
    })?;
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    web::block(move || -> Result<(), RegistryError> {
        let mut conn = reg.db.conn()?;
        trusted_publishing::remove(&mut conn, auth.as_deref().into(), &origin, &ns, id)
    })
    .await??;
    Ok(done())
}
