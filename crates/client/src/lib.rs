//! The CLI's side: talking to a registry over HTTP, reading package
//! folders, keeping the user's token.

pub mod cache;
pub mod credentials;
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

/// A failed client command, by the exit code it leads to.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The registry or a check said no (exit 1).
    #[error("{0}")]
    Refused(String),
    /// Wrong usage or a broken environment: no registry, no token, no
    /// folder (exit 2).
    #[error("{0}")]
    Environment(String),
}

impl ClientError {
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::Refused(_) => 1,
            ClientError::Environment(_) => 2,
        }
    }
}

pub type ClientResult<T> = Result<T, ClientError>;
