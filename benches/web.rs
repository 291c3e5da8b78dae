//! Issue 7, point 6: the package page under 10 ms server time (p50) with
//! 10,000 packages in the registry.
//!
//! In process: a registry in a temporary folder (SQLite) with the demo
//! packages and 10,000 generated form packages, published through the
//! ordinary publish path; then the pages are requested through the actix
//! service (routing, extractors, database, archive, template: everything
//! but the socket). Beside it, what a script would ask instead: the JSON
//! API's package info for the same package, as a ratio.
//!
//! `cargo bench --bench web`. `GEMEINWERK_BENCH_PACKAGES` changes the count.

use std::time::{Duration, Instant};

use actix_web::{test, web, App};
use gemeinwerk_package::archive;
use gemeinwerk_server::http;
use gemeinwerk_server::registry::audit::Origin;
use gemeinwerk_server::registry::auth::{self, Role, Scope};
use gemeinwerk_server::registry::{accounts, demo, publish, Registry, RegistryConfig};

mod support;
use support::{ms, percentile};

const NAMESPACES: usize = 100;

fn form_package(ns: &str, i: usize) -> (String, Vec<u8>) {
    let name = format!("formular-{i}");
    let manifest = format!(
        "[package]\nname = \"{ns}/{name}\"\nversion = \"1.0.0\"\nkind = \"form\"\n\
         title = \"Antrag Nummer {i}\"\ndescription = \"Ein generiertes Formular für den Benchmark, Nummer {i}.\"\n\
         license = \"EUPL-1.2\"\nthemenfeld = \"querschnitt\"\nkeywords = [\"benchmark\"]\n"
    );
    let form = "[form]\ntitle = \"Antrag\"\nvertrauensniveau = \"niedrig\"\naccounts = [\"BundID\"]\n\n\
                [[field]]\nid = \"name\"\ntype = \"text\"\nlabel = \"Name\"\nrequired = true\n\n\
                [[field]]\nid = \"grund\"\ntype = \"multiline-text\"\nlabel = \"Begründung\"\nshown-when = \"is_set(name)\"\n";
    let files = [
        ("gemeinwerk.toml".to_string(), manifest.into_bytes()),
        ("form.toml".to_string(), form.as_bytes().to_vec()),
        (
            "README.md".to_string(),
            format!("# Antrag {i}\n\nEin **Formular**.\n").into_bytes(),
        ),
    ]
    .into_iter()
    .collect();
    (
        name.clone(),
        archive::build(&format!("{name}-1.0.0"), &files),
    )
}

fn build_registry(dir: &std::path::Path, count: usize) -> Registry {
    let reg = Registry::open(
        dir,
        None,
        RegistryConfig {
            limits: Default::default(),
            base_url: "http://127.0.0.1:0".into(),
        },
    )
    .expect("opening the registry");
    demo::seed(&reg).expect("seeding the demo packages");
    let origin = Origin {
        actor: None,
        client_addr: Some("bench".into()),
    };
    let started = Instant::now();
    let mut tokens = Vec::new();
    {
        let mut conn = reg.db.conn().unwrap();
        for n in 0..NAMESPACES {
            let slug = format!("gemeinde-{n:03}");
            accounts::add_namespace(&mut conn, &origin, &slug, &format!("Gemeinde {n}"), None)
                .unwrap();
            let login = format!("{slug}-redaktion");
            accounts::add_user(&mut conn, &origin, &login).unwrap();
            accounts::set_member_as_operator(&mut conn, &origin, &slug, &login, Role::Owner)
                .unwrap();
            let t =
                auth::create_token(&mut conn, &origin, &login, "bench", &Scope::ALL, None, None)
                    .unwrap();
            tokens.push((slug, t.token));
        }
    }
    for i in 0..count {
        let (slug, token) = &tokens[i % NAMESPACES];
        let (_, bytes) = form_package(slug, i);
        publish::publish_with_credential(&reg, Some(token.as_str()).into(), &origin, &bytes)
            .expect("publishing");
        if (i + 1) % 2000 == 0 {
            eprintln!(
                "  {} packages published ({:.0} s)",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    reg
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test` run lists no tests.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let count: usize = std::env::var("GEMEINWERK_BENCH_PACKAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    // In memory where the machine has it: building 10,000 packages should
    // not wait on fsync; the timed reads come from the page cache anyway.
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        tempfile::tempdir_in("/dev/shm").unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    eprintln!("building a registry with {count} packages …");
    let t = Instant::now();
    let reg = build_registry(dir.path(), count);
    eprintln!("built in {:.0} s", t.elapsed().as_secs_f64());

    actix_web::rt::System::new().block_on(async move {
        let data = web::Data::new(reg);
        let app = test::init_service(
            App::new()
                .app_data(data.clone())
                .configure(http::configure)
                .wrap(actix_web::middleware::from_fn(http::web::session::load)),
        )
        .await;
        let middle = count / 2;
        let generated = format!("/pakete/gemeinde-{:03}/formular-{middle}", middle % NAMESPACES);
        let cases = [
            ("package page, form with includes", "/pakete/kassel/bewohnerparkausweis"),
            ("package page, process with diagram", "/pakete/kassel/bewohnerparken-verfahren"),
            ("package page, generated form", generated.as_str()),
            ("JSON API package info (comparison)", "/api/v1/packages/kassel/bewohnerparkausweis"),
        ];
        let rounds = 300;
        let mut p50s = Vec::new();
        for (label, path) in cases {
            let mut times = Vec::with_capacity(rounds);
            for i in 0..rounds + 20 {
                let req = test::TestRequest::get().uri(path).to_request();
                let t = Instant::now();
                let resp = test::call_service(&app, req).await;
                let status = resp.status();
                let body = test::read_body(resp).await;
                let elapsed = t.elapsed();
                assert!(status.is_success(), "{path}: {status}");
                assert!(body.len() > 100, "{path}: empty answer");
                // The first requests warm the caches and the connection pool.
                if i >= 20 {
                    times.push(elapsed);
                }
            }
            times.sort();
            let p50 = percentile(&times, 0.5);
            println!(
                "{label:<38} {path:<48} p50 {:>6.2} ms  p99 {:>6.2} ms",
                ms(p50),
                ms(percentile(&times, 0.99)),
            );
            p50s.push(p50);
        }
        println!(
            "with {count} packages: the form's package page costs {:.1}× the JSON package info (p50); goal: p50 under 10 ms: {}",
            p50s[0].as_secs_f64() / p50s[3].as_secs_f64(),
            if p50s[0] < Duration::from_millis(10) { "met" } else { "NOT met" }
        );
    });
}
