//! The standards, end to end through the real CLI and server: a FIM
//! XDatenfelder file is imported, validated and published; its JSON Schema
//! is served and checked with an independent validator (Python's
//! jsonschema); a process is exported as BPMN and checked against the OMG
//! XSD (xmllint) and by bpmn-moddle; hostile XML is refused and writes
//! nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::both_backends;
use crate::common::{self, *};
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fim")
        .join(name)
        .display()
        .to_string()
}

fn tool(name: &str, hint: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "this test needs `{name}`: {hint} (.ci/run installs it)"
    );
}

/// Validates `instance` against `schema` with Python's jsonschema
/// (Draft 2020-12, formats checked); `Err` holds the validator's messages.
pub(crate) fn python_validate(schema: &Value, instance: &Value) -> Result<(), String> {
    python_validate_as(schema, instance, true)
}

/// Validates as a validator that checks no `format` (JSON Schema makes
/// that assertion optional).
fn python_validate_without_formats(schema: &Value, instance: &Value) -> Result<(), String> {
    python_validate_as(schema, instance, false)
}

fn python_validate_as(schema: &Value, instance: &Value, formats: bool) -> Result<(), String> {
    tool("python3", "install Python 3 and `pip install jsonschema`");
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("schema.json");
    let i = dir.path().join("instance.json");
    std::fs::write(&s, schema.to_string()).unwrap();
    std::fs::write(&i, instance.to_string()).unwrap();
    let program = r#"
import json, sys
try:
    import jsonschema
except ImportError:
    print("MISSING: pip install jsonschema", file=sys.stderr); sys.exit(3)
schema = json.load(open(sys.argv[1])); instance = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator.check_schema(schema)
checker = jsonschema.Draft202012Validator.FORMAT_CHECKER if sys.argv[3] == "formats" else None
v = jsonschema.Draft202012Validator(schema, format_checker=checker)
errors = sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path))
for e in errors:
    print("/".join(map(str, e.absolute_path)) + ": " + e.message)
sys.exit(1 if errors else 0)
"#;
    let out = Command::new("python3")
        .args([
            "-c",
            program,
            s.to_str().unwrap(),
            i.to_str().unwrap(),
            if formats { "formats" } else { "none" },
        ])
        .output()
        .unwrap();
    match out.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(String::from_utf8_lossy(&out.stdout).into_owned()),
        _ => panic!(
            "the Python validator could not run (pip install jsonschema): {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// A change that makes a good submission bad.
type Change = Box<dyn Fn(&mut Value)>;

fn valid_submission() -> Value {
    json!({
        "antragsteller": {
            "familienname": "Müller",
            "geburtsdatum": "1980-04-01",
            "weiterer_vorname": [{ "wert": "Anna" }, { "wert": "Maria" }]
        },
        "parkzone": "B",
        "fahrzeug": {
            "amtliches_kennzeichen": "KS-AB 123",
            "anzahl_fahrzeuge": 1,
            "abweichender_halter": true,
            "name_des_halters": "Erika Muster"
        },
        "gebuehr": 30.7
    })
}

fn import(reg: &TestRegistry, file: &str, dir: &Path) -> Value {
    let out = reg.cli(
        None,
        &[
            "import",
            "xdatenfelder",
            &fixture(file),
            "--namespace",
            "kassel",
            "--dir",
            dir.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

both_backends! {
    fn imported_schema_validates_publishes_and_serves_its_json_schema(reg) {
        let token = reg.owner_of("kassel");
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("parkausweis");
        let answer = import(reg, "xdf2_S99000001_bewohnerparkausweis.xml", &dir);
        assert_eq!(answer["name"], "kassel/bewohnerparkausweis");
        assert_eq!(answer["version"], "1.3.0");
        let report = &answer["report"];
        assert_eq!(report["standard"], "XDatenfelder 2.0");
        assert_eq!((report["fields"].as_u64(), report["conditions"].as_u64()), (Some(15), Some(1)));
        let kinds: Vec<&str> = report["notes"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
        for k in ["approximated", "dropped", "rule-as-text", "rule-as-condition"] {
            assert!(kinds.contains(&k), "{k} in {kinds:?}");
        }
        let manifest = std::fs::read_to_string(dir.join("gemeinwerk.toml")).unwrap();
        assert!(manifest.contains("[fim]\nid = \"S99000001\"\nversion = \"1.3\""), "{manifest}");

        // The human report lists what was not mapped exactly.
        let again = work.path().join("again");
        let out = reg.cli(None, &["import", "xdatenfelder", &fixture("xdf2_S99000001_bewohnerparkausweis.xml"), "--dir", again.to_str().unwrap()]);
        assert!(out.status.success());
        let human = stderr(&out);
        assert!(human.contains("not mapped exactly (10):"), "{human}");
        // FIM has released none of the fixture's elements (status aktiv
        // without a release date): a warning, and in the JSON report.
        assert!(human.contains("warning: not released by FIM (18); the form may change with them:"), "{human}");
        assert!(human.contains("  F99000006 V1.0 → parkzone: Freigabestatus 2 in Bearbeitung"), "{human}");
        assert_eq!(report["unreleased"].as_array().unwrap().len(), 18);
        let form = std::fs::read_to_string(dir.join("form.toml")).unwrap();
        assert!(form.contains("legal-basis = [\"§ 45 Abs. 1b Nr. 2a StVO\"]"), "{form}");
        assert!(form.contains("fim-status = \"2\""), "{form}");
        assert!(human.contains("rule as condition: <regel> R99000001 V1.0 → fahrzeug.name_des_halters"), "{human}");

        let out = reg.cli(None, &["validate", dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = reg.cli(Some(&token), &["publish", dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));

        // The published schema: stable $id, immutable, the same as the CLI's.
        let path = "/api/v1/packages/kassel/bewohnerparkausweis/1.3.0/schema.json";
        let r = reg.get(path);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("cache-control"), Some("public, max-age=31536000, immutable"));
        assert_eq!(r.header("content-type"), Some("application/schema+json"));
        let schema = r.json();
        assert_eq!(schema["$id"], format!("{}{path}", reg.url));
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
        let out = reg.cli(None, &["export", "json-schema", dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let local: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(local, schema);
        assert_eq!(reg.get(path).body, r.body, "the same bytes every time");

        // The same version as an XDatenfelder 3.0.0 message: immutable too,
        // and imported again it is the package that was published.
        let xdf_path = "/api/v1/packages/kassel/bewohnerparkausweis/1.3.0/xdatenfelder.xml";
        let x = reg.get(xdf_path);
        assert_eq!(x.status, 200, "{}", x.text());
        assert_eq!(x.header("content-type"), Some("application/xml"));
        assert_eq!(x.header("cache-control"), Some("public, max-age=31536000, immutable"));
        assert_eq!(reg.get(xdf_path).body, x.body, "the same bytes every time");
        assert!(x.text().contains("<xdf:xdatenfelder.stammdatenschema.0102"), "{}", x.text());
        let served = work.path().join("served.xml");
        std::fs::write(&served, &x.body).unwrap();
        let back = work.path().join("back");
        let out = reg.cli(None, &["import", "xdatenfelder", served.to_str().unwrap(), "--namespace", "kassel", "--dir", back.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        for file in ["gemeinwerk.toml", "form.toml"] {
            assert_eq!(
                std::fs::read_to_string(dir.join(file)).unwrap(),
                std::fs::read_to_string(back.join(file)).unwrap(),
                "{file}"
            );
        }

        // An independent validator accepts a good submission …
        python_validate(&schema, &valid_submission()).unwrap();
        let mut without_halter = valid_submission();
        without_halter["fahrzeug"]["abweichender_halter"] = json!(false);
        without_halter["fahrzeug"].as_object_mut().unwrap().remove("name_des_halters");
        python_validate(&schema, &without_halter).unwrap();
        // … and refuses bad ones, each for its reason.
        let bad: Vec<(&str, Change, &str)> = vec![
            ("required field missing", Box::new(|v| { v["antragsteller"].as_object_mut().unwrap().remove("familienname"); }), "'familienname' is a required property"),
            ("too long", Box::new(|v| v["antragsteller"]["familienname"] = json!("x".repeat(121))), "is too long"),
            ("not a date", Box::new(|v| v["antragsteller"]["geburtsdatum"] = json!("01.04.1980")), "is not a 'date'"),
            ("pattern", Box::new(|v| v["fahrzeug"]["amtliches_kennzeichen"] = json!("KS AB 123")), "does not match"),
            ("bounds", Box::new(|v| v["fahrzeug"]["anzahl_fahrzeuge"] = json!(4)), "4 is greater than the maximum of 3"),
            ("type", Box::new(|v| v["fahrzeug"]["anzahl_fahrzeuge"] = json!(1.5)), "is not of type 'integer'"),
            ("repeats", Box::new(|v| v["antragsteller"]["weiterer_vorname"] = json!([{"wert":"a"},{"wert":"b"},{"wert":"c"},{"wert":"d"},{"wert":"e"},{"wert":"f"}])), "is too long"),
            ("condition: required when", Box::new(|v| { v["fahrzeug"].as_object_mut().unwrap().remove("name_des_halters"); }), "'name_des_halters' is a required property"),
            ("condition: hidden data", Box::new(|v| v["fahrzeug"]["abweichender_halter"] = json!(false)), "False schema does not allow"),
            ("unknown field", Box::new(|v| v["lieblingsfarbe"] = json!("blau")), "Additional properties are not allowed"),
        ];
        for (what, change, message) in bad {
            let mut v = valid_submission();
            change(&mut v);
            let err = python_validate(&schema, &v).expect_err(what);
            assert!(err.contains(message), "{what}: {err}");
        }
        // Without a format checker the patterns still hold dates to their
        // shape; amounts have at most two decimal places.
        let mut v = valid_submission();
        v["antragsteller"]["geburtsdatum"] = json!("1980-13-01");
        let err = python_validate_without_formats(&schema, &v).unwrap_err();
        assert!(err.contains("does not match"), "{err}");
        python_validate_without_formats(&schema, &valid_submission()).unwrap();
        let mut v = valid_submission();
        v["gebuehr"] = json!(30.705);
        let err = python_validate(&schema, &v).unwrap_err();
        assert!(err.contains("is not a multiple of 0.01"), "{err}");

        // Unknown package or version: a 404 in the JSON error envelope.
        let r = reg.get("/api/v1/packages/kassel/bewohnerparkausweis/9.9.9/schema.json");
        assert_eq!((r.status, r.error_code()), (404, "version_not_found".to_string()));
        let r = reg.get("/api/v1/packages/kassel/nichts/1.0.0/schema.json");
        assert_eq!((r.status, r.error_code()), (404, "package_not_found".to_string()));

        // A process has no submission data.
        let p = process_pkg();
        let out = reg.cli(Some(&token), &["publish", p.path_str()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let r = reg.get("/api/v1/packages/kassel/verfahren/1.0.0/schema.json");
        assert_eq!((r.status, r.error_code()), (409, "not_a_form".to_string()));
        assert!(r.error_detail().contains("kassel/verfahren is a process package"), "{}", r.error_detail());
        let r = reg.get("/api/v1/packages/kassel/verfahren/1.0.0/xdatenfelder.xml");
        assert_eq!((r.status, r.error_code()), (409, "not_a_form".to_string()));
        assert!(r.error_detail().contains("XDatenfelder describes forms"), "{}", r.error_detail());
        let r = reg.get("/api/v1/packages/kassel/bewohnerparkausweis/9.9.9/xdatenfelder.xml");
        assert_eq!((r.status, r.error_code()), (404, "version_not_found".to_string()));

        // Search finds packages by FIM ids: of the manifest's [fim] (the
        // process has no other) and of fields.
        wait_for_found(reg, "S99000001", &["kassel/bewohnerparkausweis", "kassel/verfahren"]);
        wait_for_found(reg, "F99000008", &["kassel/bewohnerparkausweis"]);

        // The XDatenfelder 3.0.0 group publishes as a field group.
        let fg = work.path().join("anschrift");
        let answer = import(reg, "xdf3_G60000000088_anschrift-inland_fixture.xml", &fg);
        assert_eq!(answer["kind"], "fieldgroup");
        let out = reg.cli(Some(&token), &["publish", fg.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let schema = reg.get("/api/v1/packages/kassel/anschrift-inland/1.2.0/schema.json").json();
        python_validate(&schema, &json!({"anschrift_inland_strassenanschrift": {"strasse": "Hauptstraße"}})).unwrap();
        python_validate(&schema, &json!({"anschrift_inland_strassenanschrift": {"strasse": ""}})).unwrap_err();
    }
}

both_backends! {
    fn a_form_schema_includes_its_field_groups_and_never_changes(reg) {
        let token = reg.owner_of("kassel");
        let work = tempfile::tempdir().unwrap();
        let fg = work.path().join("anschrift");
        import(reg, "xdf3_G60000000088_anschrift-inland_fixture.xml", &fg);
        let out = reg.cli(Some(&token), &["publish", fg.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));

        let form = pkg_with("kassel/umzug", "1.0.0", "\n[dependencies]\n\"kassel/anschrift-inland\" = \"^1.2\"\n");
        form.write("form.toml", &format!("{FORM}\n[[group]]\nid = \"anschrift\"\nlabel = \"Neue Anschrift\"\ninclude = \"kassel/anschrift-inland\"\n"));
        let out = reg.cli(Some(&token), &["publish", form.path_str()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let path = "/api/v1/packages/kassel/umzug/1.0.0/schema.json";
        let before = reg.get(path);
        assert_eq!(before.status, 200, "{}", before.text());
        let schema = before.json();
        let strasse = &schema["properties"]["anschrift"]["properties"]["anschrift_inland_strassenanschrift"]["properties"]["strasse"];
        assert_eq!(strasse["maxLength"], 55, "{schema:#}");
        let good = json!({"name": "Erika", "anschrift": {"anschrift_inland_strassenanschrift": {"strasse": "Weg 1"}}});
        python_validate(&schema, &good).unwrap();

        // A newer field group version does not change the published schema.
        let fg2 = work.path().join("anschrift-1.3");
        std::fs::create_dir(&fg2).unwrap();
        for f in ["gemeinwerk.toml", "fieldgroup.toml", "README.md"] {
            let text = std::fs::read_to_string(fg.join(f)).unwrap();
            let text = if f == "gemeinwerk.toml" { text.replace("version = \"1.2.0\"", "version = \"1.3.0\"") } else { text };
            std::fs::write(fg2.join(f), text).unwrap();
        }
        let mut more = std::fs::read_to_string(fg2.join("fieldgroup.toml")).unwrap();
        more.push_str("\n[[field]]\nid = \"hinweis\"\ntype = \"text\"\nlabel = \"Hinweis\"\n");
        std::fs::write(fg2.join("fieldgroup.toml"), more).unwrap();
        let out = reg.cli(Some(&token), &["publish", fg2.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(reg.get(path).body, before.body, "the schema of 1.0.0 is immutable");
        let mut with_hinweis = good.clone();
        with_hinweis["anschrift"]["hinweis"] = json!("Hinterhaus");
        assert!(python_validate(&schema, &with_hinweis).unwrap_err().contains("Additional properties are not allowed"));
        // The folder, resolved today, sees the new field.
        let out = reg.cli(None, &["export", "json-schema", form.path_str()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let now: Value = serde_json::from_slice(&out.stdout).unwrap();
        python_validate(&now, &with_hinweis).unwrap();
    }
}

/// Polls the search until exactly `expected` are found (it follows
/// publishes within about a second).
fn wait_for_found(reg: &TestRegistry, q: &str, expected: &[&str]) {
    common::wait_for_search(
        reg,
        &format!("q={q}"),
        std::time::Duration::from_secs(10),
        |v| {
            let mut found: Vec<String> = v["hits"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|h| {
                    format!(
                        "{}/{}",
                        h["namespace"].as_str().unwrap_or(""),
                        h["name"].as_str().unwrap_or("")
                    )
                })
                .collect();
            found.sort();
            found == expected
        },
    );
}

fn process_pkg() -> PackageDir {
    let p = PackageDir {
        dir: tempfile::tempdir().unwrap(),
    };
    p.write(
        "gemeinwerk.toml",
        "[package]\nname = \"kassel/verfahren\"\nversion = \"1.0.0\"\nkind = \"process\"\ndescription = \"Ein Verfahren\"\nlicense = \"EUPL-1.2\"\nthemenfeld = \"mobilitaet_reisen\"\n\n[fim]\nid = \"S99000001\"\nversion = \"1.3\"\n",
    )
    .write(
        "process.toml",
        r#"[process]
title = "Prüfung"

[roles]
antragsteller = "Antragstellende Person"
sachbearbeitung = "Sachbearbeitung"

[[state]]
id = "eingang"
label = "Eingang"
start = true

[[state]]
id = "bewilligt"
label = "Bewilligt"
end = "bewilligt"

[[state]]
id = "abgelehnt"
label = "Abgelehnt"
end = "abgelehnt"

[[state]]
id = "zurueckgezogen"
label = "Zurückgezogen"
end = "zurückgezogen"

[[transition]]
id = "bewilligen"
from = "eingang"
to = "bewilligt"
role = "sachbearbeitung"
action = "bewilligen"

[[transition]]
id = "ablehnen"
from = "eingang"
to = "abgelehnt"
role = "sachbearbeitung"
action = "ablehnen"

[[transition]]
id = "zurueckziehen"
from = "eingang"
to = "zurueckgezogen"
role = "antragsteller"
action = "zurueckziehen"
"#,
    );
    p
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(common::BIN)
        .args(args)
        .env("GEMEINWERK_REGISTRY", "http://127.0.0.1:9")
        .output()
        .unwrap()
}

/// Hostile or wrong XML: exit code 1, a message that says why, and the
/// target folder (and nothing else) is not there afterwards.
#[test]
fn hostile_xml_is_refused_and_nothing_is_written() {
    let ns2 = "urn:xoev-de:fim:standard:xdatenfelder_2";
    let root = "xdf:xdatenfelder.stammdatenschema.0102";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "xxe",
            format!("<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<{root} xmlns:xdf=\"{ns2}\">&xxe;</{root}>").into_bytes(),
            "line 2: the document has a document type declaration",
        ),
        (
            "billion-laughs",
            format!("<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]><{root} xmlns:xdf=\"{ns2}\">&lol3;</{root}>").into_bytes(),
            "DTDs are refused because they can define external entities (XXE) and entity expansion",
        ),
        (
            "undeclared-entity",
            format!("<{root} xmlns:xdf=\"{ns2}\">\n<xdf:header>&xxe;</xdf:header></{root}>").into_bytes(),
            "line 2: the entity reference &xxe; is refused",
        ),
        (
            "deep",
            format!("<{root} xmlns:xdf=\"{ns2}\">{}{}</{root}>", "<xdf:struktur>".repeat(5000), "</xdf:struktur>".repeat(5000)).into_bytes(),
            "the elements nest deeper than 256 levels",
        ),
        (
            "wrong-namespace",
            b"<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf=\"urn:xoev-de:fim:standard:xdatenfelder_9\"/>".to_vec(),
            "is in the namespace \"urn:xoev-de:fim:standard:xdatenfelder_9\"",
        ),
        (
            "wrong-root",
            format!("<xdf:antrag xmlns:xdf=\"{ns2}\"/>").into_bytes(),
            "the root element is <antrag>",
        ),
        (
            "malformed",
            format!("<{root} xmlns:xdf=\"{ns2}\">\n<xdf:header>\n</{root}>").into_bytes(),
            "line 3: the XML is malformed",
        ),
        ("not-utf8", b"<r>\xe4</r>".to_vec(), "is not UTF-8 text"),
        (
            "not-a-schema",
            format!("<{root} xmlns:xdf=\"{ns2}\"><xdf:header/></{root}>").into_bytes(),
            "has no <stammdatenschema>",
        ),
        (
            "twice",
            std::fs::read_to_string(fixture("xdf2_S99000001_bewohnerparkausweis.xml"))
                .unwrap()
                .replacen("<xdf:name>Familienname</xdf:name>", "<xdf:name>Familienname</xdf:name><xdf:name>Name</xdf:name>", 1)
                .into_bytes(),
            "twice.xml:60:34: <name> appears a second time in <datenfeld>",
        ),
    ];
    for (name, bytes, message) in cases {
        let work = tempfile::tempdir().unwrap();
        let file = work.path().join(format!("{name}.xml"));
        std::fs::write(&file, bytes).unwrap();
        let out_dir = work.path().join("out");
        let out = run(&[
            "import",
            "xdatenfelder",
            file.to_str().unwrap(),
            "--dir",
            out_dir.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(message), "{name}: {err}");
        assert!(err.contains("nothing was written"), "{name}: {err}");
        assert!(!out_dir.exists(), "{name}: the folder was written");
        let left: Vec<PathBuf> = std::fs::read_dir(work.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(left, vec![file], "{name}: only the input is there");
    }
}

#[test]
fn huge_xml_is_refused_before_it_is_read() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("huge.xml");
    let f = std::fs::File::create(&file).unwrap();
    f.set_len(33 * 1024 * 1024).unwrap();
    let out_dir = work.path().join("out");
    let out = run(&[
        "import",
        "xdatenfelder",
        file.to_str().unwrap(),
        "--dir",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("more than 33554432 bytes"),
        "{}",
        stderr(&out)
    );
    assert!(!out_dir.exists());
}

#[test]
fn import_does_not_overwrite_a_folder() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("mine.txt"), "meins").unwrap();
    let out = run(&[
        "import",
        "xdatenfelder",
        &fixture("xdf3_G60000000088_anschrift-inland_fixture.xml"),
        "--dir",
        work.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 1);
}

/// The OMG BPMN 2.0 XSDs, as the SpiffWorkflow package on PyPI ships them,
/// fetched once into the target folder.
fn bpmn_xsd() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bpmn-xsd");
    if dir.join("BPMN20.xsd").is_file() {
        return dir;
    }
    tool("python3", "Python 3 with pip fetches the XSDs from PyPI");
    let download = tempfile::tempdir().unwrap();
    let out = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "-d",
            download.path().to_str().unwrap(),
            "spiffworkflow==3.2.0",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pip download spiffworkflow failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let program = r#"
import glob, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
os.makedirs(sys.argv[2], exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for name in ["BPMN20.xsd", "Semantic.xsd", "BPMNDI.xsd", "DI.xsd", "DC.xsd"]:
        data = z.read("SpiffWorkflow/bpmn/parser/schema/" + name)
        open(os.path.join(sys.argv[2], name), "wb").write(data)
"#;
    let staging =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bpmn-xsd-{}", std::process::id()));
    let out = Command::new("python3")
        .args([
            "-c",
            program,
            download.path().to_str().unwrap(),
            staging.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Another test may have won the race; either copy is the same.
    let _ = std::fs::rename(&staging, &dir);
    dir
}

fn xmllint(xsd: &Path, file: &Path) -> std::process::Output {
    tool("xmllint", "apt-get install libxml2-utils");
    Command::new("xmllint")
        .args([
            "--noout",
            "--nonet",
            "--schema",
            xsd.join("BPMN20.xsd").to_str().unwrap(),
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap()
}

fn demo_process() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("demo/kassel-bewohnerparken-verfahren")
        .display()
        .to_string()
}

#[test]
fn bpmn_export_is_valid_against_the_omg_xsd() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("verfahren.bpmn");
    let out = run(&[
        "export",
        "bpmn",
        &demo_process(),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let xsd = bpmn_xsd();
    let check = xmllint(&xsd, &file);
    assert!(check.status.success(), "xmllint: {}", stderr(&check));
    assert!(stderr(&check).contains("validates"));
    // The check can fail: a sequence flow without its target does not validate.
    let broken = std::fs::read_to_string(&file)
        .unwrap()
        .replacen(" targetRef=", " target=", 1);
    let bad = work.path().join("broken.bpmn");
    std::fs::write(&bad, broken).unwrap();
    assert!(!xmllint(&xsd, &bad).status.success());

    // Without -o the XML goes to stdout; a form has no BPMN.
    let out = run(&["export", "bpmn", &demo_process()]);
    assert_eq!(stdout(&out), std::fs::read_to_string(&file).unwrap());
    let form = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/kassel-bewohnerparkausweis");
    let out = run(&["export", "bpmn", form.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is a form package; BPMN describes a process"),
        "{}",
        stderr(&out)
    );
    let out = run(&["export", "json-schema", "--offline", &demo_process()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("a JSON Schema describes the data of a form"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bpmn_export_opens_in_bpmn_moddle_without_warnings() {
    tool("node", "install Node.js");
    let node_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop-node");
    assert!(
        node_dir.join("node_modules/bpmn-moddle").is_dir(),
        "bpmn-moddle is missing: run `npm ci` in {} (.ci/run does)",
        node_dir.display()
    );
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("verfahren.bpmn");
    let out = run(&[
        "export",
        "bpmn",
        &demo_process(),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let check = Command::new("node")
        .arg(node_dir.join("check-bpmn.mjs"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(check.status.success(), "bpmn-moddle: {}", stderr(&check));
    let summary: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(summary["userTasks"], 12);
    assert_eq!(summary["exclusiveGateways"], 5);
    assert_eq!(summary["startEvents"], 1);
    assert_eq!(summary["endEvents"], 3);
    assert_eq!(
        summary["lanes"],
        json!([
            "Antragstellende Person",
            "Sachbearbeitung Straßenverkehrsbehörde",
            "Stadtkasse"
        ])
    );
    assert_eq!(
        summary["undrawn"],
        json!([]),
        "every element has a shape or an edge"
    );
    assert_eq!(summary["edges"], summary["sequenceFlows"]);
    // The check can fail: a dangling reference is a warning there.
    let broken = std::fs::read_to_string(&file).unwrap().replacen(
        "<bpmn:flowNodeRef>Task_",
        "<bpmn:flowNodeRef>Nope_",
        1,
    );
    let bad = work.path().join("broken.bpmn");
    std::fs::write(&bad, broken).unwrap();
    let check = Command::new("node")
        .arg(node_dir.join("check-bpmn.mjs"))
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!check.status.success());
    assert!(
        stderr(&check).contains("unresolved reference"),
        "{}",
        stderr(&check)
    );
}

/// The harmonised Datenfeldgruppe "Fahrzeug" (G99000002 1.1) of the
/// Bewohnerparkausweis fixture, published as a field group package.
/// Runs the independent XDatenfelder reader (tests/interop-node) on `file`.
fn xdatenfelder_xml(file: &Path) -> std::process::Output {
    tool("node", "install Node.js");
    let node_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop-node");
    assert!(
        node_dir.join("node_modules/xdatenfelder-xml").is_dir(),
        "xdatenfelder-xml is missing: run `npm ci` in {} (.ci/run does)",
        node_dir.display()
    );
    Command::new("node")
        .arg(node_dir.join("check-xdatenfelder.mjs"))
        .arg(file)
        .output()
        .unwrap()
}

/// Every fixture through the CLI: import, export as XDatenfelder 3.0.0,
/// read by an independent parser, imported again into the same package.
#[test]
fn xdatenfelder_export_reads_back_and_in_an_independent_parser() {
    let work = tempfile::tempdir().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(Path::new(&fixture("")))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    names.sort();
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        let first = work.path().join(format!("{name}.first"));
        let out = run(&[
            "import",
            "xdatenfelder",
            &fixture(name),
            "--offline",
            "--dir",
            first.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let xml = work.path().join(format!("{name}.export.xml"));
        let out = run(&[
            "export",
            "xdatenfelder",
            first.to_str().unwrap(),
            "-o",
            xml.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let check = xdatenfelder_xml(&xml);
        assert!(
            check.status.success(),
            "{name}: xdatenfelder-xml refused the export: {}\n{}",
            stderr(&check),
            std::fs::read_to_string(&xml).unwrap()
        );
        let summary: Value = serde_json::from_slice(&check.stdout).unwrap();
        assert!(summary["fields"].as_u64().unwrap() > 0, "{name}: {summary}");
        let again = work.path().join(format!("{name}.again"));
        let out = run(&[
            "import",
            "xdatenfelder",
            xml.to_str().unwrap(),
            "--offline",
            "--dir",
            again.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        for file in ["gemeinwerk.toml", "form.toml", "fieldgroup.toml"] {
            let a = std::fs::read_to_string(first.join(file)).ok();
            let b = std::fs::read_to_string(again.join(file)).ok();
            assert_eq!(a, b, "{name}: {file} changed on the way round");
        }
    }
    // The reader is strict: a field without its Vorbefüllung is refused.
    let xml = work.path().join(format!("{}.export.xml", names[0]));
    let broken = std::fs::read_to_string(&xml)
        .unwrap()
        .replacen("<xdf:vorbefuellung>", "<xdf:vorbefuellungX>", 1)
        .replacen("</xdf:vorbefuellung>", "</xdf:vorbefuellungX>", 1);
    let bad = work.path().join("broken.xml");
    std::fs::write(&bad, broken).unwrap();
    assert!(!xdatenfelder_xml(&bad).status.success());
}

/// What the standard does not allow, refused by the import with its place
/// and by the independent parser too: a second `praezisierung`, an unknown
/// element in `identifikation`, a Freigabestatus outside its list, an
/// element without id. (xdatenfelder-xml does not check one id defined
/// twice differently, the fifth refusal of the import; see docs/interop.md.)
#[test]
fn what_the_import_refuses_the_independent_parser_refuses_too() {
    let name = "xdf3_G60000000088_anschrift-inland_fixture.xml";
    let good = std::fs::read_to_string(fixture(name)).unwrap();
    let work = tempfile::tempdir().unwrap();
    let original = work.path().join("good.xml");
    std::fs::write(&original, &good).unwrap();
    assert!(xdatenfelder_xml(&original).status.success());
    let praezisierung = r#"<xdf:praezisierung minLength="1" maxLength="55"/>"#;
    let cases = [
        (
            "a second praezisierung",
            good.replacen(praezisierung, &format!("{praezisierung}{praezisierung}"), 1),
            "appears a second time",
        ),
        (
            "an unknown element in identifikation",
            good.replacen(
                "<xdf:version>1.2.0</xdf:version>",
                "<xdf:version>1.2.0</xdf:version><xdf:kennung>x</xdf:kennung>",
                1,
            ),
            "is not part of <identifikation>",
        ),
        (
            "a Freigabestatus outside its list",
            good.replacen("<code>6</code>", "<code>9</code>", 1),
            "no code of its list",
        ),
        (
            "an element without id",
            good.replacen("<xdf:id>G60000000088</xdf:id>", "", 1),
            "has no id",
        ),
    ];
    for (case, xml, why) in cases {
        assert_ne!(xml, good, "{case}: the fixture changed, the case is void");
        let file = work.path().join("bad.xml");
        std::fs::write(&file, &xml).unwrap();
        let dir = work.path().join("out");
        let out = run(&[
            "import",
            "xdatenfelder",
            file.to_str().unwrap(),
            "--offline",
            "--dir",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{case}: {}", stderr(&out));
        let place = format!("{}:", file.display());
        assert!(
            stderr(&out).contains(&place) && stderr(&out).contains(why),
            "{case}: {}",
            stderr(&out)
        );
        assert!(!dir.exists(), "{case}: something was written");
        let other = xdatenfelder_xml(&file);
        assert!(
            !other.status.success(),
            "{case}: xdatenfelder-xml read it: {}",
            stdout(&other)
        );
    }
}

/// A form of our own: what XDatenfelder has no place for is named, and
/// without the registry the included groups cannot be written.
#[test]
fn xdatenfelder_export_of_a_form_says_what_it_leaves_out() {
    let form = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/kassel-bewohnerparkausweis");
    let out = run(&["export", "xdatenfelder", form.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("includes fim/natuerliche-person, which was not resolved"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("form.xml");
    let out = run(&[
        "export",
        "xdatenfelder",
        form.to_str().unwrap(),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!file.exists(), "a refused export wrote its file");
    let group = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/fim-fahrzeug");
    let out = Command::new(common::BIN)
        .args(["export", "xdatenfelder", group.to_str().unwrap()])
        .env("GEMEINWERK_REGISTRY", "http://127.0.0.1:9")
        .env("LANG", "de_DE.UTF-8")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("<xdf:xdatenfelder.datenfeldgruppe.0103"));
    // What it leaves out, in German under a German locale.
    assert!(
        stderr(&out).contains("englische Texte") && stderr(&out).contains("Beispiele"),
        "{}",
        stderr(&out)
    );
    let process = run(&["export", "xdatenfelder", &demo_process()]);
    assert_eq!(process.status.code(), Some(1));
    assert!(
        stderr(&process).contains("XDatenfelder describes forms"),
        "{}",
        stderr(&process)
    );
}

fn fahrzeug_fieldgroup() -> PackageDir {
    let p = pkg_with(
        "fim/fahrzeug",
        "1.1.0",
        "[fim]\nid = \"G99000002\"\nversion = \"1.1\"\n",
    );
    let manifest = std::fs::read_to_string(p.path().join("gemeinwerk.toml")).unwrap();
    p.write(
        "gemeinwerk.toml",
        &manifest.replace("kind = \"form\"", "kind = \"fieldgroup\""),
    );
    std::fs::remove_file(p.path().join("form.toml")).unwrap();
    p.write(
        "fieldgroup.toml",
        "[fieldgroup]\nlabel = \"Fahrzeug\"\nfim-id = \"G99000002\"\nfim-version = \"1.1\"\n\n\
         [[field]]\nid = \"amtliches_kennzeichen\"\ntype = \"text\"\nlabel = \"Amtliches Kennzeichen\"\nrequired = true\n",
    );
    p
}

both_backends! {
    // A Datenfeldgruppe the registry holds as a field group package (same
    // FIM id and version) is included, not copied.
    fn a_harmonised_group_is_included_not_copied(reg) {
        let fim = reg.owner_of("fim");
        let out = reg.cli(Some(&fim), &["publish", fahrzeug_fieldgroup().path_str()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let r = reg.get("/api/v1/fim?id=G99000002&version=1.1");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json(), json!({ "packages": [{ "package": "fim/fahrzeug", "version": "1.1.0", "kind": "fieldgroup", "fim_id": "G99000002", "fim_version": "1.1" }] }));
        assert_eq!(reg.get("/api/v1/fim?id=G99000002&version=1.2").json(), json!({ "packages": [] }));
        for bad in ["/api/v1/fim", "/api/v1/fim?id=G99000002", "/api/v1/fim?id=G1&version=1&fim=2"] {
            let r = reg.get(bad);
            assert_eq!(r.status, 400, "{bad}: {}", r.text());
            assert_eq!(r.json()["errors"][0]["code"], "bad_query", "{bad}");
        }

        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("antrag");
        let out = reg.cli(None, &["import", "xdatenfelder", &fixture("xdf2_S99000001_bewohnerparkausweis.xml"), "--namespace", "kassel", "--dir", dir.to_str().unwrap(), "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let manifest = std::fs::read_to_string(dir.join("gemeinwerk.toml")).unwrap();
        assert!(manifest.contains("\"fim/fahrzeug\" = \"^1.1.0\""), "{manifest}");
        let form = std::fs::read_to_string(dir.join("form.toml")).unwrap();
        assert!(form.contains("include = \"fim/fahrzeug\""), "{form}");
        assert!(!form.contains("F99000012"), "the group's fields are not copied: {form}");
        // The other group (G99000001) is not in the registry: copied.
        assert!(form.contains("fim-id = \"G99000001\""), "{form}");

        let kassel = reg.owner_of("kassel");
        let out = reg.cli(Some(&kassel), &["publish", dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let schema = reg.get("/api/v1/packages/kassel/bewohnerparkausweis/1.3.0/schema.json").json();
        let fahrzeug = &schema["properties"]["fahrzeug"];
        assert_eq!(fahrzeug["properties"]["amtliches_kennzeichen"]["type"], "string", "{fahrzeug}");
        assert!(fahrzeug["properties"].get("anzahl_fahrzeuge").is_none(), "the package's fields, not the copy's: {fahrzeug}");
    }
}
