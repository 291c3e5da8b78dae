//! Issue 18, point 6: one publish fanning out to 10,000 webhook
//! subscriptions, against a real server on SQLite and on PostgreSQL.
//!
//! 100 namespaces with 100 subscriptions each (the most a namespace may
//! hold) follow one package, all pointing at a local receiver (actix-web,
//! answering 200 and counting distinct delivery ids). Measured: the
//! publish's latency against publishes of a package nobody follows (the
//! fan-out happens in jobs, so it must be the same), the time from the
//! publish's answer until every subscription got its delivery, and
//! deliveries per second.
//!
//! `cargo bench --bench fanout` (PostgreSQL on 127.0.0.1:5432, as for the
//! tests). `GEMEINWERK_BENCH_SUBSCRIPTIONS` changes the count (a multiple
//! of 100), `GEMEINWERK_BENCH_ROUNDS` the fanned-out publishes (default
//! 3), `GEMEINWERK_BENCH_BACKENDS` (`sqlite,postgres`) the databases.

#[allow(unused_macros)]
#[path = "../tests/it/common.rs"]
mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use common::{archive_of, pkg, Backend, TestRegistry};

mod support;
use support::{ms, percentile};

type Seen = Arc<Mutex<HashSet<String>>>;

/// A receiver on a free port that answers 200 and keeps the delivery ids.
fn receiver() -> (u16, Seen) {
    let seen: Seen = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let kept = seen.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                let seen = kept.clone();
                App::new().default_service(web::to(move |req: HttpRequest| {
                    let seen = seen.clone();
                    async move {
                        if let Some(id) = req.headers().get("X-Gemeinwerk-Delivery") {
                            seen.lock()
                                .unwrap()
                                .insert(id.to_str().unwrap_or_default().to_string());
                        }
                        HttpResponse::Ok().body("ok")
                    }
                }))
            })
            .workers(2)
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap();
        });
    });
    (port, seen)
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn fan_out(backend: Backend, subscriptions: usize, rounds: usize) {
    let reg = TestRegistry::start_with(backend, &["--webhook-allow-private"]);
    let kassel = reg.owner_of("kassel");
    let publish = |name: &str, version: &str| {
        let archive = archive_of(&pkg(name, version));
        let t = Instant::now();
        let r = reg.publish_bytes(Some(&kassel), &archive);
        let took = t.elapsed();
        assert_eq!(r.status, 200, "{}", r.text());
        took
    };
    publish("kassel/parken", "1.0.0");
    let (port, seen) = receiver();
    let setup = Instant::now();
    for n in 0..subscriptions.div_ceil(100) {
        let ns = format!("portal-{n}");
        let owner = reg.owner_of(&ns);
        for i in 0..100.min(subscriptions - n * 100) {
            let body = serde_json::json!({
                "url": format!("http://127.0.0.1:{port}/{ns}/{i}"),
                "scope": "package", "target": "kassel/parken", "events": ["published"],
            });
            let r = reg.request(
                "POST",
                &format!("/api/v1/namespaces/{ns}/subscriptions"),
                Some(&owner),
                Some(&serde_json::to_vec(&body).unwrap()),
            );
            assert_eq!(r.status, 201, "{}", r.text());
        }
    }
    println!(
        "{backend:?}: {subscriptions} subscriptions made through the API in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    // Publishes nobody follows, before and between the fanned-out ones.
    let mut plain = Vec::new();
    let mut followed = Vec::new();
    let mut delivered = Vec::new();
    let mut version = 0;
    for round in 0..rounds {
        for _ in 0..20 {
            version += 1;
            plain.push(publish("kassel/unbeobachtet", &format!("1.{version}.0")));
        }
        seen.lock().unwrap().clear();
        followed.push(publish("kassel/parken", &format!("1.{}.0", round + 1)));
        let answered = Instant::now();
        loop {
            let got = seen.lock().unwrap().len();
            if got >= subscriptions {
                break;
            }
            assert!(
                answered.elapsed() < Duration::from_secs(600),
                "{got} of {subscriptions} delivered after 10 minutes"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let took = answered.elapsed();
        delivered.push(took);
        println!(
            "{backend:?} round {round}: publish answered in {:.1} ms; all {subscriptions} delivered {:.2} s later, {:.0} deliveries/s",
            ms(*followed.last().unwrap()),
            took.as_secs_f64(),
            subscriptions as f64 / took.as_secs_f64()
        );
        reg.wait_for_jobs_within(Duration::from_secs(120));
    }
    plain.sort();
    followed.sort();
    let (p50_plain, p50_followed) = (percentile(&plain, 0.5), percentile(&followed, 0.5));
    delivered.sort();
    let p50_all = percentile(&delivered, 0.5);
    println!(
        "{backend:?} summary: publish p50 {:.1} ms with {subscriptions} subscribers, {:.1} ms without ({:.2}x); all delivered after {:.2} s (p50 of {rounds}), {:.0} deliveries/s",
        ms(p50_followed),
        ms(p50_plain),
        ms(p50_followed) / ms(p50_plain),
        p50_all.as_secs_f64(),
        subscriptions as f64 / p50_all.as_secs_f64()
    );
}

fn main() {
    let subscriptions = env_or("GEMEINWERK_BENCH_SUBSCRIPTIONS", 10_000);
    let rounds = env_or("GEMEINWERK_BENCH_ROUNDS", 3);
    let backends =
        std::env::var("GEMEINWERK_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    for b in backends.split(',') {
        let backend = match b.trim() {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => panic!("unknown backend {other}"),
        };
        fan_out(backend, subscriptions, rounds);
    }
}
