//! Issue 8, point 6: importing a FIM Stammdatenschema of 500 fields takes
//! under 50 ms. The import is measured whole (read the XML, map, write the
//! TOML files, validate them as `gemeinwerk validate` would), side by side
//! with what a user would otherwise run on the same file: a bare quick-xml
//! pass over its events, and `xmllint --noout` (a parse, nothing more).
//! `cargo bench --bench interop` prints p50, p99 and the ratios.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use gemeinwerk_package::content::DependencyContent;
use gemeinwerk_package::interop::json_schema::json_schema;
use gemeinwerk_package::interop::xdatenfelder::{import, ImportOptions};

mod support;
use support::measure;

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fim/xdf2_S90000000_generated_500_fields.xml");
    let xml = std::fs::read(&path).unwrap();
    let opts = ImportOptions::default();
    let imported = import(&xml, &opts).unwrap();
    assert_eq!(imported.report.fields, 500);
    println!(
        "{}: {} bytes, {} fields, {} groups, {} conditions",
        path.file_name().unwrap().to_string_lossy(),
        xml.len(),
        imported.report.fields,
        imported.report.groups,
        imported.report.conditions
    );

    let (events, _) = measure("quick-xml: read every event (for comparison)", 200, || {
        let mut r = quick_xml::Reader::from_reader(black_box(xml.as_slice()));
        let mut buf = Vec::new();
        let mut n = 0usize;
        loop {
            match r.read_event_into(&mut buf).unwrap() {
                quick_xml::events::Event::Eof => break,
                _ => n += 1,
            }
            buf.clear();
        }
        black_box(n);
    });
    let xmllint = Command::new("xmllint").arg("--version").output().is_ok();
    let lint = xmllint.then(|| {
        measure("xmllint --noout FILE (a user's parse check)", 30, || {
            let out = Command::new("xmllint")
                .args(["--noout", path.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(out.status.success());
        })
    });
    let (import_p50, import_p99) = measure("import: XML → package files, validated", 200, || {
        black_box(import(black_box(&xml), &opts).unwrap());
    });
    let files = imported.files();
    measure("  of which: validating the written files", 200, || {
        black_box(gemeinwerk_package::check_package(black_box(&files)).unwrap());
    });
    measure("export json-schema of the imported form", 200, || {
        black_box(
            json_schema(
                &imported.manifest,
                &imported.content,
                &DependencyContent::unresolved(),
                "https://registry.example",
            )
            .unwrap(),
        );
    });

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!();
    println!(
        "goal: import under 50 ms — p50 {:.3} ms, p99 {:.3} ms: {}",
        ms(import_p50),
        ms(import_p99.expect("200 runs give a p99")),
        if import_p99.is_some_and(|p| ms(p) < 50.0) {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "import / bare quick-xml event pass: {:.1}×",
        ms(import_p50) / ms(events)
    );
    match lint {
        Some((p50, _)) => println!(
            "import / xmllint --noout (process start included): {:.2}×",
            ms(import_p50) / ms(p50)
        ),
        None => println!("xmllint not installed: no comparison with it"),
    }
}
