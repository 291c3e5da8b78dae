//! Atom feeds: a package's and a namespace's releases, a Themenfeld's new
//! packages and a fork's upstream changes, each entry with the German
//! summary of what changed; checked by an independent parser (Python's
//! `feedparser`) and linked from the pages.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::*;

/// The feed as `feedparser` reads it: not "bozo" (well-formed Atom), with
/// its title, links and entries.
fn parsed(reg: &TestRegistry, path: &str) -> Value {
    let r = reg.get(path);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/atom+xml; charset=utf-8")
    );
    let script = r#"
import json, sys, feedparser
d = feedparser.parse(sys.stdin.buffer.read())
print(json.dumps({
    "bozo": bool(d.bozo), "error": str(d.get("bozo_exception", "")), "version": d.version,
    "title": d.feed.get("title"), "id": d.feed.get("id"), "updated": d.feed.get("updated"),
    "links": [[l.get("rel"), l.get("href")] for l in d.feed.get("links", [])],
    "entries": [{"id": e.get("id"), "title": e.get("title"), "link": e.get("link"),
                 "updated": e.get("updated"), "summary": e.get("summary")} for e in d.entries],
}))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is missing");
    child.stdin.take().unwrap().write_all(&r.body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "feedparser is missing? (scripts/setup-test-env installs it)"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["bozo"], false, "{path} is not well-formed: {v}");
    assert_eq!(v["version"], "atom10", "{path}");
    v
}

fn titles(feed: &Value) -> Vec<String> {
    feed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn feeds_of_releases_themenfelder_and_upstream_changes() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let kassel = reg.owner_of("kassel");
    let darmstadt = reg.owner_of("darmstadt");
    let publish = |token: &str, dir: &PackageDir| {
        let r = reg.publish_bytes(Some(token), &archive_of(dir));
        assert_eq!(r.status, 200, "{}", r.text());
    };
    publish(&kassel, &pkg("kassel/parken", "1.0.0"));
    // 1.1.0 adds an optional field and retitles one: what the entry names.
    let v110 = pkg("kassel/parken", "1.1.0");
    let form110 = format!(
        "{FORM}\n[[field]]\nid = \"kennzeichen\"\ntype = \"text\"\nlabel = \"Kfz-Kennzeichen & Zone <A>\"\n"
    );
    v110.write("form.toml", &form110);
    publish(&kassel, &v110);
    let r = reg.request(
        "DELETE",
        "/api/v1/packages/kassel/parken/1.0.0/yank",
        Some(&kassel),
        Some("{\"reason\": \"Gebühr falsch\"}".as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // A package's releases, the newest news first (the yank of 1.0.0 came
    // after 1.1.0), each saying what changed.
    let feed = parsed(&reg, "/feeds/pakete/kassel/parken");
    assert_eq!(
        titles(&feed),
        ["kassel/parken 1.0.0 (zurückgezogen)", "kassel/parken 1.1.0"]
    );
    let newest = &feed["entries"][1];
    let summary = newest["summary"].as_str().unwrap();
    assert!(summary.starts_with("Gegenüber 1.0.0 ("), "{summary}");
    assert!(summary.contains("kennzeichen"), "{summary}");
    assert_eq!(
        newest["link"],
        format!("{}/pakete/kassel/parken?version=1.1.0", reg.url)
    );
    let oldest = feed["entries"][0]["summary"].as_str().unwrap();
    assert!(
        oldest.starts_with("Zurückgezogen: Gebühr falsch. Erste Version."),
        "{oldest}"
    );
    let links = feed["links"].as_array().unwrap();
    assert!(
        links.contains(&serde_json::json!([
            "self",
            format!("{}/feeds/pakete/kassel/parken", reg.url)
        ])),
        "{links:?}"
    );
    assert!(
        links.contains(&serde_json::json!([
            "alternate",
            format!("{}/pakete/kassel/parken", reg.url)
        ])),
        "{links:?}"
    );

    // Darmstadt forks 1.1.0; Kassel publishes 1.2.0: the fork's upstream
    // feed names what Darmstadt has not taken yet, and only that.
    let r = reg.request(
        "POST",
        "/api/v1/packages/kassel/parken/forks",
        Some(&darmstadt),
        Some(br#"{"target": "darmstadt/parken", "version": "1.1.0"}"#),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let v120 = pkg("kassel/parken", "1.2.0");
    v120.write(
        "form.toml",
        &form110.replace("label = \"Name\"", "label = \"Vollständiger Name\""),
    );
    publish(&kassel, &v120);
    let upstream = parsed(&reg, "/feeds/pakete/darmstadt/parken/upstream");
    assert_eq!(titles(&upstream), ["Upstream kassel/parken 1.2.0"]);
    assert!(upstream["title"]
        .as_str()
        .unwrap()
        .contains("Upstream kassel/parken"));
    let r = reg.get("/feeds/pakete/kassel/parken/upstream");
    assert_eq!(r.status, 400, "kassel/parken is no fork");
    assert!(r.text().contains("lang=\"de\""));

    // A namespace's releases; a Themenfeld's new packages.
    publish(&kassel, &pkg("kassel/hund", "1.0.0"));
    let ns = parsed(&reg, "/feeds/namensraeume/kassel");
    assert_eq!(
        titles(&ns),
        [
            "kassel/hund 1.0.0",
            "kassel/parken 1.2.0",
            "kassel/parken 1.1.0",
            "kassel/parken 1.0.0 (zurückgezogen)"
        ]
    );
    reg.wait_for_search_current();
    let tf = parsed(&reg, "/feeds/themenfelder/mobilitaet_reisen");
    let new: Vec<String> = titles(&tf);
    // (Darmstadt's fork has no version of its own yet: not searchable.)
    assert_eq!(new.len(), 2, "{new:?}");
    assert!(
        new[0].contains("kassel/hund"),
        "the newest package first: {new:?}"
    );
    assert!(tf["entries"][0]["summary"]
        .as_str()
        .unwrap()
        .starts_with("Neu in Mobilität & Reisen, erste Version 1.0.0"));

    // Linked from the pages.
    for (page, feed) in [
        ("/pakete/kassel/parken", "/feeds/pakete/kassel/parken"),
        (
            "/pakete/darmstadt/parken",
            "/feeds/pakete/darmstadt/parken/upstream",
        ),
        ("/namensraeume/kassel", "/feeds/namensraeume/kassel"),
        (
            "/suche?themenfeld=mobilitaet_reisen",
            "/feeds/themenfelder/mobilitaet_reisen",
        ),
    ] {
        let html = reg.get(page).text();
        assert!(
            html.contains("<link rel=\"alternate\" type=\"application/atom+xml\"")
                && html.contains(&format!("href=\"{feed}\"")),
            "{page} does not link {feed}: {}",
            &html[..html.len().min(1500)]
        );
    }

    // Unknown things: German pages, not feeds.
    for path in [
        "/feeds/pakete/kassel/gibtsnicht",
        "/feeds/namensraeume/gibtsnicht",
        "/feeds/themenfelder/gibtsnicht",
    ] {
        let r = reg.get(path);
        assert!(matches!(r.status, 400 | 404), "{path}: {}", r.status);
        assert!(r.text().contains("lang=\"de\""), "{path}");
    }
}
