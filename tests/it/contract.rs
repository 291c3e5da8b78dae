//! The OpenAPI document against the routes, both ways: every route of the
//! JSON API, sparse index, git and ops (the handlers in
//! `crates/server/src/http/*.rs`, read from their route attributes) is
//! documented with the same methods, and every documented path and method
//! is routed, both in the source and on a running server (not answered by
//! the catch-all). The web pages (`http/web/`) are not part of the
//! document; their list `web::PAGES`, which the catch-all's 405 answer
//! reads, is held against their attributes the same way.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::both_backends;
use crate::common;

/// One route: (METHOD, path with parameters as `{}`, or `{*}` for one
/// that spans segments).
type Route = (String, String);

const CATCH_ALL_DETAIL: &str = "there is nothing at this address";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn document() -> Value {
    let text = std::fs::read_to_string(root().join("docs/openapi.json")).unwrap();
    serde_json::from_str(&text).expect("docs/openapi.json is JSON")
}

/// `/a/{ns}/{tail:.*}` → `/a/{}/{*}`; `rest` names the parameters that
/// span segments (the document marks them `x-multi-segment`).
fn normalize(path: &str, rest: &[String]) -> String {
    path.split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(p) if p.ends_with(":.*") || rest.iter().any(|r| r == p) => "{*}".to_string(),
                Some(_) => "{}".to_string(),
                None => s.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// Every documented operation, as (METHOD, raw path, normalized path).
fn documented_operations(doc: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let rest = gemeinwerk_server::http::routes::multi_segment_params(item);
        for method in [
            "get", "put", "post", "delete", "patch", "head", "options", "trace",
        ] {
            if item.get(method).is_some() {
                out.push((method.to_uppercase(), path.clone(), normalize(path, &rest)));
            }
        }
    }
    out
}

fn documented(doc: &Value) -> BTreeSet<Route> {
    documented_operations(doc)
        .into_iter()
        .map(|(m, _, n)| (m, n))
        .collect()
}

/// The routes the Rust source of a set of files registers, and what the
/// scan could not account for (a `.service(…)` of something that is not
/// a route-attributed handler, a scope whose prefix it cannot see).
#[derive(Debug, Default)]
struct Scan {
    routes: BTreeSet<Route>,
    problems: Vec<String>,
}

fn scan_source(file: &str, source: &str, scan: &mut Scan, handlers: &mut BTreeSet<String>) {
    let attribute = regex::Regex::new(
        r#"#\[(get|post|put|delete|patch|head)\(\s*"([^"]+)"[^\]]*\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?fn\s+(\w+)"#,
    )
    .unwrap();
    for c in attribute.captures_iter(source) {
        scan.routes
            .insert((c[1].to_uppercase(), normalize(&c[2], &[])));
        handlers.insert(c[3].to_string());
    }
    let route_attribute = regex::Regex::new(
        r#"#\[route\(\s*"([^"]+)"((?:\s*,\s*method\s*=\s*"[A-Z]+")+)\s*\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?fn\s+(\w+)"#,
    )
    .unwrap();
    let method_arg = regex::Regex::new(r#"method\s*=\s*"([A-Z]+)""#).unwrap();
    for c in route_attribute.captures_iter(source) {
        for m in method_arg.captures_iter(&c[2]) {
            scan.routes
                .insert((m[1].to_string(), normalize(&c[1], &[])));
        }
        handlers.insert(c[3].to_string());
    }
    let builder_method = regex::Regex::new(r"web::(get|post|put|delete|patch|head)\(\)").unwrap();
    // `web::resource("/p").route(web::get().to(h))…`: the methods up to the
    // end of the statement.
    let resource = regex::Regex::new(r#"web::resource\(\s*"([^"]+)"\s*\)([^;]*)"#).unwrap();
    for c in resource.captures_iter(source) {
        let methods: Vec<_> = builder_method.captures_iter(&c[2]).collect();
        if methods.is_empty() {
            scan.problems.push(format!(
                "{file}: web::resource(\"{}\") without a method route",
                &c[1]
            ));
        }
        for m in methods {
            scan.routes
                .insert((m[1].to_uppercase(), normalize(&c[1], &[])));
        }
    }
    // `cfg.route("/p", web::get().to(h))`.
    let route_call = regex::Regex::new(
        r#"\.route\(\s*"([^"]+)"\s*,\s*web::(get|post|put|delete|patch|head)\(\)"#,
    )
    .unwrap();
    for c in route_call.captures_iter(source) {
        scan.routes
            .insert((c[2].to_uppercase(), normalize(&c[1], &[])));
    }
    if source.contains("web::scope(") || source.contains("Scope::new(") {
        scan.problems.push(format!(
            "{file}: a scope; teach tests/it/contract.rs its prefix"
        ));
    }
}

/// The handler names given to `.service(…)`, for the check that each is
/// a route the scan saw.
fn services(source: &str) -> Vec<String> {
    let service = regex::Regex::new(r"\.service\(\s*([\w:]+)\s*\)").unwrap();
    service
        .captures_iter(source)
        .map(|c| c[1].rsplit("::").next().unwrap().to_string())
        .collect()
}

fn scan_files(files: &[(String, String)]) -> Scan {
    let mut scan = Scan::default();
    let mut handlers = BTreeSet::new();
    for (file, source) in files {
        scan_source(file, source, &mut scan, &mut handlers);
    }
    for (file, source) in files {
        for service in services(source) {
            if !handlers.contains(&service) {
                scan.problems.push(format!(
                    "{file}: .service({service}) is not a handler with a route attribute in these files"
                ));
            }
        }
    }
    scan
}

fn rust_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| {
            let source = std::fs::read_to_string(&p).unwrap();
            (p.display().to_string(), source)
        })
        .collect();
    files.sort();
    files
}

/// What the document and the routes disagree on; empty when they agree.
/// `api` are the routes that must be documented, `pages` those that may
/// be (the web UI's start page is).
fn compare(
    api: &BTreeSet<Route>,
    pages: &BTreeSet<Route>,
    documented: &BTreeSet<Route>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (method, path) in api.difference(documented) {
        problems.push(format!(
            "routed but not in docs/openapi.json: {method} {path}"
        ));
    }
    for (method, path) in documented {
        let route = (method.clone(), path.clone());
        if !api.contains(&route) && !pages.contains(&route) {
            problems.push(format!(
                "in docs/openapi.json but not routed: {method} {path}"
            ));
        }
    }
    problems
}

fn http_dir() -> PathBuf {
    root().join("crates/server/src/http")
}

#[test]
fn every_route_is_documented_and_every_documented_operation_routed() {
    let api = scan_files(&rust_files(&http_dir()));
    let pages = scan_files(&rust_files(&http_dir().join("web")));
    assert!(api.problems.is_empty(), "{:#?}", api.problems);
    assert!(pages.problems.is_empty(), "{:#?}", pages.problems);
    // The scan saw the routes at all (a broken pattern finds nothing).
    assert!(api.routes.len() >= 20, "{:?}", api.routes);
    assert!(api
        .routes
        .contains(&("GET".into(), "/git/index.git/{*}".into())));
    let problems = compare(&api.routes, &pages.routes, &documented(&document()));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_web_page_list_matches_the_page_handlers() {
    let pages = scan_files(&rust_files(&http_dir().join("web")));
    let listed: BTreeSet<Route> = gemeinwerk_server::http::web::PAGES
        .iter()
        .map(|(m, p)| (m.to_string(), normalize(p, &[])))
        .collect();
    let missing: Vec<_> = pages.routes.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&pages.routes).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "web::PAGES is missing {missing:?} and lists unrouted {stale:?}"
    );
}

fn route(method: &str, path: &str) -> Route {
    (method.to_string(), path.to_string())
}

#[test]
fn the_comparison_reports_a_missing_entry_either_way() {
    let api: BTreeSet<Route> = [route("GET", "/a/{}"), route("PUT", "/a/{}")].into();
    let pages: BTreeSet<Route> = [route("GET", "/")].into();
    let doc: BTreeSet<Route> = [route("GET", "/a/{}"), route("GET", "/")].into();
    assert_eq!(
        compare(&api, &pages, &doc),
        ["routed but not in docs/openapi.json: PUT /a/{}"]
    );
    let doc: BTreeSet<Route> = [
        route("GET", "/a/{}"),
        route("PUT", "/a/{}"),
        route("DELETE", "/a/{}"),
    ]
    .into();
    assert_eq!(
        compare(&api, &pages, &doc),
        ["in docs/openapi.json but not routed: DELETE /a/{}"]
    );
    let doc: BTreeSet<Route> = [route("GET", "/a/{}"), route("PUT", "/a/{}")].into();
    assert!(compare(&api, &pages, &doc).is_empty());
}

#[test]
fn the_scan_reads_every_way_of_registering_a_route() {
    let source = r#"
        #[get("/x/{ns}")]
        pub(super) async fn one() {}
        #[route("/y", method = "PUT", method = "POST")]
        async fn two() {}
        fn configure(cfg: &mut web::ServiceConfig) {
            cfg.service(one).service(two)
                .service(web::resource("/z/{tail:.*}").route(web::delete().to(three)));
            cfg.route("/w", web::patch().to(four));
        }
    "#;
    let scan = scan_files(&[("a.rs".into(), source.into())]);
    assert!(scan.problems.is_empty(), "{:?}", scan.problems);
    let expected: BTreeSet<Route> = [
        route("GET", "/x/{}"),
        route("PUT", "/y"),
        route("POST", "/y"),
        route("DELETE", "/z/{*}"),
        route("PATCH", "/w"),
    ]
    .into();
    assert_eq!(scan.routes, expected);

    // A service the scan cannot see into, and a scope, are reported.
    let source = "cfg.service(hidden).service(web::scope(\"/api\"));";
    let scan = scan_files(&[("b.rs".into(), source.into())]);
    assert_eq!(scan.problems.len(), 2, "{:?}", scan.problems);
}

/// A documented path with sample values for its parameters.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| match s {
            "{ns}" => "kassel",
            "{name}" => "antrag",
            "{version}" => "1.0.0",
            "{login}" => "someone",
            "{repo}" => "antrag.git",
            "{path}" => "HEAD",
            s if s.starts_with('{') => "x",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn answered_by_catch_all(r: &common::Response) -> bool {
    match r.status {
        405 => true,
        404 => serde_json::from_slice::<Value>(&r.body)
            .is_ok_and(|v| v["errors"][0]["detail"] == CATCH_ALL_DETAIL),
        _ => false,
    }
}

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

both_backends! {
    fn every_documented_operation_is_answered_by_its_handler(reg) {
        let served = reg.get("/api/openapi.json");
        assert_eq!(served.status, 200);
        assert_eq!(served.json(), document(), "the served document is docs/openapi.json");
        let operations = documented_operations(&document());
        assert!(operations.len() >= 20);
        for (method, path, _) in &operations {
            let url = concrete(path);
            let r = reg.request(method, &url, None, None);
            assert!(
                !answered_by_catch_all(&r),
                "{method} {url} ({path}) fell through to the catch-all: {} {}",
                r.status,
                r.text()
            );
        }
        // And the address itself must be right: the catch-all answers a
        // path no one routed.
        let r = reg.get("/api/v1/nowhere");
        assert!(answered_by_catch_all(&r));
        assert_eq!(r.status, 404);
        assert_eq!(r.error_code(), "not_found");
    }

    fn a_known_path_with_another_method_answers_405_with_allow(reg) {
        let token = reg.owner_of("kassel");
        let before = reg.snapshot();
        let operations = documented_operations(&document());
        for (_, path, _) in &operations {
            let mut documented: Vec<&str> = operations
                .iter()
                .filter(|(_, p, _)| p == path)
                .map(|(m, _, _)| m.as_str())
                .collect();
            if documented.contains(&"GET") {
                documented.push("HEAD");
            }
            let url = concrete(path);
            for method in METHODS.iter().filter(|m| !documented.contains(m)) {
                let r = reg.request(method, &url, Some(&token), Some(b"{}"));
                assert_eq!(r.status, 405, "{method} {url}: {}", r.text());
                assert_eq!(r.error_code(), "method_not_allowed", "{method} {url}");
                let allow: Vec<&str> = r.header("Allow").expect("Allow").split(", ").collect();
                for m in &documented {
                    assert!(allow.contains(m), "{method} {url}: Allow {allow:?} lacks {m}");
                }
                assert!(!allow.contains(method), "{method} {url}: Allow {allow:?}");
            }
        }
        let r = reg.request("DELETE", "/api/v1/packages/new", Some(&token), None);
        assert_eq!(r.status, 405);
        assert_eq!(r.header("Allow"), Some("PUT"));
        assert_eq!(r.error_code(), "method_not_allowed");
        assert_eq!(r.error_detail(), "this address answers PUT, not DELETE");
        let r = reg.request("POST", "/api/v1/packages/kassel/antrag/deprecate", Some(&token), None);
        assert_eq!(r.header("Allow"), Some("PUT, DELETE"));
        // A HEAD is asked as its GET, so a PUT-only address refuses it too.
        let r = reg.request("HEAD", "/api/v1/packages/new", None, None);
        assert_eq!(r.status, 405);
        assert_eq!(r.header("Allow"), Some("PUT"));
        // Wrong method on an unknown path: still 404.
        let r = reg.request("DELETE", "/api/v1/nowhere", Some(&token), None);
        assert_eq!(r.status, 404);
        assert_eq!(r.error_code(), "not_found");
        assert_eq!(reg.snapshot(), before, "a refused method changed nothing");
    }

    fn a_web_page_with_another_method_answers_405(reg) {
        let html = [("Accept", "text/html,application/xhtml+xml")];
        let r = reg.request_with("POST", "/suche", None, None, &html);
        assert_eq!(r.status, 405);
        assert_eq!(r.header("Allow"), Some("GET, HEAD"));
        assert!(r.header("Content-Type").unwrap().starts_with("text/html"));
        assert!(r.text().contains("Methode nicht erlaubt"), "{}", r.text());
        assert!(r.header("Content-Security-Policy").is_some());
        let r = reg.request_with("GET", "/abmelden", None, None, &html);
        assert_eq!(r.status, 405);
        assert_eq!(r.header("Allow"), Some("POST"));
        // Without a browser's Accept, the envelope.
        let r = reg.request("DELETE", "/pakete/kassel/antrag", None, None);
        assert_eq!(r.status, 405);
        assert_eq!(r.header("Allow"), Some("GET, HEAD"));
        assert_eq!(r.error_code(), "method_not_allowed");
        // An unknown page stays 404.
        let r = reg.request_with("POST", "/gibt-es-nicht", None, None, &html);
        assert_eq!(r.status, 404);
        assert!(r.text().contains("Nicht gefunden"));
    }
}
