//! Issue 14, point 10: importing a genericode code list of 200 and of
//! 20,000 rows (read the XML, make the package, write `codelist.toml`,
//! check the written files as `gemeinwerk validate` would) under 20 ms and
//! 200 ms at p50, and the JSON Schema of a form with 50 code-list fields
//! under 20 ms; side by side with `xmllint --noout` of the same files (a
//! parse, nothing more, process start included).
//! `cargo bench --bench codelists` prints p50, p99 and the ratios.

use std::fmt::Write as _;
use std::hint::black_box;
use std::process::Command;
use std::time::Duration;

use gemeinwerk_package::content::{parse_content, Content, DependencyContent};
use gemeinwerk_package::interop::codelist_import::{import, CodelistImportOptions};
use gemeinwerk_package::interop::genericode;
use gemeinwerk_package::interop::json_schema::json_schema;
use gemeinwerk_package::manifest::parse_manifest;
use gemeinwerk_package::PackageKind;

mod support;
use support::{measure, ms};

/// A genericode list shaped like the XRepository's: a key column, a German
/// label, an English label, and an XÖV description around it.
fn genericode_list(rows: usize) -> String {
    let mut x = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<gc:CodeList xmlns:gc="http://docs.oasis-open.org/codelist/ns/genericode/1.0/">
   <Identification>
      <ShortName>staat</ShortName>
      <LongName>Staaten und Gebiete</LongName>
      <Version>2024-02-01</Version>
      <CanonicalUri>urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staat</CanonicalUri>
      <CanonicalVersionUri>urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staat_2024-02-01</CanonicalVersionUri>
      <Agency><LongName>Statistisches Bundesamt</LongName></Agency>
   </Identification>
   <ColumnSet>
      <Column Id="code" Use="required"><ShortName>code</ShortName><Data Type="string"/></Column>
      <Column Id="name-de" Use="required"><ShortName>name</ShortName><Data Type="string" Lang="de"/></Column>
      <Column Id="name-en" Use="optional"><ShortName>name-en</ShortName><Data Type="string" Lang="en"/></Column>
      <Key Id="codeKey"><ShortName>codeKey</ShortName><ColumnRef Ref="code"/></Key>
   </ColumnSet>
   <SimpleCodeList>
"#,
    );
    for i in 0..rows {
        let _ = write!(
            x,
            "      <Row>\n         <Value ColumnRef=\"code\"><SimpleValue>{i:05}</SimpleValue></Value>\n         \
             <Value ColumnRef=\"name-de\"><SimpleValue>Gebiet Nummer {i}</SimpleValue></Value>\n         \
             <Value ColumnRef=\"name-en\"><SimpleValue>Territory {i}</SimpleValue></Value>\n      </Row>\n"
        );
    }
    x.push_str("   </SimpleCodeList>\n</gc:CodeList>\n");
    x
}

fn opts() -> CodelistImportOptions {
    CodelistImportOptions {
        namespace: "destatis".into(),
        name: None,
        version: None,
        license: "CC0-1.0".into(),
    }
}

/// Import as the CLI does it: read, map, write the files, check them.
fn import_whole(xml: &[u8]) -> usize {
    let list = genericode::read(xml).unwrap();
    let files = import(&list, &opts()).unwrap().files();
    gemeinwerk_package::check_package(&files).unwrap();
    files.len()
}

fn bench_import(rows: usize, goal_ms: f64) -> (String, Duration, Option<Duration>) {
    let xml = genericode_list(rows);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &xml).unwrap();
    println!("\n{rows} rows: {} bytes of genericode", xml.len());
    let runs = if rows > 1_000 { 100 } else { 200 };
    let (p50, p99) = measure(
        &format!("import genericode, {rows} rows, checked"),
        runs,
        || {
            black_box(import_whole(black_box(xml.as_bytes())));
        },
    );
    measure(
        &format!("  of which: genericode::read, {rows} rows"),
        100,
        || {
            black_box(genericode::read(black_box(xml.as_bytes())).unwrap());
        },
    );
    let list = genericode::read(xml.as_bytes()).unwrap();
    measure("  of which: the package files written", 100, || {
        black_box(import(black_box(&list), &opts()).unwrap().files());
    });
    let files = import(&list, &opts()).unwrap().files();
    measure("  of which: the files checked", 100, || {
        black_box(gemeinwerk_package::check_package(black_box(&files)).unwrap());
    });
    if let Some((lint, _)) = xmllint(file.path()) {
        println!("import / xmllint --noout: {:.2}×", ms(p50) / ms(lint));
    }
    let verdict = if ms(p50) < goal_ms { "met" } else { "NOT met" };
    (
        format!("import of {rows} rows: goal p50 under {goal_ms} ms — {verdict}"),
        p50,
        p99,
    )
}

fn xmllint(path: &std::path::Path) -> Option<(Duration, Option<Duration>)> {
    Command::new("xmllint").arg("--version").output().ok()?;
    Some(measure(
        "xmllint --noout FILE (a user's parse check)",
        30,
        || {
            let out = Command::new("xmllint")
                .args(["--noout", path.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(out.status.success());
        },
    ))
}

/// A form with 50 select fields, each naming a code list package of 250
/// codes (the size of the Staatsangehörigkeiten) that it depends on.
fn bench_form_schema() -> (String, Duration, Option<Duration>) {
    let list_xml = genericode_list(250);
    let list = genericode::read(list_xml.as_bytes()).unwrap();
    let imported = import(&list, &opts()).unwrap();
    let mut deps = std::collections::BTreeMap::new();
    let mut manifest = String::from(
        "[package]\nname = \"kassel/antrag\"\nversion = \"1.0.0\"\nkind = \"form\"\n\
         description = \"x\"\nlicense = \"EUPL-1.2\"\nthemenfeld = \"querschnitt\"\n[dependencies]\n",
    );
    let mut form = String::from("[form]\ntitle = \"Antrag\"\nvertrauensniveau = \"niedrig\"\n");
    for i in 0..50 {
        let name = format!("destatis/staat-{i}");
        let _ = writeln!(manifest, "\"{name}\" = \"^20240201\"");
        let _ = write!(
            form,
            "\n[[field]]\nid = \"staat_{i}\"\ntype = \"select\"\nlabel = \"Staat {i}\"\ncodelist = \"{name}\"\n"
        );
        deps.insert(name, Content::Codelist(imported.content.clone()));
    }
    let (manifest, _) = parse_manifest(&manifest).unwrap();
    let content = parse_content(PackageKind::Form, &form).unwrap();
    let deps = DependencyContent::resolved(deps);
    let schema = json_schema(&manifest, &content, &deps, "https://registry.example").unwrap();
    assert_eq!(
        schema["properties"]["staat_49"]["enum"]
            .as_array()
            .unwrap()
            .len(),
        250
    );
    println!("\na form with 50 code-list fields of 250 codes each");
    let (p50, p99) = measure("export json-schema", 200, || {
        black_box(json_schema(&manifest, &content, &deps, "https://registry.example").unwrap());
    });
    let verdict = if ms(p50) < 20.0 { "met" } else { "NOT met" };
    (
        format!("JSON Schema of the form: goal p50 under 20 ms — {verdict}"),
        p50,
        p99,
    )
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test` run lists no tests.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let results = [
        bench_import(200, 20.0),
        bench_import(20_000, 200.0),
        bench_form_schema(),
    ];
    println!();
    for (goal, p50, p99) in results {
        println!(
            "{goal} (p50 {:.3} ms, p99 {})",
            ms(p50),
            support::ms_or_dash(p99)
        );
    }
}
