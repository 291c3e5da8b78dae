//! The user's API token: from `GEMEINWERK_TOKEN`, or stored by
//! `gemeinwerk login` in `~/.config/gemeinwerk/credentials.toml` (mode 0600).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use super::{ClientError, ClientResult};

fn credentials_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("gemeinwerk").join("credentials.toml"))
}

fn load() -> BTreeMap<String, String> {
    credentials_path()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| toml::from_str(&text).ok())
        .unwrap_or_default()
}

/// The token for `registry`: the environment first, then the stored one.
pub fn token_for(registry: &str) -> Option<String> {
    if let Ok(t) = std::env::var("GEMEINWERK_TOKEN") {
        if !t.trim().is_empty() {
            return Some(t.trim().to_string());
        }
    }
    load().remove(registry.trim_end_matches('/'))
}

/// Stores a token for `registry`, readable only by the user.
pub fn store(registry: &str, token: &str) -> ClientResult<PathBuf> {
    let mut all = load();
    all.insert(
        registry.trim_end_matches('/').to_string(),
        token.to_string(),
    );
    write(&all)
}

/// Removes the stored token of `registry`; `None` when there was none.
/// (A token in `GEMEINWERK_TOKEN` is the environment's, not ours.)
pub fn remove(registry: &str) -> ClientResult<Option<PathBuf>> {
    let mut all = load();
    if all.remove(registry.trim_end_matches('/')).is_none() {
        return Ok(None);
    }
    write(&all).map(Some)
}

fn write(all: &BTreeMap<String, String>) -> ClientResult<PathBuf> {
    let path = credentials_path().ok_or(ClientError::NoHome {
        var: "XDG_CONFIG_HOME",
        what: "the stored token",
    })?;
    let text = toml::to_string(all).expect("a map of strings serialises");
    let env = |e| ClientError::write(&path)(e);
    std::fs::create_dir_all(path.parent().expect("has a parent")).map_err(env)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(env)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(env)?;
    }
    file.write_all(text.as_bytes()).map_err(env)?;
    Ok(path)
}
