//! The git index over git's dumb HTTP protocol: the repository's files as
//! they are on disk, so that a stock `git clone http://…/git/index.git`
//! works without a git binary on the server. The objects are in packs
//! (see `registry_index::pack`), so a clone is a handful of requests.

use std::path::{Component, Path};

use actix_web::{get, web, HttpResponse};

use super::error::{ApiError, ApiResult};
use super::Reg;
use crate::registry::history_cache;

#[get("/git/index.git/{tail:.*}")]
pub(super) async fn index_repo(reg: Reg, tail: web::Path<String>) -> ApiResult<HttpResponse> {
    let tail = tail.into_inner();
    if crate::registry::shared_index::is_shared(&reg) {
        // Several nodes: every node answers the bucket's files, the same
        // bytes whichever node writes.
        if !safe_tail(&tail) {
            return Err(ApiError::not_found("no such file in this repository"));
        }
        let (content_type, cache) = kind_of(&tail);
        let file = tail.clone();
        let bytes = web::block(move || crate::registry::shared_index::read(&reg, &file)).await??;
        return match bytes {
            Some(bytes) => Ok(HttpResponse::Ok()
                .content_type(content_type)
                .insert_header(("Cache-Control", cache))
                .body(bytes)),
            None => Err(ApiError::not_found("no such file in this repository")),
        };
    }
    serve_file(reg.git_index_path(), tail).await
}

/// The git index's history from before each squash, one dated branch per
/// squash.
#[get("/git/index-archive.git/{tail:.*}")]
pub(super) async fn index_archive_repo(
    reg: Reg,
    tail: web::Path<String>,
) -> ApiResult<HttpResponse> {
    serve_file(
        crate::registry::jobs::index_archive_path(&reg),
        tail.into_inner(),
    )
    .await
}

/// A package's history: `/git/packages/{ns}/{name}.git/…`.
#[get("/git/packages/{ns}/{repo}/{tail:.*}")]
pub(super) async fn package_repo(
    reg: Reg,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, repo, tail) = path.into_inner();
    let Some(name) = repo.strip_suffix(".git") else {
        return Err(ApiError::not_found(
            "package histories live at /git/packages/{ns}/{name}.git",
        ));
    };
    let ok = |s: &str| gemeinwerk_package::names::check_slug(s).is_ok();
    if !ok(&ns) || !ok(name) {
        return Err(ApiError::not_found("no such package history"));
    }
    // What a clone or fetch asks first (the refs, HEAD, the pack list):
    // bring the history up to date from the database, or make it, since a
    // node holds histories as a cache (`registry::history_cache`).
    if !tail.starts_with("objects/pack/") {
        let (reg, ns, name) = (reg.clone(), ns.clone(), name.to_string());
        let found = web::block(move || history_cache::serve_current(&reg, &ns, &name)).await??;
        if !found {
            return Err(ApiError::not_found("no such package history"));
        }
    }
    serve_file(crate::registry::history::repo_path(&reg, &ns, name), tail).await
}

fn safe_tail(tail: &str) -> bool {
    !tail.is_empty()
        && Path::new(tail)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// The content type and caching of a repository file. Pack and index
/// files are named by their content: they never change.
fn kind_of(tail: &str) -> (&'static str, &'static str) {
    if tail.starts_with("objects/pack/") && tail.ends_with(".pack") {
        (
            "application/x-git-packed-objects",
            "public, max-age=31536000, immutable",
        )
    } else if tail.starts_with("objects/pack/") && tail.ends_with(".idx") {
        (
            "application/x-git-packed-objects-toc",
            "public, max-age=31536000, immutable",
        )
    } else if tail.starts_with("objects/") && !tail.starts_with("objects/info/") {
        ("application/x-git-loose-object", "no-cache")
    } else {
        ("text/plain; charset=utf-8", "no-cache")
    }
}

async fn serve_file(repo: std::path::PathBuf, tail: String) -> ApiResult<HttpResponse> {
    if !safe_tail(&tail) {
        return Err(ApiError::not_found("no such file in this repository"));
    }
    let path = repo.join(&tail);
    let (content_type, cache) = kind_of(&tail);
    // A pack that was just replaced waits in objects/retired/ for clients
    // that listed it before (see registry_index::pack).
    let retired = tail
        .strip_prefix("objects/pack/")
        .map(|file| repo.join("objects/retired").join(file));
    let bytes = web::block(move || match std::fs::read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match retired {
            Some(retired) => std::fs::read(retired),
            None => Err(e),
        },
        other => other,
    })
    .await?;
    match bytes {
        Ok(bytes) => Ok(HttpResponse::Ok()
            .content_type(content_type)
            .insert_header(("Cache-Control", cache))
            .body(bytes)),
        Err(_) => Err(ApiError::not_found("no such file in this repository")),
    }
}
