//! The relevance corpus (`tests/search-corpus/`): packages named after real
//! OZG Leistungen and queries with the packages they must find; recall@3
//! and MRR over them. Shared by the relevance test and `benches/search.rs`.
#![allow(dead_code)]

use std::path::Path;

use gemeinwerk_server::store::search::PackageDoc;
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    themenfeld: Vec<Themenfeld>,
}

#[derive(Deserialize)]
struct Themenfeld {
    slug: String,
    packages: Vec<Entry>,
}

#[derive(Deserialize, Clone)]
pub struct Entry {
    pub id: String,
    pub t: String,
    pub d: String,
    #[serde(default)]
    pub k: Vec<String>,
    #[serde(default)]
    pub l: Vec<String>,
    pub kind: Option<String>,
}

#[derive(Deserialize, Clone)]
pub struct Query {
    pub q: String,
    pub kind: String,
    pub expect: Vec<String>,
}

#[derive(Deserialize)]
struct Queries {
    query: Vec<Query>,
}

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/search-corpus")
}

/// The corpus as index documents, with `(themenfeld, entry)` for callers
/// that build more from it.
pub fn packages() -> Vec<(String, Entry)> {
    let text = std::fs::read_to_string(dir().join("packages.toml")).unwrap();
    let file: File = toml::from_str(&text).unwrap();
    file.themenfeld
        .into_iter()
        .flat_map(|t| {
            let slug = t.slug;
            t.packages.into_iter().map(move |p| (slug.clone(), p))
        })
        .collect()
}

pub fn queries() -> Vec<Query> {
    let text = std::fs::read_to_string(dir().join("queries.toml")).unwrap();
    toml::from_str::<Queries>(&text).unwrap().query
}

pub fn doc(id: u64, namespace: &str, name: &str, themenfeld: &str, e: &Entry) -> PackageDoc {
    PackageDoc {
        id,
        namespace: namespace.to_string(),
        name: name.to_string(),
        version: "1.0.0".into(),
        kind: e.kind.clone().unwrap_or_else(|| "form".into()),
        title: Some(e.t.clone()),
        description: e.d.clone(),
        keywords: e.k.clone(),
        themenfeld: Some(themenfeld.to_string()),
        vertrauensniveau: Some("substanziell".into()),
        labels: e.l.clone(),
        publisher: format!("Stadt {namespace}"),
        updated_at: chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
        ..Default::default()
    }
}

/// The corpus as it is: one document per entry.
pub fn docs() -> Vec<PackageDoc> {
    packages()
        .iter()
        .enumerate()
        .map(|(i, (tf, e))| {
            let (ns, name) = e.id.split_once('/').unwrap();
            doc(i as u64 + 1, ns, name, tf, e)
        })
        .collect()
}

pub struct Scores {
    pub recall_at_3: f64,
    pub mrr: f64,
    /// Queries whose first relevant hit is not first, with what came instead.
    pub misses: Vec<String>,
    /// Queries with no relevant hit in the top 3.
    pub unfound: Vec<String>,
}

/// recall@3: of the first min(3, |expected|) relevant packages, the share in
/// the top 3; MRR: 1/rank of the first relevant hit in the top 10.
/// `relevant(hit, expected)` says whether a hit counts as an expected id.
pub fn evaluate(
    queries: &[Query],
    mut search: impl FnMut(&str) -> Vec<String>,
    relevant: impl Fn(&str, &str) -> bool,
) -> Scores {
    let mut recall = 0.0;
    let mut rr = 0.0;
    let mut misses = Vec::new();
    let mut unfound = Vec::new();
    for q in queries {
        let hits = search(&q.q);
        let is_relevant = |h: &str| q.expect.iter().any(|e| relevant(h, e));
        let wanted = q.expect.len().min(3);
        let found: std::collections::BTreeSet<&str> = hits
            .iter()
            .take(3)
            .filter(|h| is_relevant(h))
            .map(|h| h.as_str())
            .collect();
        recall += (found.len().min(wanted)) as f64 / wanted as f64;
        let rank = hits.iter().take(10).position(|h| is_relevant(h));
        if let Some(r) = rank {
            rr += 1.0 / (r + 1) as f64;
        }
        if found.is_empty() {
            unfound.push(q.q.clone());
        }
        if rank != Some(0) || found.len() < wanted {
            misses.push(format!(
                "{:?} ({}): expected {:?}, got {:?}",
                q.q,
                q.kind,
                q.expect,
                hits.iter().take(3).collect::<Vec<_>>()
            ));
        }
    }
    let n = queries.len() as f64;
    Scores {
        recall_at_3: recall / n,
        mrr: rr / n,
        misses,
        unfound,
    }
}
