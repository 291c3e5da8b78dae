//! `gemeinwerk fork`: records the fork in the registry, then writes a
//! working folder that is a git repository holding the upstream history,
//! with the new name and `[forked-from]` in its manifest.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::json;

use super::http::RegistryClient;
use super::{ClientError, ClientResult};
use gemeinwerk_package::manifest::{fork_manifest, ForkedFrom, MANIFEST_FILE};
use gemeinwerk_package::names::split_full_name;

#[derive(Debug, Deserialize, serde::Serialize)]
pub struct Registered {
    pub upstream: String,
    pub version: String,
    pub cksum: String,
    pub target: String,
    pub warnings: Vec<String>,
}

pub struct Forked {
    pub registered: Registered,
    pub dir: PathBuf,
    /// Whether the folder carries the upstream's git history.
    pub with_history: bool,
}

fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

pub fn fork(
    client: &RegistryClient,
    source: &str,
    version: Option<&str>,
    target: &str,
    dir: Option<PathBuf>,
) -> ClientResult<Forked> {
    let (ns, name) = split_full_name(source).map_err(ClientError::BadName)?;
    let (_, target_name) = split_full_name(target).map_err(ClientError::BadName)?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(&target_name));
    let occupied = dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true);
    if occupied {
        return Err(ClientError::FolderNotEmpty { dir });
    }

    let registered: Registered = client.send_json(
        "POST",
        &format!("/api/v1/packages/{ns}/{name}/forks"),
        Some(json!({ "target": target, "version": version })),
    )?;

    // The same archive, checked against the index's checksum.
    let files = super::resolve::fetch_version(client, &ns, &name, &registered.version)?;

    // The upstream history first, so that the fork's history contains the
    // upstream commit; without git, the files alone.
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(ClientError::write(parent))?;
    let url = format!("{}/git/packages/{ns}/{name}.git", client.base());
    let with_history = git(parent, &["clone", "-q", &url, &dir.display().to_string()])
        .and_then(|()| {
            git(
                &dir,
                &[
                    "checkout",
                    "-q",
                    "-B",
                    "main",
                    &format!("v{}", registered.version),
                ],
            )
        })
        .is_ok();
    if !with_history {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let io = |e| ClientError::write(&dir)(e);
    for (path, content) in &files {
        let dest = dir.join(path);
        std::fs::create_dir_all(dest.parent().expect("a file has a parent")).map_err(io)?;
        std::fs::write(&dest, content).map_err(io)?;
    }
    let manifest =
        std::str::from_utf8(&files[MANIFEST_FILE]).map_err(|_| ClientError::UpstreamNotUtf8)?;
    let from = ForkedFrom {
        namespace: ns,
        name,
        version: semver::Version::parse(&registered.version).map_err(|e| {
            ClientError::BadUpstreamVersion {
                version: registered.version.clone(),
                why: e.to_string(),
            }
        })?,
        cksum: Some(registered.cksum.clone()),
    };
    let rewritten = fork_manifest(manifest, target, &from).map_err(ClientError::Refused)?;
    std::fs::write(dir.join(MANIFEST_FILE), rewritten).map_err(io)?;
    Ok(Forked {
        registered,
        dir,
        with_history,
    })
}
