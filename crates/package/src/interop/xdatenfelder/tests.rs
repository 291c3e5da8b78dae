use super::*;
use crate::content::parse_content;

mod coverage;
use crate::model::walk;

pub(super) fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/fim")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn import_fixture(name: &str) -> Imported {
    import(&fixture(name), &ImportOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every item by its path.
fn items(imported: &Imported) -> BTreeMap<String, Item> {
    let mut out = BTreeMap::new();
    walk(&imported.content.body().unwrap().items, "", &mut |p, i| {
        out.insert(p.to_string(), i.clone());
    });
    out
}

fn field<'a>(all: &'a BTreeMap<String, Item>, path: &str) -> &'a Field {
    match all.get(path) {
        Some(Item::Field(f)) => f,
        other => panic!("{path}: {other:?}\n{:?}", all.keys().collect::<Vec<_>>()),
    }
}

fn group<'a>(all: &'a BTreeMap<String, Item>, path: &str) -> &'a Group {
    match all.get(path) {
        Some(Item::Group(g)) => g,
        other => panic!("{path}: {other:?}"),
    }
}

fn notes_about<'a>(r: &'a ImportReport, needle: &str) -> Vec<&'a Note> {
    r.notes
        .iter()
        .filter(|n| {
            n.reason.english().contains(needle)
                || n.fim.as_deref().is_some_and(|f| f.contains(needle))
        })
        .collect()
}

#[test]
fn xdatenfelder_2_stammdatenschema_maps_types_constraints_lists_and_rules() {
    let imp = import_fixture("xdf2_S99000001_bewohnerparkausweis.xml");
    let m = &imp.manifest;
    assert_eq!(m.full_name(), "fim/bewohnerparkausweis");
    assert_eq!(m.version.to_string(), "1.3.0");
    assert_eq!(m.kind, PackageKind::Form);
    assert_eq!(m.title.as_deref(), Some("Antrag auf Bewohnerparkausweis"));
    let fim = m.fim.as_ref().unwrap();
    assert_eq!(
        (fim.id.as_str(), fim.version.as_deref()),
        ("S99000001", Some("1.3"))
    );
    let Content::Form(form) = &imp.content else {
        panic!("not a form")
    };
    assert_eq!(form.ableitung, Some(Ableitung::Erweitern));
    assert_eq!(form.fim.as_ref().unwrap().id, "S99000001");

    let all = items(&imp);
    let hinweis = field(&all, "hinweis_pflichtfelder");
    assert_eq!(hinweis.ty, FieldType::StaticText);
    assert_eq!(
        hinweis.text.as_ref().unwrap().de,
        "Bitte füllen Sie alle Pflichtfelder aus."
    );

    let name = field(&all, "antragsteller.familienname");
    assert_eq!(name.ty, FieldType::Text);
    assert!(name.required);
    assert_eq!(name.label.as_ref().unwrap().de, "Familienname");
    assert_eq!(
        name.help.as_ref().unwrap().de,
        "Geben Sie Ihren Familiennamen an."
    );
    assert_eq!(
        (name.constraints.min_length, name.constraints.max_length),
        (Some(1), Some(120))
    );
    let fim = name.fim.as_ref().unwrap();
    assert_eq!(
        (fim.id.as_str(), fim.version.as_deref()),
        ("F99000002", Some("1.0"))
    );
    assert!(!field(&all, "antragsteller.vorname").required);
    let geb = field(&all, "antragsteller.geburtsdatum");
    assert_eq!(geb.ty, FieldType::Date);
    assert_eq!(geb.constraints.min, Some(Bound::Date("1900-01-01".into())));

    // anzahl 0:5 on a field: a repeatable group around it.
    let weitere = group(&all, "antragsteller.weiterer_vorname");
    assert_eq!(
        weitere.occurs,
        Occurs {
            min: 0,
            max: Some(5)
        }
    );
    let wert = field(&all, "antragsteller.weiterer_vorname.wert");
    assert!(wert.required);
    assert_eq!(wert.fim.as_ref().unwrap().id, "F99000005");
    assert_eq!(
        notes_about(&imp.report, "repeatable group \"weiterer_vorname\"").len(),
        1
    );

    let zone = field(&all, "parkzone");
    assert_eq!(zone.ty, FieldType::Select);
    let list = form
        .body
        .codelist(zone.codelist.as_ref().unwrap().get_ref())
        .unwrap();
    assert_eq!(
        list.source,
        CodelistSource::XRepository {
            urn: "urn:de:kassel:codeliste:parkzone".into(),
            version: "2024-01-01".into()
        }
    );
    assert_eq!(form.body.codelists.len(), 2);

    assert_eq!(
        group(&all, "fahrzeug").occurs,
        Occurs {
            min: 0,
            max: Some(1)
        }
    );
    let kz = field(&all, "fahrzeug.amtliches_kennzeichen");
    assert_eq!(
        kz.constraints.pattern.as_deref(),
        Some("[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} [1-9][0-9]{0,3}")
    );
    let anzahl = field(&all, "fahrzeug.anzahl_fahrzeuge");
    assert_eq!(anzahl.ty, FieldType::Integer);
    assert_eq!(
        (
            anzahl.constraints.min.clone(),
            anzahl.constraints.max.clone()
        ),
        (Some(Bound::Number(1.0)), Some(Bound::Number(3.0)))
    );
    assert_eq!(
        field(&all, "fahrzeug.abweichender_halter").ty,
        FieldType::Boolean
    );
    assert_eq!(field(&all, "gebuehr").ty, FieldType::Money);
    assert_eq!(field(&all, "nachweis").ty, FieldType::File);

    // The plain dependency became a condition; the field was required.
    let halter = field(&all, "fahrzeug.name_des_halters");
    assert!(!halter.required);
    assert_eq!(
        halter.shown_when.as_ref().unwrap().source,
        "abweichender_halter"
    );
    assert_eq!(
        halter.required_when.as_ref().unwrap().source,
        "abweichender_halter"
    );
    assert_eq!(imp.report.conditions, 1);
    assert_eq!(imp.report.rules, 2);
    assert_eq!(imp.report.count(NoteKind::RuleAsCondition), 1);
    let as_text = notes_about(&imp.report, "R99000002");
    assert_eq!(as_text.len(), 1);
    assert_eq!(as_text[0].kind, NoteKind::RuleAsText);
    assert!(imp
        .readme
        .contains("Mindestens eine Telefonnummer oder E-Mail-Adresse ist anzugeben."));
    assert!(imp.readme.contains("function script()"));

    // What could not be kept is reported, with the line it came from.
    let lookahead = notes_about(&imp.report, "(?=K)");
    assert_eq!(lookahead.len(), 1);
    assert_eq!(lookahead[0].kind, NoteKind::Dropped);
    assert!(lookahead[0].line > 1);
    assert!(field(&all, "fahrzeug.kontrollzeichen")
        .constraints
        .pattern
        .is_none());
    assert_eq!(
        notes_about(&imp.report, "\"frei\" is not a JSON object").len(),
        1
    );
    assert!(notes_about(&imp.report, "Vertrauensniveau").len() == 1);
    // FIM's definition of an element is kept with its FIM reference.
    let definition = items(&imp).values().find_map(|i| match i {
        Item::Field(f) if f.fim.as_ref().is_some_and(|r| r.id == "F99000002") => {
            f.fim.as_ref().and_then(|r| r.definition.clone())
        }
        _ => None,
    });
    assert!(definition.is_some_and(|d| !d.is_empty()));
    assert!(imp
        .report
        .not_carried
        .iter()
        .all(|n| n.element != "definition"));
    assert_eq!(imp.report.fields, 15);

    // The files parse back to the same model and validate.
    let files = imp.files();
    let text = std::str::from_utf8(&files["form.toml"]).unwrap();
    let again = parse_content(PackageKind::Form, text).unwrap();
    assert_eq!(
        write::without_positions(&again),
        write::without_positions(&imp.content)
    );
    check_package(&files).unwrap();
}

#[test]
fn xdatenfelder_3_datenfeldgruppe_becomes_a_field_group() {
    let imp = import_fixture("xdf3_G60000000088_anschrift-inland_fixture.xml");
    assert_eq!(imp.manifest.kind, PackageKind::Fieldgroup);
    assert_eq!(imp.manifest.version.to_string(), "1.2.0");
    assert_eq!(imp.manifest.name, "anschrift-inland");
    assert_eq!(imp.manifest.fim.as_ref().unwrap().id, "G60000000088");
    assert_eq!(imp.manifest.keywords, ["fim", "Ein Stichwort"]);
    let all = items(&imp);
    let g = group(&all, "anschrift_inland_strassenanschrift");
    assert_eq!(
        g.occurs,
        Occurs {
            min: 0,
            max: Some(1)
        }
    );
    let fim = g.fim.as_ref().unwrap();
    assert_eq!(
        (fim.id.as_str(), fim.version.as_deref()),
        ("G60000000086", Some("1.2.0"))
    );
    let strasse = field(&all, "anschrift_inland_strassenanschrift.strasse");
    assert_eq!(
        (
            strasse.constraints.min_length,
            strasse.constraints.max_length
        ),
        (Some(1), Some(55))
    );
    assert!(strasse.required);
    assert_eq!(
        strasse.help.as_ref().unwrap().de,
        "Geben Sie an, wie die Straße heißt."
    );
    // The same rule on the group and on the field is one rule.
    assert_eq!(imp.report.rules, 1);
    assert!(imp.readme.contains("Es muss entweder Feldgruppe G60000086"));
    assert!(imp.readme.contains("some script content"));
    let relation = imp
        .report
        .not_carried
        .iter()
        .find(|n| n.element == "relation")
        .unwrap();
    assert_eq!(relation.on, ["G60000000088 V1.2.0"]);
    check_package(&imp.files()).unwrap();
}

#[test]
fn xdatenfelder_1_waffenbesitzkarte_imports_with_notes() {
    let imp = import_fixture("xdf1_S00000036_waffenbesitzkarte.xml");
    assert_eq!(imp.report.standard, "XDatenfelder 1.0");
    assert_eq!(imp.manifest.name, "waffenbesitzkarte-wbk-gruen");
    assert_eq!(imp.manifest.version.to_string(), "0.1.0");
    assert_eq!(imp.manifest.fim.as_ref().unwrap().id, "S00000036");
    let all = items(&imp);
    let anrede = all
        .iter()
        .find_map(|(p, i)| (p.ends_with(".anrede")).then_some(i))
        .unwrap();
    let Item::Field(anrede) = anrede else {
        panic!()
    };
    // XDatenfelder 1.0 names its code lists without URN and version.
    assert_eq!(anrede.ty, FieldType::Text);
    assert!(!notes_about(&imp.report, "names no URN").is_empty());
    assert_eq!(imp.report.fields, 46);
    check_package(&imp.files()).unwrap();
}

#[test]
fn five_hundred_fields_import_with_their_conditions() {
    let imp = import_fixture("xdf2_S90000000_generated_500_fields.xml");
    assert_eq!(imp.report.fields, 500);
    assert_eq!(imp.report.conditions, 50);
    assert_eq!(imp.content.body().unwrap().codelists.len(), 50);
}

fn dep(targets: &[&str], source: &str, negated: bool) -> Option<rules::Dependency> {
    Some(rules::Dependency {
        targets: targets.iter().map(|t| t.to_string()).collect(),
        source: source.to_string(),
        negated,
    })
}

#[test]
fn plain_dependencies_are_recognised_and_nothing_else() {
    for (text, targets, source, negated) in [
        ("F00000012 ist nur zu befüllen, wenn F00000011 bejaht wurde.", &["F00000012"][..], "F00000011", false),
        ("Das Feld F60000000243 ist nur auszufüllen, wenn das Feld F60000000240 mit „Ja“ beantwortet wurde", &["F60000000243"], "F60000000240", false),
        ("Feldgruppe G00000086 \"Anschrift\" ist nur dann zu befüllen, falls F00000001 (Umzug) angekreuzt wurde.", &["G00000086"], "F00000001", false),
        ("  F00000012   ist nur zu befüllen,\n wenn F00000011 V1.2 bejaht wurde ", &["F00000012"], "F00000011", false),
        ("F00000012 ist nur zu befüllen, wenn F00000011 verneint wurde.", &["F00000012"], "F00000011", true),
        ("Das Feld F60000001028 „Krankenversicherungsträger“ ist nur anzugeben, wenn das Feld F60000001027 „Versichert?“ mit „Nein“ beantwortet wurde.", &["F60000001028"], "F60000001027", true),
        ("Die Felder F00000021 „Name (Halter)“ und F00000022 „Anschrift (Halter)“ sind nur zu befüllen, wenn F00000020 angekreuzt wurde.", &["F00000021", "F00000022"], "F00000020", false),
        ("F00000031, F00000032 sowie G00000033 sind nur dann einzublenden, wenn F00000030 nicht angekreuzt wurde.", &["F00000031", "F00000032", "G00000033"], "F00000030", true),
        ("Das Feld \"F00001028 Krankenversicherungsträger\" ist nur zu befüllen, wenn das Feld „F00001027 Gesetzlich versichert?“ verneint wurde.", &["F00001028"], "F00001027", true),
    ] {
        assert_eq!(dependency(text), dep(targets, source, negated), "{text}");
    }
    for text in [
        "F00000012 ist nur zu befüllen, wenn F00000011 bejaht wurde und F00000013 leer ist.",
        "F00000012 ist zu befüllen, wenn F00000011 bejaht wurde.",
        "Es muss entweder Feldgruppe G60000086 oder Feldgruppe G60000087 befüllt werden.",
        "F00000012 ist nur zu befüllen, wenn G00000011 bejaht wurde.",
        "F00000012 ist nur zu befüllen, wenn F00000011 oder F00000013 bejaht wurde.",
    ] {
        assert_eq!(dependency(text), None, "{text}");
    }
}

/// Fifty wordings of rules as FIM's Stammdatenschemata write them, each
/// with what it should become: the ones that say "only when a yes/no field
/// is yes (or no)" convert, the others stay text. The count is in
/// docs/interop.md.
#[test]
fn fifty_real_world_rule_wordings() {
    let yes_forms = [
        "bejaht wurde",
        "mit „Ja“ beantwortet wurde",
        "angekreuzt wurde",
        "ausgewählt wurde",
        "mit \"ja\" beantwortet worden ist",
    ];
    let no_forms = [
        "verneint wurde",
        "mit „Nein“ beantwortet wurde",
        "nicht angekreuzt wurde",
    ];
    let subjects = ["", "Das Feld ", "Datenfeld ", "Das Datenfeld "];
    let fills = [
        "ist nur zu befüllen",
        "ist nur auszufüllen",
        "ist nur dann anzugeben",
        "ist nur einzublenden",
    ];
    let mut cases: Vec<(String, bool)> = Vec::new();
    for (i, answer) in yes_forms.iter().chain(no_forms.iter()).enumerate() {
        let subject = subjects[i % subjects.len()];
        let fill = fills[i % fills.len()];
        let name = if i % 2 == 0 {
            " „Grund der Ermäßigung“"
        } else {
            ""
        };
        cases.push((
            format!("{subject}F6000000{i:04}{name} {fill}, wenn das Feld F60000009999 {answer}."),
            true,
        ));
        cases.push((
            format!(
                "{subject}F6000000{i:04} V1.0 {fill}, falls F60000009999 (Ermäßigung) {answer}"
            ),
            true,
        ));
        cases.push((format!("Datenfeld F6000001{i:04} (Kennzeichen) {fill}, wenn das Feld F60000009998 „Halter abweichend?“ {answer}."), true));
    }
    for groups in [
        "Die Datenfeldgruppe G60000000086 „Abweichender Halter“ ist nur zu befüllen, wenn das Feld F60000000085 bejaht wurde.",
        "Feldgruppe G60000000086 ist nur dann einzublenden, wenn F60000000085 angekreuzt wurde.",
        "Die Felder F60000000101 und F60000000102 sind nur auszufüllen, wenn das Feld F60000000100 mit „Ja“ beantwortet wurde.",
        "F60000000101, F60000000102 und F60000000103 sind nur zu befüllen, falls F60000000100 verneint wurde.",
        "Die Felder F60000000101 „Straße“ sowie F60000000102 „Hausnummer“ sind nur anzugeben, wenn F60000000100 „Inland“ angekreuzt wurde.",
        "Das Feld \"F60000001028 Krankenversicherungsträger\" ist nur zu befüllen, wenn das Feld \"F60000001027 Gesetzlich versichert\" bejaht wurde.",
        "Gruppe G60000000200 ist nur zu befüllen, wenn F60000000199 ausgewählt wurde.",
    ] {
        cases.push((groups.to_string(), true));
    }
    // What stays text: choices between elements, values other than yes
    // and no, counts, dates, computations, and rules without a condition.
    for text in [
        "Es muss entweder Feldgruppe G60000086 „Anschrift Inland“ oder Feldgruppe G60000087 „Anschrift Ausland“ befüllt werden.",
        "Mindestens eines der Felder F60000000010 und F60000000011 ist zu befüllen.",
        "F60000000020 ist nur zu befüllen, wenn in F60000000019 der Wert „Sonstiges“ ausgewählt wurde.",
        "Das Geburtsdatum F60000000030 darf nicht in der Zukunft liegen.",
        "F60000000040 muss größer als F60000000041 sein.",
        "Wenn F60000000050 bejaht wurde, ist F60000000051 zu befüllen.",
        "F60000000060 ist zu befüllen, wenn F60000000061 bejaht wurde.",
        "Die Summe der Felder F60000000070 und F60000000071 darf 100 nicht überschreiten.",
        "F60000000080 ist nur zu befüllen, wenn F60000000081 bejaht wurde und F60000000082 leer ist.",
        "Das Feld F60000000090 ist ein Pflichtfeld, wenn der Antragsteller minderjährig ist.",
        "F60000000095 ist nur zu befüllen, wenn F60000000096 oder F60000000097 bejaht wurde.",
        "Die Anzahl der Kinder F60000000098 muss mit der Zahl der Datenfeldgruppen G60000000099 übereinstimmen.",
        "Bitte geben Sie das Datum im Format TT.MM.JJJJ an.",
        "F60000000110 ist nur zu befüllen, wenn F60000000111 größer als 0 ist.",
        "Die Angaben in G60000000120 sind nur erforderlich, wenn der Wohnsitz im Ausland liegt.",
        "Wird F60000000130 verneint, entfällt G60000000131.",
        "Der Wert von F60000000140 wird aus F60000000141 und F60000000142 berechnet.",
        "F60000000150 ist nur zu befüllen, wenn G60000000151 befüllt wurde.",
        "F60000000160 ist nur zu befüllen, wenn das Feld F60000000161 nicht leer ist.",
    ] {
        cases.push((text.to_string(), false));
    }
    assert_eq!(cases.len(), 50);
    let converted = cases
        .iter()
        .filter(|(t, _)| dependency(t).is_some())
        .count();
    for (text, expected) in &cases {
        assert_eq!(dependency(text).is_some(), *expected, "{text}");
    }
    assert_eq!(converted, 31);
}

#[test]
fn slugs_make_ids_of_our_format() {
    assert_eq!(slug("Straße / Hausnummer", '_', 48), "strasse_hausnummer");
    assert_eq!(
        slug("Waffenbesitzkarte (WBK grün)", '-', 64),
        "waffenbesitzkarte-wbk-gruen"
    );
    assert_eq!(slug("  Ärger -- Ölung  ", '_', 48), "aerger_oelung");
    let long = slug(&"wort ".repeat(30), '_', 48);
    assert!(long.len() <= 48 && !long.ends_with('_'), "{long}");
}

#[test]
fn refuses_what_is_not_xdatenfelder() {
    let opts = ImportOptions::default();
    let e = import(b"<a:x xmlns:a=\"urn:other\"/>", &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("namespace \"urn:other\""), "{e}");
    let e = import(b"<x/>", &opts).unwrap_err().to_string();
    assert!(e.contains("namespace \"(none)\""), "{e}");
    let e = import(
        format!("<xdf:xdatenfelder.datenfeld.0104 xmlns:xdf=\"{NS_V2}\"/>").as_bytes(),
        &opts,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("root element is <xdatenfelder.datenfeld.0104>"),
        "{e}"
    );
    let e = import(
        format!("<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf=\"{NS_V2}\"><xdf:header/></xdf:xdatenfelder.stammdatenschema.0102>").as_bytes(),
        &opts,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("has no <stammdatenschema>"), "{e}");
    let bad = ImportOptions {
        namespace: "Kassel".into(),
        ..ImportOptions::default()
    };
    let e = import(
        &fixture("xdf3_G60000000088_anschrift-inland_fixture.xml"),
        &bad,
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("namespace"), "{e}");
}

/// A 3.0.0 Stammdatenschema with what 3.0.0 adds: inline values, praezisierung
/// attributes, hidden and locked fields, text_latin, media types, and a rule
/// in freitextRegel on the schema.
pub(super) const XDF3_SCHEMA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_3.0.0">
  <xdf:header><xdf:nachrichtID>x</xdf:nachrichtID><xdf:erstellungszeitpunkt>2024-01-01T00:00:00Z</xdf:erstellungszeitpunkt></xdf:header>
  <xdf:stammdatenschema>
    <xdf:identifikation><xdf:id>S60000000123</xdf:id><xdf:version>2.1.0</xdf:version></xdf:identifikation>
    <xdf:name>Hundesteuer Anmeldung</xdf:name>
    <xdf:bezeichnungEingabe>Anmeldung eines Hundes</xdf:bezeichnungEingabe>
    <xdf:freigabestatus listVersionID="2020-03-19"><code>6</code></xdf:freigabestatus>
    <xdf:stichwort>Hund</xdf:stichwort>
    <xdf:ableitungsmodifikationenStruktur><code>2</code></xdf:ableitungsmodifikationenStruktur>
    <xdf:regel>
      <xdf:identifikation><xdf:id>R60000000001</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
      <xdf:name>Grund nur bei Ermäßigung</xdf:name>
      <xdf:freitextRegel>Das Feld F60000000005 „Grund“ ist nur auszufüllen, wenn das Feld F60000000004 mit „Ja“ beantwortet wurde.</xdf:freitextRegel>
      <xdf:typ><code>B</code></xdf:typ>
    </xdf:regel>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000001</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Rasse</xdf:name><xdf:bezeichnungEingabe>Rasse des Hundes</xdf:bezeichnungEingabe>
      <xdf:feldart><code>select</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
      <xdf:werte>
        <xdf:wert><xdf:code>1</xdf:code><xdf:name>Mischling</xdf:name></xdf:wert>
        <xdf:wert><xdf:code>2</xdf:code><xdf:name>Rassehund</xdf:name></xdf:wert>
        <xdf:wert><xdf:code>2</xdf:code><xdf:name>doppelt</xdf:name></xdf:wert>
      </xdf:werte>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000002</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Name des Hundes</xdf:name><xdf:bezeichnungEingabe>Name</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>text_latin</code></xdf:datentyp>
      <xdf:praezisierung minLength="2" maxLength="40" pattern="[A-Za-z ]+"/>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>0:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000003</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Geburtsdatum Hund</xdf:name><xdf:bezeichnungEingabe>Geboren am</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>date</code></xdf:datentyp>
      <xdf:praezisierung minValue="2000-01-01" maxValue="2030-12-31"/>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000004</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Ermäßigung</xdf:name><xdf:bezeichnungEingabe>Ermäßigung beantragt?</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>bool</code></xdf:datentyp>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000005</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Grund</xdf:name><xdf:bezeichnungEingabe>Grund der Ermäßigung</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>0:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000006</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Nachweis</xdf:name><xdf:bezeichnungEingabe>Nachweis</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>file</code></xdf:datentyp>
      <xdf:mediaType>application/pdf</xdf:mediaType><xdf:maxSize>2000000</xdf:maxSize>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000007</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Aktenzeichen</xdf:name><xdf:bezeichnungEingabe>Aktenzeichen</xdf:bezeichnungEingabe>
      <xdf:feldart><code>hidden</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000008</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Gemeinde</xdf:name><xdf:bezeichnungEingabe>Gemeinde</xdf:bezeichnungEingabe>
      <xdf:feldart><code>locked</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
      <xdf:unbekannt>?</xdf:unbekannt>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000009</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Behörde</xdf:name><xdf:bezeichnungEingabe>Behörde</xdf:bezeichnungEingabe>
      <xdf:feldart><code>locked</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
      <xdf:inhalt>Stadt Kassel</xdf:inhalt>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
  </xdf:stammdatenschema>
</xdf:xdatenfelder.stammdatenschema.0102>
"#;

#[test]
fn xdatenfelder_3_stammdatenschema_maps_what_3_0_0_adds() {
    let imp = import(XDF3_SCHEMA.as_bytes(), &ImportOptions::default()).unwrap();
    assert_eq!(imp.report.standard, "XDatenfelder 3.0.0");
    assert_eq!(imp.manifest.version.to_string(), "2.1.0");
    assert_eq!(imp.manifest.keywords, ["fim", "Hund"]);
    let Content::Form(form) = &imp.content else {
        panic!()
    };
    assert_eq!(form.ableitung, Some(Ableitung::Einschraenken));
    let all = items(&imp);
    let rasse = field(&all, "rasse");
    assert_eq!(rasse.ty, FieldType::Select);
    let list = form
        .body
        .codelist(rasse.codelist.as_ref().unwrap().get_ref())
        .unwrap();
    assert_eq!(list.codes, ["1", "2"]);
    assert_eq!(list.inline()[0].label, "Mischling");
    assert_eq!(notes_about(&imp.report, "listed twice").len(), 1);
    let name = field(&all, "name_des_hundes");
    assert_eq!(
        (
            name.constraints.min_length,
            name.constraints.max_length,
            name.constraints.pattern.as_deref()
        ),
        (Some(2), Some(40), Some("[A-Za-z ]+"))
    );
    assert_eq!(notes_about(&imp.report, "text_latin").len(), 1);
    let geb = field(&all, "geburtsdatum_hund");
    assert_eq!(geb.constraints.max, Some(Bound::Date("2030-12-31".into())));
    let nachweis = field(&all, "nachweis");
    assert_eq!(nachweis.constraints.media_types, ["application/pdf"]);
    assert_eq!(nachweis.constraints.max_size, Some(2_000_000));
    assert!(
        !all.contains_key("aktenzeichen"),
        "hidden fields are left out"
    );
    assert_eq!(notes_about(&imp.report, "hidden field").len(), 1);
    assert_eq!(notes_about(&imp.report, "locked").len(), 1);
    // A locked field with content: that value, fixed.
    assert_eq!(
        field(&all, "behoerde").fixed.as_deref(),
        Some("Stadt Kassel")
    );
    assert_eq!(field(&all, "gemeinde").fixed, None);
    assert_eq!(notes_about(&imp.report, "does not know").len(), 1);
    // The rule in freitextRegel, with quoted names, became a condition.
    let grund = field(&all, "grund");
    assert_eq!(grund.shown_when.as_ref().unwrap().source, "ermaessigung");
    assert_eq!(grund.required_when.as_ref().unwrap().source, "ermaessigung");
    let typ = imp
        .report
        .not_carried
        .iter()
        .find(|n| n.element == "typ")
        .unwrap();
    assert_eq!(typ.on, ["R60000000001 V1.0.0"]);
}

/// Without any one kind of element, each fixture still imports into a
/// package that validates, or is refused with a reason; never a panic, and
/// never a package that `validate` would refuse.
#[test]
fn leaving_out_any_element_never_yields_an_invalid_package() {
    let sources = [
        String::from_utf8(fixture("xdf2_S99000001_bewohnerparkausweis.xml")).unwrap(),
        String::from_utf8(fixture("xdf3_G60000000088_anschrift-inland_fixture.xml")).unwrap(),
        String::from_utf8(fixture("xdf1_S00000036_waffenbesitzkarte.xml")).unwrap(),
        XDF3_SCHEMA.to_string(),
        ODD_SCHEMA.to_string(),
    ];
    let names = regex::Regex::new(r"<xdf:([A-Za-z.0-9]+)").unwrap();
    let mut tried = 0;
    for src in &sources {
        let mut seen: Vec<&str> = names
            .captures_iter(src)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        seen.sort();
        seen.dedup();
        for name in seen {
            let element = regex::Regex::new(&format!(
                r"(?s)<xdf:{n}(?:\s[^>]*)?/>|<xdf:{n}(?:\s[^>]*)?>.*?</xdf:{n}>",
                n = regex::escape(name)
            ))
            .unwrap();
            let without = element.replace_all(src, "");
            tried += 1;
            match import(without.as_bytes(), &ImportOptions::default()) {
                Ok(imp) => {
                    check_package(&imp.files()).unwrap();
                }
                Err(ImportError::Invalid(e)) => panic!("without <{name}>: {e}"),
                Err(_) => {}
            }
        }
    }
    assert!(tried > 80, "{tried}");
}

/// A 3.0.0 Stammdatenschema made of what does not map: every situation the
/// fixtures above do not produce, for the report's German renderings.
pub(super) const ODD_SCHEMA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_3.0.0">
  <xdf:header><xdf:nachrichtID>x</xdf:nachrichtID></xdf:header>
  <xdf:anhang>nicht gelesen</xdf:anhang>
  <xdf:stammdatenschema>
    <xdf:identifikation><xdf:id>S60000000999</xdf:id><xdf:version>1.a</xdf:version></xdf:identifikation>
    <xdf:name>Sonderfälle</xdf:name>
    <xdf:freigabestatus><code>6</code></xdf:freigabestatus>
    <xdf:bezeichnungEingabe>Sonderfälle beim Import</xdf:bezeichnungEingabe>
    <xdf:ableitungsmodifikationenStruktur><code>7</code></xdf:ableitungsmodifikationenStruktur>
    <xdf:regel><xdf:name>Bedingung</xdf:name><xdf:freitextRegel>F60000000105 ist nur zu befüllen, wenn F60000000104 bejaht wurde.</xdf:freitextRegel></xdf:regel>
    <xdf:regel><xdf:name>Zweite Bedingung</xdf:name><xdf:freitextRegel>F60000000105 ist nur zu befüllen, wenn F60000000106 bejaht wurde.</xdf:freitextRegel></xdf:regel>
    <xdf:regel><xdf:name>Doppelt</xdf:name><xdf:freitextRegel>F60000000107 ist nur zu befüllen, wenn F60000000201 bejaht wurde.</xdf:freitextRegel></xdf:regel>
    <xdf:regel><xdf:name>Wiederholt</xdf:name><xdf:freitextRegel>F60000000107 ist nur zu befüllen, wenn F60000000301 bejaht wurde.</xdf:freitextRegel></xdf:regel>
    <xdf:regel><xdf:name>Kein Ja/Nein</xdf:name><xdf:freitextRegel>F60000000107 ist nur zu befüllen, wenn F60000000101 bejaht wurde.</xdf:freitextRegel></xdf:regel>
    <xdf:regel><xdf:name>Fehlt</xdf:name><xdf:freitextRegel>F60000000107 ist nur zu befüllen, wenn F60000000999 bejaht wurde.</xdf:freitextRegel></xdf:regel>
    <xdf:regel><xdf:name>Verdeckt</xdf:name><xdf:freitextRegel>F60000000403 ist nur zu befüllen, wenn F60000000401 bejaht wurde.</xdf:freitextRegel></xdf:regel>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000101</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Farbe</xdf:name><xdf:bezeichnungEingabe>Farbe</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>farbe</code></xdf:datentyp>
      <xdf:praezisierung foo="1"/>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000102</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Regler</xdf:name><xdf:bezeichnungEingabe>Regler</xdf:bezeichnungEingabe>
      <xdf:feldart><code>slider</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
      <xdf:praezisierung maxValue="9"/>
      <xdf:codelisteReferenz><xdf:canonicalIdentification>urn:de:beispiel:regler</xdf:canonicalIdentification></xdf:codelisteReferenz>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>0:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000103</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Anlage</xdf:name><xdf:bezeichnungEingabe>Anlage</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>obj</code></xdf:datentyp>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000104</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Ermäßigung</xdf:name><xdf:bezeichnungEingabe>Ermäßigung?</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>bool</code></xdf:datentyp>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000105</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Grund</xdf:name><xdf:bezeichnungEingabe>Grund</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000106</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Zweite Frage</xdf:name><xdf:bezeichnungEingabe>Zweite Frage?</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>bool</code></xdf:datentyp>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>0:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000107</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Ziel</xdf:name><xdf:bezeichnungEingabe>Ziel</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:0</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000108</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Nie</xdf:name><xdf:bezeichnungEingabe>Nie</xdf:bezeichnungEingabe>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>zwei</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000109</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Unklar</xdf:name><xdf:bezeichnungEingabe>Unklar</xdf:bezeichnungEingabe>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:sonstiges>?</xdf:sonstiges></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>0:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeldgruppe>
      <xdf:identifikation><xdf:id>G60000000110</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Leer</xdf:name><xdf:bezeichnungEingabe>Leer</xdf:bezeichnungEingabe>
    </xdf:datenfeldgruppe></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000111</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:feldart><code>label</code></xdf:feldart>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000112</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Stufe</xdf:name><xdf:bezeichnungEingabe>Stufe</xdf:bezeichnungEingabe>
      <xdf:feldart><code>select</code></xdf:feldart><xdf:datentyp><code>num</code></xdf:datentyp>
      <xdf:werte><xdf:wert><xdf:code>1</xdf:code><xdf:name>eins</xdf:name></xdf:wert></xdf:werte>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000113</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Ohne Codes</xdf:name><xdf:bezeichnungEingabe>Ohne Codes</xdf:bezeichnungEingabe>
      <xdf:feldart><code>select</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
      <xdf:werte><xdf:wert><xdf:name>nur ein Name</xdf:name></xdf:wert></xdf:werte>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000114</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:feldart><code>select</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
      <xdf:codelisteReferenz/>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000120</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Liste ohne Version</xdf:name><xdf:bezeichnungEingabe>Liste ohne Version</xdf:bezeichnungEingabe>
      <xdf:feldart><code>select</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
      <xdf:codelisteReferenz><xdf:canonicalIdentification>urn:de:beispiel:liste</xdf:canonicalIdentification></xdf:codelisteReferenz>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000115</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Stichtag</xdf:name><xdf:bezeichnungEingabe>Stichtag</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>date</code></xdf:datentyp>
      <xdf:praezisierung minLength="3" pattern="[0-9]+"/>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000116</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Menge</xdf:name><xdf:bezeichnungEingabe>Menge</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>num</code></xdf:datentyp>
      <xdf:praezisierung maxValue="viel"/>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000117</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Betrag</xdf:name><xdf:bezeichnungEingabe>Betrag</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>num</code></xdf:datentyp>
      <xdf:praezisierung minValue="10" maxValue="1"/>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000118</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Kurz</xdf:name><xdf:bezeichnungEingabe>Kurz</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
      <xdf:praezisierung minLength="5" maxLength="2"/>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000190</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Postleitzahl alt</xdf:name><xdf:bezeichnungEingabe>Postleitzahl alt</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
      <xdf:praezisierung maxLength="3" pattern="[0-9]{5}"/>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000119</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Anzahl Hunde</xdf:name><xdf:bezeichnungEingabe>Anzahl Hunde</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>num_int</code></xdf:datentyp>
      <xdf:praezisierung minValue="1.5"/>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000121</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>
      <xdf:name>Vorbelegt</xdf:name>
      <xdf:freigabestatus><code>6</code></xdf:freigabestatus>
      <xdf:bezug link="ftp://example.org/norm">§ 9 ProbeG</xdf:bezug>
      <xdf:bezeichnungEingabe>Vorbelegt</xdf:bezeichnungEingabe>
      <xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
      <xdf:inhalt>Vorgabe</xdf:inhalt>
      <xdf:maxSize>100</xdf:maxSize>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>X1</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Ohne FIM-ID</xdf:name><xdf:bezeichnungEingabe>Ohne FIM-ID</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>0:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000201</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Doppelt</xdf:name><xdf:bezeichnungEingabe>Doppelt?</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>bool</code></xdf:datentyp>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>0:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
      <xdf:identifikation><xdf:id>F60000000201</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Doppelt</xdf:name><xdf:bezeichnungEingabe>Doppelt?</xdf:bezeichnungEingabe>
      <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>bool</code></xdf:datentyp>
    </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>0:*</xdf:anzahl><xdf:enthaelt><xdf:datenfeldgruppe>
      <xdf:identifikation><xdf:id>G60000000300</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>Mitglieder</xdf:name><xdf:bezeichnungEingabe>Mitglieder</xdf:bezeichnungEingabe>
      <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
        <xdf:identifikation><xdf:id>F60000000301</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
        <xdf:name>Mitglied</xdf:name><xdf:bezeichnungEingabe>Mitglied?</xdf:bezeichnungEingabe>
        <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>bool</code></xdf:datentyp>
      </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    </xdf:datenfeldgruppe></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeldgruppe>
      <xdf:identifikation><xdf:id>G60000000420</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>B</xdf:name><xdf:bezeichnungEingabe>B</xdf:bezeichnungEingabe>
      <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
        <xdf:identifikation><xdf:id>F60000000401</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
        <xdf:name>Flag</xdf:name><xdf:bezeichnungEingabe>Flag?</xdf:bezeichnungEingabe>
        <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>bool</code></xdf:datentyp>
      </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    </xdf:datenfeldgruppe></xdf:enthaelt></xdf:struktur>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeldgruppe>
      <xdf:identifikation><xdf:id>G60000000400</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
      <xdf:name>A</xdf:name><xdf:bezeichnungEingabe>A</xdf:bezeichnungEingabe>
      <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeldgruppe>
        <xdf:identifikation><xdf:id>G60000000410</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
        <xdf:name>B</xdf:name><xdf:bezeichnungEingabe>Inneres B</xdf:bezeichnungEingabe>
        <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
          <xdf:identifikation><xdf:id>F60000000402</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
          <xdf:name>Flag</xdf:name><xdf:bezeichnungEingabe>Inneres Flag?</xdf:bezeichnungEingabe>
          <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>bool</code></xdf:datentyp>
        </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
      </xdf:datenfeldgruppe></xdf:enthaelt></xdf:struktur>
      <xdf:struktur><xdf:anzahl>0:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
        <xdf:identifikation><xdf:id>F60000000403</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:freigabestatus><code>6</code></xdf:freigabestatus><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>
        <xdf:name>Ziel</xdf:name><xdf:bezeichnungEingabe>Ziel in A</xdf:bezeichnungEingabe>
        <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
      </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    </xdf:datenfeldgruppe></xdf:enthaelt></xdf:struktur>
  </xdf:stammdatenschema>
</xdf:xdatenfelder.stammdatenschema.0102>
"#;

/// The imports the German report is checked on: the real fixtures, the
/// 3.0.0 schema above and the odd one.
fn german_report_sources() -> Vec<(String, Imported)> {
    let mut out: Vec<(String, Imported)> = [
        "xdf2_S99000001_bewohnerparkausweis.xml",
        "xdf3_G60000000088_anschrift-inland_fixture.xml",
        "xdf1_S00000036_waffenbesitzkarte.xml",
        "xdf2_S90000000_generated_500_fields.xml",
    ]
    .iter()
    .map(|f| (f.to_string(), import_fixture(f)))
    .collect();
    for (name, src) in [("XDF3_SCHEMA", XDF3_SCHEMA), ("ODD_SCHEMA", ODD_SCHEMA)] {
        let imp = import(src.as_bytes(), &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((name.to_string(), imp));
    }
    out.push((
        "with the registry's code lists".into(),
        import(
            &fixture("xdf2_S99000001_bewohnerparkausweis.xml"),
            &with_parkzonen(),
        )
        .unwrap(),
    ));
    out
}

/// The registry holds Kassel's parking zones as a package, not the Anrede.
pub(super) fn with_parkzonen() -> ImportOptions {
    let mut known = BTreeMap::new();
    known.insert(
        (
            "urn:de:kassel:codeliste:parkzone".to_string(),
            "2024-01-01".to_string(),
        ),
        PackageRef {
            package: "kassel/parkzonen".into(),
            version: semver::Version::new(20240101, 0, 1),
        },
    );
    ImportOptions {
        namespace: "kassel".into(),
        codelist_packages: Some(known),
        ..ImportOptions::default()
    }
}

#[test]
fn a_list_the_registry_holds_becomes_a_dependency() {
    let imp = import(
        &fixture("xdf2_S99000001_bewohnerparkausweis.xml"),
        &with_parkzonen(),
    )
    .unwrap();
    let deps: Vec<String> = imp
        .manifest
        .dependencies
        .iter()
        .map(|d| format!("{} {}", d.full_name(), d.req))
        .collect();
    assert_eq!(deps, ["kassel/parkzonen ^20240101.0.1"]);
    let Some(Item::Field(zone)) = items(&imp).remove("parkzone") else {
        panic!("no field parkzone")
    };
    assert_eq!(
        zone.codelist.as_ref().map(|c| c.get_ref().as_str()),
        Some("kassel/parkzonen")
    );
    let body = imp.content.body().unwrap();
    let urns: Vec<String> = body
        .codelists
        .iter()
        .filter_map(|c| match &c.source {
            CodelistSource::XRepository { urn, .. } => Some(urn.clone()),
            CodelistSource::Inline(_) => None,
        })
        .collect();
    assert_eq!(urns, ["urn:xoev-de:xinneres:codeliste:anrede"]);
    let not_found: Vec<&Note> = imp
        .report
        .notes
        .iter()
        .filter(|n| n.reason.code() == "codelist-not-in-registry")
        .collect();
    assert_eq!(not_found.len(), 1, "{:?}", imp.report.notes);
    // Without the registry's answer nothing is said about it.
    let plain = import_fixture("xdf2_S99000001_bewohnerparkausweis.xml");
    assert!(plain.manifest.dependencies.is_empty());
    assert!(!plain
        .report
        .notes
        .iter()
        .any(|n| n.reason.code() == "codelist-not-in-registry"));
}

/// The README without what is quoted from the source: code spans, code
/// blocks (scripts), quotes (rule texts) and FIM versions (`V1.a`).
fn our_german(readme: &str) -> String {
    let versions = regex::Regex::new(r"\bV[0-9][0-9A-Za-z.]*").unwrap();
    let readme = versions.replace_all(readme, "V");
    let mut out = String::new();
    let mut in_block = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block || line.starts_with('>') {
            continue;
        }
        out.push_str(&crate::interop::reason::without_code(line));
        out.push('\n');
    }
    out
}

#[test]
fn the_readme_reports_every_note_in_german() {
    use crate::interop::reason::english_words;
    for (name, imp) in german_report_sources() {
        let german = imp.report.german();
        assert!(imp.readme.ends_with(&german), "{name}");
        assert!(!imp.report.notes.is_empty(), "{name}");
        for n in &imp.report.notes {
            let (de, en) = (n.reason.german(), n.reason.english());
            assert_ne!(de, en, "{name}");
            // Each note is one line of the report, ending in its German
            // reason; the English one is nowhere.
            let line = german
                .lines()
                .find(|l| l.starts_with(&format!("- Zeile {}: ", n.line)) && l.ends_with(&de));
            assert!(line.is_some(), "{name}: no line for {de}\n{german}");
            // A condition's English is its bare expression, which the
            // German quotes as code.
            if !matches!(n.reason, NoteReason::RuleAsCondition { .. }) {
                assert!(!german.contains(&en), "{name}: {en}");
            }
        }
        let ours = our_german(&imp.readme);
        assert_eq!(
            english_words(&ours),
            Vec::<&str>::new(),
            "{name}:\n{}",
            imp.readme
        );
    }
}

#[test]
fn the_imports_produce_nearly_every_reason() {
    let mut seen: Vec<&str> = Vec::new();
    for (_, imp) in german_report_sources() {
        for n in &imp.report.notes {
            seen.push(n.reason.code());
        }
    }
    seen.sort();
    seen.dedup();
    let mut all: Vec<&str> = crate::interop::reason::examples()
        .iter()
        .map(NoteReason::code)
        .collect();
    all.sort();
    all.dedup();
    let missing: Vec<&str> = all.iter().copied().filter(|c| !seen.contains(c)).collect();
    // A rule's target always exists where it landed; the importer checks
    // it only to fail safely. An unknown code is shown below: the sources
    // above come back the same through an export, which must write a
    // Schemaelementart where the import dropped one.
    assert_eq!(missing, ["rule-target-not-found", "unknown-code"]);
}

#[test]
fn codes_outside_their_list_are_reported_not_kept() {
    let doc = XDF3_SCHEMA.replacen(
        "<xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>",
        "<xdf:schemaelementart><code>XYZ</code></xdf:schemaelementart>",
        1,
    );
    let imp = import(doc.as_bytes(), &ImportOptions::default()).unwrap();
    let unknown: Vec<&Note> = imp
        .report
        .notes
        .iter()
        .filter(|n| n.reason.code() == "unknown-code")
        .collect();
    assert_eq!(unknown.len(), 1, "{:?}", imp.report.notes);
    assert_eq!(unknown[0].element, "schemaelementart");
    assert_eq!(unknown[0].kind, NoteKind::Dropped);
    assert_eq!(
        field(&items(&imp), "rasse")
            .fim
            .as_ref()
            .unwrap()
            .schemaelementart,
        None
    );
    // A 2.0 status outside its list, the same.
    let v2 = String::from_utf8(fixture("xdf2_S99000001_bewohnerparkausweis.xml"))
        .unwrap()
        .replacen("<code>aktiv</code>", "<code>verschollen</code>", 1);
    let imp = import(v2.as_bytes(), &ImportOptions::default()).unwrap();
    assert!(imp
        .report
        .notes
        .iter()
        .any(|n| n.reason.code() == "unknown-code" && n.element == "status"));
}

#[test]
fn german_report_lines_read_as_written() {
    let imp = import_fixture("xdf2_S99000001_bewohnerparkausweis.xml");
    for line in [
        "Nicht genau übernommen (8):\n",
        ": Der Status `aktiv` aus XDatenfelder 2.0 wurde als Freigabestatus `2` aus 3.0.0 übernommen.\n",
        "Von FIM nicht freigegeben (18), das Formular kann sich mit ihnen ändern:\n",
        "- F99000006 V1.0 → `parkzone`: Freigabestatus 2 in Bearbeitung\n",
        "- Zeile 259: Regel als Bedingung: `<regel>` R99000001 V1.0 → `fahrzeug.name_des_halters`: Die Regel wurde als Bedingung übernommen: `shown-when = \"abweichender_halter\"` und `required-when = \"abweichender_halter\"`.\n",
        "- Zeile 286: weggelassen: `<praezisierung>` F99000015 V1.0 → `fahrzeug.kontrollzeichen`: Das Muster `(?=K)K[0-9]+` ist kein regulärer Ausdruck, den die Prüfungen verarbeiten können (Lookahead, Lookbehind und Rückverweise werden nicht unterstützt); es wurde nicht übernommen.\n",
        "- Zeile 112: angenähert: `<datenfeld>` F99000005 V1.0 → `antragsteller.weiterer_vorname`: Das Datenfeld hat die Anzahl `0:5`; es wurde als wiederholbare Gruppe `weiterer_vorname` mit dem einzigen Feld `wert` übernommen.\n",
        "Als Bedingung geprüft: `shown-when = \"abweichender_halter\"` und `required-when = \"abweichender_halter\"` an `fahrzeug.name_des_halters`.\n",
    ] {
        assert!(imp.readme.contains(line), "{line}\n{}", imp.readme);
    }

    let odd = import(ODD_SCHEMA.as_bytes(), &ImportOptions::default()).unwrap();
    for sentence in [
        ": Die Anzahl `1:0` lässt kein Vorkommen zu; das Element wurde weggelassen.\n",
        ": Die Präzisierung `minLength 3` gilt nicht für ein Datenfeld vom Typ „Datum“ (`date`); sie wurde nicht übernommen.\n",
        ": Die Regel steht nur als Text im Abschnitt „Regeln“ und wird vom Formular nicht geprüft. Das Element F60000000201, das sie nennt, kommt 2-mal vor; es ist nicht eindeutig, welches gemeint ist.\n",
        ": Die Regel steht nur als Text im Abschnitt „Regeln“ und wird vom Formular nicht geprüft. Das Element `grund` hat bereits eine Bedingung.\n",
        ": Die FIM-Version `1.a` taugt nicht als Paketversion; das Paket beginnt mit Version 0.1.0.\n",
        "Übernommen aus dem FIM-Stammdatenschema S60000000999 V1.a („Sonderfälle“, XDatenfelder 3.0.0) mit `gemeinwerk import xdatenfelder`.\n",
    ] {
        assert!(odd.readme.contains(sentence), "{sentence}\n{}", odd.readme);
    }
    let group = import_fixture("xdf3_G60000000088_anschrift-inland_fixture.xml");
    assert!(
        group
            .readme
            .contains("Übernommen aus der FIM-Datenfeldgruppe G60000000088 V1.2.0 ("),
        "{}",
        group.readme
    );
}

#[test]
fn the_json_report_keeps_the_english_message_and_adds_code_and_german() {
    let imp = import_fixture("xdf2_S99000001_bewohnerparkausweis.xml");
    let json = serde_json::to_value(&imp.report).unwrap();
    let notes = json["notes"].as_array().unwrap();
    let pattern = notes
        .iter()
        .find(|n| n["reason"] == "unsupported-pattern")
        .unwrap();
    assert_eq!(pattern["kind"], "dropped");
    assert_eq!(pattern["fim"], "F99000015 V1.0");
    assert_eq!(pattern["path"], "fahrzeug.kontrollzeichen");
    assert_eq!(pattern["element"], "praezisierung");
    assert_eq!(
        pattern["message"],
        "the pattern \"(?=K)K[0-9]+\" is not a regular expression our checks understand (no look-around, no backreferences); not kept"
    );
    assert!(pattern["message_de"]
        .as_str()
        .unwrap()
        .starts_with("Das Muster `(?=K)K[0-9]+` ist kein regulärer Ausdruck"));
    // No path, no key.
    let licence = notes
        .iter()
        .find(|n| n["reason"] == "licence-assumed")
        .unwrap();
    assert!(licence.get("path").is_none(), "{licence}");
}

/// What the standard does not allow is refused with its line and column
/// (of the offending element's `<`), and nothing is imported.
#[test]
fn documents_the_standard_does_not_allow_are_refused_with_their_place() {
    let v2 = String::from_utf8(fixture("xdf2_S99000001_bewohnerparkausweis.xml")).unwrap();
    let v3 = String::from_utf8(fixture("xdf3_G60000000088_anschrift-inland_fixture.xml")).unwrap();
    // (source, the text the error points at, what it says)
    let cases: Vec<(String, &str, &str)> = vec![
        (
            v2.replacen(
                "<xdf:praezisierung></xdf:praezisierung>",
                "<xdf:praezisierung></xdf:praezisierung><xdf:praezisierung>{\"maxLength\":\"5\"}</xdf:praezisierung>",
                1,
            ),
            "<xdf:praezisierung>{",
            "<praezisierung> appears a second time in <datenfeld>",
        ),
        (
            v2.replacen(
                "<xdf:id>F99000001</xdf:id>",
                "<xdf:id>F99000001</xdf:id><xdf:kennung>x</xdf:kennung>",
                1,
            ),
            "<xdf:kennung>",
            "<kennung> is not part of <identifikation>",
        ),
        (
            v2.replacen("<xdf:id>F99000001</xdf:id>", "", 1),
            "<xdf:datenfeld>\n<xdf:identifikation><xdf:version>",
            "<datenfeld> has no id",
        ),
        (
            v2.replacen("<xdf:id>F99000002</xdf:id>", "<xdf:id>F99000001</xdf:id>", 1),
            "<xdf:datenfeld>\n<xdf:identifikation><xdf:id>F99000001</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>\n<xdf:name>Familienname",
            "F99000001 version 1.0 is defined a second time, differently",
        ),
        (
            v3.replacen("<code>6</code>", "<code>9</code>", 1),
            "<xdf:freigabestatus",
            "the Freigabestatus \"9\" is no code of its list",
        ),
    ];
    for (src, at, says) in cases {
        let err = import(src.as_bytes(), &ImportOptions::default())
            .err()
            .unwrap_or_else(|| panic!("accepted: {says}"));
        let ImportError::Refused {
            line,
            column,
            problem,
        } = &err
        else {
            panic!("{says}: {err}")
        };
        assert!(problem.contains(says), "{problem}");
        let offset = src
            .find(at)
            .unwrap_or_else(|| panic!("{at:?} is in the source"));
        let before = &src[..offset];
        let want_line = before.matches('\n').count() + 1;
        let want_column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
            .chars()
            .count()
            + 1;
        assert_eq!((*line, *column), (want_line, want_column), "{says}");
        assert!(err
            .to_string()
            .starts_with(&format!("line {line}, column {column}: ")));
    }
}
