//! The search results page: the registry's search (German analysis, typo
//! tolerance) with facets for kind, Themenfeld, namespace and
//! Vertrauensniveau, sorting and pages. Each facet value is a plain link,
//! so filtering works without JavaScript.

use actix_web::{get, web, HttpRequest};
use askama::Template;
use gemeinwerk_package::manifest::THEMENFELDER;
use serde::Deserialize;

use std::collections::HashMap;

use super::publisher::Publisher;
use super::{block, ok, Chrome, WebResult};
use crate::http::Reg;
use crate::registry::search::{FacetCount, Hit, RawSearchParams, SearchParams};

pub struct Facet {
    pub label: String,
    pub href: String,
    pub count: String,
    pub active: bool,
}

pub struct FacetGroup {
    pub heading: &'static str,
    pub facets: Vec<Facet>,
}

pub struct HitView {
    pub name: String,
    pub title: String,
    pub kind: &'static str,
    pub version: String,
    /// Escaped by the search (matches in `<mark>`).
    pub snippet: String,
    pub downloads: String,
    pub forks: String,
    pub namespace: String,
    /// "Stadt Kassel (Hessen)".
    pub publisher: String,
    pub deprecated: bool,
    pub themenfeld: String,
}

pub struct SortLink {
    pub label: &'static str,
    pub href: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    total: String,
    hits: Vec<HitView>,
    groups: Vec<FacetGroup>,
    sorts: Vec<SortLink>,
    previous: String,
    next: String,
    page: usize,
    pages: usize,
    include_deprecated: bool,
    deprecated_href: String,
    /// The Atom feed of the chosen Themenfeld's new packages.
    feed: Option<String>,
}

/// The page's query in German names; every filter is a link that keeps
/// the others.
#[derive(Deserialize, Default, Clone)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
    art: Option<String>,
    themenfeld: Option<String>,
    namensraum: Option<String>,
    vertrauensniveau: Option<String>,
    sortierung: Option<String>,
    seite: Option<String>,
    veraltet: Option<String>,
}

impl SearchQuery {
    fn raw(&self) -> RawSearchParams {
        RawSearchParams {
            q: Some(self.q.clone()),
            kind: self.art.clone(),
            themenfeld: self.themenfeld.clone(),
            namespace: self.namensraum.clone(),
            vertrauensniveau: self.vertrauensniveau.clone(),
            deprecated: self.veraltet.as_ref().map(|v| (v == "ja").to_string()),
            sort: self.sortierung.clone(),
            page: self.seite.clone(),
            per_page: None,
        }
    }

    fn href(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if !self.q.is_empty() {
            pairs.push(("q", &self.q));
        }
        for (key, value) in [
            ("art", &self.art),
            ("themenfeld", &self.themenfeld),
            ("namensraum", &self.namensraum),
            ("vertrauensniveau", &self.vertrauensniveau),
            ("sortierung", &self.sortierung),
            ("seite", &self.seite),
            ("veraltet", &self.veraltet),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                pairs.push((key, v));
            }
        }
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        if query.is_empty() {
            "/suche".into()
        } else {
            format!("/suche?{query}")
        }
    }

    /// This query with one change, back on the first page.
    fn with(&self, change: impl FnOnce(&mut SearchQuery)) -> String {
        let mut q = self.clone();
        q.seite = None;
        change(&mut q);
        q.href()
    }
}

fn facet_group(
    heading: &'static str,
    counts: &[FacetCount],
    current: &Option<String>,
    label: impl Fn(&FacetCount) -> String,
    set: impl Fn(&mut SearchQuery, Option<String>),
    query: &SearchQuery,
) -> FacetGroup {
    FacetGroup {
        heading,
        facets: counts
            .iter()
            .filter(|c| c.count > 0)
            .map(|c| {
                let active = current.as_deref() == Some(c.value.as_str());
                Facet {
                    label: label(c),
                    href: query.with(|q| set(q, (!active).then(|| c.value.clone()))),
                    count: super::number(c.count as i64),
                    active,
                }
            })
            .collect(),
    }
}

fn hit_view(h: Hit, publishers: &HashMap<String, Publisher>) -> HitView {
    HitView {
        publisher: publishers
            .get(&h.namespace)
            .map(Publisher::label)
            .unwrap_or_else(|| h.namespace.clone()),
        namespace: h.namespace.clone(),
        name: format!("{}/{}", h.namespace, h.name),
        title: h
            .title
            .clone()
            .unwrap_or_else(|| format!("{}/{}", h.namespace, h.name)),
        kind: super::kind_label(&h.kind),
        version: h.version,
        snippet: h.snippet,
        downloads: super::count(h.downloads as i64, "Download", "Downloads"),
        forks: if h.forks > 0 {
            super::count(h.forks as i64, "Ableitung", "Ableitungen")
        } else {
            String::new()
        },
        deprecated: h.deprecated,
        themenfeld: h
            .themenfeld
            .as_deref()
            .map(super::themenfeld_label)
            .unwrap_or_default(),
    }
}

#[get("/suche")]
pub(super) async fn page(reg: Reg, req: HttpRequest, query: web::Query<SearchQuery>) -> WebResult {
    let query = query.into_inner();
    let raw = query.raw();
    let (results, publishers) = block(&req, move || {
        let params = SearchParams::parse(&raw)?;
        let results = reg.search(&params)?;
        let slugs = results
            .hits
            .iter()
            .map(|h| h.namespace.clone())
            .chain(results.facets.namespace.iter().map(|f| f.value.clone()));
        let publishers = super::publisher::lookup(&reg, slugs)?;
        Ok((results, publishers))
    })
    .await?;
    let pages = (results.total as usize).div_ceil(results.per_page.max(1));
    let page_link = |n: usize| query.with(|q| q.seite = (n > 1).then(|| n.to_string()));
    let f = &results.facets;
    let groups = vec![
        facet_group(
            "Art",
            &f.kind,
            &query.art,
            |c| super::kind_label(&c.value).to_string(),
            |q, v| q.art = v,
            &query,
        ),
        facet_group(
            "Themenfeld",
            &f.themenfeld,
            &query.themenfeld,
            |c| {
                c.label
                    .clone()
                    .unwrap_or_else(|| super::themenfeld_label(&c.value))
            },
            |q, v| q.themenfeld = v,
            &query,
        ),
        facet_group(
            "Herausgeber",
            &f.namespace,
            &query.namensraum,
            |c| {
                publishers
                    .get(&c.value)
                    .map(Publisher::label)
                    .unwrap_or_else(|| c.value.clone())
            },
            |q, v| q.namensraum = v,
            &query,
        ),
        facet_group(
            "Vertrauensniveau",
            &f.vertrauensniveau,
            &query.vertrauensniveau,
            |c| c.value.clone(),
            |q, v| q.vertrauensniveau = v,
            &query,
        ),
    ];
    let current_sort = query
        .sortierung
        .clone()
        .unwrap_or_else(|| "relevance".into());
    let sorts = [
        ("Relevanz", "relevance"),
        ("Downloads (90 Tage)", "downloads"),
        ("zuletzt aktualisiert", "updated"),
        ("Name", "name"),
    ]
    .into_iter()
    .map(|(label, value)| SortLink {
        label,
        href: query.with(|q| q.sortierung = (value != "relevance").then(|| value.to_string())),
        active: current_sort == value,
    })
    .collect();
    let include_deprecated = query.veraltet.as_deref() == Some("ja");
    let feed = query
        .themenfeld
        .as_ref()
        .filter(|t| THEMENFELDER.iter().any(|(s, _)| s == t))
        .map(|t| format!("/feeds/themenfelder/{t}"));
    Ok(ok(&SearchPage {
        feed,
        chrome: Chrome::of(&req),
        q: query.q.trim().to_string(),
        total: super::number(results.total as i64),
        hits: results
            .hits
            .into_iter()
            .map(|h| hit_view(h, &publishers))
            .collect(),
        groups: groups
            .into_iter()
            .filter(|g| !g.facets.is_empty())
            .collect(),
        sorts,
        previous: if results.page > 1 {
            page_link(results.page - 1)
        } else {
            String::new()
        },
        next: if results.page < pages {
            page_link(results.page + 1)
        } else {
            String::new()
        },
        page: results.page,
        pages,
        include_deprecated,
        deprecated_href: query.with(|q| q.veraltet = (!include_deprecated).then(|| "ja".into())),
    }))
}
