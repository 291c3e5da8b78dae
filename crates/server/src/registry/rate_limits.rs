//! Rate limits, per node: sign-in attempts per client address, publishes
//! and token creations per token. A limit of `n` per minute lets a burst
//! of `n` through and then one every `60/n` seconds (GCRA, from
//! `governor`); 0 turns a limit off. Several nodes behind a load balancer
//! each count on their own, so the registry's limit is up to the number
//! of nodes times the node's (documented in docs/security.md).

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::{RegistryError, Result};

/// What is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// Sign-in attempts, per client address.
    SignIn,
    /// Publishes, per token.
    Publish,
    /// Tokens made, per token that makes them.
    TokenCreate,
    /// ID tokens exchanged (trusted publishing), per client address.
    TokenExchange,
}

impl Limited {
    pub fn as_str(self) -> &'static str {
        match self {
            Limited::SignIn => "sign-in attempts from this address",
            Limited::Publish => "publishes with this token",
            Limited::TokenCreate => "tokens made with this token",
            Limited::TokenExchange => "token exchanges from this address",
        }
    }
}

/// Keys beyond this many are forgotten once their limit has recovered,
/// so that a flood of addresses cannot grow the node's memory.
const FORGET_ABOVE: usize = 100_000;

/// Limits per minute: the defaults of `gemeinwerk serve`.
pub const SIGN_IN_PER_MINUTE: u32 = 10;
pub const PUBLISH_PER_MINUTE: u32 = 600;
pub const TOKEN_CREATE_PER_MINUTE: u32 = 10;
/// A pipeline exchanges once per publish job; a runner host runs many.
pub const TOKEN_EXCHANGE_PER_MINUTE: u32 = 60;

#[derive(Default)]
pub struct RateLimits {
    sign_in: Option<DefaultKeyedRateLimiter<String>>,
    publish: Option<DefaultKeyedRateLimiter<String>>,
    token_create: Option<DefaultKeyedRateLimiter<String>>,
    token_exchange: Option<DefaultKeyedRateLimiter<String>>,
}

fn per_minute(n: u32) -> Option<DefaultKeyedRateLimiter<String>> {
    NonZeroU32::new(n).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl RateLimits {
    /// Limits per minute; 0 is none. (`RateLimits::default()` has none: a
    /// registry embedded in a program, the benchmarks.)
    pub fn per_minute(
        sign_in: u32,
        publish: u32,
        token_create: u32,
        token_exchange: u32,
    ) -> RateLimits {
        RateLimits {
            sign_in: per_minute(sign_in),
            publish: per_minute(publish),
            token_create: per_minute(token_create),
            token_exchange: per_minute(token_exchange),
        }
    }

    /// Counts one more of `what` for `key`; refused while over the limit,
    /// with the seconds until the next one is allowed.
    pub fn check(&self, what: Limited, key: &str) -> Result<()> {
        let limiter = match what {
            Limited::SignIn => &self.sign_in,
            Limited::Publish => &self.publish,
            Limited::TokenCreate => &self.token_create,
            Limited::TokenExchange => &self.token_exchange,
        };
        let Some(limiter) = limiter else {
            return Ok(());
        };
        if limiter.len() > FORGET_ABOVE {
            limiter.retain_recent();
        }
        let key = key.to_string();
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            RegistryError::RateLimited {
                what: what.as_str(),
                // Whole seconds, rounded up: a client that waits this long
                // gets through.
                retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusal_with_the_wait_and_keys_apart() {
        let limits = RateLimits::per_minute(3, 0, 1, 2);
        for _ in 0..3 {
            limits.check(Limited::SignIn, "10.0.0.1").unwrap();
        }
        match limits.check(Limited::SignIn, "10.0.0.1") {
            Err(RegistryError::RateLimited { retry_after, .. }) => {
                assert!((1..=20).contains(&retry_after), "{retry_after}")
            }
            other => panic!("{other:?}"),
        }
        // Another address, another count; a limit of 0 is none.
        limits.check(Limited::SignIn, "10.0.0.2").unwrap();
        for _ in 0..1000 {
            limits.check(Limited::Publish, "t").unwrap();
        }
        limits.check(Limited::TokenCreate, "t").unwrap();
        assert!(limits.check(Limited::TokenCreate, "t").is_err());
        limits.check(Limited::TokenExchange, "10.0.0.1").unwrap();
        limits.check(Limited::TokenExchange, "10.0.0.1").unwrap();
        assert!(limits.check(Limited::TokenExchange, "10.0.0.1").is_err());
        assert!(RateLimits::default().check(Limited::SignIn, "x").is_ok());
    }
}
