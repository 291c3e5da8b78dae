//! The command line: one definition of every command and flag (clap), and
//! a thin `exec` per command that calls the library.
//!
//! Exit codes: 0 success, 1 a refusal or failed check, 2 usage or
//! environment error. Commands return `anyhow::Result`: the libraries'
//! typed errors (`ClientError`, `RegistryError`) travel inside it with the
//! context a command adds, and `exit_code` below is the one place that
//! turns a failure into an exit code and a message.
//!
//! Why `anyhow` and not an error enum of the binary: every command only
//! adds context and passes the error up; nothing in the binary matches on
//! a failure except `exit_code`, which finds the typed cause in the chain.
//! An enum would need a variant and a `From` for every library error
//! without telling anyone more.

#[cfg(feature = "server")]
mod admin;
mod commands;
mod fork;
pub mod i18n;
mod interop;
mod project;
mod search;
#[cfg(feature = "server")]
mod serve;
mod upstream;
mod usage;

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use gemeinwerk_client::ClientError;

/// A check of the command line itself said no (exit 1): a folder that is
/// not empty, a package that cannot be read, stores that disagree. Errors
/// with no typed cause at all are environment errors (exit 2).
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// A refusal (exit 1) with this message.
pub fn refused(message: impl Into<String>) -> anyhow::Error {
    Refused(message.into()).into()
}

#[derive(Parser)]
#[command(
    name = "gemeinwerk",
    version,
    about = "Formulare und Verfahren teilen: the package registry for public administrations"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[cfg(feature = "server")]
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// Where the registry keeps its data.
    #[arg(long, env = "GEMEINWERK_DATA_DIR", default_value = "./gemeinwerk-data")]
    data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL; default: SQLite inside the data dir.
    #[arg(long, env = "GEMEINWERK_DATABASE_URL")]
    database_url: Option<String>,
    /// Where package archives go: `s3://BUCKET[/PREFIX]` on S3-compatible
    /// object storage (credentials from AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY); default: the folder `blobs` in the data dir.
    #[arg(
        long,
        env = "GEMEINWERK_BLOB_STORE",
        value_name = "s3://BUCKET[/PREFIX]"
    )]
    blob_store: Option<String>,
    /// The S3 endpoint, e.g. `http://127.0.0.1:3900` for a self-hosted
    /// store (default: AWS_ENDPOINT, else AWS S3). Requests are path-style.
    #[arg(long, env = "GEMEINWERK_S3_ENDPOINT", value_name = "URL")]
    s3_endpoint: Option<String>,
    /// The S3 region (default: AWS_REGION or AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long, env = "GEMEINWERK_S3_REGION", value_name = "REGION")]
    s3_region: Option<String>,
}

#[cfg(feature = "server")]
impl StoreArgs {
    fn blob_config(&self) -> anyhow::Result<gemeinwerk_server::store::BlobConfig> {
        use gemeinwerk_server::store::blobs::{BlobConfig, S3Config};
        let Some(url) = &self.blob_store else {
            if self.s3_endpoint.is_some() || self.s3_region.is_some() {
                anyhow::bail!(
                    "--s3-endpoint and --s3-region need --blob-store s3://BUCKET; without it archives go to the data dir"
                );
            }
            return Ok(BlobConfig::Folder);
        };
        let mut config = S3Config::parse(url).map_err(anyhow::Error::msg)?;
        config.endpoint = self.s3_endpoint.clone();
        config.region = self.s3_region.clone();
        Ok(BlobConfig::S3(config))
    }

    /// Opens the blob store first: a wrong bucket or key stops here, before
    /// the data dir or the database is touched.
    fn open_registry(
        &self,
        config: gemeinwerk_server::registry::RegistryConfig,
    ) -> anyhow::Result<gemeinwerk_server::registry::Registry> {
        let blobs =
            gemeinwerk_server::store::BlobStore::open_config(&self.blob_config()?, &self.data_dir)?;
        Ok(gemeinwerk_server::registry::Registry::open_with_blobs(
            &self.data_dir,
            self.database_url.as_deref(),
            blobs,
            config,
        )?)
    }
}

#[derive(Args, Clone)]
pub struct RegistryArgs {
    /// The registry to talk to.
    #[arg(
        long,
        env = "GEMEINWERK_REGISTRY",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    registry: String,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run the registry server.
    #[cfg(feature = "server")]
    Serve(Box<serve::ServeArgs>),
    /// Operator commands that work on the stores directly.
    #[cfg(feature = "server")]
    Admin {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Store an API token for a registry (read from stdin unless given).
    Login {
        /// The token (default: read from stdin, so that it stays out of the shell history).
        #[arg(long)]
        token: Option<String>,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Remove the stored API token of a registry.
    Logout {
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Create a new package folder with an example that passes `validate`.
    New {
        /// NS/NAME of the new package
        name: String,
        /// What the package holds.
        #[arg(long, value_parser = ["form", "process", "fieldgroup"])]
        kind: String,
        /// The folder to create (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Check a package folder as the registry would, with its dependencies
    /// resolved against the registry when it is reachable.
    Validate {
        /// The package folder (default: the current one).
        dir: Option<PathBuf>,
        /// Do not contact the registry; dependencies stay unchecked.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Show the semantic changes between two versions, each given as
    /// NS/NAME@VERSION (from the registry) or a package folder.
    Diff {
        /// The old side
        a: String,
        /// The new side
        b: String,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Build the package's archive into DIR/target/package/.
    Package {
        /// The package folder (default: the current one).
        dir: Option<PathBuf>,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Publish a package folder.
    Publish {
        /// The package folder (default: the current one).
        dir: Option<PathBuf>,
        /// Check and pack, but do not upload.
        #[arg(long)]
        dry_run: bool,
        /// Answer as soon as the version is stored, without waiting (at
        /// most 2 s) until the registry's search shows it.
        #[arg(long)]
        no_wait: bool,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Mark a version as not to be used for new locks (it stays downloadable).
    Yank {
        /// NS/NAME@VERSION
        spec: String,
        /// Why, for the users of the version (e.g. "wrong fee").
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Lift a yank.
    Unyank {
        /// NS/NAME@VERSION
        spec: String,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Mark a package deprecated, with a message for its users.
    Deprecate {
        /// NS/NAME
        package: String,
        /// What users should do instead (e.g. "use kassel/hundesteuer-2").
        #[arg(long, required_unless_present = "undo")]
        message: Option<String>,
        /// Lift the deprecation.
        #[arg(long)]
        undo: bool,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Search packages: German words, typos and parts of compound words
    /// find what you mean ("Hunde Steuer", "Parkauswies", "Strassenfest").
    Search(search::SearchArgs),
    /// Show a package and its versions.
    Info {
        /// NS/NAME or NS/NAME@VERSION
        spec: String,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Fork a package into your namespace: records the fork and writes a
    /// working folder with the upstream's history.
    Fork {
        /// NS/NAME or NS/NAME@VERSION to fork
        source: String,
        /// NS/NAME of the fork
        target: String,
        /// The folder to write (default: the fork's name).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Follow the package this fork was made from: status, diff, merge, resolve.
    Upstream {
        #[command(subcommand)]
        command: upstream::UpstreamCommand,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Manage the members of a namespace.
    Owner {
        #[command(subcommand)]
        command: commands::OwnerCommand,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Show the audit log of a namespace (owners only).
    Audit {
        /// The namespace, e.g. kassel.
        namespace: String,
        /// The most recent entries to show.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Add a dependency to the project's gemeinwerk.toml (comments and layout stay).
    Add(project::AddArgs),
    /// Resolve the whole dependency graph and write gemeinwerk.lock.
    Lock(project::LockArgs),
    /// Download, verify and unpack the locked packages into gemeinwerk_packages/.
    Fetch(project::FetchArgs),
    /// Write the locked archives and index files into a folder for offline CI.
    Vendor(project::VendorArgs),
    /// Make a package from a standard format (FIM XDatenfelder).
    Import {
        #[command(subcommand)]
        command: interop::ImportCommand,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Write a package in a standard format (JSON Schema, XDatenfelder 3.0.0, BPMN 2.0).
    Export {
        #[command(subcommand)]
        command: interop::ExportCommand,
        #[command(flatten)]
        reg: RegistryArgs,
    },
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let matches = usage::command(Cli::command())
        .try_get_matches()
        .unwrap_or_else(|e| e.apply::<usage::Localized>().exit());
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        #[cfg(feature = "server")]
        Command::Serve(args) => serve::exec(*args),
        #[cfg(feature = "server")]
        Command::Admin { store, command } => admin::exec(&store, command),
        Command::Login { token, reg } => commands::login(&reg, token),
        Command::Logout { reg } => commands::logout(&reg),
        Command::New {
            name,
            kind,
            dir,
            reg,
        } => commands::new(&reg, &name, &kind, dir),
        Command::Validate { dir, offline, reg } => commands::validate(&reg, dir, offline),
        Command::Diff { a, b, reg } => commands::diff(&reg, &a, &b),
        Command::Package { dir, reg } => commands::package(&reg, dir),
        Command::Publish {
            dir,
            dry_run,
            no_wait,
            reg,
        } => commands::publish(&reg, dir, dry_run, no_wait),
        Command::Yank { spec, reason, reg } => commands::yank(&reg, &spec, true, reason),
        Command::Unyank { spec, reg } => commands::yank(&reg, &spec, false, None),
        Command::Deprecate {
            package,
            message,
            undo,
            reg,
        } => commands::deprecate(&reg, &package, if undo { None } else { message }),
        Command::Info { spec, reg } => commands::info(&reg, &spec),
        Command::Search(args) => search::exec(args),
        Command::Fork {
            source,
            target,
            dir,
            reg,
        } => fork::exec(&reg, &source, &target, dir),
        Command::Owner { command, reg } => commands::owner(&reg, command),
        Command::Upstream { command, reg } => upstream::exec(&reg, command),
        Command::Audit {
            namespace,
            limit,
            reg,
        } => commands::audit(&reg, &namespace, limit),
        Command::Add(args) => project::add(args),
        Command::Lock(args) => project::lock(args),
        Command::Fetch(args) => project::fetch(args),
        Command::Vendor(args) => project::vendor(args),
        Command::Import { command, reg } => interop::import(&reg, command),
        Command::Export { command, reg } => interop::export(&reg, command),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{}", crate::tr!("error", message = message(&e)));
            exit_code(&e)
        }
    }
}

/// 1 when the first typed error in the chain is a refusal (the registry or
/// a check said no), 2 for everything else: no registry, no token, no
/// folder, a file that cannot be written, wrong arguments.
fn exit_code(e: &anyhow::Error) -> i32 {
    for cause in e.chain() {
        if let Some(e) = cause.downcast_ref::<ClientError>() {
            return if e.is_refusal() { 1 } else { 2 };
        }
        if cause.is::<Refused>() {
            return 1;
        }
        #[cfg(feature = "server")]
        if let Some(e) = cause.downcast_ref::<gemeinwerk_server::registry::RegistryError>() {
            use gemeinwerk_server::registry::ErrorKind;
            return match e.kind() {
                ErrorKind::Internal | ErrorKind::Unavailable => 2,
                _ => 1,
            };
        }
    }
    2
}

/// The error and its causes on one line, each joined by ": ". A cause
/// whose text the message already holds is left out: some errors repeat
/// their source in their own message.
fn message(e: &anyhow::Error) -> String {
    chain(e.as_ref())
}

/// An error's text in the user's language where the catalogue has it;
/// the registry's own details and codes stay as it sent them.
fn localized(cause: &(dyn std::error::Error + 'static)) -> String {
    match cause.downcast_ref::<ClientError>() {
        Some(e) => client_error(e),
        None => cause.to_string(),
    }
}

/// A client error as its `Display` says it, in the user's language.
pub(crate) fn client_error(e: &ClientError) -> String {
    use crate::tr;
    let shown = |p: &std::path::Path| p.display().to_string();
    let server_failed = |status: u16, text: String| match status >= 500 {
        true => tr!("registry-failed", message = text),
        false => text,
    };
    match e {
        ClientError::Api { status, errors } => {
            // A package's problem as the client's own check would say it
            // (from its code and args); other errors as the registry
            // worded them.
            let lines: Vec<String> = errors
                .iter()
                .map(|e| match e.diagnostic() {
                    Some(d) if i18n::is_german() => i18n::diagnostic(&d),
                    _ => format!("{} [{}]", e.detail, e.code),
                })
                .collect();
            server_failed(*status, lines.join("\n"))
        }
        ClientError::Status { status, body } => {
            server_failed(*status, format!("HTTP {status}: {body}"))
        }
        ClientError::Unreachable { registry, hint, .. } => match *hint {
            "" => tr!("unreachable", registry = registry.as_str()),
            // The one hint the client gives (a fetch that may work offline).
            _ => tr!("unreachable-offline", registry = registry.as_str()),
        },
        ClientError::BadAnswer { registry, .. } => {
            tr!("bad-answer", registry = registry.as_str())
        }
        ClientError::BadIndex { registry, file, .. } => {
            tr!(
                "bad-index",
                registry = registry.as_str(),
                file = file.as_str()
            )
        }
        ClientError::IndexStatus {
            registry,
            file,
            status,
        } => tr!(
            "index-status",
            registry = registry.as_str(),
            file = file.as_str(),
            status = status.to_string()
        ),
        ClientError::NotARegistry { registry } => {
            tr!("not-a-registry", registry = registry.as_str())
        }
        ClientError::IndexNotCached { registry, file } => tr!(
            "index-not-cached",
            registry = registry.as_str(),
            file = file.as_str()
        ),
        ClientError::ArchivesNotCached { cache, labels } => tr!(
            "archives-not-cached",
            count = labels.len(),
            cache = shown(cache),
            labels = labels.join(", ")
        ),
        ClientError::NoToken => tr!("no-token"),
        ClientError::CiIdToken { detail } => tr!("ci-id-token-failed", detail = detail.as_str()),
        ClientError::NoHome { var, what } => {
            let what = match *what {
                "the cache" => "cache",
                "the stored token" => "token",
                other => other,
            };
            tr!("no-home", var = *var, what = what)
        }
        ClientError::Read { path, .. } => tr!("cannot-read", path = shown(path)),
        ClientError::Write { path, .. } => tr!("cannot-write", path = shown(path)),
        ClientError::NotAPackage { dir } => tr!("not-a-package", dir = shown(dir)),
        ClientError::NoProject { dir } => tr!("no-project", dir = shown(dir)),
        ClientError::Symlink { path } => tr!("symlink", path = path.as_str()),
        ClientError::Manifest { file, diagnostics } => diagnostic_lines(file, diagnostics),
        ClientError::Lockfile { file, diagnostics } => format!(
            "{}\n{}",
            tr!("lockfile-unreadable", file = shown(file)),
            diagnostic_lines(file, diagnostics)
        ),
        // The package crate's words, as its diagnostics.
        ClientError::Refused(text) => text.clone(),
        ClientError::BadName(cause) => i18n::cause(cause),
        ClientError::BadAddSpec { spec, why } => {
            tr!("bad-add-spec", spec = spec.as_str(), why = i18n::cause(why))
        }
        ClientError::BadRequirement { spec, req, why } => tr!(
            "bad-requirement",
            spec = spec.as_str(),
            req = req.as_str(),
            why = why.as_str()
        ),
        ClientError::DestNotAFolder { dest } => tr!("dest-not-a-folder", dest = shown(dest)),
        ClientError::NoSuchVersion { package, version } => tr!(
            "no-such-version",
            package = package.as_str(),
            version = version.as_str()
        ),
        ClientError::FolderNotEmpty { dir } => tr!("folder-not-empty", dir = shown(dir)),
        ClientError::UpstreamNotUtf8 => tr!("upstream-not-utf8"),
        ClientError::BadUpstreamVersion { version, why } => tr!(
            "bad-upstream-version",
            version = version.as_str(),
            why = why.as_str()
        ),
        ClientError::NoSolution { explanation } => {
            format!("{}\n{explanation}", tr!("no-solution"))
        }
        ClientError::DownloadRefused { label, url, status } => tr!(
            "download-refused",
            label = label.as_str(),
            url = url.as_str(),
            status = status.to_string()
        ),
        ClientError::DownloadFailed { label, url, .. } => {
            tr!(
                "download-failed",
                label = label.as_str(),
                url = url.as_str()
            )
        }
        ClientError::Truncated { label, url, why } => tr!(
            "truncated",
            label = label.as_str(),
            url = url.as_str(),
            why = why.as_str()
        ),
        ClientError::ChecksumMismatch {
            label,
            expected_by,
            expected,
            got,
            url,
        } => {
            let by = match *expected_by {
                "gemeinwerk.lock" => "lock",
                _ => "index",
            };
            tr!(
                "checksum-mismatch",
                label = label.as_str(),
                by = by,
                expected = expected.as_str(),
                got = got.as_str(),
                url = url.as_str()
            )
        }
        ClientError::UnusableArchive { label, .. } => {
            tr!("unusable-archive", label = label.as_str())
        }
        ClientError::WrongPrefix {
            label,
            prefix,
            expected,
        } => tr!(
            "wrong-prefix",
            label = label.as_str(),
            prefix = prefix.as_str(),
            expected = expected.as_str()
        ),
        ClientError::Untouched { dest, error } => format!(
            "{}\n{}",
            chain(error.as_ref()),
            tr!("untouched", dest = shown(dest))
        ),
    }
}

/// An error and its causes on one line, each in the user's language.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = localized(error);
    let mut cause = error.source();
    while let Some(c) = cause {
        let text = localized(c);
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// One line per diagnostic, each placed in `file` (the path the user
/// typed rather than the bare file name the parser knows).
fn diagnostic_lines(
    file: &std::path::Path,
    diagnostics: &[gemeinwerk_package::Diagnostic],
) -> String {
    diagnostics
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d.file = file.display().to_string();
            i18n::diagnostic(&d)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Prints for people on stderr, or the JSON value on stdout for scripts.
fn output(reg: &RegistryArgs, value: &serde_json::Value, human: impl FnOnce()) {
    if reg.json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).expect("JSON value serialises")
        );
    } else {
        human();
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use gemeinwerk_client::{ApiError, ClientError};
    use gemeinwerk_package::Diagnostic;

    use super::{client_error, i18n};

    fn transport() -> Box<ureq::Error> {
        Box::new(ureq::Error::from(std::io::Error::other("refused")))
    }

    /// One of each variant, with the fields a user sees.
    fn every_client_error() -> Vec<ClientError> {
        let api = |status| ClientError::Api {
            status,
            errors: vec![ApiError {
                code: "version_exists".into(),
                detail: "kassel/a@1.0.0 already exists".into(),
                ..ApiError::default()
            }],
        };
        let diagnostics = vec![Diagnostic::error("manifest.version", "x", "not a version")];
        vec![
            api(409),
            api(500),
            ClientError::Status {
                status: 502,
                body: "Bad Gateway".into(),
            },
            ClientError::Unreachable {
                registry: "http://r".into(),
                hint: "",
                source: transport(),
            },
            ClientError::Unreachable {
                registry: "http://r".into(),
                hint: " (with a filled cache, --offline works without it)",
                source: transport(),
            },
            ClientError::BadAnswer {
                registry: "http://r".into(),
                source: "cut off".into(),
            },
            ClientError::BadIndex {
                registry: "http://r".into(),
                file: "ka/ss/a".into(),
                source: "eh".into(),
            },
            ClientError::IndexStatus {
                registry: "http://r".into(),
                file: "config.json".into(),
                status: 404,
            },
            ClientError::NotARegistry {
                registry: "http://r".into(),
            },
            ClientError::IndexNotCached {
                registry: "http://r".into(),
                file: "ka/ss/a".into(),
            },
            ClientError::ArchivesNotCached {
                cache: "/c".into(),
                labels: vec!["a@1.0.0".into()],
            },
            ClientError::ArchivesNotCached {
                cache: "/c".into(),
                labels: vec!["a@1.0.0".into(), "b@2.0.0".into()],
            },
            ClientError::NoToken,
            ClientError::CiIdToken { detail: "x".into() },
            ClientError::NoHome {
                var: "XDG_CACHE_HOME",
                what: "the cache",
            },
            ClientError::NoHome {
                var: "XDG_CONFIG_HOME",
                what: "the stored token",
            },
            ClientError::Read {
                path: "/p".into(),
                source: std::io::Error::other("no"),
            },
            ClientError::Write {
                path: "/p".into(),
                source: std::io::Error::other("no"),
            },
            ClientError::NotAPackage { dir: "d".into() },
            ClientError::NoProject { dir: "d".into() },
            ClientError::Symlink {
                path: "passwd".into(),
            },
            ClientError::Manifest {
                file: "d/gemeinwerk.toml".into(),
                diagnostics: diagnostics.clone(),
            },
            ClientError::Lockfile {
                file: "d/gemeinwerk.lock".into(),
                diagnostics,
            },
            ClientError::Refused("the manifest has no [package]".into()),
            ClientError::BadName(
                gemeinwerk_package::names::split_full_name("Kassel/a").unwrap_err(),
            ),
            ClientError::BadAddSpec {
                spec: "kassel".into(),
                why: gemeinwerk_package::names::split_full_name("kassel").unwrap_err(),
            },
            ClientError::BadRequirement {
                spec: "a/b@^^1".into(),
                req: "^^1".into(),
                why: "eh".into(),
            },
            ClientError::DestNotAFolder { dest: "/".into() },
            ClientError::NoSuchVersion {
                package: "kassel/a".into(),
                version: "9.9.9".into(),
            },
            ClientError::FolderNotEmpty { dir: "d".into() },
            ClientError::UpstreamNotUtf8,
            ClientError::BadUpstreamVersion {
                version: "x".into(),
                why: "eh".into(),
            },
            ClientError::NoSolution {
                explanation: "kassel/a wants b ^2, c wants b ^1".into(),
            },
            ClientError::DownloadRefused {
                label: "a@1.0.0".into(),
                url: "http://r/a".into(),
                status: 404,
            },
            ClientError::DownloadFailed {
                label: "a@1.0.0".into(),
                url: "http://r/a".into(),
                source: transport(),
            },
            ClientError::Truncated {
                label: "a@1.0.0".into(),
                url: "http://r/a".into(),
                why: "cut off".into(),
            },
            ClientError::ChecksumMismatch {
                label: "a@1.0.0".into(),
                expected_by: "gemeinwerk.lock",
                expected: "aa".into(),
                got: "bb".into(),
                url: "http://r/a".into(),
            },
            ClientError::ChecksumMismatch {
                label: "a@1.0.0".into(),
                expected_by: "the index",
                expected: "aa".into(),
                got: "bb".into(),
                url: "http://r/a".into(),
            },
            ClientError::UnusableArchive {
                label: "a@1.0.0".into(),
                source: gemeinwerk_package::archive::ArchiveError::NotGzip,
            },
            ClientError::WrongPrefix {
                label: "a@1.0.0".into(),
                prefix: "x".into(),
                expected: "a-1.0.0".into(),
            },
            ClientError::Untouched {
                dest: PathBuf::from("gemeinwerk_packages"),
                error: Box::new(ClientError::NoSuchVersion {
                    package: "kassel/a".into(),
                    version: "9.9.9".into(),
                }),
            },
        ]
    }

    /// The English catalogue says what the client's `Display` says, so
    /// that English output is as it always was; the German one says it
    /// in German, and a registry's code stays as it is.
    #[test]
    fn every_client_error_in_both_languages() {
        i18n::use_language(false);
        for e in every_client_error() {
            assert_eq!(client_error(&e), e.to_string(), "{e:?}");
        }
        i18n::use_language(true);
        for e in every_client_error() {
            let german = client_error(&e);
            match &e {
                // The registry's details stay as they are worded; only
                // the frame is the user's language.
                ClientError::Api { status: 409, .. } | ClientError::Refused(_) => {
                    assert_eq!(german, e.to_string())
                }
                _ => assert_ne!(german, e.to_string(), "{e:?} is not translated"),
            }
            for code in e.api_codes() {
                assert!(german.contains(&format!("[{code}]")), "{german}");
            }
        }
        let e = &every_client_error()[1];
        assert_eq!(
            client_error(e),
            "die Registry hat einen Fehler: kassel/a@1.0.0 already exists [version_exists]"
        );
    }
}
