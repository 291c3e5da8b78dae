//! `gemeinwerk fork` and the fork network in `gemeinwerk info`.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::{output, RegistryArgs};
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
                eprintln!("warning: {w}");
            }
            eprintln!(
                "forked {}@{} into {} in {}{}",
                r.upstream,
                r.version,
                r.target,
                forked.dir.display(),
                if forked.with_history {
                    " (a git repository with the upstream history)"
                } else {
                    " (without history: git is not available)"
                }
            );
            eprintln!(
                "adapt it, then `gemeinwerk validate` and `gemeinwerk publish` in that folder"
            );
        },
    );
    Ok(())
}

/// Prints the upstream chain and the forks of a package, for `info`.
pub fn print_network(network: &Value) {
    if let Some(base) = network["base"].as_str() {
        println!(
            "forked from {base} ({} upstream release(s) behind)",
            network["behind"]
        );
    }
    for up in network["upstream"].as_array().into_iter().flatten().skip(1) {
        println!(
            "  which builds on {}",
            up["package"].as_str().unwrap_or_default()
        );
    }
    let forks = network["forks"].as_array().cloned().unwrap_or_default();
    if !forks.is_empty() {
        println!("forks:");
    }
    for f in forks {
        let depth = f["depth"].as_u64().unwrap_or(1) as usize;
        println!(
            "{}{}  from {}  ({} behind)",
            "  ".repeat(depth),
            f["package"].as_str().unwrap_or_default(),
            f["base"].as_str().unwrap_or("-"),
            f["behind"]
        );
    }
}
