//! The registry's secrets: API tokens, web session ids and CSRF tokens are
//! 32 random bytes from the operating system; only their SHA-256 is ever
//! stored, so a copy of the database opens no account.

use rand::RngCore;
use sha2::{Digest, Sha256};

use gemeinwerk_package::names::TOKEN_PREFIX;

/// 32 random bytes from the operating system, in hex (64 characters).
pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A new API token: the recognisable prefix and 32 random bytes.
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_hex())
}

/// What is stored of a secret: its SHA-256, in hex. Secrets carry 256
/// random bits, so a fast hash is enough: there is nothing to guess.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_only_their_digest_is_kept() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(random_hex().len(), 64);
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), a);
        assert_eq!(digest(&a), digest(&a));
    }
}
