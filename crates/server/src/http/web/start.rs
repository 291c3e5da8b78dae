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
    /// "Stadt Kassel (Hessen)".
    pub publisher: String,
    pub namespace: String,
    /// The newest usable version; empty if none can be named.
    pub version: String,
    pub title: String,
    pub description: String,
    pub kind: &'static str,
    pub downloads: i64,
    pub deprecated: bool,
    pub updated: String,
}

impl From<packages::PackageSummary> for Card {
    fn from(p: packages::PackageSummary) -> Card {
        Card {
            title: p.title.clone().unwrap_or_else(|| p.name.clone()),
            publisher: p.namespace.clone(),
            namespace: p.namespace.clone(),
            version: String::new(),
            name: p.name,
            description: p.description,
            kind: super::kind_label(&p.kind),
            downloads: p.recent_downloads,
            deprecated: p.deprecated.is_some(),
            updated: super::date(&p.updated_at),
        }
    }
}

impl Card {
    pub fn downloads_text(&self) -> String {
        super::count(self.downloads, "Download", "Downloads")
    }
}

/// Cards with their publishers' names and newest versions.
pub fn cards(
    reg: &crate::registry::Registry,
    list: Vec<packages::PackageSummary>,
) -> Result<Vec<Card>, crate::registry::RegistryError> {
    let publishers = super::publisher::lookup(reg, list.iter().map(|p| p.namespace.clone()))?;
    let names: Vec<String> = list.iter().map(|p| p.name.clone()).collect();
    let versions = super::publisher::newest_versions(reg, &names)?;
    Ok(list
        .into_iter()
        .map(|p| {
            let mut card = Card::from(p);
            if let Some(publisher) = publishers.get(&card.namespace) {
                card.publisher = publisher.label();
            }
            card.version = versions.get(&card.name).cloned().unwrap_or_default();
            card
        })
        .collect())
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
            cards(&reg, packages::list(&reg, Order::Newest, 6)?)?,
            cards(&reg, packages::list(&reg, Order::MostDownloaded, 6)?)?,
            counts,
        ))
    })
    .await?;
    let mut chrome = Chrome::of(&req);
    chrome.header_search = false;
    Ok(ok(&StartPage {
        chrome,
        newest,
        most_used,
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
