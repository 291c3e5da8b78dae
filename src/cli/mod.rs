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

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    Serve(serve::ServeArgs),
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
        #[arg(long)]
        token: Option<String>,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Create a new package folder with an example that passes `validate`.
    New {
        /// NS/NAME of the new package
        name: String,
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
        dir: Option<PathBuf>,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Publish a package folder.
    Publish {
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
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Lift a yank.
    Unyank {
        spec: String,
        #[command(flatten)]
        reg: RegistryArgs,
    },
    /// Mark a package deprecated, with a message for its users.
    Deprecate {
        /// NS/NAME
        package: String,
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
        namespace: String,
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
    /// Write a package in a standard format (JSON Schema, BPMN 2.0).
    Export {
        #[command(subcommand)]
        command: interop::ExportCommand,
        #[command(flatten)]
        reg: RegistryArgs,
    },
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        #[cfg(feature = "server")]
        Command::Serve(args) => serve::exec(args),
        #[cfg(feature = "server")]
        Command::Admin { store, command } => admin::exec(&store, command),
        Command::Login { token, reg } => commands::login(&reg, token),
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
    let mut out = localized(e.as_ref());
    for cause in e.chain().skip(1) {
        let text = localized(cause);
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

/// An error's text in the user's language where the catalogue has it;
/// the registry's own details and codes stay as it sent them.
fn localized(cause: &(dyn std::error::Error + 'static)) -> String {
    let text = cause.to_string();
    match cause.downcast_ref::<ClientError>() {
        Some(ClientError::NoToken) => crate::tr!("no-token"),
        Some(ClientError::Unreachable { registry, hint, .. }) => {
            crate::tr!("unreachable", registry = registry.as_str(), hint = *hint)
        }
        Some(ClientError::Api { status, .. } | ClientError::Status { status, .. })
            if *status >= 500 =>
        {
            let detail = text.strip_prefix("the registry failed: ").unwrap_or(&text);
            crate::tr!("registry-failed", message = detail)
        }
        _ => text,
    }
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
