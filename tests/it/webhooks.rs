//! Webhooks and mails about package events: a receiver started here
//! (`tests/webhook-receiver/receiver.py`, checking signatures with Python's
//! own hmac module) gets the Kassel → Darmstadt story in order, a flaky one
//! gets each delivery once in effect, a hanging one is cut at the timeout,
//! one that keeps failing is paused; SSRF targets are refused; mails go to
//! a real SMTP server (aiosmtpd) started here.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{self, *};

/// The receiver process and its log.
struct Receiver {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Receiver {
    fn start() -> Receiver {
        Self::start_with(&[])
    }

    fn start_with(env: &[(&str, &str)]) -> Receiver {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("received.jsonl");
        std::fs::write(&log, "").unwrap();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/webhook-receiver/receiver.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(&log)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 is missing");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("the receiver did not start: {line:?}"))
            .parse()
            .unwrap();
        Receiver {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn set_secret(&self, prefix: &str, secret: &str) {
        ureq::post(&self.url("/_secret"))
            .send_json(json!({ "path": prefix, "secret": secret }))
            .unwrap();
    }

    fn entries(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The requests to paths starting with `prefix`, once there are `n`.
    fn wait_for(&self, prefix: &str, n: usize, within: Duration) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let got: Vec<Value> = self
                .entries()
                .into_iter()
                .filter(|e| e["path"].as_str().unwrap().starts_with(prefix))
                .collect();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < within,
                "{prefix}: {} of {n} requests after {within:?}: {got:#?}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn subscribe(reg: &TestRegistry, token: Option<&str>, ns: &str, body: Value) -> Response {
    reg.request(
        "POST",
        &format!("/api/v1/namespaces/{ns}/subscriptions"),
        token,
        Some(&serde_json::to_vec(&body).unwrap()),
    )
}

/// Makes a webhook; tells the receiver its secret; answers its id.
fn webhook(
    reg: &TestRegistry,
    token: &str,
    ns: &str,
    rx: &Receiver,
    path: &str,
    follows: Value,
) -> i64 {
    let mut body = follows;
    body["url"] = rx.url(path).into();
    let r = subscribe(reg, Some(token), ns, body);
    assert_eq!(r.status, 201, "{}", r.text());
    let secret = r.json()["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("gwhsec_"), "{secret}");
    rx.set_secret(path.split('?').next().unwrap(), &secret);
    r.json()["subscription"]["id"].as_i64().unwrap()
}

fn deliveries(reg: &TestRegistry, token: &str, ns: &str, id: i64) -> Vec<Value> {
    let r = reg.request(
        "GET",
        &format!("/api/v1/namespaces/{ns}/subscriptions/{id}/deliveries"),
        Some(token),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["deliveries"].as_array().unwrap().clone()
}

fn publish(reg: &TestRegistry, token: &str, name: &str, version: &str, extra: &str) {
    let r = reg.publish_bytes(Some(token), &archive_of(&pkg_with(name, version, extra)));
    assert_eq!(r.status, 200, "{}", r.text());
}

const FAST_RETRIES: [&str; 3] = ["--webhook-allow-private", "--webhook-retry-base-ms", "200"];

/// Runs a body against SQLite and PostgreSQL with `$args` for `serve`.
macro_rules! with_webhooks {
    ($(fn $name:ident($reg:ident) $args:expr => $body:block)*) => {
        $(mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body($reg: &common::TestRegistry) $body
            #[test]
            fn sqlite() {
                body(&common::TestRegistry::start_with(common::Backend::Sqlite, &$args));
            }
            #[test]
            fn postgres() {
                body(&common::TestRegistry::start_with(common::Backend::Postgres, &$args));
            }
        })*
    };
}

with_webhooks! {
    fn the_kassel_darmstadt_story_reaches_the_receiver_in_order(reg) FAST_RETRIES => {
        let rx = Receiver::start();
        let kassel = reg.owner_of("kassel");
        let darmstadt = reg.owner_of("darmstadt");
        publish(reg, &kassel, "kassel/parken", "0.9.0", "");
        reg.wait_for_jobs();
        // Darmstadt follows Kassel's form, and everything its own packages
        // fork or depend on.
        let follows_form = webhook(reg, &darmstadt, "darmstadt", &rx, "/ok/form", json!({"scope": "package", "target": "kassel/parken"}));
        let upstreams = webhook(reg, &darmstadt, "darmstadt", &rx, "/ok/upstream", json!({"scope": "upstream"}));
        // Kassel's portal wants releases only.
        let releases = webhook(reg, &kassel, "kassel", &rx, "/ok/releases", json!({"scope": "namespace", "target": "kassel", "events": ["published"]}));

        publish(reg, &kassel, "kassel/parken", "1.0.0", "");
        // Before the fork: Darmstadt follows Kassel's upstream from then on.
        reg.wait_for_jobs();
        let r = reg.request("POST", "/api/v1/packages/kassel/parken/forks", Some(&darmstadt), Some(br#"{"target": "darmstadt/parken", "version": "1.0.0"}"#));
        assert_eq!(r.status, 201, "{}", r.text());
        publish(reg, &kassel, "kassel/parken", "1.1.0", "");
        let r = reg.request("POST", "/api/v1/packages/kassel/parken/advisories", Some(&kassel), Some(&serde_json::to_vec(&json!({
            "kind": "gebuehren", "severity": "mittel", "text": "Die Gebühr ist seit 1. Januar 30 €.",
            "affected": "<1.1.0", "fixed": "1.1.0"})).unwrap()));
        assert_eq!(r.status, 201, "{}", r.text());
        let r = reg.request("DELETE", "/api/v1/packages/kassel/parken/1.0.0/yank", Some(&kassel), Some(r#"{"reason": "falsche Gebühr"}"#.as_bytes()));
        assert_eq!(r.status, 200, "{}", r.text());
        let r = reg.request("PUT", "/api/v1/packages/kassel/parken/deprecate", Some(&kassel), Some(br#"{"message": "nimm kassel/parkausweis"}"#));
        assert_eq!(r.status, 200, "{}", r.text());

        // Darmstadt's portal depends on Kassel's fee list: its releases
        // reach the upstream subscription too, Kassel's other packages not.
        publish(reg, &kassel, "kassel/gebuehren", "1.0.0", "");
        // Who follows what is read when an event is fanned out, a moment
        // after it: let this one go out before the portal depends on it.
        reg.wait_for_jobs();
        publish(reg, &darmstadt, "darmstadt/portal", "1.0.0", "[dependencies]\n\"kassel/gebuehren\" = \"^1\"\n");
        publish(reg, &kassel, "kassel/gebuehren", "1.1.0", "");
        publish(reg, &kassel, "kassel/sonstiges", "1.0.0", "");

        let wait = Duration::from_secs(30);
        let got = rx.wait_for("/ok/form", 6, wait);
        let seen: Vec<(String, String)> = got.iter().map(|e| (
            e["event"].as_str().unwrap().to_string(),
            e["body"]["version"].as_str().or(e["body"]["fork"].as_str()).unwrap_or("").to_string(),
        )).collect();
        let expect = |list: &[(&str, &str)]| list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        assert_eq!(seen, expect(&[
            ("published", "1.0.0"), ("forked", "darmstadt/parken"), ("published", "1.1.0"),
            ("advisory", ""), ("yanked", "1.0.0"), ("deprecated", ""),
        ]));
        for e in &got {
            assert_eq!(e["valid"], true, "signature: {e}");
            assert_eq!(e["fresh"], true, "timestamp: {e}");
            assert_eq!(e["status"], 200);
            assert_eq!(e["content_type"], "application/json");
            assert_eq!(e["body"]["package"], "kassel/parken");
            assert_eq!(e["body"]["event"], e["event"]);
            assert_eq!(e["body"]["subscription"]["id"], follows_form);
            assert_eq!(e["body"]["url"], format!("{}/pakete/kassel/parken", reg.url));
        }
        let ids: std::collections::BTreeSet<&str> = got.iter().map(|e| e["delivery"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), got.len(), "a delivery id per delivery");
        assert_eq!(got[1]["body"]["base"], "kassel/parken@1.0.0");
        assert_eq!(got[1]["body"]["actor"], "darmstadt-owner");
        assert!(got[2]["body"]["summary"].as_str().unwrap().starts_with("Gegenüber 1.0.0"), "{}", got[2]);
        assert_eq!(got[3]["body"]["advisory"]["kind"], "gebuehren");
        assert_eq!(got[3]["body"]["advisory"]["fixed"], "1.1.0");
        assert_eq!(got[4]["body"]["yanked"], true);
        assert_eq!(got[4]["body"]["reason"], "falsche Gebühr");
        assert_eq!(got[5]["body"]["message"], "nimm kassel/parkausweis");

        // The upstream subscription starts with the fork.
        let up = rx.wait_for("/ok/upstream", 6, wait);
        let up: Vec<(&str, &str)> = up.iter().map(|e| (e["event"].as_str().unwrap(), e["body"]["package"].as_str().unwrap())).collect();
        assert_eq!(up, [
            ("forked", "kassel/parken"), ("published", "kassel/parken"), ("advisory", "kassel/parken"),
            ("yanked", "kassel/parken"), ("deprecated", "kassel/parken"), ("published", "kassel/gebuehren"),
        ]);
        let rel = rx.wait_for("/ok/releases", 5, wait);
        assert!(rel.iter().all(|e| e["event"] == "published"));

        // The delivery log says the same, newest first.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(rx.wait_for("/ok/releases", 5, wait).len(), 5, "nothing else for the releases hook");
        assert_eq!(rx.wait_for("/ok/upstream", 6, wait).len(), 6, "nothing else upstream");
        let log = deliveries(reg, &darmstadt, "darmstadt", follows_form);
        assert_eq!(log.len(), 6);
        assert_eq!(log[0]["event"], "deprecated");
        for d in &log {
            assert_eq!(d["state"], "delivered", "{d}");
            let a = &d["attempts"][0];
            assert_eq!(a["status_code"], 200);
            assert_eq!(a["response_excerpt"], "received");
            assert!(a["latency_ms"].as_i64().unwrap() >= 0);
        }
        // Only the namespace's owners see its webhooks.
        let r = reg.request("GET", &format!("/api/v1/namespaces/darmstadt/subscriptions/{upstreams}/deliveries"), Some(&kassel), None);
        assert_eq!((r.status, r.error_code().as_str()), (403, "not_a_member"));
        let r = reg.request("GET", &format!("/api/v1/namespaces/kassel/subscriptions/{upstreams}/deliveries"), Some(&kassel), None);
        assert_eq!((r.status, r.error_code().as_str()), (404, "subscription_not_found"));
        let listed = reg.request("GET", "/api/v1/namespaces/kassel/subscriptions", Some(&kassel), None).json();
        let listed = listed["subscriptions"].as_array().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], releases);
        assert!(listed[0].get("secret").is_none(), "the secret is shown once only");
    }

    fn a_flaky_receiver_gets_each_delivery_once_in_effect(reg) FAST_RETRIES => {
        let rx = Receiver::start();
        let kassel = reg.owner_of("kassel");
        publish(reg, &kassel, "kassel/parken", "1.0.0", "");
        let id = webhook(reg, &kassel, "kassel", &rx, "/flaky/3", json!({"scope": "package", "target": "kassel/parken", "events": ["yanked"]}));
        let r = reg.request("DELETE", "/api/v1/packages/kassel/parken/1.0.0/yank", Some(&kassel), None);
        assert_eq!(r.status, 200);
        let got = rx.wait_for("/flaky", 4, Duration::from_secs(30));
        let statuses: Vec<i64> = got.iter().map(|e| e["status"].as_i64().unwrap()).collect();
        assert_eq!(statuses, [500, 500, 500, 200]);
        assert!(got.iter().all(|e| e["delivery"] == got[0]["delivery"]), "one delivery id on every attempt");
        // Each attempt carries its own timestamp and a signature over it.
        assert!(got.iter().all(|e| e["valid"] == true));
        // Delivered: no further attempt comes.
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(rx.entries().len(), 4);
        let log = deliveries(reg, &kassel, "kassel", id);
        assert_eq!(log.len(), 1);
        assert_eq!(log[0]["state"], "delivered");
        let codes: Vec<i64> = log[0]["attempts"].as_array().unwrap().iter().map(|a| a["status_code"].as_i64().unwrap()).collect();
        assert_eq!(codes, [500, 500, 500, 200]);
        assert_eq!(log[0]["attempts"][0]["error"], "the receiver answered 500");

        // Redelivery on request: the same delivery id, which the receiver
        // recognises as done.
        let delivery = log[0]["id"].as_i64().unwrap();
        let r = reg.request("POST", &format!("/api/v1/namespaces/kassel/subscriptions/{id}/deliveries/{delivery}/redeliver"), Some(&kassel), None);
        assert_eq!(r.status, 202, "{}", r.text());
        let got = rx.wait_for("/flaky", 5, Duration::from_secs(30));
        assert_eq!(got[4]["delivery"], got[0]["delivery"]);
        assert_eq!(got[4]["duplicate"], true);
        for (path, status, code) in [
            (format!("/api/v1/namespaces/kassel/subscriptions/{id}/deliveries/999999/redeliver"), 404, "delivery_not_found"),
            (format!("/api/v1/namespaces/kassel/subscriptions/{id}/deliveries/x/redeliver"), 400, "invalid_id"),
            ("/api/v1/namespaces/kassel/subscriptions/999999/deliveries/1/redeliver".to_string(), 404, "subscription_not_found"),
        ] {
            let r = reg.request("POST", &path, Some(&kassel), None);
            assert_eq!((r.status, r.error_code().as_str()), (status, code), "{path}");
        }
        let audit = reg.request("GET", "/api/v1/namespaces/kassel/audit", Some(&kassel), None).json();
        assert!(audit["entries"].as_array().unwrap().iter().any(|e| e["action"] == "redeliver"));
    }

    fn a_receiver_that_keeps_failing_is_paused_and_resumed(reg) ["--webhook-allow-private", "--webhook-retry-base-ms", "100", "--webhook-pause-after", "3"] => {
        let rx = Receiver::start();
        let kassel = reg.owner_of("kassel");
        let id = webhook(reg, &kassel, "kassel", &rx, "/fail", json!({"scope": "namespace", "target": "kassel"}));
        publish(reg, &kassel, "kassel/parken", "1.0.0", "");
        rx.wait_for("/fail", 3, Duration::from_secs(30));
        let started = Instant::now();
        let sub = loop {
            let s = reg.request("GET", &format!("/api/v1/namespaces/kassel/subscriptions/{id}"), Some(&kassel), None).json();
            if !s["paused_at"].is_null() || started.elapsed() > Duration::from_secs(10) {
                break s;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(!sub["paused_at"].is_null(), "{sub}");
        assert!(sub["pause_reason"].as_str().unwrap().contains("3 failed attempts in a row"), "{sub}");
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(rx.entries().len(), 3, "a paused subscription gets nothing");
        assert_eq!(deliveries(reg, &kassel, "kassel", id)[0]["state"], "paused");
        // Events while paused are not delivered.
        publish(reg, &kassel, "kassel/parken", "1.0.1", "");
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(rx.entries().len(), 3);
        let audit = reg.request("GET", "/api/v1/namespaces/kassel/audit", Some(&kassel), None).json();
        let paused = audit["entries"].as_array().unwrap().iter().find(|e| e["action"] == "subscription_pause").cloned().expect("a pause entry");
        assert_eq!(paused["actor"], "(webhook-runner)");
        // Redelivery waits for the resume.
        let delivery = deliveries(reg, &kassel, "kassel", id)[0]["id"].as_i64().unwrap();
        let r = reg.request("POST", &format!("/api/v1/namespaces/kassel/subscriptions/{id}/deliveries/{delivery}/redeliver"), Some(&kassel), None);
        assert_eq!((r.status, r.error_code().as_str()), (409, "subscription_paused"));

        // Resumed, the held delivery goes out (the events of the pause do
        // not: a paused subscription misses them).
        let r = reg.request("POST", &format!("/api/v1/namespaces/kassel/subscriptions/{id}/resume"), Some(&kassel), None);
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.json()["paused_at"].is_null());
        assert_eq!(r.json()["failures_in_row"], 0);
        let got = rx.wait_for("/fail", 4, Duration::from_secs(30));
        assert_eq!(got[3]["body"]["version"], "1.0.0");
        let audit = reg.request("GET", "/api/v1/namespaces/kassel/audit", Some(&kassel), None).json();
        assert!(audit["entries"].as_array().unwrap().iter().any(|e| e["action"] == "subscription_resume"));
    }
}

/// A receiver that does not answer is cut at the timeout (5 s); one that
/// answers with a mountain is read up to the cap; a redirect is not
/// followed.
#[test]
fn hanging_big_and_redirecting_receivers() {
    let reg = TestRegistry::start_with(Backend::Sqlite, &FAST_RETRIES);
    let rx = Receiver::start();
    let kassel = reg.owner_of("kassel");
    let follows = json!({"scope": "package", "target": "kassel/parken", "events": ["yanked"]});
    publish(&reg, &kassel, "kassel/parken", "1.0.0", "");
    let hang = webhook(&reg, &kassel, "kassel", &rx, "/hang", follows.clone());
    let big = webhook(&reg, &kassel, "kassel", &rx, "/big", follows.clone());
    let target = rx.url("/ok/target");
    let redirect = webhook(
        &reg,
        &kassel,
        "kassel",
        &rx,
        &format!("/redirect?to={target}"),
        follows,
    );
    let r = reg.request(
        "DELETE",
        "/api/v1/packages/kassel/parken/1.0.0/yank",
        Some(&kassel),
        None,
    );
    assert_eq!(r.status, 200);

    let started = Instant::now();
    let first_attempt = |id: i64| loop {
        let log = deliveries(&reg, &kassel, "kassel", id);
        if let Some(a) = log.first().and_then(|d| d["attempts"].get(0)) {
            return a.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no attempt for {id}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let a = first_attempt(hang);
    assert!(a["status_code"].is_null(), "{a}");
    assert!(
        a["error"].as_str().unwrap().contains("no answer within"),
        "{a}"
    );
    let ms = a["latency_ms"].as_i64().unwrap();
    assert!(
        (4_900..10_000).contains(&ms),
        "cut at about 5 s, not {ms} ms"
    );

    let a = first_attempt(big);
    assert_eq!(a["status_code"], 200, "{a}");
    assert_eq!(a["response_excerpt"].as_str().unwrap().len(), 1000);

    let a = first_attempt(redirect);
    assert_eq!(a["status_code"], 302, "{a}");
    assert!(
        a["error"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed"),
        "{a}"
    );
    assert!(
        rx.entries().iter().all(|e| e["path"] != "/ok/target"),
        "the redirect's target got nothing"
    );
}

/// A forged or replayed request fails the documented check, done here by
/// the receiver with an independent HMAC implementation.
#[test]
fn forged_and_replayed_deliveries_fail_the_documented_check() {
    let reg = TestRegistry::start_with(Backend::Sqlite, &FAST_RETRIES);
    let rx = Receiver::start_with(&[("RECEIVER_MAX_AGE_SECS", "2")]);
    let kassel = reg.owner_of("kassel");
    webhook(
        &reg,
        &kassel,
        "kassel",
        &rx,
        "/ok/hook",
        json!({"scope": "namespace", "target": "kassel"}),
    );
    publish(&reg, &kassel, "kassel/parken", "1.0.0", "");
    let real = rx
        .wait_for("/ok/hook", 1, Duration::from_secs(30))
        .remove(0);
    assert_eq!(real["valid"], true);
    let send = |raw: &str, timestamp: &str, signature: &str| {
        let r = ureq::post(&rx.url("/ok/hook"))
            .set("Content-Type", "application/json")
            .set("X-Gemeinwerk-Delivery", real["delivery"].as_str().unwrap())
            .set("X-Gemeinwerk-Timestamp", timestamp)
            .set("X-Gemeinwerk-Signature", signature)
            .send_string(raw);
        match r {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(s, _)) => s,
            Err(e) => panic!("{e}"),
        }
    };
    let (raw, ts, sig) = (
        real["raw"].as_str().unwrap(),
        real["timestamp"].as_str().unwrap(),
        real["signature"].as_str().unwrap(),
    );
    // A changed body, a moved timestamp, someone else's key: refused.
    assert_eq!(send(&raw.replace("1.0.0", "9.9.9"), ts, sig), 401);
    let later = (ts.parse::<i64>().unwrap() + 1).to_string();
    assert_eq!(send(raw, &later, sig), 401);
    assert_eq!(send(raw, ts, "sha256=00"), 401);
    // The same request again at once: valid, but a delivery id already
    // processed.
    assert_eq!(send(raw, ts, sig), 200);
    assert_eq!(rx.entries().last().unwrap()["duplicate"], true);
    // Replayed after the freshness window: refused.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(send(raw, ts, sig), 401);
    let last = rx.entries().last().unwrap().clone();
    assert_eq!(
        (last["valid"].clone(), last["fresh"].clone()),
        (json!(true), json!(false))
    );
}

/// Without `--webhook-allow-private`, loopback, link-local and private
/// targets are refused, however they are written, when the webhook is made
/// and again when it is called.
#[test]
fn ssrf_targets_are_refused_without_the_flag() {
    let mut reg = TestRegistry::start_with(Backend::Sqlite, &FAST_RETRIES);
    let kassel = reg.owner_of("kassel");
    publish(&reg, &kassel, "kassel/parken", "1.0.0", "");
    reg.wait_for_jobs();
    let rx = Receiver::start();
    // Made while the operator allowed private targets.
    let id = webhook(
        &reg,
        &kassel,
        "kassel",
        &rx,
        "/ok/hook",
        json!({"scope": "namespace", "target": "kassel"}),
    );
    reg.stop();
    reg.extra_args.retain(|a| a != "--webhook-allow-private");
    reg.relaunch();

    let before = reg.snapshot();
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://2130706433/hook",
        "http://0x7f.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/hook",
        "http://192.168.178.1/hook",
        "http://172.16.5.5/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.org/hook",
        "file:///etc/passwd",
        "http://user:secret@example.org/hook",
        "keine url",
    ] {
        let r = subscribe(
            &reg,
            Some(&kassel),
            "kassel",
            json!({"url": url, "scope": "namespace", "target": "kassel"}),
        );
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "webhook_target_refused"),
            "{url}: {}",
            r.text()
        );
    }
    let r = subscribe(
        &reg,
        Some(&kassel),
        "kassel",
        json!({"url": "http://127.0.0.1:9/", "scope": "namespace", "target": "kassel"}),
    );
    assert!(
        r.error_detail().contains("--webhook-allow-private"),
        "{}",
        r.text()
    );
    assert_eq!(reg.snapshot(), before, "no refused webhook was written");

    // The one made earlier is refused at the call: the address is checked
    // as the connection's own name resolution.
    let r = reg.request(
        "DELETE",
        "/api/v1/packages/kassel/parken/1.0.0/yank",
        Some(&kassel),
        None,
    );
    assert_eq!(r.status, 200);
    let started = Instant::now();
    let attempt = loop {
        if let Some(a) = deliveries(&reg, &kassel, "kassel", id)
            .first()
            .and_then(|d| d["attempts"].get(0).cloned())
        {
            break a;
        }
        assert!(started.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        attempt["error"].as_str().unwrap().contains("loopback"),
        "{attempt}"
    );
    assert!(rx.entries().is_empty(), "the receiver got nothing");
}

with_webhooks! {
    fn bad_subscriptions_are_refused_and_write_nothing(reg) FAST_RETRIES => {
        let kassel = reg.owner_of("kassel");
        let darmstadt = reg.owner_of("darmstadt");
        publish(reg, &kassel, "kassel/parken", "1.0.0", "");
        reg.user("kassel-member", "kassel", "publisher");
        let member = reg.token("kassel-member", &[]);
        let before = reg.snapshot();
        let url = "http://127.0.0.1:9/hook";
        for (token, body, status, code, says) in [
            (Some(&kassel), json!({"url": url, "scope": "alles"}), 400, "invalid_subscription", "scope"),
            (Some(&kassel), json!({"url": url, "scope": "package"}), 400, "invalid_subscription", "needs a target"),
            (Some(&kassel), json!({"url": url, "scope": "package", "target": "parken"}), 400, "invalid_subscription", "target"),
            (Some(&kassel), json!({"url": url, "scope": "package", "target": "kassel/gibtsnicht"}), 404, "package_not_found", "kassel/gibtsnicht"),
            (Some(&kassel), json!({"url": url, "scope": "namespace", "target": "nirgendwo"}), 404, "namespace_not_found", "nirgendwo"),
            (Some(&kassel), json!({"url": url, "scope": "upstream", "target": "kassel"}), 400, "invalid_subscription", "no target"),
            (Some(&kassel), json!({"url": url, "scope": "upstream", "events": ["released"]}), 400, "invalid_subscription", "published"),
            (Some(&kassel), json!({"url": url, "scope": "upstream", "events": []}), 400, "invalid_subscription", "at least one"),
            (Some(&kassel), json!({"scope": "upstream"}), 400, "invalid_subscription", "either"),
            (Some(&kassel), json!({"url": url, "email": "a@b.de", "scope": "upstream"}), 400, "invalid_subscription", "not both"),
            (Some(&kassel), json!({"url": url, "scope": "upstream", "extra": 1}), 400, "bad_json", "extra"),
            (Some(&kassel), json!({"email": "kein-at", "scope": "upstream"}), 400, "invalid_email", "kein-at"),
            (Some(&kassel), json!({"email": "a@kassel.de", "scope": "upstream"}), 409, "mail_not_configured", "--smtp-url"),
            (Some(&darmstadt), json!({"url": url, "scope": "upstream"}), 403, "not_a_member", "kassel"),
            (Some(&member), json!({"url": url, "scope": "upstream"}), 403, "not_an_owner", "owners"),
            (None, json!({"url": url, "scope": "upstream"}), 401, "missing_token", "token"),
        ] {
            let r = subscribe(reg, token.map(String::as_str), "kassel", body.clone());
            assert_eq!((r.status, r.error_code().as_str()), (status, code), "{body}: {}", r.text());
            assert!(r.error_detail().contains(says), "{body}: {}", r.text());
        }
        let r = reg.request("POST", "/api/v1/namespaces/kassel/subscriptions", Some(&kassel), Some(b"{"));
        assert_eq!(r.error_code(), "bad_json");
        for (method, path, status, code) in [
            ("GET", "/api/v1/namespaces/kassel/subscriptions/x", 400, "invalid_id"),
            ("GET", "/api/v1/namespaces/kassel/subscriptions/999", 404, "subscription_not_found"),
            ("DELETE", "/api/v1/namespaces/kassel/subscriptions/999", 404, "subscription_not_found"),
            ("POST", "/api/v1/namespaces/kassel/subscriptions/999/resume", 404, "subscription_not_found"),
            ("GET", "/api/v1/namespaces/kassel/subscriptions/1/deliveries?limit=0", 400, "invalid_limit"),
            ("GET", "/api/v1/namespaces/nirgendwo/subscriptions", 404, "namespace_not_found"),
        ] {
            let r = reg.request(method, path, Some(&kassel), None);
            assert_eq!((r.status, r.error_code().as_str()), (status, code), "{method} {path}: {}", r.text());
        }
        assert_eq!(reg.snapshot(), before, "nothing refused was written");

        // A namespace holds at most 100; removing one makes room.
        let mut ids = Vec::new();
        for i in 0..100 {
            let r = subscribe(reg, Some(&kassel), "kassel", json!({"url": format!("http://127.0.0.1:9/{i}"), "scope": "upstream"}));
            assert_eq!(r.status, 201, "{}", r.text());
            ids.push(r.json()["subscription"]["id"].as_i64().unwrap());
        }
        let r = subscribe(reg, Some(&kassel), "kassel", json!({"url": url, "scope": "upstream"}));
        assert_eq!((r.status, r.error_code().as_str()), (409, "subscription_limit"));
        let r = reg.request("DELETE", &format!("/api/v1/namespaces/kassel/subscriptions/{}", ids[0]), Some(&kassel), None);
        assert_eq!(r.status, 200);
        assert_eq!(subscribe(reg, Some(&kassel), "kassel", json!({"url": url, "scope": "upstream"})).status, 201);
    }
}

/// Mails through a real SMTP server (aiosmtpd, started here): a member asks
/// for them and gets one per event, in German.
#[test]
fn a_member_gets_mails_through_smtp() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let maildir = tempfile::tempdir().unwrap();
    let mut sink = Command::new("python3")
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(maildir.path().join("box"))
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 with aiosmtpd (scripts/setup-test-env installs it)");
    struct Kill<'a>(&'a mut Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _sink = Kill(&mut sink);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the SMTP sink did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let smtp = format!("smtp://127.0.0.1:{port}");
    let reg = TestRegistry::start_with(
        Backend::Sqlite,
        &[
            "--smtp-url",
            &smtp,
            "--mail-from",
            "gemeinwerk <gemeinwerk@registry.example>",
            "--webhook-retry-base-ms",
            "200",
        ],
    );
    let kassel = reg.owner_of("kassel");
    publish(&reg, &kassel, "kassel/parken", "1.0.0", "");
    reg.wait_for_jobs();
    reg.namespace("darmstadt")
        .user("darmstadt-member", "darmstadt", "publisher");
    let member = reg.token("darmstadt-member", &[]);
    let r = subscribe(
        &reg,
        Some(&member),
        "darmstadt",
        json!({"email": "sachbearbeitung@darmstadt.example", "scope": "package", "target": "kassel/parken", "events": ["yanked", "published"]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.json().get("secret").is_none());
    let id = r.json()["subscription"]["id"].as_i64().unwrap();
    // A member sees their own mails, not the namespace's webhooks.
    let listed = reg
        .request(
            "GET",
            "/api/v1/namespaces/darmstadt/subscriptions",
            Some(&member),
            None,
        )
        .json();
    assert_eq!(listed["subscriptions"].as_array().unwrap().len(), 1);

    publish(&reg, &kassel, "kassel/parken", "1.1.0", "");
    let r = reg.request(
        "DELETE",
        "/api/v1/packages/kassel/parken/1.0.0/yank",
        Some(&kassel),
        Some(r#"{"reason": "falsche Gebühr"}"#.as_bytes()),
    );
    assert_eq!(r.status, 200);
    let new = maildir.path().join("box/new");
    let started = Instant::now();
    let decoded = loop {
        let mails: Vec<String> = std::fs::read_dir(&new)
            .map(|d| {
                d.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        if mails.len() >= 2 {
            let mut decoded: Vec<String> = mails.iter().map(|m| decode_mail(m)).collect();
            decoded.sort_by_key(|m| m.contains("zurückgezogen"));
            break decoded;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} mails",
            mails.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        decoded[0].contains("To: sachbearbeitung@darmstadt.example"),
        "{}",
        decoded[0]
    );
    assert!(
        decoded[0].contains("kassel/parken: neue Version 1.1.0"),
        "{}",
        decoded[0]
    );
    assert!(
        decoded[1].contains("Version 1.0.0 zurückgezogen"),
        "{}",
        decoded[1]
    );
    assert!(
        decoded[1].contains("Grund: falsche Gebühr"),
        "{}",
        decoded[1]
    );
    assert!(
        decoded[1].contains(&format!("Abonnement {id}")),
        "{}",
        decoded[1]
    );
    let log = deliveries(&reg, &member, "darmstadt", id);
    assert!(log.iter().all(|d| d["state"] == "delivered"), "{log:?}");
    assert!(
        log[0]["attempts"][0]["response_excerpt"]
            .as_str()
            .unwrap()
            .starts_with("250"),
        "{log:?}"
    );
}

/// The text of a mail with its subject and quoted-printable or base64 body
/// decoded, by Python's email package.
fn decode_mail(raw: &str) -> String {
    let out = Command::new("python3")
        .args(["-c", "import sys, email, email.policy\nm = email.message_from_string(sys.stdin.read(), policy=email.policy.default)\nprint('To:', m['To']); print('Subject:', m['Subject']); print(m.get_content())"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(raw.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Wrong mail settings stop `serve` naming the setting, before the data
/// dir is made.
#[test]
fn bad_mail_settings_stop_the_start_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    for (args, says) in [
        (vec!["--smtp-url", "keine url"], "--smtp-url"),
        (vec!["--smtp-url", "http://mail.example.de"], "--smtp-url"),
        (vec!["--smtp-url", "smtp://127.0.0.1:2525"], "--mail-from"),
        (
            vec![
                "--smtp-url",
                "smtp://127.0.0.1:2525",
                "--mail-from",
                "kein absender",
            ],
            "--mail-from",
        ),
    ] {
        let out = Command::new(common::bin())
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--data-dir",
                data.to_str().unwrap(),
            ])
            .args(&args)
            .env_remove("GEMEINWERK_DATABASE_URL")
            .env("LANG", "C")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert!(!data.exists(), "{args:?} wrote the data dir");
    }
}
