use std::collections::BTreeMap;
use std::path::Path;

use super::compare::Canon;
use super::*;
use crate::content::{check_with, parse_content, Content, DependencyContent};
use crate::manifest::parse_manifest;

const MANIFEST: &str = "[package]\nname = \"kassel/p\"\nversion = \"1.0.0\"\nkind = \"form\"\ndescription = \"x\"\nlicense = \"EUPL-1.2\"\nthemenfeld = \"querschnitt\"\nkeywords = [\"a\"]\n";
const FORM: &str = "[form]\ntitle = \"T\"\nvertrauensniveau = \"niedrig\"\n\n[codelist.zone]\nlabel = \"Zonen\"\ncodes = [\n  { code = \"A\", label = \"Zone A\" },\n  { code = \"B\", label = \"Zone B\" },\n]\n\n[[field]]\nid = \"zone\"\ntype = \"select\"\nlabel = \"Zone\"\ncodelist = \"zone\"\n\n[[group]]\nid = \"g\"\nlabel = \"G\"\n\n[[group.field]]\nid = \"x\"\ntype = \"text\"\nlabel = \"X\"\nhelp = \"Hilfe\"\nexamples = [\"a\"]\n\n[[field]]\nid = \"y\"\ntype = \"text\"\nlabel = \"Y\"\n";

fn pkg(manifest: &str, form: &str) -> PackageFiles {
    let mut f = PackageFiles::new();
    f.insert(MANIFEST_FILE.into(), manifest.as_bytes().to_vec());
    f.insert("form.toml".into(), form.as_bytes().to_vec());
    f
}

fn form_of(files: &PackageFiles) -> Content {
    let text = std::str::from_utf8(&files["form.toml"]).unwrap();
    parse_content(PackageKind::Form, text).unwrap_or_else(|e| panic!("{text}\n{e:?}"))
}

/// `same` must answer exactly what comparing canonical texts answers.
#[test]
fn comparing_without_texts_agrees_with_canonical_texts() {
    let docs = [
        "x = \"a\"",
        "x = \"b\"",
        "x = 3",
        "x = 3.0",
        "x = [\"a\", \"b\"]",
        "x = [\"b\", \"a\"]",
        "x = { a = 1, b = \"z\" }",
        "x = { b = \"z\", a = 1 }",
        "[x]\na = 1\nb = \"z\"",
        "[x]\na = 1",
        "[[x]]\na = 1\n[[x]]\nb = 2",
        "x = [{ a = 1 }, { b = 2 }]",
        "amount = \"12,50\"",
        "amount = 12.5",
        "amount = \"12.50\"",
        "amount = 12",
        "shown-when = \"a == 'x'\"",
        "shown-when = \"(a=='x')\"",
        "shown-when = \"a != 'x'\"",
        "occurs = \"0..1\"",
        "vertrauensniveau = \"Hoch\"",
        "vertrauensniveau = \"hoch\"",
    ];
    let items: Vec<(String, Item)> = docs
        .iter()
        .map(|d| {
            let doc: DocumentMut = d.parse().unwrap();
            let (k, v) = doc.as_table().iter().next().unwrap();
            (k.to_string(), v.clone())
        })
        .collect();
    let mut equal_pairs = 0;
    for (ka, a) in &items {
        for (kb, b) in &items {
            if ka != kb {
                continue;
            }
            let by_text = Canon::default().canon_of(ka, a) == Canon::default().canon_of(kb, b);
            assert_eq!(
                Canon::default().same_item(ka, a, b),
                by_text,
                "{ka}: {a} vs {b}"
            );
            equal_pairs += usize::from(by_text);
        }
    }
    // Beside each item with itself: 3 == 3.0, the two inline tables, the
    // inline table and the table, the array of tables and the array of
    // inline tables, three amounts, two conditions, two trust levels.
    assert!(equal_pairs > items.len() + 10, "{equal_pairs}");
}

fn three(ours: &str, theirs: &str) -> MergeResult {
    merge(
        &pkg(MANIFEST, FORM),
        &pkg(MANIFEST, ours),
        &pkg(MANIFEST, theirs),
    )
    .unwrap()
}

fn paths(r: &MergeResult) -> Vec<&str> {
    r.conflicts.iter().map(|c| c.path.as_str()).collect()
}

#[test]
fn disjoint_changes_merge() {
    let ours = FORM.replace("label = \"Y\"", "label = \"Ypsilon\"");
    let theirs = FORM.replace("help = \"Hilfe\"", "help = \"Bessere Hilfe\"")
        + "\n[[field]]\nid = \"neu\"\ntype = \"boolean\"\nlabel = \"Neu\"\n";
    let r = three(&ours, &theirs);
    assert!(r.is_clean(), "{:?}", r.conflicts);
    let text = std::str::from_utf8(&r.files["form.toml"]).unwrap();
    assert!(
        text.contains("Ypsilon") && text.contains("Bessere Hilfe") && text.contains("id = \"neu\""),
        "{text}"
    );
    assert_eq!(r.taken, ["field:g.x/help", "field:neu"]);
    form_of(&r.files);
}

#[test]
fn the_same_change_on_both_sides_is_no_conflict() {
    let both = FORM.replace("label = \"Y\"", "label = \"Ypsilon\"");
    let r = three(&both, &both);
    assert!(r.is_clean());
    assert!(r.taken.is_empty());
    // Also when only the spelling of a condition differs.
    let o = FORM.replace(
        "label = \"Y\"\n",
        "label = \"Y\"\nshown-when = \"zone == 'A'\"\n",
    );
    let t = FORM.replace(
        "label = \"Y\"\n",
        "label = \"Y\"\nshown-when = \"(zone=='A')\"\n",
    );
    assert!(three(&o, &t).is_clean());
}

#[test]
fn different_changes_of_one_property_conflict() {
    let o = FORM.replace("label = \"Y\"", "label = \"Ypsilon\"");
    let t = FORM.replace("label = \"Y\"", "label = \"Why\"");
    let mut r = three(&o, &t);
    assert_eq!(paths(&r), ["field:y/label"]);
    let c = &r.conflicts[0];
    assert_eq!(
        (c.base.as_deref(), c.ours.as_deref(), c.theirs.as_deref()),
        (Some("\"Y\""), Some("\"Ypsilon\""), Some("\"Why\""))
    );
    assert_eq!(c.kind, ConflictKind::Value);
    let mut r2 = r.clone();
    r.resolve("field:y/label", Side::Theirs).unwrap();
    r2.resolve("field:y/label", Side::Ours).unwrap();
    assert!(std::str::from_utf8(&r.files["form.toml"])
        .unwrap()
        .contains("label = \"Why\""));
    assert!(std::str::from_utf8(&r2.files["form.toml"])
        .unwrap()
        .contains("label = \"Ypsilon\""));
    assert!(r.is_clean() && r2.is_clean());
    assert_eq!(
        r.resolve("field:y/label", Side::Ours).unwrap_err().code(),
        "merge.no_such_conflict"
    );
}

#[test]
fn deleted_on_one_side_changed_on_the_other_conflicts() {
    let without_y = FORM.replace(
        "\n[[field]]\nid = \"y\"\ntype = \"text\"\nlabel = \"Y\"\n",
        "",
    );
    let y_changed = FORM.replace("label = \"Y\"", "label = \"Ypsilon\"");
    let mut r = three(&without_y, &y_changed);
    assert_eq!(paths(&r), ["field:y"]);
    assert_eq!(r.conflicts[0].kind, ConflictKind::Element);
    assert_eq!(r.conflicts[0].ours, None);
    r.resolve("field:y", Side::Theirs).unwrap();
    let Content::Form(f) = form_of(&r.files) else {
        unreachable!()
    };
    assert_eq!(f.body.items.last().unwrap().id(), "y");
    // The other way round: upstream deleted what we changed.
    let r = three(&y_changed, &without_y);
    assert_eq!(paths(&r), ["field:y"]);
    // Deleted upstream, untouched here: deleted.
    let r = three(FORM, &without_y);
    assert!(r.is_clean());
    assert_eq!(r.taken, ["field:y"]);
    // Deleting a group while the other side changed a field in it.
    let without_g = FORM.replace("[[group]]\nid = \"g\"\nlabel = \"G\"\n\n[[group.field]]\nid = \"x\"\ntype = \"text\"\nlabel = \"X\"\nhelp = \"Hilfe\"\nexamples = [\"a\"]\n\n", "");
    let x_changed = FORM.replace("label = \"X\"", "label = \"Iks\"");
    assert_eq!(paths(&three(&without_g, &x_changed)), ["group:g"]);
}

#[test]
fn codes_merge_one_by_one() {
    let o = FORM.replace(
        "{ code = \"B\", label = \"Zone B\" },\n",
        "{ code = \"B\", label = \"Zone B\" },\n  { code = \"C\", label = \"Zone C\" },\n",
    );
    let t = FORM.replace("label = \"Zone A\"", "label = \"Zone A – Mitte\"");
    let r = three(&o, &t);
    assert!(r.is_clean(), "{:?}", r.conflicts);
    let Content::Form(f) = form_of(&r.files) else {
        unreachable!()
    };
    assert_eq!(f.body.codelists[0].codes, ["A", "B", "C"]);
    assert_eq!(f.body.codelists[0].inline()[0].label, "Zone A – Mitte");
    let o2 = FORM.replace("label = \"Zone A\"", "label = \"Zone A – Nord\"");
    let mut r = three(&o2, &t);
    assert_eq!(paths(&r), ["code:zone#A/label"]);
    r.resolve("code:zone#A/label", Side::Theirs).unwrap();
    let Content::Form(f) = form_of(&r.files) else {
        unreachable!()
    };
    assert_eq!(f.body.codelists[0].inline()[0].label, "Zone A – Mitte");
}

#[test]
fn word_lists_combine_and_manifest_keys_merge() {
    let o = FORM.replace("examples = [\"a\"]", "examples = [\"a\", \"b\"]");
    let t = FORM.replace("examples = [\"a\"]", "examples = [\"c\"]");
    let r = three(&o, &t);
    assert!(r.is_clean());
    let Content::Form(f) = form_of(&r.files) else {
        unreachable!()
    };
    let crate::model::Item::Group(g) = &f.body.items[1] else {
        unreachable!()
    };
    let crate::model::Item::Field(x) = &g.items[0] else {
        unreachable!()
    };
    assert_eq!(x.examples, ["b", "c"]);

    let ours_m = MANIFEST
        .replace("kassel/p", "darmstadt/p")
        .replace("description = \"x\"", "description = \"Darmstadt\"")
        + "\n[forked-from]\npackage = \"kassel/p\"\nversion = \"1.0.0\"\n";
    let theirs_m = MANIFEST.replace("\"1.0.0\"", "\"1.1.0\"").replace(
        "keywords = [\"a\"]",
        "keywords = [\"a\", \"b\"]\nleika = \"99050012104000\"",
    ) + "\n[dependencies]\n\"fim/x\" = \"^1\"\n";
    let r = merge(
        &pkg(MANIFEST, FORM),
        &pkg(&ours_m, FORM),
        &pkg(&theirs_m, FORM),
    )
    .unwrap();
    assert!(r.is_clean(), "{:?}", r.conflicts);
    let (m, _) = parse_manifest(std::str::from_utf8(&r.files[MANIFEST_FILE]).unwrap()).unwrap();
    assert_eq!(m.full_name(), "darmstadt/p");
    assert_eq!(m.version.to_string(), "1.0.0");
    assert_eq!(m.description, "Darmstadt");
    assert_eq!(m.keywords, ["a", "b"]);
    assert_eq!(m.leika.as_deref(), Some("99050012104000"));
    assert_eq!(m.dependencies[0].full_name(), "fim/x");
    assert_eq!(m.forked_from.unwrap().version.to_string(), "1.0.0");
    let theirs_m2 = MANIFEST.replace("description = \"x\"", "description = \"Kassel\"");
    let r = merge(
        &pkg(MANIFEST, FORM),
        &pkg(&ours_m, FORM),
        &pkg(&theirs_m2, FORM),
    )
    .unwrap();
    assert_eq!(paths(&r), ["manifest/description"]);
}

#[test]
fn processes_merge_by_state_transition_fee_and_role() {
    let base = "[process]\ntitle = \"P\"\n\n[roles]\nsb = \"SB\"\n\n[[state]]\nid = \"a\"\nlabel = \"A\"\nstart = true\n\n[[state]]\nid = \"b\"\nlabel = \"B\"\nend = \"bewilligt\"\n\n[[transition]]\nid = \"t\"\nfrom = \"a\"\nto = \"b\"\nrole = \"sb\"\naction = \"bescheiden\"\n\n[[fee]]\nid = \"g\"\nlabel = \"G\"\namount = \"30.70\"\nlegal-basis = \"X\"\non = \"t\"\n";
    let m = MANIFEST.replace("\"form\"", "\"process\"");
    let p = |s: &str| {
        let mut f = PackageFiles::new();
        f.insert(MANIFEST_FILE.into(), m.as_bytes().to_vec());
        f.insert("process.toml".into(), s.as_bytes().to_vec());
        f
    };
    let ours = base
        .replace("\"30.70\"", "\"25,00\"")
        .replace("sb = \"SB\"", "sb = \"Sachbearbeitung\"");
    let theirs = base
        .replace("label = \"B\"", "label = \"Bewilligt\"")
        .replace("legal-basis = \"X\"", "legal-basis = \"GebOSt\"")
        + "\n[[notice]]\nid = \"bescheid\"\nlabel = \"Bescheid\"\non = \"t\"\n";
    let r = merge(&p(base), &p(&ours), &p(&theirs)).unwrap();
    assert!(r.is_clean(), "{:?}", r.conflicts);
    let text = std::str::from_utf8(&r.files["process.toml"]).unwrap();
    let Content::Process(pr) = parse_content(PackageKind::Process, text).unwrap() else {
        unreachable!()
    };
    assert_eq!(pr.fees[0].amount_cents, 2500);
    assert_eq!(pr.fees[0].legal_basis.as_deref(), Some("GebOSt"));
    assert_eq!(pr.roles[0].label, "Sachbearbeitung");
    assert_eq!(pr.states[1].label.as_ref().unwrap().de, "Bewilligt");
    assert_eq!(pr.notices.len(), 1);
    // "30,70" and "30.70" are the same amount.
    let same = base.replace("\"30.70\"", "\"30,70\"");
    let r = merge(&p(base), &p(&same), &p(&base.replace("\"30.70\"", "30.7"))).unwrap();
    assert!(r.is_clean() && r.taken.is_empty());
    let t2 = base.replace("\"30.70\"", "\"31.00\"");
    assert_eq!(
        paths(&merge(&p(base), &p(&ours), &p(&t2)).unwrap()),
        ["fee:g/amount"]
    );
}

#[test]
fn comments_of_ours_are_kept() {
    let o = format!(
        "# Darmstadts Fassung\n{}",
        FORM.replace("label = \"Y\"", "label = \"Y\" # geändert")
    );
    let t = FORM.replace("help = \"Hilfe\"", "help = \"Neu\"");
    let r = three(&o, &t);
    let text = std::str::from_utf8(&r.files["form.toml"]).unwrap();
    assert!(text.starts_with("# Darmstadts Fassung\n"), "{text}");
    assert!(text.contains("# geändert"), "{text}");
}

// ------------------------------------------------------------------
// The story of issue 5 on the demo packages.

fn read_dir(name: &str) -> PackageFiles {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../demo")
        .join(name);
    let mut files = PackageFiles::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        files.insert(
            e.file_name().into_string().unwrap(),
            std::fs::read(e.path()).unwrap(),
        );
    }
    files
}

fn edit(files: &mut PackageFiles, file: &str, from: &str, to: &str) {
    let text = String::from_utf8(files[file].clone()).unwrap();
    assert!(text.contains(from), "{from}");
    files.insert(file.into(), text.replacen(from, to, 1).into_bytes());
}

fn darmstadt_fork(base: &PackageFiles) -> PackageFiles {
    let mut d = base.clone();
    edit(
        &mut d,
        MANIFEST_FILE,
        "kassel/bewohnerparkausweis",
        "darmstadt/bewohnerparkausweis",
    );
    edit(
        &mut d,
        MANIFEST_FILE,
        "der Stadt Kassel",
        "der Wissenschaftsstadt Darmstadt",
    );
    let t = String::from_utf8(d[MANIFEST_FILE].clone()).unwrap()
        + "\n[forked-from]\npackage = \"kassel/bewohnerparkausweis\"\nversion = \"1.0.0\"\n";
    d.insert(MANIFEST_FILE.into(), t.into_bytes());
    let f = "form.toml";
    // The zones of Darmstadt.
    edit(
        &mut d,
        f,
        "Bewohnerparkzonen in Kassel",
        "Bewohnerparkzonen in Darmstadt",
    );
    edit(
        &mut d,
        f,
        "Zone A – Innenstadt / Friedrich-Ebert-Straße",
        "Zone A – Martinsviertel",
    );
    edit(&mut d, f, "  { code = \"D\", label = \"Zone D – Nord-Holland\" },\n  { code = \"E\", label = \"Zone E – Südstadt\" },\n", "  { code = \"D\", label = \"Zone D – Johannesviertel\" },\n");
    // The fee.
    edit(&mut d, f, "ein Jahr (30,70 €)", "ein Jahr (25,00 €)");
    edit(&mut d, f, "zwei Jahre (61,40 €)", "zwei Jahre (50,00 €)");
    // The label that Kassel changes too, differently.
    edit(
        &mut d,
        f,
        "label = \"Parkzone\"",
        "label = \"Parkzone in Darmstadt\"",
    );
    edit(
        &mut d,
        f,
        "die Stadt Kassel meine Angaben",
        "die Wissenschaftsstadt Darmstadt meine Angaben",
    );
    d
}

fn demo_deps() -> DependencyContent {
    let mut packages = BTreeMap::new();
    for dir in [
        "fim-natuerliche-person",
        "fim-anschrift-inland",
        "fim-fahrzeug",
    ] {
        let files = read_dir(dir);
        let (m, _) = parse_manifest(std::str::from_utf8(&files[MANIFEST_FILE]).unwrap()).unwrap();
        let text = std::str::from_utf8(&files[m.kind.content_file()]).unwrap();
        packages.insert(m.full_name(), parse_content(m.kind, text).unwrap());
    }
    DependencyContent::resolved(packages)
}

fn validates(files: &PackageFiles) -> Content {
    let (m, _) = parse_manifest(std::str::from_utf8(&files[MANIFEST_FILE]).unwrap()).unwrap();
    let (content, found) = check_with(&m, files, &demo_deps());
    let errors: Vec<String> = found
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    content.unwrap()
}

#[test]
fn darmstadt_merges_kassel_1_1_0() {
    let base = read_dir("kassel-bewohnerparkausweis");
    let theirs = read_dir("kassel-bewohnerparkausweis-1.1.0");
    let ours = darmstadt_fork(&base);
    validates(&ours);
    let r = merge(&base, &ours, &theirs).unwrap();
    // Exactly the one label conflict.
    assert_eq!(paths(&r), ["field:parkzone/label"]);
    let c = &r.conflicts[0];
    assert_eq!(c.base.as_deref(), Some("\"Parkzone\""));
    assert_eq!(c.ours.as_deref(), Some("\"Parkzone in Darmstadt\""));
    assert_eq!(c.theirs.as_deref(), Some("\"Bewohnerparkzone\""));
    // Upstream's disjoint changes are in, Darmstadt's stay.
    for p in [
        "field:fahrzeug.kennzeichen/help",
        "field:fahrzeug.kennzeichen/pattern",
        "field:fahrzeug.kennzeichen/examples",
        "field:fahrzeug.zweitfahrzeug",
        "file:README.md",
    ] {
        assert!(r.taken.iter().any(|t| t == p), "{p} in {:?}", r.taken);
    }
    let text = std::str::from_utf8(&r.files["form.toml"]).unwrap();
    assert!(text.contains("Zone A – Martinsviertel") && !text.contains("Zone E"));
    assert!(text.contains("ein Jahr (25,00 €)"));
    assert!(text.contains("[1-9][0-9]{0,3}[EH]?"));
    assert!(text.contains("eingeben."));
    let (m, _) = parse_manifest(std::str::from_utf8(&r.files[MANIFEST_FILE]).unwrap()).unwrap();
    assert_eq!(m.full_name(), "darmstadt/bewohnerparkausweis");

    // The working folder lists the conflict; resolving it there works too.
    let about = MergeInfo {
        upstream: "kassel/bewohnerparkausweis".into(),
        base: "1.0.0".into(),
        theirs: "1.1.0".into(),
    };
    let work = r.working_files(&about);
    let open = check_no_open_conflicts(&work);
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].code, "merge.open_conflict");
    let merge_file = std::str::from_utf8(&work[MERGE_FILE]).unwrap();
    assert!(
        merge_file.contains("theirs = \"Bewohnerparkzone\""),
        "{merge_file}"
    );
    let (_, listed) = read_merge_file(&work).unwrap().unwrap();
    assert_eq!(listed, r.conflicts);
    let resolved = resolve_files(&work, "field:parkzone/label", Side::Theirs).unwrap();
    assert!(!resolved.contains_key(MERGE_FILE));
    assert!(check_no_open_conflicts(&resolved).is_empty());

    for side in [Side::Ours, Side::Theirs] {
        let mut r = r.clone();
        r.resolve("field:parkzone/label", side).unwrap();
        assert!(r.is_clean());
        let Content::Form(f) = validates(&r.files) else {
            unreachable!()
        };
        let label = f.body.items.iter().find_map(|i| match i {
            crate::model::Item::Field(x) if x.id == "parkzone" => x.label.clone(),
            _ => None,
        });
        let want = if side == Side::Ours {
            "Parkzone in Darmstadt"
        } else {
            "Bewohnerparkzone"
        };
        assert_eq!(label.unwrap().de, want);
        assert_eq!(f.body.codelists[0].codes, ["A", "B", "C", "D"]);
    }
    let Content::Form(f) = validates(&resolved) else {
        unreachable!()
    };
    let crate::model::Item::Group(g) = &f.body.items[4] else {
        panic!("{:?}", f.body.items[4].id())
    };
    assert_eq!(g.items.last().unwrap().id(), "zweitfahrzeug");
}
