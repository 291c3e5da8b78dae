//! Issue 3, point 8: validating a form of 500 fields and 200 conditions
//! takes under 10 ms; diffing two such versions under 10 ms.
//! Dependency-free: `cargo bench --bench package` prints p50 and p99.

use std::hint::black_box;

use gemeinwerk_package::content::{check_with, parse_content, DependencyContent};
use gemeinwerk_package::diff::diff;
use gemeinwerk_package::manifest::{parse_manifest, PackageKind};
use gemeinwerk_package::PackageFiles;

mod support;
use support::measure;

const MANIFEST: &str = r#"[package]
name = "bench/gross"
version = "1.0.0"
kind = "form"
description = "Ein großes Formular für den Benchmark"
license = "EUPL-1.2"
themenfeld = "querschnitt"
"#;

/// 50 groups of 10 fields; 200 of the fields carry a condition.
fn form(variant: u32) -> String {
    let mut s = String::from(
        "[form]\ntitle = \"Großes Formular\"\nvertrauensniveau = \"substanziell\"\naccounts = [\"BundID\"]\n\n[codelist.auswahl]\nlabel = \"Auswahl\"\ncodes = [{ code = \"A\", label = \"A\" }, { code = \"B\", label = \"B\" }, { code = \"C\", label = \"C\" }]\n",
    );
    let mut conditions = 0;
    for g in 0..50 {
        s.push_str(&format!(
            "\n[[group]]\nid = \"gruppe_{g}\"\nlabel = \"Gruppe {g}\"\n"
        ));
        for f in 0..10 {
            let id = format!("feld_{g}_{f}");
            let (ty, extra) = match f % 5 {
                0 => ("boolean", String::new()),
                1 => ("select", "codelist = \"auswahl\"\n".to_string()),
                2 => (
                    "text",
                    format!(
                        "max-length = {}\npattern = \"[A-Z][a-z]{{0,{}}}\"\nexamples = [\"Abc\"]\n",
                        50 + variant,
                        g + 2
                    ),
                ),
                3 => ("integer", "min = 0\nmax = 1000\n".to_string()),
                _ => ("date", "min = \"today-P1Y\"\n".to_string()),
            };
            s.push_str(&format!("\n[[group.field]]\nid = \"{id}\"\ntype = \"{ty}\"\nlabel = \"Feld {g}/{f} v{variant}\"\n{extra}"));
            if conditions < 200 && f >= 2 && f % 2 == 0 {
                conditions += 1;
                s.push_str(&format!(
                    "shown-when = \"feld_{g}_0 == true && feld_{g}_1 in [\\\"A\\\", \\\"B\\\"] || gruppe_{}.feld_{}_3 > 10\"\n",
                    (g + 1) % 50,
                    (g + 1) % 50
                ));
            }
        }
    }
    assert_eq!(conditions, 200);
    s
}

fn main() {
    let (manifest, _) = parse_manifest(MANIFEST).unwrap();
    let old = form(0);
    let new = form(1);
    let mut files = PackageFiles::new();
    files.insert("form.toml".into(), old.as_bytes().to_vec());
    files.insert("README.md".into(), b"# Benchmark".to_vec());
    let deps = DependencyContent::unresolved();
    let (_, found) = check_with(&manifest, &files, &deps);
    assert!(found.is_empty(), "{found:?}");
    println!("form.toml: {} bytes, 500 fields, 200 conditions", old.len());

    measure("toml::Table parse alone (for comparison)", 100, || {
        black_box(black_box(&old).parse::<toml::Table>().unwrap());
    });
    measure("validate (parse + all checks)", 200, || {
        black_box(check_with(&manifest, black_box(&files), &deps));
    });
    let a = parse_content(PackageKind::Form, &old).unwrap();
    let b = parse_content(PackageKind::Form, &new).unwrap();
    measure("diff (parsed versions, 700 changes)", 200, || {
        black_box(diff(&manifest, black_box(&a), &manifest, black_box(&b)));
    });
    measure("diff including parsing both files", 200, || {
        let a = parse_content(PackageKind::Form, black_box(&old)).unwrap();
        let b = parse_content(PackageKind::Form, black_box(&new)).unwrap();
        black_box(diff(&manifest, &a, &manifest, &b));
    });
}
