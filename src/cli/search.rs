//! `gemeinwerk search QUERY`: the registry's search from the terminal.

use clap::Args;
use serde_json::Value;

use super::{output, RegistryArgs};
use crate::tr;
use gemeinwerk_client::credentials;
use gemeinwerk_client::http::RegistryClient;

#[derive(Args)]
pub struct SearchArgs {
    /// What to look for, in everyday German ("Hundesteuer anmelden").
    #[arg(required = true)]
    query: Vec<String>,
    /// form, process or fieldgroup.
    #[arg(long)]
    kind: Option<String>,
    /// An OZG Themenfeld, e.g. mobilitaet_reisen.
    #[arg(long)]
    themenfeld: Option<String>,
    /// Only packages of this namespace, e.g. kassel.
    #[arg(long)]
    namespace: Option<String>,
    /// niedrig, substanziell or hoch.
    #[arg(long)]
    vertrauensniveau: Option<String>,
    /// relevance, downloads, updated or name.
    #[arg(long)]
    sort: Option<String>,
    /// The page of results, from 1.
    #[arg(long)]
    page: Option<u32>,
    /// Results per page.
    #[arg(long)]
    per_page: Option<u32>,
    /// Show deprecated packages too.
    #[arg(long)]
    deprecated: bool,
    #[command(flatten)]
    reg: RegistryArgs,
}

/// The snippet's HTML as plain text for a terminal.
fn plain(html: &str) -> String {
    html.replace("<mark>", "")
        .replace("</mark>", "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

pub fn exec(args: SearchArgs) -> anyhow::Result<()> {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("q", &args.query.join(" "));
    let optional = [
        ("kind", args.kind.clone()),
        ("themenfeld", args.themenfeld.clone()),
        ("namespace", args.namespace.clone()),
        ("vertrauensniveau", args.vertrauensniveau.clone()),
        ("sort", args.sort.clone()),
        ("page", args.page.map(|p| p.to_string())),
        ("per_page", args.per_page.map(|p| p.to_string())),
        ("deprecated", args.deprecated.then(|| "true".to_string())),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            query.append_pair(key, &v);
        }
    }
    let client = RegistryClient::new(
        &args.reg.registry,
        credentials::token_for(&args.reg.registry),
    );
    let results: Value = client.get_json(&format!("/api/v1/search?{}", query.finish()))?;
    output(&args.reg, &results, || {
        let hits = results["hits"].as_array().cloned().unwrap_or_default();
        for hit in &hits {
            let s = |k: &str| hit[k].as_str().unwrap_or_default().to_string();
            let deprecated = if hit["deprecated"] == true {
                format!("  {}", tr!("deprecated-mark"))
            } else {
                String::new()
            };
            println!(
                "{}/{} {}  ({}){deprecated}  {}",
                s("namespace"),
                s("name"),
                s("version"),
                tr!("kind", kind = s("kind")),
                hit["title"].as_str().unwrap_or_default()
            );
            println!("    {}", plain(&s("snippet")));
        }
        let total = results["total"].as_u64().unwrap_or(0);
        eprintln!(
            "{}",
            tr!("search-summary", shown = hits.len(), total = total)
        );
    });
    Ok(())
}
