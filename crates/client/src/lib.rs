//! The CLI's side: talking to a registry over HTTP, reading package
//! folders, keeping the user's token.

pub mod advisories;
pub mod cache;
pub mod credentials;
pub mod error;
pub mod fetch;
pub mod folder;
pub mod fork;
pub mod http;
pub mod lockfile;
pub mod project;
pub mod resolve;
pub mod resolver;
pub mod scaffold;
pub mod terminal;
pub mod trusted_publishing;

pub use error::{ApiError, ClientError, ClientResult};
