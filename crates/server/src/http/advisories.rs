//! Advisories over HTTP: publishers publish them, anyone reads them, and
//! portals ask which ones affect their pins.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::api::{read_json_body, required_json};
use super::error::{ApiError, ApiResult};
use super::{auth_header, origin_of, Reg};
use crate::registry::advisories::{self, AdvisoryRequest};
use crate::registry::RegistryError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(publish).service(of_package).service(affecting);
}

#[post("/api/v1/packages/{ns}/{name}/advisories")]
async fn publish(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (ns, name) = path.into_inner();
    let body = read_json_body(payload).await?;
    let request: AdvisoryRequest = required_json(
        &body,
        r#"{"kind": "gebuehren", "severity": "mittel", "text": "…", "affected": ">=1.0.0, <1.2.0", "fixed": "1.2.0"}"#,
    )?;
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    let view = web::block(move || {
        advisories::publish(&reg, auth.as_deref().into(), &origin, &ns, &name, &request)
    })
    .await??;
    Ok(HttpResponse::Created().json(view))
}

#[get("/api/v1/packages/{ns}/{name}/advisories")]
async fn of_package(reg: Reg, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (ns, name) = path.into_inner();
    let list = web::block(move || advisories::of_package(&reg, &ns, &name)).await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "advisories": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AffectsQuery {
    affects: Option<String>,
}

#[get("/api/v1/advisories")]
async fn affecting(reg: Reg, query: web::Query<AffectsQuery>) -> ApiResult<HttpResponse> {
    let spec = query.into_inner().affects.ok_or_else(|| {
        ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "invalid_affects",
            "name the pinned version: ?affects=ns/name@version",
        )
    })?;
    let list =
        web::block(move || -> Result<_, RegistryError> { advisories::affecting(&reg, &spec) })
            .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "advisories": list })))
}
