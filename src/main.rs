//! `gemeinwerk`: the registry server and its client in one binary, like
//! `cargo` and crates.io in one tool. Built without the default `server`
//! feature it is the client alone (no actix, diesel, libpq, tantivy).

mod cli;

// Parsing and merging TOML allocates many small strings and tables; glibc's
// malloc was a third of the instructions of a three-way merge.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How the server writes its log lines.
#[cfg(feature = "server")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// One line of text per event (colours only on a terminal).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Logs to stderr; `RUST_LOG` picks the level (default `info`). Colour codes
/// only when stderr is a terminal: a log file or a journal gets plain text.
#[cfg(feature = "server")]
pub(crate) fn init_logging(format: LogFormat) {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

fn main() {
    std::process::exit(cli::main());
}
