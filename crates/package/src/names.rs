//! Identifiers that the registry and its clients agree on.

/// Every API token starts with this, so that a token pasted into a log or a
/// repository is recognisable (and secret scanners can find it).
pub const TOKEN_PREFIX: &str = "gw_";
