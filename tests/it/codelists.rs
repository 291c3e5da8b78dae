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

both_backends! {
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
}
