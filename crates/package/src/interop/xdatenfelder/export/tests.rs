use std::collections::BTreeMap;
use std::path::Path;

use chrono::TimeZone;

use super::super::tests::{fixture, with_parkzonen, ODD_SCHEMA, XDF3_SCHEMA};
use super::super::{import, ImportOptions, Imported, PackageRef};
use super::*;
use crate::content::read_content;
use crate::write;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
}

/// Every XDatenfelder document of the repository: the fixture files and
/// the documents written into the import's tests.
fn sources() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fim");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".xml"))
        .map(|n| {
            let bytes = fixture(&n);
            (n, bytes)
        })
        .collect();
    out.sort();
    assert!(out.len() >= 4, "the fixtures are missing: {out:?}");
    out.push(("XDF3_SCHEMA".into(), XDF3_SCHEMA.as_bytes().to_vec()));
    out.push(("ODD_SCHEMA".into(), ODD_SCHEMA.as_bytes().to_vec()));
    out
}

/// The manifest and content file: what makes the package (the README
/// carries the import's report, which names the source).
fn package_of(imp: &Imported) -> (String, String) {
    (
        write::write_manifest(&imp.manifest),
        write::write_content(&imp.content),
    )
}

fn round_trip(name: &str, src: &[u8], opts: &ImportOptions, deps: &DependencyContent) -> Exported {
    let first = import(src, opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    let out = export(&first.manifest, &first.content, deps, at())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let again = import(out.xml.as_bytes(), opts)
        .unwrap_or_else(|e| panic!("{name}: the export does not import: {e}\n{}", out.xml));
    let (a, b) = (package_of(&first), package_of(&again));
    if a != b {
        panic!(
            "{name}: import → export → import changed the package:\n{}{}",
            changed_lines(&a.0, &b.0),
            changed_lines(&a.1, &b.1)
        );
    }
    assert_eq!(again.report.standard, "XDatenfelder 3.0.0");
    // And the second export is the first, byte for byte.
    let twice = export(&again.manifest, &again.content, deps, at()).unwrap();
    assert_eq!(out.xml, twice.xml, "{name}: the export is not stable");
    out
}

/// The lines of `a` not in `b` (-) and of `b` not in `a` (+).
fn changed_lines(a: &str, b: &str) -> String {
    let mut out = String::new();
    for l in a.lines().filter(|l| !b.lines().any(|x| x == *l)) {
        out.push_str(&format!("- {l}\n"));
    }
    for l in b.lines().filter(|l| !a.lines().any(|x| x == *l)) {
        out.push_str(&format!("+ {l}\n"));
    }
    out
}

#[test]
fn every_fixture_comes_back_as_the_same_package() {
    for (name, src) in sources() {
        let out = round_trip(&name, &src, &ImportOptions::default(), &Default::default());
        // An imported package carries everything the message needs: no
        // made-up ids, no lost conditions.
        let lost: Vec<_> = out
            .notes
            .iter()
            .filter(|n| matches!(n.loss, Loss::ConditionAsText { .. }))
            .collect();
        assert!(lost.is_empty(), "{name}: {lost:?}");
    }
}

#[test]
fn the_conditions_of_the_fixtures_survive_the_round_trip() {
    let out = round_trip(
        "XDF3_SCHEMA",
        XDF3_SCHEMA.as_bytes(),
        &ImportOptions::default(),
        &Default::default(),
    );
    assert!(
        out.xml.contains(
            "Das Feld F60000000005 ist nur zu befüllen, wenn das Feld F60000000004 bejaht wurde."
        ),
        "{}",
        out.xml
    );
    let again = import(out.xml.as_bytes(), &ImportOptions::default()).unwrap();
    assert_eq!(again.report.conditions, 1);
    // The 500 generated fields hold many conditions; all come back.
    let src = fixture("xdf2_S90000000_generated_500_fields.xml");
    let first = import(&src, &ImportOptions::default()).unwrap();
    assert!(first.report.conditions > 10, "{}", first.report.conditions);
    let out = export(&first.manifest, &first.content, &Default::default(), at()).unwrap();
    let again = import(out.xml.as_bytes(), &ImportOptions::default()).unwrap();
    assert_eq!(again.report.conditions, first.report.conditions);
}

/// The registry's packages: a code list package, and a field group
/// package made from the first Datenfeldgruppe of `src` (its fields, and
/// the lists they use).
fn registry_deps(src: &[u8]) -> (ImportOptions, DependencyContent) {
    let mut opts = with_parkzonen();
    let plain = import(src, &opts).unwrap();
    let body = plain.content.body().unwrap();
    let group = body
        .items
        .iter()
        .find_map(|i| match i {
            Item::Group(g) if g.fim.is_some() => Some(g.clone()),
            _ => None,
        })
        .expect("the form holds a Datenfeldgruppe");
    let mut used = Vec::new();
    crate::model::walk(&group.items, "", &mut |_, i| {
        if let Item::Field(f) = i {
            used.extend(f.codelist.as_ref().map(|c| c.get_ref().clone()));
        }
    });
    let fieldgroup = Content::Fieldgroup(crate::fieldgroup::Fieldgroup {
        label: group.label.clone(),
        help: group.help.clone(),
        legal_basis: group.legal_basis.clone(),
        fim: group.fim.clone(),
        body: Body {
            items: group.items.clone(),
            codelists: body
                .codelists
                .iter()
                .filter(|c| used.contains(&c.id))
                .cloned()
                .collect(),
        },
    });
    let fim = group.fim.unwrap();
    opts.fieldgroup_packages.insert(
        (fim.id, fim.version.unwrap()),
        PackageRef {
            package: "kassel/gruppe".into(),
            version: semver::Version::new(1, 0, 0),
        },
    );
    let mut packages = BTreeMap::new();
    packages.insert("kassel/parkzonen".to_string(), parkzonen());
    packages.insert("kassel/gruppe".to_string(), fieldgroup);
    (opts, DependencyContent::resolved(packages))
}

/// Kassel's parking zones as a code list package.
fn parkzonen() -> Content {
    let toml = r#"[codelist]
label = "Parkzonen"
canonical-uri = "urn:de:kassel:codeliste:parkzone"
source-version = "2024-01-01"

[[code]]
code = "A"
label = "Zone A"
"#;
    crate::content::parse_content(crate::manifest::PackageKind::Codelist, toml)
        .unwrap_or_else(|d| panic!("{d:?}"))
}

#[test]
fn code_list_packages_and_shared_field_groups_come_back_as_dependencies() {
    let src = fixture("xdf2_S99000001_bewohnerparkausweis.xml");
    let (opts, deps) = registry_deps(&src);
    let first = import(&src, &opts).unwrap();
    assert!(
        first
            .manifest
            .dependencies
            .iter()
            .any(|d| d.full_name() == "kassel/parkzonen")
            && first
                .manifest
                .dependencies
                .iter()
                .any(|d| d.full_name() == "kassel/gruppe"),
        "{:?}",
        first.manifest.dependencies
    );
    let out = round_trip("bewohnerparkausweis", &src, &opts, &deps);
    assert!(
        out.xml
            .contains("<xdf:canonicalIdentification>urn:de:kassel:codeliste:parkzone</xdf:canonicalIdentification>"),
        "{}",
        out.xml
    );
    // Without the registry's answer the list is not known: refused, not
    // written half.
    let err = export(&first.manifest, &first.content, &Default::default(), at()).unwrap_err();
    assert!(
        matches!(
            &err,
            ExportError::CodelistUnresolved { list, .. } if list == "kassel/parkzonen"
        ) || matches!(
            &err,
            ExportError::IncludeUnresolved { package, .. } if package == "kassel/gruppe"
        ),
        "{err}"
    );
}

fn demo(name: &str) -> (crate::manifest::Manifest, Content) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../demo")
        .join(name);
    let mut files = crate::PackageFiles::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            files.insert(
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            );
        }
    }
    read_content(&files).unwrap_or_else(|d| panic!("{name}: {d:?}"))
}

#[test]
fn a_form_made_in_gemeinwerk_is_written_whole_and_says_what_it_leaves_out() {
    let (m, content) = demo("kassel-bewohnerparkausweis");
    let mut packages = BTreeMap::new();
    for (dep, folder) in [
        ("fim/natuerliche-person", "fim-natuerliche-person"),
        ("fim/anschrift-inland", "fim-anschrift-inland"),
    ] {
        packages.insert(dep.to_string(), demo(folder).1);
    }
    let deps = DependencyContent::resolved(packages);
    let out = export(&m, &content, &deps, at()).unwrap();
    let losses: Vec<&Loss> = out.notes.iter().map(|n| &n.loss).collect();
    assert!(losses.contains(&&Loss::FormSettings), "{losses:?}");
    assert!(losses.contains(&&Loss::English), "{losses:?}");
    // Its elements have no FIM ids; it gets ids no FIM repository gives.
    assert!(
        out.xml.contains("<xdf:id>gw:parkzone</xdf:id>"),
        "{}",
        out.xml
    );
    // It reads back: every field and group, the included ones inline.
    let again = import(out.xml.as_bytes(), &ImportOptions::default()).unwrap();
    let count = |c: &Content| {
        let mut n = 0;
        crate::model::walk(&c.body().unwrap().items, "", &mut |_, i| {
            if matches!(i, Item::Field(_)) {
                n += 1
            }
        });
        n
    };
    let included: usize = deps.packages.values().map(count).sum();
    assert_eq!(count(&again.content), count(&content) + included);
    let Content::Form(f) = &again.content else {
        panic!()
    };
    let zone = f.body.items.iter().find(|i| i.id() == "parkzone").unwrap();
    let Item::Field(zone) = zone else { panic!() };
    let list = f
        .body
        .codelist(zone.codelist.as_ref().unwrap().get_ref())
        .unwrap();
    assert_eq!(list.codes, ["A", "B", "C", "D", "E"]);
    // Without the included packages the message would be incomplete.
    assert_eq!(
        export(&m, &content, &Default::default(), at()).unwrap_err(),
        ExportError::IncludeUnresolved {
            path: "antragsteller".into(),
            package: "fim/natuerliche-person".into()
        }
    );
}

#[test]
fn a_process_is_no_xdatenfelder_message() {
    let (m, content) = demo("kassel-bewohnerparken-verfahren");
    let err = export(&m, &content, &Default::default(), at()).unwrap_err();
    assert!(matches!(err, ExportError::NotAForm { .. }), "{err}");
}

#[test]
fn text_is_escaped_and_every_loss_reads_in_both_languages() {
    let (mut m, content) = demo("fim-anschrift-inland");
    m.description = "Straße & Hausnummer <Pflicht> \"immer\"".into();
    let out = export(&m, &content, &Default::default(), at()).unwrap();
    assert!(out.xml.contains("Straße &amp; Hausnummer &lt;Pflicht&gt;"));
    let again = import(out.xml.as_bytes(), &ImportOptions::default()).unwrap();
    assert_eq!(again.manifest.description, m.description);
    for n in &out.notes {
        assert!(!n.loss.english().is_empty() && !n.loss.german().is_empty());
    }
}

/// Rules the import reads as conditions on several fields, and on the
/// answer no, come back as the same conditions.
#[test]
fn negated_and_shared_conditions_survive_the_round_trip() {
    let field = |id: &str, name: &str, datentyp: &str, anzahl: &str| {
        format!(
            r#"<xdf:struktur><xdf:anzahl>{anzahl}</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>{id}</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
      <xdf:name>{name}</xdf:name><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:bezeichnungEingabe>{name}</xdf:bezeichnungEingabe><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>{datentyp}</code></xdf:datentyp>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>"#
        )
    };
    let doc = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_3.0.0">
  <xdf:header><xdf:nachrichtID>x</xdf:nachrichtID><xdf:erstellungszeitpunkt>2024-01-01T00:00:00Z</xdf:erstellungszeitpunkt></xdf:header>
  <xdf:stammdatenschema>
    <xdf:identifikation><xdf:id>S60000000500</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
    <xdf:name>Halter</xdf:name>
    <xdf:freigabestatus><code>6</code></xdf:freigabestatus>
    <xdf:regel><xdf:identifikation><xdf:id>R60000000501</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation><xdf:name>Halter</xdf:name>
      <xdf:freitextRegel>Die Felder F60000000502 „Name“ und F60000000503 „Anschrift“ sind nur zu befüllen, wenn F60000000501 mit „Nein“ beantwortet wurde.</xdf:freitextRegel></xdf:regel>
    {}{}{}
  </xdf:stammdatenschema>
</xdf:xdatenfelder.stammdatenschema.0102>
"#,
        field("F60000000501", "Selbst Halter", "bool", "1:1"),
        field("F60000000502", "Name", "text", "1:1"),
        field("F60000000503", "Anschrift", "text", "0:1"),
    );
    let first = import(doc.as_bytes(), &ImportOptions::default()).unwrap();
    assert_eq!(first.report.conditions, 2);
    let Content::Form(f) = &first.content else {
        panic!()
    };
    let conditions: Vec<(String, Option<String>, Option<String>)> = f
        .body
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Field(f) => Some((
                f.id.clone(),
                f.shown_when.as_ref().map(|c| c.source.clone()),
                f.required_when.as_ref().map(|c| c.source.clone()),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        conditions,
        [
            ("selbst_halter".into(), None, None),
            (
                "name".into(),
                Some("!selbst_halter".into()),
                Some("!selbst_halter".into())
            ),
            ("anschrift".into(), Some("!selbst_halter".into()), None),
        ]
    );
    let out = round_trip(
        "halter",
        doc.as_bytes(),
        &ImportOptions::default(),
        &Default::default(),
    );
    assert!(
        out.xml.contains(
            "Das Feld F60000000503 ist nur zu befüllen, wenn das Feld F60000000501 verneint wurde."
        ),
        "{}",
        out.xml
    );
}
