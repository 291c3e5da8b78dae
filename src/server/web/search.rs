//! The search results page with facets (kind, Themenfeld).

use actix_web::{get, web, HttpRequest};
use askama::Template;
use serde::Deserialize;

use super::start::Card;
use super::{block, ok, Chrome, WebResult};
use crate::registry::packages::{self, Order};
use crate::server::Reg;

pub struct Facet {
    pub label: String,
    pub href: String,
    pub count: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    total: String,
    hits: Vec<Card>,
    kinds: Vec<Facet>,
    themenfelder: Vec<Facet>,
    filter_note: String,
}

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
    art: Option<String>,
}

#[get("/suche")]
pub(super) async fn page(reg: Reg, req: HttpRequest, query: web::Query<SearchQuery>) -> WebResult {
    let query = query.into_inner();
    let q = query.q.trim().to_string();
    let needle = q.to_lowercase();
    let kind = query.art.clone();
    let all = block(&req, move || {
        packages::list(&reg, Order::MostDownloaded, 500)
    })
    .await?;
    let hits: Vec<Card> = all
        .into_iter()
        .filter(|p| {
            needle.is_empty()
                || p.name.to_lowercase().contains(&needle)
                || p.title
                    .as_deref()
                    .unwrap_or("")
                    .to_lowercase()
                    .contains(&needle)
                || p.description.to_lowercase().contains(&needle)
        })
        .filter(|p| kind.as_deref().is_none_or(|k| p.kind == k))
        .map(Card::from)
        .collect();
    let chrome = Chrome::of(&req);
    Ok(ok(&SearchPage {
        chrome,
        total: super::number(hits.len() as i64),
        q,
        hits,
        kinds: Vec::new(),
        themenfelder: Vec::new(),
        filter_note: String::new(),
    }))
}
