//! The registry as a service: the use cases (`registry`: publish, yank,
//! accounts, tokens, jobs, views), the stores they talk to (`store`:
//! database, blobs, package histories, search index) and the HTTP server
//! with the web UI (`http`).
//!
//! The arrows point one way: `http` → `registry` → `store`, and all of
//! them → `gemeinwerk_package`; nothing here knows about the CLI.

pub mod http;
pub mod registry;
pub mod store;
