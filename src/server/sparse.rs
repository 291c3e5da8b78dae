//! The sparse index: one small file per package, served from the database
//! with a strong ETag, so that CI pipelines revalidate cheaply (304).

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use registry_index::{serialize_lines, IndexConfig};
use sha2::{Digest, Sha256};

use super::error::{ApiError, ApiResult};
use super::Reg;
use crate::registry::index;

/// Clients may store the file but must revalidate before each use: a new
/// version is visible the moment publish returns.
const CACHE_CONTROL: &str = "public, max-age=0, must-revalidate";

fn respond(req: &HttpRequest, body: String) -> HttpResponse {
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.as_bytes()))[..40]
    );
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL));
    if matches {
        response.finish()
    } else {
        response
            .content_type("text/plain; charset=utf-8")
            .body(body)
    }
}

#[get("/index/config.json")]
pub(super) async fn config_json(reg: Reg, req: HttpRequest) -> HttpResponse {
    respond(
        &req,
        IndexConfig::for_base_url(&reg.config.base_url).to_json(),
    )
}

#[get("/index/{ns}/{name}")]
pub(super) async fn package_file(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, name) = path.into_inner();
    let full_name = format!("{ns}/{name}");
    let lines = web::block(move || -> Result<_, crate::registry::RegistryError> {
        let mut conn = reg.db.conn()?;
        index::index_lines(&mut conn, &ns, &name)
    })
    .await??;
    match lines {
        Some(lines) if !lines.is_empty() => Ok(respond(&req, serialize_lines(&lines))),
        _ => Err(ApiError::not_found(format!(
            "package \"{full_name}\" is not in the index"
        ))),
    }
}
