//! Code list packages end to end (issue 14, points 1 and 2): a genericode
//! list of the XRepository is imported with the real CLI, validated and
//! published; a form depends on it and names it on a select field; the
//! registry checks the form's conditions against the codes, serves the
//! form's JSON Schema with the codes as an `enum` (checked with Python's
//! jsonschema) and shows the list and the select on the web pages. Bad
//! input is refused and writes nothing.

use std::path::Path;

use crate::both_backends;
use crate::common::{self, *};
use crate::interop::python_validate;
use serde_json::{json, Value};

fn genericode(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/genericode")
        .join(name)
        .display()
        .to_string()
}

fn import(reg: &TestRegistry, file: &str, dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "import",
        "genericode",
        file,
        "--namespace",
        "destatis",
        "--dir",
        dir.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    reg.cli(None, &args)
}

const FORM_WITH_LAND: &str = "[form]\ntitle = \"Anmeldung\"\nvertrauensniveau = \"niedrig\"\n\n\
[[field]]\nid = \"land\"\ntype = \"select\"\nlabel = \"Bundesland\"\nrequired = true\ncodelist = \"destatis/bundesland\"\n\n\
[[field]]\nid = \"hinweis\"\ntype = \"text\"\nlabel = \"Hinweis für Hessen\"\nshown-when = 'land == \"CODE\"'\n";

fn form_using_the_list(code: &str) -> PackageDir {
    let p = pkg_with(
        "kassel/anmeldung",
        "1.0.0",
        "[dependencies]\n\"destatis/bundesland\" = \"^20100401\"\n",
    );
    p.write("form.toml", &FORM_WITH_LAND.replace("CODE", code));
    p
}

fn fim_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fim")
        .join(name)
        .display()
        .to_string()
}

/// Kassel's own list of parking zones, as the FIM fixture references it.
fn parkzonen() -> PackageDir {
    let p = pkg_with("kassel/parkzonen", "20240101.0.0", "");
    let manifest = std::fs::read_to_string(p.path().join("gemeinwerk.toml")).unwrap();
    p.write(
        "gemeinwerk.toml",
        &manifest.replace("kind = \"form\"", "kind = \"codelist\""),
    );
    std::fs::remove_file(p.path().join("form.toml")).unwrap();
    p.write(
        "codelist.toml",
        "[codelist]\nlabel = \"Bewohnerparkzonen\"\ncanonical-uri = \"urn:de:kassel:codeliste:parkzone\"\nsource-version = \"2024-01-01\"\n\n\
         [[code]]\ncode = \"A\"\nlabel = \"Zone A\"\n\n[[code]]\ncode = \"B\"\nlabel = \"Zone B\"\n\n[[code]]\ncode = \"C\"\nlabel = \"Zone C\"\n",
    );
    p
}

both_backends! {
    // The import asks the registry for the lists a form references: the
    // one it holds as a package becomes a dependency, the other stays an
    // XRepository reference and is reported.
    fn an_xdatenfelder_import_depends_on_the_code_list_package(reg) {
        let kassel = reg.owner_of("kassel");
        let out = reg.cli(Some(&kassel), &["publish", parkzonen().path_str()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let r = reg.get("/api/v1/codelists?uri=urn:de:kassel:codeliste:parkzone&version=2024-01-01");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json(), json!({ "codelists": [{ "package": "kassel/parkzonen", "version": "20240101.0.0", "canonical_uri": "urn:de:kassel:codeliste:parkzone", "source_version": "2024-01-01" }] }));
        // Another version of the list, or a bad query, finds nothing.
        assert_eq!(reg.get("/api/v1/codelists?uri=urn:de:kassel:codeliste:parkzone&version=2025-01-01").json(), json!({ "codelists": [] }));
        for bad in ["/api/v1/codelists", "/api/v1/codelists?uri=x", "/api/v1/codelists?uri=a&version=1&x=2", "/api/v1/codelists?uri=&version=1", "/api/v1/codelists?uri=a%01b&version=1"] {
            let r = reg.get(bad);
            assert_eq!(r.status, 400, "{bad}: {}", r.text());
            assert_eq!(r.json()["errors"][0]["code"], "bad_query", "{bad}");
        }

        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("antrag");
        let fixture = fim_fixture("xdf2_S99000001_bewohnerparkausweis.xml");
        let out = reg.cli(None, &["import", "xdatenfelder", &fixture, "--namespace", "kassel", "--dir", dir.to_str().unwrap(), "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        let manifest = std::fs::read_to_string(dir.join("gemeinwerk.toml")).unwrap();
        assert!(manifest.contains("\"kassel/parkzonen\" = \"^20240101.0.0\""), "{manifest}");
        let form = std::fs::read_to_string(dir.join("form.toml")).unwrap();
        assert!(form.contains("codelist = \"kassel/parkzonen\""), "{form}");
        assert!(!form.contains("urn:de:kassel:codeliste:parkzone"), "the reference became the dependency: {form}");
        assert!(form.contains("urn = \"urn:xoev-de:xinneres:codeliste:anrede\""), "{form}");
        let reasons: Vec<&str> = answer["report"]["notes"].as_array().unwrap().iter().map(|n| n["reason"].as_str().unwrap()).collect();
        assert_eq!(reasons.iter().filter(|r| **r == "codelist-not-in-registry").count(), 1, "{reasons:?}");

        let out = reg.cli(Some(&kassel), &["publish", dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let name = answer["name"].as_str().unwrap();
        let version = answer["version"].as_str().unwrap();
        let schema = reg.get(&format!("/api/v1/packages/{name}/{version}/schema.json")).json();
        let zone = &schema["properties"]["parkzone"];
        assert_eq!(zone["enum"], json!(["A", "B", "C"]), "{zone}");

        // Offline, nothing is asked and nothing is reported.
        let offline = work.path().join("offline");
        let out = reg.cli(None, &["import", "xdatenfelder", &fixture, "--namespace", "kassel", "--dir", offline.to_str().unwrap(), "--json", "--offline"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(!answer["report"].to_string().contains("codelist-not-in-registry"));
        let manifest = std::fs::read_to_string(offline.join("gemeinwerk.toml")).unwrap();
        assert!(!manifest.contains("kassel/parkzonen"), "{manifest}");
    }

    fn a_genericode_list_is_published_and_a_form_uses_it(reg) {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("bundesland");
        let out = import(reg, &genericode("bundesland_2010-04-01.xml"), &dir, &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["name"], "destatis/bundesland");
        assert_eq!(answer["version"], "20100401.0.0");
        assert_eq!(answer["kind"], "codelist");
        assert_eq!(answer["source_version"], "2010-04-01");
        assert_eq!(answer["codes"], 16);
        let list = std::fs::read_to_string(dir.join("codelist.toml")).unwrap();
        assert!(list.contains("canonical-uri = \"urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:bundesland\""), "{list}");
        assert!(list.contains("key = \"SCHLUESSEL\""), "{list}");

        let out = reg.cli(None, &["validate", dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let destatis = reg.owner_of("destatis");
        let out = reg.cli(Some(&destatis), &["publish", dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));

        // A form whose condition names a code the list does not have is
        // refused, and nothing of it is written.
        let kassel = reg.owner_of("kassel");
        let r = reg.publish_bytes(Some(&kassel), &archive_of(&form_using_the_list("99")));
        assert_eq!(r.status, 422, "{}", r.text());
        assert!(r.text().contains("99"), "{}", r.text());
        assert_eq!(reg.get("/api/v1/packages/kassel/anmeldung").status, 404);

        let r = reg.publish_bytes(Some(&kassel), &archive_of(&form_using_the_list("06")));
        assert_eq!(r.status, 200, "{}", r.text());

        // The JSON Schema of the form: the codes as an enum, with labels.
        let r = reg.get("/api/v1/packages/kassel/anmeldung/1.0.0/schema.json");
        assert_eq!(r.status, 200, "{}", r.text());
        let schema = r.json();
        let land = &schema["properties"]["land"];
        assert_eq!(land["enum"].as_array().unwrap().len(), 16, "{land}");
        assert_eq!(land["x-gemeinwerk-codelist"]["labels"]["06"], "Hessen");
        assert_eq!(land["x-gemeinwerk-codelist"]["source-version"], "2010-04-01");
        python_validate(&schema, &json!({ "land": "06", "hinweis": "x" })).unwrap();
        let err = python_validate(&schema, &json!({ "land": "17" })).unwrap_err();
        assert!(err.contains("is not one of"), "{err}");

        // The pages: the list with its codes, the form with a select.
        let page = reg.get("/pakete/destatis/bundesland").text();
        for s in ["Codeliste", "Hessen", "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:bundesland", "Anzahl der Codes"] {
            assert!(page.contains(s), "{s} in the code list's page");
        }
        let page = reg.get("/pakete/kassel/anmeldung").text();
        assert!(page.contains("<option value=\"06\">Hessen</option>"), "the select offers the labels");

        // Searches find the list by its name and by the label of a code.
        reg.wait_for_jobs();
        for q in ["q=bundesland&kind=codelist", "q=th%C3%BCringen"] {
            let hits = reg.get(&format!("/api/v1/search?{q}")).json();
            let first = &hits["hits"][0];
            assert_eq!((first["namespace"].as_str(), first["name"].as_str(), first["kind"].as_str()), (Some("destatis"), Some("bundesland"), Some("codelist")), "{q}: {hits}");
        }
    }

    fn bad_genericode_is_refused_and_writes_nothing(reg) {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("liste");
        let not_a_list = work.path().join("form.xml");
        std::fs::write(&not_a_list, "<?xml version=\"1.0\"?><formular/>").unwrap();
        let bad_version = work.path().join("fassung.xml");
        let sample = std::fs::read_to_string(genericode("anschrifttyp_2.0.xml")).unwrap();
        std::fs::write(&bad_version, sample.replace("<Version>2.0</Version>", "<Version>Fassung 3</Version>")).unwrap();
        assert_ne!(std::fs::read_to_string(&bad_version).unwrap(), sample, "the fixture has <Version>2.0</Version>");
        let cases = [
            (not_a_list.to_str().unwrap().to_string(), vec![], "not a genericode 1.0 <CodeList>"),
            (work.path().join("fehlt.xml").to_str().unwrap().to_string(), vec![], "fehlt.xml"),
            (bad_version.to_str().unwrap().to_string(), vec![], "--version"),
            (genericode("anschrifttyp_2.0.xml"), vec!["--name", "Keine Großbuchstaben"], "nothing was written"),
        ];
        for (file, extra, says) in cases {
            let out = import(reg, &file, &dir, &extra);
            assert!(!out.status.success(), "{file} {extra:?}");
            assert!(stderr(&out).contains(says), "{file}: {}", stderr(&out));
            assert!(!dir.exists(), "{file}: nothing written");
        }
        // An existing folder is not overwritten.
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("mine.txt"), "meins").unwrap();
        let out = import(reg, &genericode("anschrifttyp_2.0.xml"), &dir, &[]);
        assert!(!out.status.success());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "the folder is untouched");
    }

    // A long list is a text input that suggests codes as one types.
    fn a_long_list_is_a_type_ahead_in_the_preview(reg) {
        let kassel = reg.owner_of("kassel");
        let p = pkg_with("kassel/strassen", "1.0.0", "");
        let manifest = std::fs::read_to_string(p.path().join("gemeinwerk.toml")).unwrap();
        p.write("gemeinwerk.toml", &manifest.replace("kind = \"form\"", "kind = \"codelist\""));
        std::fs::remove_file(p.path().join("form.toml")).unwrap();
        let mut list = String::from("[codelist]\nlabel = \"Straßen\"\n");
        for i in 0..40 {
            list.push_str(&format!("\n[[code]]\ncode = \"{i:03}\"\nlabel = \"Straße {i}\"\n"));
        }
        p.write("codelist.toml", &list);
        let out = reg.cli(Some(&kassel), &["publish", p.path_str()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let form = pkg_with("kassel/sondernutzung", "1.0.0", "[dependencies]\n\"kassel/strassen\" = \"^1\"\n");
        form.write("form.toml", "[form]\ntitle = \"Sondernutzung\"\nvertrauensniveau = \"niedrig\"\n\n[[field]]\nid = \"strasse\"\ntype = \"select\"\nlabel = \"Straße\"\ncodelist = \"kassel/strassen\"\n");
        let out = reg.cli(Some(&kassel), &["publish", form.path_str()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let page = reg.get("/pakete/kassel/sondernutzung").text();
        assert!(page.contains("list=\"f-strasse-liste\""), "a text input with suggestions");
        assert!(page.contains("<datalist id=\"f-strasse-liste\">"), "the suggestions");
        assert!(page.contains("<option value=\"039\">Straße 39</option>"), "every code with its label");
        assert!(!page.contains("<select id=\"f-strasse\""), "no select of 40 options");
    }
}
