//! What can go wrong in the client, as data: the registry's own error code
//! and message, the path of a file that could not be read or written, the
//! file a broken manifest or lockfile is in. The binary decides from the
//! variant which exit code a failure gets (`ClientError::is_refusal`); the
//! messages say what happened and where, and the cause (an I/O or transport
//! error) is the `source`, printed after it.

use std::path::PathBuf;

use gemeinwerk_package::archive::ArchiveError;
use gemeinwerk_package::Diagnostic;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One entry of the API's error envelope `{"errors":[{"code","detail"}]}`.
/// A problem found in a package also says where it is and, in `args`, the
/// values its message names.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct ApiError {
    pub code: String,
    pub detail: String,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<usize>,
    #[serde(default)]
    pub column: Option<usize>,
    #[serde(default)]
    pub suggestion: Option<String>,
    #[serde(default)]
    pub hint: Option<gemeinwerk_package::diagnostics::Hint>,
    #[serde(default)]
    pub cause: Option<gemeinwerk_package::diagnostics::Cause>,
    #[serde(default)]
    pub args: std::collections::BTreeMap<String, String>,
}

impl ApiError {
    /// The entry as the package check's diagnostic, when it is one (it
    /// names a file); `message` is then the English detail as sent.
    pub fn diagnostic(&self) -> Option<Diagnostic> {
        let file = self.file.as_deref()?;
        let mut d = Diagnostic::error(&self.code, file, self.detail.clone());
        d.line = self.line.unwrap_or(0);
        d.column = self.column.unwrap_or(0);
        d.args = self.args.clone();
        d.suggestion = self.suggestion.clone();
        d.hint = self.hint.clone().map(|mut h| {
            h.english = self.suggestion.clone().unwrap_or_default();
            h
        });
        d.cause = self.cause.clone().map(|mut c| {
            c.english = self.args.get("detail").cloned().unwrap_or_default();
            c
        });
        Some(d)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The registry answered with its error envelope.
    #[error("{}{}", if *.status >= 500 { "the registry failed: " } else { "" }, api_lines(.errors))]
    Api { status: u16, errors: Vec<ApiError> },
    /// The registry answered with an error that is not its envelope (a
    /// proxy in between, for example).
    #[error("{}HTTP {status}: {body}", if *.status >= 500 { "the registry failed: " } else { "" })]
    Status { status: u16, body: String },
    /// No connection to the registry.
    #[error("cannot reach the registry at {registry}{hint}")]
    Unreachable {
        registry: String,
        /// What the user can do about it, or empty.
        hint: &'static str,
        #[source]
        source: Box<ureq::Error>,
    },
    /// The registry's answer could not be read (broken JSON, a cut-off
    /// download).
    #[error("the registry at {registry} sent an unreadable answer")]
    BadAnswer {
        registry: String,
        #[source]
        source: BoxError,
    },
    /// An index file (or `config.json`) of a registry could not be read.
    #[error("index/{file} of {registry} is unreadable")]
    BadIndex {
        registry: String,
        file: String,
        #[source]
        source: BoxError,
    },
    /// An index file answered with an unexpected status.
    #[error("the registry at {registry} answered HTTP {status} for index/{file}")]
    IndexStatus {
        registry: String,
        file: String,
        status: u16,
    },
    #[error("{registry} has no index/config.json; is it a gemeinwerk registry?")]
    NotARegistry { registry: String },
    #[error("--offline: index/{file} of {registry} is neither cached nor vendored; run once with network, or use `gemeinwerk vendor`")]
    IndexNotCached { registry: String, file: String },
    #[error("--offline, but {} neither in the cache ({}) nor vendored: {}", archives_are(.labels.len()), .cache.display(), .labels.join(", "))]
    ArchivesNotCached { cache: PathBuf, labels: Vec<String> },
    #[error("no API token: set GEMEINWERK_TOKEN or run `gemeinwerk login`")]
    NoToken,
    /// In CI, the pipeline's ID token could not be had or exchanged.
    #[error("trusted publishing: {detail}")]
    CiIdToken { detail: String },
    /// Neither `$HOME` nor the XDG folder for `what` is set.
    #[error("neither {var} nor HOME is set; {what} needs a home")]
    NoHome {
        var: &'static str,
        what: &'static str,
    },
    #[error("cannot read {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} has no gemeinwerk.toml; run this in a package folder or name one", .dir.display())]
    NotAPackage { dir: PathBuf },
    #[error("{} has no gemeinwerk.toml; add a first dependency with `gemeinwerk add NS/NAME`", .dir.display())]
    NoProject { dir: PathBuf },
    #[error("{path} is a symbolic link; packages may contain only regular files")]
    Symlink { path: String },
    /// A manifest with errors, each placed in `file`.
    #[error("{}", diagnostic_lines(.file, .diagnostics))]
    Manifest {
        file: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    /// A lockfile that cannot be read, each problem placed in `file`.
    #[error("{} is unreadable; nothing was changed\n{}", .file.display(), diagnostic_lines(.file, .diagnostics))]
    Lockfile {
        file: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    /// A check of the package crate said no, in its words.
    #[error("{0}")]
    Refused(String),
    /// A package name that is not NS/NAME, as the name check found it.
    #[error("{0}")]
    BadName(gemeinwerk_package::diagnostics::Cause),
    #[error("cannot add \"{spec}\": {why}; write NS/NAME or NS/NAME@REQ, e.g. kassel/bewohnerparkausweis@^1.0")]
    BadAddSpec {
        spec: String,
        why: gemeinwerk_package::diagnostics::Cause,
    },
    #[error("cannot add \"{spec}\": \"{req}\" is not a version requirement ({why}); for example ^1.2 or =1.0.3")]
    BadRequirement {
        spec: String,
        req: String,
        why: String,
    },
    #[error("--dest {} names no folder", .dest.display())]
    DestNotAFolder { dest: PathBuf },
    #[error("{package} has no version {version}")]
    NoSuchVersion { package: String, version: String },
    #[error("{} exists and is not empty; name another folder with --dir", .dir.display())]
    FolderNotEmpty { dir: PathBuf },
    #[error("the upstream manifest is not UTF-8")]
    UpstreamNotUtf8,
    #[error("the registry named an upstream version \"{version}\": {why}")]
    BadUpstreamVersion { version: String, why: String },
    /// No set of versions satisfies every requirement; the explanation
    /// says which requirements clash, in plain words.
    #[error("the dependencies cannot be resolved:\n{explanation}")]
    NoSolution { explanation: String },
    #[error("{label} cannot be downloaded from {url}: HTTP {status}")]
    DownloadRefused {
        label: String,
        url: String,
        status: u16,
    },
    #[error("downloading {label} from {url} failed")]
    DownloadFailed {
        label: String,
        url: String,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("{label} from {url}: {why}; it was not used")]
    Truncated {
        label: String,
        url: String,
        why: String,
    },
    /// An archive whose SHA-256 is not the one the lockfile or the index
    /// names.
    #[error("checksum mismatch for {label}: {expected_by} says sha256 {expected}, but the download from {url} has sha256 {got}; it was changed or damaged on the way and was not used")]
    ChecksumMismatch {
        label: String,
        /// `gemeinwerk.lock` or `the index`.
        expected_by: &'static str,
        expected: String,
        got: String,
        url: String,
    },
    #[error("the archive of {label} is unusable")]
    UnusableArchive {
        label: String,
        #[source]
        source: ArchiveError,
    },
    #[error("the archive of {label} holds \"{prefix}/\" instead of \"{expected}/\"")]
    WrongPrefix {
        label: String,
        prefix: String,
        expected: String,
    },
    /// A failed fetch, with the promise that the destination is untouched.
    /// The message holds the whole failure, causes included, so it is not
    /// the `source` (a printer of the chain would repeat it).
    #[error("{}\n{} was left as it was", chain(.error.as_ref()), .dest.display())]
    Untouched {
        dest: PathBuf,
        error: Box<ClientError>,
    },
}

impl ClientError {
    /// Whether the registry or a check said no (exit code 1), rather than
    /// the environment failing (no registry, no token, no folder: exit 2).
    pub fn is_refusal(&self) -> bool {
        use ClientError::*;
        match self {
            Api { status, .. } | Status { status, .. } => *status < 500,
            Symlink { .. }
            | Manifest { .. }
            | Refused(_)
            | NoSuchVersion { .. }
            | FolderNotEmpty { .. }
            | UpstreamNotUtf8
            | BadUpstreamVersion { .. }
            | NoSolution { .. }
            | DownloadRefused { .. }
            | Truncated { .. }
            | ChecksumMismatch { .. }
            | UnusableArchive { .. }
            | WrongPrefix { .. } => true,
            Untouched { error, .. } => error.is_refusal(),
            Unreachable { .. }
            | BadAnswer { .. }
            | BadIndex { .. }
            | IndexStatus { .. }
            | NotARegistry { .. }
            | IndexNotCached { .. }
            | ArchivesNotCached { .. }
            | NoToken
            | CiIdToken { .. }
            | NoHome { .. }
            | Read { .. }
            | Write { .. }
            | NotAPackage { .. }
            | NoProject { .. }
            | Lockfile { .. }
            | BadName(_)
            | BadAddSpec { .. }
            | BadRequirement { .. }
            | DestNotAFolder { .. }
            | DownloadFailed { .. } => false,
        }
    }

    /// The registry's error codes, when it answered with its envelope.
    pub fn api_codes(&self) -> Vec<&str> {
        match self {
            ClientError::Api { errors, .. } => errors.iter().map(|e| e.code.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    pub(crate) fn read(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ClientError {
        let path = path.into();
        move |source| ClientError::Read { path, source }
    }

    pub(crate) fn write(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ClientError {
        let path = path.into();
        move |source| ClientError::Write { path, source }
    }
}

/// An error and its causes on one line, as `anyhow` prints `{:#}`.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let text = c.to_string();
        // Some errors repeat their source in their own message.
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

fn archives_are(n: usize) -> String {
    match n {
        1 => "1 archive is".to_string(),
        n => format!("{n} archives are"),
    }
}

fn api_lines(errors: &[ApiError]) -> String {
    errors
        .iter()
        .map(|e| format!("{} [{}]", e.detail, e.code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line per diagnostic, each placed in `file` (a path the user typed
/// rather than the bare file name the parser knows).
fn diagnostic_lines(file: &std::path::Path, diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d.file = file.display().to_string();
            d.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub type ClientResult<T> = Result<T, ClientError>;
