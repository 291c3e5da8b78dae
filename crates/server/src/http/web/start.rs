//! The start page: the search box, the newest and the most used packages,
//! and the Themenfelder to browse by.

use actix_web::{get, HttpRequest};
use askama::Template;

use super::{block, ok, Chrome, WebResult};
use crate::http::Reg;
use crate::registry::packages::{self, Order};
use crate::registry::search::SearchParams;

/// A package in a list, as the templates show it.
pub struct Card {
    pub name: String,
    pub title: String,
    pub description: String,
    pub kind: &'static str,
    pub downloads: String,
    pub deprecated: bool,
    pub updated: String,
}

impl From<packages::PackageSummary> for Card {
    fn from(p: packages::PackageSummary) -> Card {
        Card {
            title: p.title.clone().unwrap_or_else(|| p.name.clone()),
            name: p.name,
            description: p.description,
            kind: super::kind_label(&p.kind),
            downloads: super::chart::downloads_de(p.recent_downloads),
            deprecated: p.deprecated.is_some(),
            updated: super::date(&p.updated_at),
        }
    }
}

pub struct Themenfeld {
    pub slug: &'static str,
    pub label: &'static str,
    /// Packages in it; empty while the search index is not ready.
    pub count: String,
}

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage {
    chrome: Chrome,
    newest: Vec<Card>,
    most_used: Vec<Card>,
    themenfelder: Vec<Themenfeld>,
}

#[get("/")]
pub(super) async fn page(reg: Reg, req: HttpRequest) -> WebResult {
    let (newest, most_used, counts) = block(&req, move || {
        // The counts are a help, not a must: the page works while the
        // search index is still being built.
        let counts = reg
            .search(&SearchParams {
                per_page: 1,
                ..SearchParams::default()
            })
            .map(|r| r.facets.themenfeld)
            .unwrap_or_default();
        Ok((
            packages::list(&reg, Order::Newest, 6)?,
            packages::list(&reg, Order::MostDownloaded, 6)?,
            counts,
        ))
    })
    .await?;
    let mut chrome = Chrome::of(&req);
    chrome.header_search = false;
    Ok(ok(&StartPage {
        chrome,
        newest: newest.into_iter().map(Card::from).collect(),
        most_used: most_used.into_iter().map(Card::from).collect(),
        themenfelder: gemeinwerk_package::manifest::THEMENFELDER
            .iter()
            .map(|(slug, label)| Themenfeld {
                slug,
                label,
                count: counts
                    .iter()
                    .find(|c| c.value == *slug)
                    .map(|c| super::number(c.count as i64))
                    .unwrap_or_default(),
            })
            .collect(),
    }))
}
