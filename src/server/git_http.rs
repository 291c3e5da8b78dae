//! The git index over git's dumb HTTP protocol: the repository's files as
//! they are on disk, so that a stock `git clone http://…/git/index.git`
//! works without a git binary on the server.

use std::path::{Component, Path};

use actix_web::{get, web, HttpResponse};

use super::error::{ApiError, ApiResult};
use super::Reg;

#[get("/git/index.git/{tail:.*}")]
pub(super) async fn index_repo(reg: Reg, tail: web::Path<String>) -> ApiResult<HttpResponse> {
    let tail = tail.into_inner();
    let relative = Path::new(&tail);
    let safe = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if !safe || tail.is_empty() {
        return Err(ApiError::not_found("no such file in the git index"));
    }
    let path = reg.git_index_path().join(relative);
    let content_type = if tail.starts_with("objects/") && !tail.starts_with("objects/info/") {
        "application/x-git-loose-object"
    } else {
        "text/plain; charset=utf-8"
    };
    let bytes = web::block(move || std::fs::read(path)).await?;
    match bytes {
        Ok(bytes) => Ok(HttpResponse::Ok()
            .content_type(content_type)
            .insert_header(("Cache-Control", "no-cache"))
            .body(bytes)),
        Err(_) => Err(ApiError::not_found("no such file in the git index")),
    }
}
