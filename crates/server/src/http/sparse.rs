//! The sparse index: one small file per package, served from the database
//! with a strong ETag, so that CI pipelines revalidate cheaply (304).

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use registry_index::IndexConfig;
use sha2::{Digest, Sha256};

use super::error::{ApiError, ApiResult};
use super::Reg;

/// Clients may store the file but must revalidate before each use: a new
/// version is visible the moment publish returns.
const CACHE_CONTROL: &str = "public, max-age=0, must-revalidate";

fn respond(req: &HttpRequest, body: String, etag: &str) -> HttpResponse {
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            // If-None-Match compares weakly: a proxy that compressed the
            // body may hand back our tag as W/"…".
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
        });
    let mut response = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag.to_string()))
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
    let body = IndexConfig::for_base_url(&reg.config.base_url).to_json();
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.as_bytes()))[..40]
    );
    respond(&req, body, &etag)
}

#[get("/index/{ns}/{name}")]
pub(super) async fn package_file(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, name) = path.into_inner();
    let full_name = format!("{ns}/{name}");
    // On SQLite a cached file is current (see IndexCache): answer without
    // a trip to the blocking pool.
    if let Some(file) = reg
        .index_cache
        .fresh_without_db(reg.index_cache_trusted(), &full_name)
    {
        return Ok(respond(&req, file.body.clone(), &file.etag));
    }
    let file = web::block(move || {
        reg.index_cache
            .get(&reg.db, reg.index_cache_trusted(), &ns, &name)
    })
    .await??;
    match file {
        Some(file) => Ok(respond(&req, file.body.clone(), &file.etag)),
        None => Err(ApiError::not_found(format!(
            "package \"{full_name}\" is not in the index"
        ))),
    }
}
