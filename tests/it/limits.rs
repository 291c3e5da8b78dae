//! Rate limits: over the limit a client gets 429 with `Retry-After` and
//! the error envelope (a German page in the web UI), nothing is done, and
//! after the wait it goes through again; counted per client address
//! (behind a trusted proxy, the address it forwards) or per token.

use std::time::Duration;

use serde_json::json;

use crate::common::{self, *};
use crate::web::Visitor;

fn retry_after(r: &Response) -> u64 {
    r.header("retry-after")
        .expect("429 names its wait")
        .parse()
        .unwrap()
}

#[test]
fn limits_refuse_with_429_and_recover() {
    let reg = TestRegistry::start_on(
        common::Backend::Sqlite,
        common::Blobs::Folder,
        &[
            "--rate-limit-publish",
            "2",
            "--rate-limit-sign-in",
            "2",
            "--rate-limit-token-create",
            "1",
            "--rate-limit-token-exchange",
            "2",
            "--trusted-proxy",
            "127.0.0.1",
        ],
    );
    let token = reg.owner_of("kassel");
    let other = reg.token("kassel-owner", &["--scope", "publish"]);

    // Publishes, per token.
    for v in ["1.0.0", "1.0.1"] {
        let r = reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", v)));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let before = reg.snapshot();
    let r = reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.2")));
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (429, "rate_limited"),
        "{}",
        r.text()
    );
    assert!(
        r.text().contains("too many publishes with this token"),
        "{}",
        r.text()
    );
    let wait = retry_after(&r);
    assert!((1..=30).contains(&wait), "{wait}");
    let publish_again = std::time::Instant::now() + Duration::from_secs(wait);
    assert_eq!(reg.snapshot(), before, "nothing was published");
    // Another token has its own count.
    let r = reg.publish_bytes(Some(&other), &archive_of(&pkg("kassel/a", "1.0.2")));
    assert_eq!(r.status, 200, "{}", r.text());

    // Tokens made, per token.
    let new =
        serde_json::to_vec(&json!({"name": "ci", "scopes": ["publish"], "expires_in_days": 30}))
            .unwrap();
    assert_eq!(
        reg.request("POST", "/api/v1/tokens", Some(&token), Some(&new))
            .status,
        201
    );
    let r = reg.request("POST", "/api/v1/tokens", Some(&token), Some(&new));
    assert_eq!((r.status, r.error_code().as_str()), (429, "rate_limited"));
    assert!(r.header("retry-after").is_some());

    // Sign-in attempts, per address; a wrong token counts too.
    let mut v = Visitor::new(&reg);
    assert_eq!(v.sign_in(&format!("gw_{}", "0".repeat(64))).status, 401);
    assert_eq!(v.sign_in(&token).status, 303);
    let r = Visitor::new(&reg).sign_in(&token);
    assert_eq!(r.status, 429);
    assert!(
        r.text()
            .contains("Zu viele Anmeldeversuche von Ihrer Adresse"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("<html lang=\"de\">"));
    assert!(r.header("retry-after").is_some());
    // Behind the trusted proxy, another client is another address.
    let mut behind = Visitor::new(&reg);
    behind
        .headers
        .push(("X-Forwarded-For", "203.0.113.7".into()));
    assert_eq!(behind.sign_in(&token).status, 303);

    // Trusted-publishing exchanges, per address; a refused one counts.
    let exchange = |from: &str| {
        reg.request_with(
            "POST",
            "/api/v1/trusted-publishing/token",
            None,
            Some(br#"{"id_token": "kein.echtes.token"}"#),
            &[("X-Forwarded-For", from)],
        )
    };
    for _ in 0..2 {
        assert_eq!(exchange("203.0.113.9").error_code(), "id_token_malformed");
    }
    let r = exchange("203.0.113.9");
    assert_eq!((r.status, r.error_code().as_str()), (429, "rate_limited"));
    assert!(
        r.text()
            .contains("too many token exchanges from this address"),
        "{}",
        r.text()
    );
    let exchange_again = std::time::Instant::now() + Duration::from_secs(retry_after(&r));
    assert_eq!(exchange("203.0.113.10").error_code(), "id_token_malformed");

    // After the wait, both go through again.
    let until = publish_again.max(exchange_again);
    std::thread::sleep(until.saturating_duration_since(std::time::Instant::now()));
    let r = reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.3")));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(exchange("203.0.113.9").error_code(), "id_token_malformed");
}

#[test]
fn a_forwarded_address_from_an_untrusted_peer_is_ignored() {
    let reg = TestRegistry::start_on(
        common::Backend::Sqlite,
        common::Blobs::Folder,
        &["--rate-limit-sign-in", "1"],
    );
    let token = reg.owner_of("kassel");
    let mut v = Visitor::new(&reg);
    v.headers.push(("X-Forwarded-For", "198.51.100.1".into()));
    assert_eq!(v.sign_in(&token).status, 303);
    // A new forwarded address does not buy a new count: the peer is not
    // a trusted proxy.
    let mut w = Visitor::new(&reg);
    w.headers.push(("X-Forwarded-For", "198.51.100.2".into()));
    assert_eq!(w.sign_in(&token).status, 429);
}
