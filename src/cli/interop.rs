//! `gemeinwerk import xdatenfelder` and `gemeinwerk export json-schema|bpmn`:
//! the file IO around `interop`.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;

use super::commands::{client, pack_or_refuse};
use anyhow::Context as _;

use super::{output, refused, RegistryArgs};
use crate::tr;
use gemeinwerk_client::folder;
use gemeinwerk_client::resolve::{self, Resolution};
use gemeinwerk_package::codelist::CodelistSource;
use gemeinwerk_package::content::read_content;
use gemeinwerk_package::content::DependencyContent;
use gemeinwerk_package::interop::codelist_import::{self, CodelistImportOptions};
use gemeinwerk_package::interop::genericode;
use gemeinwerk_package::interop::xdatenfelder::export as xdf_export;
use gemeinwerk_package::interop::xdatenfelder::{self, ImportOptions, PackageRef};
use gemeinwerk_package::interop::xml::Limits;
use gemeinwerk_package::interop::{bpmn, json_schema};
use std::collections::BTreeMap;

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import a FIM XDatenfelder Stammdatenschema (as a form) or
    /// Datenfeldgruppe (as a field group), XDatenfelder 1.0, 2.0 or 3.0.0,
    /// into a new package folder; prints what could not be mapped exactly.
    Xdatenfelder {
        /// The XDatenfelder XML file.
        file: PathBuf,
        /// The folder to create (default: ./NAME); it must not exist yet.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The namespace of the new package.
        #[arg(long, default_value = "fim")]
        namespace: String,
        /// The package name (default: made from the FIM name).
        #[arg(long)]
        name: Option<String>,
        /// The licence to write into the manifest (XDatenfelder carries none).
        #[arg(long, default_value = "EUPL-1.2")]
        license: String,
        /// Do not ask the registry for code list and field group packages:
        /// code list references stay XRepository references, Datenfeldgruppen
        /// are copied.
        #[arg(long)]
        offline: bool,
    },
    /// Import an OASIS genericode 1.0 code list (as the XRepository
    /// publishes them) into a new code list package folder.
    Genericode {
        /// The genericode XML file.
        file: PathBuf,
        /// The folder to create (default: ./NAME); it must not exist yet.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The namespace of the new package.
        #[arg(long)]
        namespace: String,
        /// The package name (default: made from the list's short name).
        #[arg(long)]
        name: Option<String>,
        /// The package version (default: from the list's version: 2 →
        /// 2.0.0, 2024-02-01 → 20240201.0.0).
        #[arg(long)]
        version: Option<semver::Version>,
        /// The licence to write into the manifest (genericode carries none).
        #[arg(long, default_value = "EUPL-1.2")]
        license: String,
    },
}

#[derive(Subcommand)]
pub enum ExportCommand {
    /// The JSON Schema (2020-12) of a form's submission data, for FIT-Connect.
    JsonSchema {
        /// The package folder (default: the current one).
        dir: Option<PathBuf>,
        /// Write to this file instead of stdout.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// Do not contact the registry: included field groups stay open.
        #[arg(long)]
        offline: bool,
    },
    /// An XDatenfelder 3.0.0 message: a form as a Stammdatenschema, a field
    /// group as a Datenfeldgruppe; names what it cannot carry.
    Xdatenfelder {
        /// The package folder (default: the current one).
        dir: Option<PathBuf>,
        /// Write to this file instead of stdout.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// BPMN 2.0 XML of a process, with diagram layout.
    Bpmn {
        /// The package folder (default: the current one).
        dir: Option<PathBuf>,
        /// Write to this file instead of stdout.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
}

pub fn import(reg: &RegistryArgs, command: ImportCommand) -> anyhow::Result<()> {
    let (file, dir, namespace, name, license, offline) = match command {
        ImportCommand::Xdatenfelder {
            file,
            dir,
            namespace,
            name,
            license,
            offline,
        } => (file, dir, namespace, name, license, offline),
        ImportCommand::Genericode {
            file,
            dir,
            namespace,
            name,
            version,
            license,
        } => {
            let opts = CodelistImportOptions {
                namespace,
                name,
                version,
                license,
            };
            return import_genericode(reg, &file, dir, &opts);
        }
    };
    let mut opts = ImportOptions {
        namespace,
        name,
        license,
        limits: Limits::default(),
        codelist_packages: None,
        fieldgroup_packages: BTreeMap::new(),
    };
    let bytes = read_limited(&file, opts.limits.max_bytes)?;
    let run = |opts: &ImportOptions| {
        xdatenfelder::import(&bytes, opts).map_err(|e| {
            // A place in the document as editors and compilers write it.
            let (at, error) = match &e {
                xdatenfelder::ImportError::Refused {
                    line,
                    column,
                    problem,
                } => (
                    format!("{}:{line}:{column}", file.display()),
                    problem.clone(),
                ),
                _ => (file.display().to_string(), e.to_string()),
            };
            refused(tr!("import-failed", file = at, error = error))
        })
    };
    let mut imported = run(&opts)?;
    // The code lists and the Datenfeldgruppen the form references: those
    // the registry holds as packages become dependencies (a second pass
    // with what was found).
    let lists = xrepository_lists(&imported.content);
    let groups = fim_groups(&imported.content);
    let nothing_to_ask = lists.is_empty() && groups.is_empty();
    if !offline && !nothing_to_ask {
        let asked = codelist_packages(reg, &lists)
            .and_then(|l| Ok((l, fieldgroup_packages(reg, &groups)?)));
        match asked {
            Ok((lists, groups)) => {
                opts.codelist_packages = Some(lists);
                opts.fieldgroup_packages = groups;
                imported = run(&opts)?;
            }
            Err(e) => eprintln!(
                "{}",
                tr!("import-codelists-not-asked", error = super::message(&e))
            ),
        }
    }
    let dir = dir.unwrap_or_else(|| PathBuf::from(&imported.manifest.name));
    write_new_folder(&dir, &imported.files())?;
    output(
        reg,
        &json!({
            "dir": dir,
            "name": imported.manifest.full_name(),
            "version": imported.manifest.version.to_string(),
            "kind": imported.manifest.kind,
            "report": imported.report,
        }),
        || {
            eprint!("{}", imported.report);
            eprintln!("\n{}", tr!("import-wrote", dir = dir.display().to_string()));
        },
    );
    Ok(())
}

/// The XRepository lists (canonical URI, version) an imported form names.
fn xrepository_lists(content: &gemeinwerk_package::content::Content) -> Vec<(String, String)> {
    content
        .body()
        .map(|b| {
            b.codelists
                .iter()
                .filter_map(|c| match &c.source {
                    CodelistSource::XRepository { urn, version } => {
                        Some((urn.clone(), version.clone()))
                    }
                    CodelistSource::Inline(_) => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The FIM id and version of every group of an imported form.
fn fim_groups(content: &gemeinwerk_package::content::Content) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(body) = content.body() {
        gemeinwerk_package::model::walk(&body.items, "", &mut |_, item| {
            if let gemeinwerk_package::model::Item::Group(g) = item {
                if let Some((id, Some(version))) = g.fim.as_ref().map(|f| (&f.id, &f.version)) {
                    out.push((id.clone(), version.clone()));
                }
            }
        });
    }
    out.sort();
    out.dedup();
    out
}

/// Asks the registry which field group packages were made from the
/// groups; the first published one of each.
fn fieldgroup_packages(
    reg: &RegistryArgs,
    wanted: &[(String, String)],
) -> anyhow::Result<BTreeMap<(String, String), PackageRef>> {
    lookup(reg, wanted, ("/api/v1/fim", "id"), |answer| {
        answer["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["kind"] == "fieldgroup")
            .cloned()
    })
}

/// Asks the registry which code list packages hold the lists; the first
/// published one of each.
fn codelist_packages(
    reg: &RegistryArgs,
    wanted: &[(String, String)],
) -> anyhow::Result<BTreeMap<(String, String), PackageRef>> {
    lookup(reg, wanted, ("/api/v1/codelists", "uri"), |answer| {
        answer["codelists"].get(0).cloned()
    })
}

/// One question to the registry per (identity, version): `endpoint?key=
/// …&version=…`; `pick` chooses the package of the answer.
fn lookup(
    reg: &RegistryArgs,
    wanted: &[(String, String)],
    (endpoint, key): (&str, &str),
    pick: impl Fn(&serde_json::Value) -> Option<serde_json::Value>,
) -> anyhow::Result<BTreeMap<(String, String), PackageRef>> {
    let registry = client(reg);
    let mut out = BTreeMap::new();
    for (identity, version) in wanted {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(key, identity)
            .append_pair("version", version)
            .finish();
        let answer: serde_json::Value = registry.get_json(&format!("{endpoint}?{query}"))?;
        let found = pick(&answer).and_then(|p| {
            Some(PackageRef {
                package: p["package"].as_str()?.to_string(),
                version: p["version"].as_str()?.parse().ok()?,
            })
        });
        if let Some(found) = found {
            out.insert((identity.clone(), version.clone()), found);
        }
    }
    Ok(out)
}

fn import_genericode(
    reg: &RegistryArgs,
    file: &Path,
    dir: Option<PathBuf>,
    opts: &CodelistImportOptions,
) -> anyhow::Result<()> {
    let failed = |error: String| {
        refused(tr!(
            "import-failed",
            file = file.display().to_string(),
            error = error
        ))
    };
    let bytes = read_limited(file, Limits::default().max_bytes)?;
    let list = genericode::read(&bytes).map_err(|e| failed(e.to_string()))?;
    let imported = codelist_import::import(&list, opts).map_err(|e| failed(e.to_string()))?;
    let files = imported.files();
    // What the import wrote must pass the checks a publish makes (a name
    // given with --name may not).
    if let Err(errors) = gemeinwerk_package::check_package(&files) {
        let text: Vec<String> = errors.iter().map(crate::cli::i18n::diagnostic).collect();
        return Err(failed(text.join("; ")));
    }
    let dir = dir.unwrap_or_else(|| PathBuf::from(&imported.manifest.name));
    write_new_folder(&dir, &files)?;
    output(
        reg,
        &json!({
            "dir": dir,
            "name": imported.manifest.full_name(),
            "version": imported.manifest.version.to_string(),
            "kind": imported.manifest.kind,
            "source_version": list.version,
            "canonical_uri": list.canonical_uri,
            "codes": list.rows.len(),
        }),
        || {
            eprintln!(
                "{}",
                tr!(
                    "import-codelist",
                    name = imported.manifest.full_name(),
                    version = imported.manifest.version.to_string(),
                    codes = list.rows.len(),
                    source = list.version.clone()
                )
            );
            eprintln!("{}", tr!("import-wrote", dir = dir.display().to_string()));
        },
    );
    Ok(())
}

/// Reads at most `limit` bytes: a larger file is refused before it is in
/// memory.
fn read_limited(file: &Path, limit: usize) -> anyhow::Result<Vec<u8>> {
    let cannot_read = || tr!("cannot-read", path = file.display().to_string());
    let f = std::fs::File::open(file).with_context(cannot_read)?;
    let mut bytes = Vec::new();
    f.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(cannot_read)?;
    if bytes.len() > limit {
        return Err(refused(tr!(
            "file-too-large",
            file = file.display().to_string(),
            limit = limit
        )));
    }
    Ok(bytes)
}

/// Writes the files into a temporary folder beside `dir` and renames it
/// into place, so that `dir` appears whole or not at all.
fn write_new_folder(dir: &Path, files: &gemeinwerk_package::PackageFiles) -> anyhow::Result<()> {
    if dir.exists() {
        return Err(refused(tr!(
            "folder-exists",
            dir = dir.display().to_string()
        )));
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| tr!("cannot-create", path = parent.display().to_string()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".gemeinwerk-import-")
        .tempdir_in(&parent)
        .with_context(|| tr!("cannot-create-in", dir = parent.display().to_string()))?;
    for (path, bytes) in files {
        let file = tmp.path().join(path);
        std::fs::write(&file, bytes)
            .with_context(|| tr!("cannot-write", path = file.display().to_string()))?;
    }
    std::fs::rename(tmp.path(), dir)
        .with_context(|| tr!("cannot-create", path = dir.display().to_string()))?;
    Ok(())
}

fn write_output(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(path) => gemeinwerk_client::cache::write_atomic(path, text.as_bytes())
            .with_context(|| tr!("cannot-write", path = path.display().to_string())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

pub fn export(reg: &RegistryArgs, command: ExportCommand) -> anyhow::Result<()> {
    match command {
        ExportCommand::JsonSchema {
            dir,
            output,
            offline,
        } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("."));
            let (manifest, content, deps) = read_with_deps(reg, &dir, offline)?;
            let schema = json_schema::json_schema(&manifest, &content, &deps, &reg.registry)
                .map_err(|e| refused(e.to_string()))?;
            let text = serde_json::to_string_pretty(&schema).expect("a schema serialises") + "\n";
            write_output(output.as_deref(), &text)
        }
        ExportCommand::Xdatenfelder { dir, output } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("."));
            let (manifest, content, deps) = read_with_deps(reg, &dir, false)?;
            let exported = xdf_export::export(&manifest, &content, &deps, chrono::Utc::now())
                .map_err(|e| refused(e.to_string()))?;
            for n in &exported.notes {
                let text = if crate::cli::i18n::is_german() {
                    n.loss.german()
                } else {
                    n.loss.english()
                };
                let message = if n.path.is_empty() {
                    text
                } else {
                    format!("{}: {text}", n.path)
                };
                eprintln!("{}", tr!("warning", message = message));
            }
            write_output(output.as_deref(), &exported.xml)
        }
        ExportCommand::Bpmn { dir, output } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("."));
            // A process names no field groups or code lists: nothing to ask.
            let (manifest, content, _) = read_with_deps(reg, &dir, true)?;
            let xml = bpmn::bpmn(&manifest, &content).map_err(|e| refused(e.to_string()))?;
            write_output(output.as_deref(), &xml)
        }
    }
}

/// A package folder's manifest and content, and the content of its
/// dependencies from the registry (none when `offline` or unreachable, as
/// a warning).
fn read_with_deps(
    reg: &RegistryArgs,
    dir: &Path,
    offline: bool,
) -> anyhow::Result<(
    gemeinwerk_package::manifest::Manifest,
    gemeinwerk_package::content::Content,
    DependencyContent,
)> {
    let packed = pack_or_refuse(reg, dir)?;
    let files = folder::read_folder(dir)?;
    let (manifest, content) = read_content(&files)
        .map_err(|_| refused(tr!("cannot-read-package", dir = dir.display().to_string())))?;
    let deps = if offline || manifest.dependencies.is_empty() {
        DependencyContent::unresolved()
    } else {
        match resolve::resolve(&client(reg), &packed.manifest) {
            Resolution::Resolved { deps, .. } => deps,
            Resolution::Offline(why) => {
                let message = tr!(
                    "export-offline",
                    registry = reg.registry.as_str(),
                    why = why.as_str()
                );
                eprintln!("{}", tr!("warning", message = message));
                DependencyContent::unresolved()
            }
        }
    };
    Ok((manifest, content, deps))
}
