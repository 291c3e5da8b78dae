//! `gemeinwerk fork` and the fork network in `gemeinwerk info`.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::{output, RegistryArgs};
use crate::tr;
use gemeinwerk_client::http::RegistryClient;
use gemeinwerk_client::{credentials, fork};

pub fn exec(
    reg: &RegistryArgs,
    source: &str,
    target: &str,
    dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let client = RegistryClient::new(&reg.registry, credentials::token_for(&reg.registry));
    let (package, version) = match source.split_once('@') {
        Some((p, v)) => (p, Some(v)),
        None => (source, None),
    };
    let forked = fork::fork(&client, package, version, target, dir)?;
    let r = &forked.registered;
    output(
        reg,
        &json!({ "fork": r, "dir": forked.dir, "with_history": forked.with_history }),
        || {
            for w in &r.warnings {
                eprintln!("{}", tr!("warning", message = w.as_str()));
            }
            eprintln!(
                "{}",
                tr!(
                    "forked",
                    upstream = r.upstream.as_str(),
                    version = r.version.as_str(),
                    target = r.target.as_str(),
                    dir = forked.dir.display().to_string(),
                    history = if forked.with_history { "yes" } else { "no" }
                )
            );
            eprintln!("{}", tr!("forked-next"));
        },
    );
    Ok(())
}

/// Prints the upstream chain and the forks of a package, for `info`.
pub fn print_network(network: &Value) {
    if let Some(base) = network["base"].as_str() {
        println!(
            "{}",
            tr!(
                "network-base",
                base = base,
                behind = network["behind"].as_u64().unwrap_or(0)
            )
        );
    }
    for up in network["upstream"].as_array().into_iter().flatten().skip(1) {
        println!(
            "  {}",
            tr!(
                "network-builds-on",
                package = up["package"].as_str().unwrap_or_default()
            )
        );
    }
    let forks = network["forks"].as_array().cloned().unwrap_or_default();
    if !forks.is_empty() {
        println!("{}", tr!("network-forks"));
    }
    for f in forks {
        let depth = f["depth"].as_u64().unwrap_or(1) as usize;
        println!(
            "{}{}",
            "  ".repeat(depth),
            tr!(
                "network-fork",
                package = f["package"].as_str().unwrap_or_default(),
                base = f["base"].as_str().unwrap_or("-"),
                behind = f["behind"].as_u64().unwrap_or(0)
            )
        );
    }
}
