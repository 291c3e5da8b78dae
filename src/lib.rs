//! gemeinwerk: a package registry for German public administrations.
//!
//! The arrows point one way: `server` and `client` use `registry`, which uses
//! `package` and `store`; `package` depends on nothing of ours.

pub mod cli;
pub mod client;
pub mod interop;
pub mod package;
pub mod registry;
pub mod server;
pub mod store;

/// Logs to stderr; `RUST_LOG` picks the level (default `info`). Colours
/// only on a terminal: a log written to a file or a journal stays plain.
pub fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
