//! The client commands: each converts its arguments and calls the registry
//! over HTTP or the package checks locally.

use std::io::BufRead;
use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{json, Value};

use anyhow::Context as _;

use super::{output, refused, RegistryArgs};
use crate::cli::i18n;
use crate::tr;
use gemeinwerk_client::credentials;
use gemeinwerk_client::folder::{self, Packed};
use gemeinwerk_client::http::RegistryClient;
use gemeinwerk_client::resolve::{self, Resolution};
use gemeinwerk_client::{scaffold, trusted_publishing, ClientError};
use gemeinwerk_package::content::read_content;
use gemeinwerk_package::content::Content;
use gemeinwerk_package::manifest::MANIFEST_FILE;
use gemeinwerk_package::names::split_full_name;
use gemeinwerk_package::{check_files, read_manifest};
use gemeinwerk_package::{Diagnostic, Manifest, PackageKind};

#[derive(Subcommand)]
pub enum OwnerCommand {
    /// Add a member (or change the role of one).
    Add {
        /// The namespace, e.g. kassel.
        namespace: String,
        /// The user's login.
        login: String,
        /// publisher: may publish and yank; owner: may also manage the members.
        #[arg(long, default_value = "publisher", value_parser = ["owner", "publisher"])]
        role: String,
    },
    /// Remove a member.
    Remove {
        /// The namespace, e.g. kassel.
        namespace: String,
        /// The user's login.
        login: String,
    },
    /// List the members.
    List {
        /// The namespace, e.g. kassel.
        namespace: String,
    },
}

pub(super) fn client(reg: &RegistryArgs) -> RegistryClient {
    RegistryClient::new(&reg.registry, credentials::token_for(&reg.registry))
}

/// The client to publish with: the stored or given token, else, in a CI
/// pipeline with an OIDC ID token, a short-lived one from trusted
/// publishing.
fn publishing_client(reg: &RegistryArgs, package: &str) -> anyhow::Result<RegistryClient> {
    if let Some(token) = credentials::token_for(&reg.registry) {
        return Ok(RegistryClient::new(&reg.registry, Some(token)));
    }
    let anonymous = RegistryClient::new(&reg.registry, None);
    let Some(id_token) = trusted_publishing::ci_id_token(&anonymous)? else {
        return Err(ClientError::NoToken.into());
    };
    let token = trusted_publishing::exchange(&anonymous, &id_token, package)?;
    Ok(RegistryClient::new(&reg.registry, Some(token)))
}

fn dir_or_current(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(|| PathBuf::from("."))
}

/// `ns/name@version`
fn parse_spec(spec: &str, need_version: bool) -> anyhow::Result<(String, String, Option<String>)> {
    let (pkg, version) = match spec.split_once('@') {
        Some((p, v)) => (p, Some(v.to_string())),
        None => (spec, None),
    };
    let (ns, name) = split_full_name(pkg).map_err(|e| anyhow::Error::msg(i18n::cause(&e)))?;
    if need_version && version.is_none() {
        return Err(anyhow::anyhow!(tr!(
            "spec-no-version",
            spec = spec,
            package = format!("{ns}/{name}")
        )));
    }
    Ok((ns, name, version))
}

fn print_diagnostics(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        eprintln!("{}", super::i18n::diagnostic(d));
    }
}

/// The refusal after a check found errors: "the check found 2 errors,
/// 1 warning".
fn problems_found(diagnostics: &[Diagnostic]) -> anyhow::Error {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let problems = tr!(
        "problems-found",
        errors = errors,
        warnings = diagnostics.len() - errors
    );
    refused(tr!("check-failed", problems = problems))
}

/// Reads and checks a folder; problems end the command with exit code 1.
pub(super) fn pack_or_refuse(reg: &RegistryArgs, dir: &std::path::Path) -> anyhow::Result<Packed> {
    match folder::pack(dir)? {
        Ok(packed) => Ok(packed),
        Err(errors) => {
            output(reg, &json!({ "ok": false, "diagnostics": errors }), || {
                print_diagnostics(&errors)
            });
            Err(problems_found(&errors))
        }
    }
}

pub fn login(reg: &RegistryArgs, token: Option<String>) -> anyhow::Result<()> {
    let token = match token {
        Some(t) => t,
        None => {
            eprintln!("{}", tr!("login-prompt", registry = reg.registry.as_str()));
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .with_context(|| tr!("login-stdin"))?;
            line
        }
    };
    let token = token.trim();
    if !token.starts_with(gemeinwerk_package::names::TOKEN_PREFIX) {
        return Err(anyhow::anyhow!(tr!("login-not-a-token")));
    }
    let path = credentials::store(&reg.registry, token)?;
    eprintln!("{}", tr!("login-stored", path = path.display().to_string()));
    Ok(())
}

pub fn logout(reg: &RegistryArgs) -> anyhow::Result<()> {
    match credentials::remove(&reg.registry)? {
        Some(path) => eprintln!(
            "{}",
            tr!(
                "logout-removed",
                registry = reg.registry.as_str(),
                path = path.display().to_string()
            )
        ),
        None => eprintln!("{}", tr!("logout-none", registry = reg.registry.as_str())),
    }
    Ok(())
}

pub fn validate(reg: &RegistryArgs, dir: Option<PathBuf>, offline: bool) -> anyhow::Result<()> {
    let dir = dir_or_current(dir);
    let packed = pack_or_refuse(reg, &dir)?;
    let manifest = &packed.manifest;
    let mut warnings = packed.warnings.clone();
    // Without dependencies the package's own files are the whole check.
    let mut dependencies_checked = true;
    if !manifest.dependencies.is_empty() {
        let resolution = if offline {
            Resolution::Offline("--offline".into())
        } else {
            resolve::resolve(&client(reg), manifest)
        };
        match resolution {
            Resolution::Offline(why) => {
                dependencies_checked = false;
                // A diagnostic like the package checks' own: worded in
                // English in both languages, found by its code.
                let reason = if offline {
                    "--offline was given".to_string()
                } else {
                    format!("the registry at {} is not reachable: {why}", reg.registry)
                };
                warnings.push(Diagnostic::warning(
                    "dependency.unchecked_offline",
                    MANIFEST_FILE,
                    format!(
                        "checked without the dependencies ({reason}); includes, code lists and forms from dependencies were not checked"
                    ),
                ));
            }
            Resolution::Resolved { deps, problems } => {
                // The files checked again, now with the dependencies: their
                // findings replace those of the check without them.
                let files = folder::read_folder(&dir)?;
                let (_, found) = check_files(manifest, &files, &deps);
                let (errors, more): (Vec<_>, Vec<_>) =
                    found.into_iter().partition(Diagnostic::is_error);
                let errors: Vec<Diagnostic> = problems.into_iter().chain(errors).collect();
                warnings = read_manifest(&files).map(|(_, w)| w).unwrap_or_default();
                warnings.extend(more);
                if !errors.is_empty() {
                    let all: Vec<Diagnostic> = errors.into_iter().chain(warnings).collect();
                    output(reg, &json!({ "ok": false, "diagnostics": all }), || {
                        print_diagnostics(&all)
                    });
                    return Err(problems_found(&all));
                }
            }
        }
    }
    output(
        reg,
        &json!({
            "ok": true,
            "name": manifest.full_name(),
            "version": manifest.version.to_string(),
            "dependencies_checked": dependencies_checked,
            "diagnostics": warnings,
        }),
        || {
            print_diagnostics(&warnings);
            let label = format!("{}@{}", manifest.full_name(), manifest.version);
            if dependencies_checked {
                eprintln!("{}", tr!("valid", label = label));
            } else {
                eprintln!("{}", tr!("valid-without-deps", label = label));
            }
        },
    );
    Ok(())
}

/// One side of `diff`: a package folder, or `ns/name@version` from the
/// registry (checksum verified against the index).
fn diff_side(c: &RegistryClient, arg: &str) -> anyhow::Result<(String, Manifest, Content)> {
    let path = std::path::Path::new(arg);
    let (label, files) = if path.is_dir() {
        (path.display().to_string(), folder::read_folder(path)?)
    } else if arg.contains('@') {
        let (ns, name, version) = parse_spec(arg, true)?;
        let version = version.expect("checked by parse_spec");
        (
            arg.to_string(),
            resolve::fetch_version(c, &ns, &name, &version)?,
        )
    } else {
        return Err(anyhow::anyhow!(tr!("diff-bad-side", arg = arg)));
    };
    let (manifest, content) = read_content(&files).map_err(|found| {
        print_diagnostics(&found);
        refused(tr!("diff-unreadable", label = label.as_str()))
    })?;
    Ok((label, manifest, content))
}

pub fn diff(reg: &RegistryArgs, a: &str, b: &str) -> anyhow::Result<()> {
    let c = client(reg);
    let (label_a, old_manifest, old) = diff_side(&c, a)?;
    let (label_b, new_manifest, new) = diff_side(&c, b)?;
    let d = gemeinwerk_package::diff::diff(&old_manifest, &old, &new_manifest, &new);
    print_diff(reg, &d, &format!("{label_a} → {label_b}"));
    Ok(())
}

/// The changes on stdout (JSON with `--json`), the summary on stderr.
pub fn print_diff(reg: &RegistryArgs, d: &gemeinwerk_package::diff::Diff, label: &str) {
    if reg.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&d.changes).expect("changes serialise")
        );
    } else {
        for change in &d.changes {
            if i18n::is_german() {
                println!("{}", gemeinwerk_package::diff::german::line(change));
            } else {
                println!("{change}");
            }
        }
        match d.level() {
            Some(level) => eprintln!(
                "{label}: {}; {}",
                diff_counts(d),
                tr!("diff-bump", level = level.to_string())
            ),
            None => eprintln!("{label}: {}", tr!("diff-no-changes")),
        }
    }
}

/// How many changes of each level: "2 major, 1 minor".
pub fn diff_counts(d: &gemeinwerk_package::diff::Diff) -> String {
    use gemeinwerk_package::diff::Level;
    if d.changes.is_empty() {
        return tr!("diff-no-changes");
    }
    let counts: Vec<String> = [Level::Major, Level::Minor, Level::Patch]
        .into_iter()
        .map(|level| (d.count(level), level))
        .filter(|(n, _)| *n > 0)
        .map(|(n, level)| tr!("diff-count", count = n, level = level.to_string()))
        .collect();
    tr!(
        "diff-counts",
        counts = counts.join(", "),
        total = d.changes.len()
    )
}

pub fn new(reg: &RegistryArgs, name: &str, kind: &str, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (ns, short) = split_full_name(name).map_err(|e| anyhow::Error::msg(i18n::cause(&e)))?;
    let kind: PackageKind = kind
        .parse()
        .map_err(|()| anyhow::anyhow!(tr!("new-unknown-kind", kind = kind)))?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(&short));
    if dir.exists() {
        let empty = dir.is_dir()
            && std::fs::read_dir(&dir)
                .with_context(|| tr!("cannot-read", path = dir.display().to_string()))?
                .next()
                .is_none();
        if !empty {
            return Err(refused(tr!(
                "new-not-empty",
                dir = dir.display().to_string()
            )));
        }
    }
    std::fs::create_dir_all(&dir)
        .with_context(|| tr!("cannot-create", path = dir.display().to_string()))?;
    let files = scaffold::files(&ns, &short, kind);
    for (path, text) in &files {
        let file = dir.join(path);
        std::fs::write(&file, text)
            .with_context(|| tr!("cannot-write", path = file.display().to_string()))?;
    }
    let paths: Vec<&str> = files.iter().map(|(p, _)| *p).collect();
    output(
        reg,
        &json!({ "name": format!("{ns}/{short}"), "kind": kind.as_str(), "dir": dir, "files": paths }),
        || {
            eprintln!(
                "{}",
                tr!(
                    "new-created",
                    kind = tr!("kind", kind = kind.as_str()),
                    name = format!("{ns}/{short}"),
                    dir = dir.display().to_string()
                )
            );
        },
    );
    Ok(())
}

pub fn package(reg: &RegistryArgs, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = dir_or_current(dir);
    let packed = pack_or_refuse(reg, &dir)?;
    let out_dir = dir.join("target").join("package");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| tr!("cannot-create", path = out_dir.display().to_string()))?;
    let file = out_dir.join(format!(
        "{}-{}-{}.tar.gz",
        packed.manifest.namespace, packed.manifest.name, packed.manifest.version
    ));
    std::fs::write(&file, &packed.archive)
        .with_context(|| tr!("cannot-write", path = file.display().to_string()))?;
    output(
        reg,
        &json!({ "file": file, "cksum": packed.cksum, "size": packed.archive.len() }),
        || {
            print_diagnostics(&packed.warnings);
            eprintln!(
                "{}\nsha256 {}",
                tr!(
                    "packed",
                    file = file.display().to_string(),
                    size = i18n::size(packed.archive.len() as u64)
                ),
                packed.cksum
            );
        },
    );
    Ok(())
}

/// Publishes the package in `dir`. Unless `no_wait`, the answer comes once
/// the registry's search shows the new version (the server waits, at most
/// 2 s), so that a `search` straight after it finds it.
pub fn publish(
    reg: &RegistryArgs,
    dir: Option<PathBuf>,
    dry_run: bool,
    no_wait: bool,
) -> anyhow::Result<()> {
    let dir = dir_or_current(dir);
    let packed = pack_or_refuse(reg, &dir)?;
    let label = format!(
        "{}@{}",
        packed.manifest.full_name(),
        packed.manifest.version
    );
    if dry_run {
        output(
            reg,
            &json!({ "dry_run": true, "name": packed.manifest.full_name(), "version": packed.manifest.version.to_string(), "cksum": packed.cksum }),
            || {
                print_diagnostics(&packed.warnings);
                eprintln!(
                    "{}",
                    tr!(
                        "publish-dry-run",
                        label = label.as_str(),
                        cksum = packed.cksum.as_str()
                    )
                );
            },
        );
        return Ok(());
    }
    let path = if no_wait {
        "/api/v1/packages/new"
    } else {
        "/api/v1/packages/new?wait=search"
    };
    let answer: Value = publishing_client(reg, &packed.manifest.full_name())?.send_bytes(
        "PUT",
        path,
        &packed.archive,
    )?;
    output(reg, &answer, || {
        if let Some(warnings) = answer["warnings"].as_array() {
            for w in warnings {
                let message = w["message"].as_str().unwrap_or_default();
                eprintln!("{}", tr!("warning", message = message));
            }
        }
        eprintln!(
            "{}\nsha256 {}",
            tr!("published", label = label.as_str()),
            answer["cksum"].as_str().unwrap_or_default()
        );
    });
    Ok(())
}

pub fn yank(
    reg: &RegistryArgs,
    spec: &str,
    yank: bool,
    reason: Option<String>,
) -> anyhow::Result<()> {
    let (ns, name, version) = parse_spec(spec, true)?;
    let version = version.expect("checked by parse_spec");
    let c = client(reg);
    let answer: Value = if yank {
        c.send_json(
            "DELETE",
            &format!("/api/v1/packages/{ns}/{name}/{version}/yank"),
            Some(json!({ "reason": reason })),
        )?
    } else {
        c.send_json(
            "PUT",
            &format!("/api/v1/packages/{ns}/{name}/{version}/unyank"),
            None,
        )?
    };
    let label = format!("{ns}/{name}@{version}");
    output(reg, &answer, || {
        if yank {
            eprintln!("{}", tr!("yanked", label = label.as_str()));
        } else {
            eprintln!("{}", tr!("unyanked", label = label.as_str()));
        }
    });
    Ok(())
}

pub fn deprecate(reg: &RegistryArgs, package: &str, message: Option<String>) -> anyhow::Result<()> {
    let (ns, name) = split_full_name(package).map_err(|e| anyhow::Error::msg(i18n::cause(&e)))?;
    let path = format!("/api/v1/packages/{ns}/{name}/deprecate");
    let c = client(reg);
    let answer: Value = match &message {
        Some(m) => c.send_json("PUT", &path, Some(json!({ "message": m })))?,
        None => c.send_json("DELETE", &path, None)?,
    };
    let package = format!("{ns}/{name}");
    output(reg, &answer, || match &message {
        Some(_) => eprintln!("{}", tr!("deprecated", package = package.as_str())),
        None => eprintln!("{}", tr!("undeprecated", package = package.as_str())),
    });
    Ok(())
}

pub fn info(reg: &RegistryArgs, spec: &str) -> anyhow::Result<()> {
    let (ns, name, version) = parse_spec(spec, false)?;
    let mut view: Value = client(reg).get_json(&format!("/api/v1/packages/{ns}/{name}"))?;
    if let Some(v) = &version {
        let found = view["versions"]
            .as_array()
            .and_then(|all| all.iter().find(|x| x["num"] == *v.as_str()).cloned());
        match found {
            Some(one) => view["versions"] = json!([one]),
            None => {
                return Err(refused(tr!(
                    "no-such-version",
                    package = format!("{ns}/{name}"),
                    version = v.as_str()
                )))
            }
        }
    }
    // The fork network belongs to what a package is: where it came from,
    // who builds on it.
    view["network"] = client(reg).get_json(&format!("/api/v1/packages/{ns}/{name}/forks"))?;
    output(reg, &view, || {
        println!(
            "{}  ({})",
            view["name"].as_str().unwrap_or_default(),
            tr!("kind", kind = view["kind"].as_str().unwrap_or_default())
        );
        if let Some(t) = view["title"].as_str() {
            println!("{t}");
        }
        println!("{}", view["description"].as_str().unwrap_or_default());
        if let Some(d) = view["deprecated"].as_str() {
            println!("{}", tr!("info-deprecated", message = d));
        }
        let downloads = view["downloads"].as_u64().unwrap_or(0);
        println!("{}", tr!("info-downloads", count = downloads));
        for v in view["versions"].as_array().into_iter().flatten() {
            let mut line = format!(
                "  {}  sha256 {}",
                v["num"].as_str().unwrap_or_default(),
                v["cksum"].as_str().unwrap_or_default()
            );
            if v["yanked"] == true {
                let reason = match v["yank_reason"].as_str() {
                    Some(r) => r.to_string(),
                    None => tr!("info-no-reason"),
                };
                line.push_str(&format!("  ({})", tr!("info-yanked", reason = reason)));
            }
            if let Some(f) = v["forked_from"].as_str() {
                line.push_str(&format!("  {}", tr!("info-forked-from", upstream = f)));
            }
            println!("{line}");
        }
        super::fork::print_network(&view["network"]);
    });
    Ok(())
}

pub fn owner(reg: &RegistryArgs, command: OwnerCommand) -> anyhow::Result<()> {
    let c = client(reg);
    match command {
        OwnerCommand::Add {
            namespace,
            login,
            role,
        } => {
            let answer: Value = c.send_json(
                "PUT",
                &format!("/api/v1/namespaces/{namespace}/members"),
                Some(json!({ "login": login, "role": role })),
            )?;
            output(reg, &answer, || {
                eprintln!(
                    "{}",
                    tr!(
                        "member-set",
                        login = login.as_str(),
                        role = tr!("role", role = role.as_str()),
                        namespace = namespace.as_str()
                    )
                )
            });
        }
        OwnerCommand::Remove { namespace, login } => {
            let answer: Value = c.send_json(
                "DELETE",
                &format!("/api/v1/namespaces/{namespace}/members/{login}"),
                None,
            )?;
            output(reg, &answer, || {
                eprintln!(
                    "{}",
                    tr!(
                        "member-removed",
                        login = login.as_str(),
                        namespace = namespace.as_str()
                    )
                )
            });
        }
        OwnerCommand::List { namespace } => {
            let answer: Value = c.get_json(&format!("/api/v1/namespaces/{namespace}/members"))?;
            output(reg, &answer, || {
                for m in answer["members"].as_array().into_iter().flatten() {
                    println!(
                        "{}\t{}",
                        m["login"].as_str().unwrap_or_default(),
                        tr!("role", role = m["role"].as_str().unwrap_or_default())
                    );
                }
            });
        }
    }
    Ok(())
}

pub fn audit(reg: &RegistryArgs, namespace: &str, limit: u32) -> anyhow::Result<()> {
    let c = client(reg);
    if credentials::token_for(&reg.registry).is_none() {
        return Err(ClientError::NoToken.into());
    }
    let answer: Value = c.get_json(&format!(
        "/api/v1/namespaces/{namespace}/audit?limit={limit}"
    ))?;
    output(reg, &answer, || {
        for e in answer["entries"].as_array().into_iter().flatten() {
            println!(
                "{}  {:<14} {:<20} {}  {}",
                e["at"].as_str().unwrap_or_default(),
                e["action"].as_str().unwrap_or_default(),
                e["actor"].as_str().unwrap_or("-"),
                e["target"].as_str().unwrap_or_default(),
                tr!(
                    "audit-from",
                    addr = e["client_addr"].as_str().unwrap_or("-")
                ),
            );
        }
    });
    Ok(())
}
