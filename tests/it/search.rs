//! Issue 4: search through the real server and CLI on both backends:
//! German analysis end to end, facets, snippets, freshness after publish,
//! yank and deprecate, restart, rebuild of a missing or damaged index,
//! `admin reindex`, and refused query strings.

use std::time::Duration;

use serde_json::Value;

use crate::both_backends;
use crate::common::{self, archive_of, pkg_with, stdout, TestRegistry};

fn search(reg: &TestRegistry, query: &str) -> Value {
    let r = reg.get(&format!("/api/v1/search?{query}"));
    assert_eq!(r.status, 200, "{query}: {}", r.text());
    r.json()
}

fn names(results: &Value) -> Vec<String> {
    results["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{}/{}",
                h["namespace"].as_str().unwrap(),
                h["name"].as_str().unwrap()
            )
        })
        .collect()
}

fn found(name: &'static str) -> impl Fn(&Value) -> bool {
    move |v| names(v).iter().any(|n| n == name)
}

fn gone(name: &'static str) -> impl Fn(&Value) -> bool {
    move |v| !names(v).iter().any(|n| n == name)
}

const PARKAUSWEIS: &str = "title = \"Antrag auf Bewohnerparkausweis\"\n\
    keywords = [\"parken\", \"anwohnerparken\"]\nleika = \"99050012104000\"\n";

const HUNDESTEUER: &str = "title = \"Hundesteuer: An- und Abmeldung\"\nkeywords = [\"hund\"]\n";

/// A form with a FIM field id and a field label worth finding.
fn form_with_fim(full_name: &str, version: &str, extra: &str) -> common::PackageDir {
    let p = pkg_with(full_name, version, extra);
    p.write(
        "form.toml",
        "[form]\ntitle = \"Antrag\"\nvertrauensniveau = \"substanziell\"\naccounts = [\"BundID\"]\n\n\
         [[field]]\nid = \"kennzeichen\"\ntype = \"text\"\nlabel = \"Amtliches Kennzeichen <Kfz>\"\n\
         fim-id = \"F60000000301\"\nrequired = true\n",
    );
    p
}

fn publish(reg: &TestRegistry, token: &str, dir: &common::PackageDir) {
    let r = reg.publish_bytes(Some(token), &archive_of(dir));
    assert_eq!(r.status, 200, "{}", r.text());
}

fn current_generation(reg: &TestRegistry) -> String {
    std::fs::read_to_string(reg.data().join("search/CURRENT"))
        .unwrap()
        .trim()
        .to_string()
}

both_backends! {
    fn finds_german_words_with_facets_and_snippets(reg) {
        let token = reg.owner_of("kassel");
        publish(reg, &token, &form_with_fim("kassel/bewohnerparkausweis", "1.0.0", PARKAUSWEIS));
        publish(reg, &token, &pkg_with("kassel/hundesteuer", "1.0.0", HUNDESTEUER));
        common::wait_for_search(reg, "q=hund", Duration::from_secs(10), found("kassel/hundesteuer"));

        // Compound parts, typos, umlaut spellings, inflections, typeahead.
        for q in ["Parkausweis", "ausweis", "Parkauswies", "Anwohnerparken", "Bewohnerp", "Anträge%20Parken"] {
            let v = search(reg, &format!("q={q}"));
            assert_eq!(names(&v).first().map(String::as_str), Some("kassel/bewohnerparkausweis"), "{q}: {v}");
        }
        for q in ["Hunde%20Steuer", "Hundesteuer%20anmelden", "hundesteur"] {
            let v = search(reg, &format!("q={q}"));
            assert_eq!(names(&v).first().map(String::as_str), Some("kassel/hundesteuer"), "{q}: {v}");
        }
        // Exact keys: LeiKa and FIM ids; field labels.
        for q in ["99050012104000", "F60000000301", "Kennzeichen"] {
            let v = search(reg, &format!("q={q}"));
            assert_eq!(names(&v), vec!["kassel/bewohnerparkausweis"], "{q}: {v}");
        }

        // Facets count, filters filter.
        let v = search(reg, "q=");
        assert_eq!(v["total"], 2);
        assert_eq!(v["facets"]["namespace"][0]["value"], "kassel");
        assert_eq!(v["facets"]["namespace"][0]["count"], 2);
        assert_eq!(v["facets"]["themenfeld"][0]["label"], "Mobilität & Reisen");
        let v = search(reg, "q=&vertrauensniveau=substanziell");
        assert_eq!(names(&v), vec!["kassel/bewohnerparkausweis"]);
        assert_eq!(search(reg, "q=antrag&kind=process")["total"], 0);
        assert_eq!(search(reg, "q=&sort=name")["hits"][0]["name"], "bewohnerparkausweis");

        // The snippet is HTML-escaped but for the highlight.
        let v = search(reg, "q=Kennzeichen");
        let hit = &v["hits"][0];
        assert_eq!(hit["version"], "1.0.0");
        assert_eq!(hit["kind"], "form");
        assert_eq!(hit["deprecated"], false);
        let v = search(reg, "q=Testformular");
        let snippet = v["hits"][0]["snippet"].as_str().unwrap();
        assert_eq!(snippet, "Ein <mark>Testformular</mark>");

        // The typeahead.
        let r = reg.get("/api/v1/search/suggest?q=Bewohnerpark&limit=5");
        assert_eq!(r.status, 200, "{}", r.text());
        let s = r.json();
        assert_eq!(s["suggestions"][0]["name"], "kassel/bewohnerparkausweis");
        assert_eq!(s["suggestions"][0]["highlighted"], "Antrag auf <mark>Bewohnerparkausweis</mark>");

        // The CLI, for people and for scripts.
        let out = reg.cli(None, &["search", "Hunde", "Steuer", "--json"]);
        assert!(out.status.success(), "{}", common::stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(names(&v)[0], "kassel/hundesteuer");
        let out = reg.cli(None, &["search", "parkausweis", "--kind", "form", "--themenfeld", "mobilitaet_reisen"]);
        assert!(out.status.success(), "{}", common::stderr(&out));
        assert!(stdout(&out).starts_with("kassel/bewohnerparkausweis 1.0.0  (form)"), "{}", stdout(&out));
        let out = reg.cli(None, &["search", "x", "--kind", "formular"]);
        assert_eq!(out.status.code(), Some(1), "a refusal");
        assert!(common::stderr(&out).contains("kind \"formular\" is not known"), "{}", common::stderr(&out));
    }

    fn publish_yank_and_deprecate_show_within_a_second(reg) {
        let token = reg.owner_of("kassel");
        // The index exists before we time anything.
        common::wait_for_search(reg, "q=", Duration::from_secs(10), |_| true);

        publish(reg, &token, &pkg_with("kassel/hundesteuer", "1.0.0", HUNDESTEUER));
        let took = common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(1), found("kassel/hundesteuer"));
        println!("publish visible after {took:?}");

        // A newer version replaces the older one in the index.
        publish(reg, &token, &pkg_with("kassel/hundesteuer", "1.1.0", HUNDESTEUER));
        common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(1), |v| v["hits"][0]["version"] == "1.1.0");

        // Yanking the newest shows the one before; yanking all hides it.
        let r = reg.request("DELETE", "/api/v1/packages/kassel/hundesteuer/1.1.0/yank", Some(&token), None);
        assert_eq!(r.status, 200, "{}", r.text());
        common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(1), |v| v["hits"][0]["version"] == "1.0.0");
        let r = reg.request("DELETE", "/api/v1/packages/kassel/hundesteuer/1.0.0/yank", Some(&token), None);
        assert_eq!(r.status, 200, "{}", r.text());
        common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(1), gone("kassel/hundesteuer"));
        let r = reg.request("PUT", "/api/v1/packages/kassel/hundesteuer/1.1.0/unyank", Some(&token), None);
        assert_eq!(r.status, 200, "{}", r.text());
        common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(1), found("kassel/hundesteuer"));

        // Deprecated: hidden unless asked for.
        let out = reg.cli(Some(&token), &["deprecate", "kassel/hundesteuer", "--message", "Bitte kassel/hundesteuer-neu nutzen"]);
        assert!(out.status.success(), "{}", common::stderr(&out));
        common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(1), gone("kassel/hundesteuer"));
        let v = search(reg, "q=hundesteuer&deprecated=true");
        assert_eq!(names(&v), vec!["kassel/hundesteuer"]);
        assert_eq!(v["hits"][0]["deprecated"], true);
        let out = reg.cli(Some(&token), &["deprecate", "kassel/hundesteuer", "--undo"]);
        assert!(out.status.success(), "{}", common::stderr(&out));
        common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(1), found("kassel/hundesteuer"));
    }

    fn bad_query_strings_are_refused_and_change_nothing(reg) {
        let token = reg.owner_of("kassel");
        publish(reg, &token, &pkg_with("kassel/hundesteuer", "1.0.0", HUNDESTEUER));
        common::wait_for_search(reg, "q=hund", Duration::from_secs(10), found("kassel/hundesteuer"));
        let before = reg.snapshot();
        let long = "a".repeat(201);
        let cases: Vec<(String, &str, &str)> = vec![
            ("q=x&per_page=0".into(), "bad_search", "per_page \"0\" must be a whole number from 1 to 100"),
            ("q=x&per_page=100000".into(), "bad_search", "per_page \"100000\" must be a whole number from 1 to 100"),
            ("q=x&per_page=-1".into(), "bad_search", "per_page \"-1\""),
            ("q=x&page=abc".into(), "bad_search", "page \"abc\""),
            ("q=x&page=9999&per_page=100".into(), "bad_search", "goes past the first 10000 results"),
            ("q=x&page=99999999999999999999999".into(), "bad_search", "page \"99999999999999999999999\""),
            ("q=x&sort=popular".into(), "bad_search", "sort \"popular\" is not known; use one of: relevance, downloads, updated, name"),
            ("q=x&kind=formular".into(), "bad_search", "kind \"formular\" is not known"),
            ("q=x&themenfeld=verkehr".into(), "bad_search", "themenfeld \"verkehr\" is not known"),
            ("q=x&vertrauensniveau=mittel".into(), "bad_search", "vertrauensniveau \"mittel\" is not known"),
            ("q=x&namespace=Kassel%21".into(), "bad_search", "namespace"),
            ("q=x&deprecated=ja".into(), "bad_search", "deprecated \"ja\" must be true or false"),
            (format!("q={long}"), "bad_search", "q has 201 characters; at most 200 are allowed"),
            ("q=x&themenfield=umwelt".into(), "bad_query", "unknown field `themenfield`"),
        ];
        for (query, code, detail) in &cases {
            let r = reg.get(&format!("/api/v1/search?{query}"));
            assert_eq!(r.status, 400, "{query}: {}", r.text());
            assert_eq!(r.error_code(), *code, "{query}: {}", r.text());
            assert!(r.error_detail().contains(detail), "{query}: {}", r.text());
        }
        for query in ["limit=0", "limit=21", &format!("q={long}")] {
            let r = reg.get(&format!("/api/v1/search/suggest?{query}"));
            assert_eq!(r.status, 400, "{query}: {}", r.text());
            assert_eq!(r.error_code(), "bad_search", "{query}: {}", r.text());
        }
        // A query of only punctuation lists everything, as an empty one;
        // one of only stop words looks for them. Neither is an error.
        assert_eq!(search(reg, "q=%22%3C%3E%22")["total"], 1);
        assert_eq!(search(reg, "q=die%20und")["total"], 0);
        assert_eq!(reg.snapshot(), before, "a refused search wrote something");
    }

    fn the_index_survives_restarts_and_rebuilds_when_missing_or_damaged(outer) {
        // This one restarts its server, which needs its own registry.
        outer.halt();
        let mut restartable = TestRegistry::start(outer.backend);
        let reg = &restartable;
        let token = reg.owner_of("kassel");
        publish(reg, &token, &pkg_with("kassel/hundesteuer", "1.0.0", HUNDESTEUER));
        common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(10), found("kassel/hundesteuer"));
        let generation = current_generation(reg);

        // Killed right after a publish: the restart resumes from the last
        // applied change, without a rebuild.
        publish(reg, &token, &pkg_with("kassel/bewohnerparkausweis", "1.0.0", PARKAUSWEIS));
        restartable.kill();
        restartable.launch();
        let reg = &restartable;
        common::wait_for_search(reg, "q=parkausweis", Duration::from_secs(10), found("kassel/bewohnerparkausweis"));
        common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(10), found("kassel/hundesteuer"));
        assert_eq!(current_generation(reg), generation, "a restart must not rebuild a sound index");

        // Damaged: every file of the index overwritten.
        restartable.stop();
        for entry in std::fs::read_dir(restartable.data().join("search").join(&generation)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::write(&path, b"kaputt").unwrap();
            }
        }
        restartable.launch();
        let reg = &restartable;
        common::wait_for_search(reg, "q=parkausweis", Duration::from_secs(10), found("kassel/bewohnerparkausweis"));
        let rebuilt = current_generation(reg);
        assert_ne!(rebuilt, generation, "a damaged index is rebuilt");

        // Missing: the whole folder gone.
        restartable.stop();
        std::fs::remove_dir_all(restartable.data().join("search")).unwrap();
        restartable.launch();
        let reg = &restartable;
        common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(10), found("kassel/hundesteuer"));
        assert!(reg.data().join("search/CURRENT").exists());
    }

    fn admin_reindex_rebuilds_and_the_running_server_follows(reg) {
        let token = reg.owner_of("kassel");
        publish(reg, &token, &pkg_with("kassel/hundesteuer", "1.0.0", HUNDESTEUER));
        common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(10), found("kassel/hundesteuer"));
        let before = current_generation(reg);

        let out = reg.admin(&["reindex"]);
        assert!(out.status.success(), "{}", common::stderr(&out));
        assert!(common::stderr(&out).contains("search index rebuilt from the database (1 package)"), "{}", common::stderr(&out));
        let after = current_generation(reg);
        assert_ne!(after, before);

        // The server switched: what is published now lands in the new index.
        std::thread::sleep(Duration::from_millis(1200));
        publish(reg, &token, &pkg_with("kassel/bewohnerparkausweis", "1.0.0", PARKAUSWEIS));
        common::wait_for_search(reg, "q=parkausweis", Duration::from_secs(2), found("kassel/bewohnerparkausweis"));
        assert_eq!(search(reg, "q=")["total"], 2);
        let generations: Vec<_> = std::fs::read_dir(reg.data().join("search"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("gen-"))
            .collect();
        assert_eq!(generations, vec![after], "the server removed the old generation");

        // Other admin commands never take the index's writer lock.
        reg.admin_ok(&["namespace", "add", "fulda", "--name", "Stadt Fulda"]);
        let t = reg.owner_of("darmstadt");
        publish(reg, &t, &pkg_with("darmstadt/hundesteuer", "1.0.0", HUNDESTEUER));
        common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(2), found("darmstadt/hundesteuer"));
    }
}

both_backends! {
    fn downloads_move_the_ranking(outer) {
        outer.halt();
        let reg = &TestRegistry::start_with(outer.backend, &["--search-refresh-secs", "1", "--downloads-flush-secs", "1"]);
        let kassel = reg.owner_of("kassel");
        let fulda = reg.owner_of("fulda");
        publish(reg, &kassel, &pkg_with("kassel/hundesteuer", "1.0.0", HUNDESTEUER));
        publish(reg, &fulda, &pkg_with("fulda/hundesteuer", "1.0.0", HUNDESTEUER));
        common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(10), |v| v["total"] == 2);
        // Same text: whichever comes second gets used, and moves up.
        let v = search(reg, "q=hundesteuer");
        assert_eq!(v["hits"][0]["downloads"], 0);
        assert_eq!(v["hits"][1]["downloads"], 0);
        let second = names(&v)[1].clone();
        let first = names(&v)[0].clone();
        for _ in 0..3 {
            let r = reg.get(&format!("/api/v1/packages/{second}/1.0.0/download"));
            assert_eq!(r.status, 200);
        }
        common::wait_for_search(reg, "q=hundesteuer", Duration::from_secs(5), |v| {
            names(v)[0] == second && v["hits"][0]["downloads"] == 3
        });
        let v = search(reg, "q=hundesteuer&sort=downloads");
        assert_eq!(names(&v), vec![second, first]);
        let v = search(reg, "q=&sort=name");
        assert_eq!(names(&v), vec!["fulda/hundesteuer", "kassel/hundesteuer"]);
    }
}
