//! Every way a use case can fail, each with a stable machine code and a
//! category; the server maps the category to an HTTP status in one place.

use crate::store::blobs::BlobError;
use crate::store::db::DbError;
use gemeinwerk_package::archive::ArchiveError;
use gemeinwerk_package::Diagnostic;

/// What kind of failure it is, independent of HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    Invalid,
    /// Not now, but soon (a view being built).
    Unavailable,
    /// Over a rate limit: try again later.
    TooManyRequests,
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    Archive(#[from] ArchiveError),
    #[error("the package has {} problem(s)", .0.len())]
    Invalid(Vec<Diagnostic>),
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },

    #[error("this needs an API token in the Authorization header")]
    MissingToken,
    #[error("the API token is malformed; gemeinwerk tokens start with \"gw_\" followed by 64 hex digits")]
    MalformedToken,
    #[error("the API token is not known to this registry")]
    UnknownToken,
    #[error("the API token was revoked")]
    RevokedToken,
    #[error("the API token expired at {0} UTC")]
    ExpiredToken(chrono::NaiveDateTime),
    #[error("the API token lacks the scope \"{0}\"")]
    MissingScope(&'static str),
    #[error(
        "the API token is restricted to namespace \"{allowed}\" and cannot act on \"{target}\""
    )]
    TokenNamespace { allowed: String, target: String },
    #[error("user \"{login}\" is not a member of namespace \"{namespace}\"")]
    NotAMember { login: String, namespace: String },
    #[error("only owners of namespace \"{0}\" may do this")]
    NotAnOwner(String),
    #[error("a new token cannot have the scope \"{0}\": the token that makes it lacks it")]
    ScopeNotHeld(&'static str),
    #[error("a new token cannot outlive the token that makes it, which expires at {0} UTC")]
    ExpiryNotHeld(chrono::NaiveDateTime),
    #[error("too many {what}; try again in {retry_after} s")]
    RateLimited {
        what: &'static str,
        retry_after: u64,
    },
    #[error("there is no token {0} that you may see")]
    UnknownTokenId(i64),
    /// An OIDC ID token refused (bad signature, wrong audience, expired…);
    /// the codes are in `id_tokens::codes`.
    #[error("{detail}")]
    IdToken { code: &'static str, detail: String },
    /// Trusted publishing refused what the ID token was good for (another
    /// project, a ref outside the pattern, a package outside the
    /// registration); the codes are in `trusted_publishing::codes`.
    #[error("{detail}")]
    TrustedPublisher { code: &'static str, detail: String },
    #[error("there is no trusted publisher {0} in this namespace")]
    UnknownTrustedPublisher(i64),
    #[error("there is no subscription {0} that you may see in this namespace")]
    UnknownSubscription(i64),
    #[error("subscription {subscription} has no delivery {delivery}")]
    UnknownDelivery { subscription: i64, delivery: i64 },
    #[error("the identity provider {issuer} cannot be reached or answers nonsense: {detail}")]
    ProviderUnavailable { issuer: String, detail: String },

    #[error("namespace \"{0}\" does not exist")]
    UnknownNamespace(String),
    #[error("user \"{0}\" does not exist")]
    UnknownUser(String),
    #[error("user \"{login}\" is not a member of namespace \"{namespace}\"")]
    UnknownMember { login: String, namespace: String },
    #[error("package \"{0}\" does not exist")]
    UnknownPackage(String),
    #[error("version {version} of \"{package}\" does not exist")]
    UnknownVersion { package: String, version: String },

    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },

    #[error(transparent)]
    Db(#[from] DbError),
    #[error("storage error: {0}")]
    Io(#[from] std::io::Error),
    /// A version row names an archive the blob store does not have: the
    /// stores disagree, which only an operator can mend.
    #[error("the archive of {version} ({cksum}) is missing from the blob store; run `gemeinwerk admin fsck`")]
    MissingBlob { version: String, cksum: String },
    /// A stored archive does not match its checksum, or the object store
    /// failed; `Io` errors of the blob store stay `Io`.
    #[error(transparent)]
    Blob(BlobError),
    #[error("git index: {0}")]
    Git(#[from] registry_index::GitIndexError),
    #[error("package history: {0}")]
    History(#[from] git2::Error),
    #[error(transparent)]
    Search(#[from] crate::store::search::SearchError),
    #[error("the search index is being built; try again in a moment")]
    SearchUnavailable,
}

impl From<BlobError> for RegistryError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::Io(e) => RegistryError::Io(e),
            e => RegistryError::Blob(e),
        }
    }
}

impl From<diesel::result::Error> for RegistryError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            // Two requests creating the same row at once: the loser's
            // checks ran before the winner committed. That is a conflict
            // for the client to retry, not a fault of the server.
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::info!(constraint = ?info.constraint_name(), "unique key conflict");
                RegistryError::conflict(
                    CONCURRENT_CHANGE,
                    "another request changed the same thing at the same moment; try again",
                )
            }
            e => RegistryError::Db(DbError::Query(e)),
        }
    }
}

/// The code of a unique-key conflict between two concurrent requests.
pub const CONCURRENT_CHANGE: &str = "concurrent_change";

impl RegistryError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        RegistryError::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        RegistryError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// A unique-key conflict with a concurrent request (see `From`).
    pub fn is_concurrent_change(&self) -> bool {
        matches!(self, Self::Conflict { code, .. } if *code == CONCURRENT_CHANGE)
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Archive(e) => e.code(),
            Self::Invalid(_) => "invalid_package",
            Self::BadRequest { code, .. } | Self::Conflict { code, .. } => code,
            Self::MissingToken => "missing_token",
            Self::MalformedToken => "malformed_token",
            Self::UnknownToken => "unknown_token",
            Self::RevokedToken => "revoked_token",
            Self::ExpiredToken(_) => "expired_token",
            Self::MissingScope(_) => "missing_scope",
            Self::TokenNamespace { .. } => "token_namespace_forbidden",
            Self::NotAMember { .. } => "not_a_member",
            Self::NotAnOwner(_) => "not_an_owner",
            Self::ScopeNotHeld(_) => "scope_not_held",
            Self::ExpiryNotHeld(_) => "expiry_not_held",
            Self::RateLimited { .. } => "rate_limited",
            Self::UnknownTokenId(_) => "token_not_found",
            Self::IdToken { code, .. } | Self::TrustedPublisher { code, .. } => code,
            Self::ProviderUnavailable { .. } => "provider_unavailable",
            Self::UnknownTrustedPublisher(_) => "trusted_publisher_not_found",
            Self::UnknownSubscription(_) => "subscription_not_found",
            Self::UnknownDelivery { .. } => "delivery_not_found",
            Self::UnknownNamespace(_) => "namespace_not_found",
            Self::UnknownUser(_) => "user_not_found",
            Self::UnknownMember { .. } => "member_not_found",
            Self::UnknownPackage(_) => "package_not_found",
            Self::UnknownVersion { .. } => "version_not_found",
            Self::SearchUnavailable => "search_unavailable",
            Self::Blob(BlobError::Corrupt { .. }) => "archive_corrupt",
            Self::Blob(BlobError::Unavailable { .. }) => "blob_store_unavailable",
            Self::Blob(_)
            | Self::Db(_)
            | Self::Io(_)
            | Self::MissingBlob { .. }
            | Self::Git(_)
            | Self::History(_)
            | Self::Search(_) => "internal",
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Archive(ArchiveError::TooLarge { .. }) => ErrorKind::TooLarge,
            Self::Archive(_) | Self::BadRequest { .. } => ErrorKind::BadRequest,
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::MissingToken
            | Self::MalformedToken
            | Self::UnknownToken
            | Self::RevokedToken
            | Self::ExpiredToken(_)
            | Self::IdToken { .. } => ErrorKind::Unauthenticated,
            Self::MissingScope(_)
            | Self::TokenNamespace { .. }
            | Self::NotAMember { .. }
            | Self::NotAnOwner(_)
            | Self::ScopeNotHeld(_)
            | Self::ExpiryNotHeld(_)
            | Self::TrustedPublisher { .. } => ErrorKind::Forbidden,
            Self::UnknownTokenId(_)
            | Self::UnknownTrustedPublisher(_)
            | Self::UnknownSubscription(_)
            | Self::UnknownDelivery { .. }
            | Self::UnknownNamespace(_)
            | Self::UnknownUser(_)
            | Self::UnknownMember { .. }
            | Self::UnknownPackage(_)
            | Self::UnknownVersion { .. } => ErrorKind::NotFound,
            Self::Conflict { .. } => ErrorKind::Conflict,
            Self::RateLimited { .. } => ErrorKind::TooManyRequests,
            Self::SearchUnavailable
            | Self::ProviderUnavailable { .. }
            | Self::Blob(BlobError::Unavailable { .. }) => ErrorKind::Unavailable,
            Self::Blob(_)
            | Self::Db(_)
            | Self::Io(_)
            | Self::MissingBlob { .. }
            | Self::Git(_)
            | Self::History(_)
            | Self::Search(_) => ErrorKind::Internal,
        }
    }
}

pub type Result<T, E = RegistryError> = std::result::Result<T, E>;
