//! The Atom feeds (`registry::feeds`) over HTTP, linked from the pages
//! they belong to with `<link rel="alternate">`.

use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{block, secure, WebResult};
use crate::http::Reg;
use crate::registry::feeds::{self, Feed};
use crate::registry::Registry;

pub struct EntryView {
    pub id: String,
    pub title: String,
    pub page: String,
    pub updated: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "feed.xml")]
struct FeedDocument {
    base: String,
    id: String,
    title: String,
    path: String,
    page: String,
    updated: String,
    entries: Vec<EntryView>,
}

fn rfc3339(t: &chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn atom(reg: &Reg, feed: Feed) -> HttpResponse {
    let document = FeedDocument {
        base: reg.config.base_url.trim_end_matches('/').to_string(),
        updated: rfc3339(&feed.updated),
        entries: feed
            .entries
            .into_iter()
            .map(|e| EntryView {
                updated: rfc3339(&e.updated),
                id: e.id,
                title: e.title,
                page: e.page,
                summary: e.summary,
            })
            .collect(),
        id: feed.id,
        title: feed.title,
        path: feed.path,
        page: feed.page,
    };
    match document.render() {
        Ok(xml) => secure(
            HttpResponse::Ok()
                .content_type("application/atom+xml; charset=utf-8")
                .body(xml),
        ),
        Err(e) => {
            tracing::error!(error = %e, "rendering a feed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// Makes a feed off the async threads and answers it as Atom.
async fn answer(
    reg: Reg,
    req: &HttpRequest,
    make: impl FnOnce(&Registry) -> crate::registry::Result<Feed> + Send + 'static,
) -> WebResult {
    let r = reg.clone();
    let feed = block(req, move || make(&r)).await?;
    Ok(atom(&reg, feed))
}

#[get("/feeds/pakete/{ns}/{name}")]
pub(super) async fn package(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> WebResult {
    let (ns, name) = path.into_inner();
    answer(reg, &req, move |r| feeds::package_releases(r, &ns, &name)).await
}

#[get("/feeds/pakete/{ns}/{name}/upstream")]
pub(super) async fn upstream(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> WebResult {
    let (ns, name) = path.into_inner();
    answer(reg, &req, move |r| feeds::upstream_changes(r, &ns, &name)).await
}

#[get("/feeds/namensraeume/{ns}")]
pub(super) async fn namespace(reg: Reg, req: HttpRequest, path: web::Path<String>) -> WebResult {
    let ns = path.into_inner();
    answer(reg, &req, move |r| feeds::namespace_releases(r, &ns)).await
}

#[get("/feeds/themenfelder/{themenfeld}")]
pub(super) async fn themenfeld(reg: Reg, req: HttpRequest, path: web::Path<String>) -> WebResult {
    let themenfeld = path.into_inner();
    answer(reg, &req, move |r| {
        feeds::themenfeld_packages(r, &themenfeld)
    })
    .await
}
