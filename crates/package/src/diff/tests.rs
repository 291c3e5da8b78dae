use super::*;
use crate::content::parse_content;
use crate::content::tests::manifest_with_deps;
use crate::manifest::PackageKind;

const HEAD: &str = "[form]\ntitle = \"T\"\nvertrauensniveau = \"substanziell\"\naccounts = [\"BundID\", \"ELSTER\"]\n[codelist.zone]\nlabel = \"Z\"\ncodes = [{ code = \"A\", label = \"A\" }, { code = \"B\", label = \"B\" }]\n";
const FIELDS: &str = "[[field]]\nid = \"zone\"\ntype = \"select\"\nlabel = \"Zone\"\ncodelist = \"zone\"\n[[field]]\nid = \"name\"\ntype = \"text\"\nlabel = \"Name\"\nmax-length = 50\npattern = \"[A-Z].*\"\n";

fn form_diff(old: &str, new: &str) -> Vec<(String, Option<String>, Level)> {
    let m = manifest_with_deps("form", &[]);
    let a = parse_content(PackageKind::Form, old).unwrap();
    let b = parse_content(PackageKind::Form, new).unwrap();
    diff(&m, &a, &m, &b)
        .changes
        .into_iter()
        .map(|c| (c.path, c.property, c.level))
        .collect()
}

fn one(old: &str, new: &str) -> Level {
    let d = form_diff(old, new);
    assert_eq!(d.len(), 1, "{d:?}");
    d[0].2
}

#[test]
fn field_changes() {
    let base = format!("{HEAD}{FIELDS}");
    assert!(form_diff(&base, &base).is_empty());
    // Removing a field is major; adding an optional one minor, a required one major.
    assert_eq!(one(&base, &base.replace("[[field]]\nid = \"name\"\ntype = \"text\"\nlabel = \"Name\"\nmax-length = 50\npattern = \"[A-Z].*\"\n", "")), Level::Major);
    let extra = "[[field]]\nid = \"neu\"\ntype = \"text\"\nlabel = \"Neu\"\n";
    assert_eq!(one(&base, &format!("{base}{extra}")), Level::Minor);
    assert_eq!(
        one(&base, &format!("{base}{extra}required = true\n")),
        Level::Major
    );
    // Optional → required major, back minor.
    let req = base.replace("label = \"Name\"\n", "label = \"Name\"\nrequired = true\n");
    assert_eq!(one(&base, &req), Level::Major);
    assert_eq!(one(&req, &base), Level::Minor);
    // A new label is a patch.
    assert_eq!(
        one(
            &base,
            &base.replace("label = \"Name\"", "label = \"Nachname\"")
        ),
        Level::Patch
    );
    // Lengths: narrower major, wider minor.
    assert_eq!(
        one(&base, &base.replace("max-length = 50", "max-length = 40")),
        Level::Major
    );
    assert_eq!(
        one(&base, &base.replace("max-length = 50", "max-length = 60")),
        Level::Minor
    );
    // A changed pattern without examples cannot be shown to be compatible.
    assert_eq!(
        one(&base, &base.replace("[A-Z].*", "[A-Z][a-z]*")),
        Level::Major
    );
    // Type: widening minor, otherwise major.
    assert_eq!(
        one(
            &base,
            &base.replace("type = \"text\"", "type = \"multiline-text\"")
        ),
        Level::Minor
    );
    let zone_multi = base.replace("type = \"select\"", "type = \"multi-select\"");
    assert_eq!(one(&base, &zone_multi), Level::Minor);
    assert_eq!(one(&zone_multi, &base), Level::Major);
}

#[test]
fn condition_and_codelist_changes() {
    let base = format!("{HEAD}{FIELDS}");
    let shown = base.replace(
        "max-length = 50",
        "max-length = 50\nshown-when = \"zone == 'A'\"",
    );
    assert_eq!(one(&base, &shown), Level::Minor);
    // Only spacing differs: no change.
    let spaced = base.replace(
        "max-length = 50",
        "max-length = 50\nshown-when = \"(zone=='A')\"",
    );
    assert!(form_diff(&shown, &spaced).is_empty());
    let req_when = base.replace(
        "max-length = 50",
        "max-length = 50\nrequired-when = \"zone == 'A'\"",
    );
    assert_eq!(one(&base, &req_when), Level::Major);
    assert_eq!(one(&req_when, &base), Level::Minor);
    // Codes: removed major, added minor, relabelled patch.
    let fewer = base.replace(", { code = \"B\", label = \"B\" }", "");
    assert_eq!(one(&base, &fewer), Level::Major);
    assert_eq!(one(&fewer, &base), Level::Minor);
    assert_eq!(
        one(
            &base,
            &base.replace("label = \"B\" }", "label = \"Zone B\" }")
        ),
        Level::Patch
    );
}

#[test]
fn form_level_and_group_changes() {
    let base = format!("{HEAD}{FIELDS}");
    assert_eq!(
        one(&base, &base.replace("\"substanziell\"", "\"niedrig\"")),
        Level::Minor
    );
    let d = form_diff(&base, &base.replace(", \"ELSTER\"", ""));
    assert_eq!(d, [("form".into(), Some("accounts".into()), Level::Major)]);
    let g = "[[group]]\nid = \"kinder\"\nlabel = \"Kinder\"\noccurs = \"0:5\"\n[[group.field]]\nid = \"name\"\ntype = \"text\"\nlabel = \"Name\"\nrequired = true\n";
    let with_group = format!("{base}{g}");
    // The group is one change, not one per field; optional group → minor.
    assert_eq!(
        form_diff(&base, &with_group),
        [("kinder".into(), None, Level::Minor)]
    );
    assert_eq!(
        one(&with_group, &with_group.replace("0:5", "1:5")),
        Level::Major
    );
    assert_eq!(
        one(&with_group, &with_group.replace("0:5", "0:*")),
        Level::Minor
    );
    assert_eq!(
        one(&with_group, &with_group.replace("0:5", "0:3")),
        Level::Major
    );
}

#[test]
fn process_changes() {
    let p = "[process]\ntitle = \"P\"\n[roles]\nsb = \"SB\"\n[[state]]\nid = \"a\"\nlabel = \"A\"\nstart = true\n[[state]]\nid = \"b\"\nlabel = \"B\"\nend = \"bewilligt\"\n[[transition]]\nid = \"t\"\nfrom = \"a\"\nto = \"b\"\nrole = \"sb\"\naction = \"bescheiden\"\n[[fee]]\nid = \"g\"\nlabel = \"G\"\namount = \"30.70\"\nlegal-basis = \"X\"\non = \"t\"\n";
    let m = manifest_with_deps("process", &[]);
    let run = |new: &str| -> Vec<(String, Option<String>, Level)> {
        let a = parse_content(PackageKind::Process, p).unwrap();
        let b = parse_content(PackageKind::Process, new).unwrap();
        diff(&m, &a, &m, &b)
            .changes
            .into_iter()
            .map(|c| (c.path, c.property, c.level))
            .collect()
    };
    assert!(run(p).is_empty());
    assert_eq!(
        run(&p.replace("end = \"bewilligt\"", "end = \"abgelehnt\"")),
        [("b".into(), Some("end".into()), Level::Major)]
    );
    assert_eq!(
        run(&p.replace("\"30.70\"", "\"32.00\"")),
        [("g".into(), Some("amount".into()), Level::Minor)]
    );
    assert_eq!(
        run(&p.replace("label = \"B\"", "label = \"Bewilligt\"")),
        [("b".into(), Some("label".into()), Level::Patch)]
    );
    let more = format!("{p}[[state]]\nid = \"c\"\nlabel = \"C\"\nend = \"abgelehnt\"\n[[transition]]\nid = \"u\"\nfrom = \"a\"\nto = \"c\"\nrole = \"sb\"\naction = \"ablehnen\"\n");
    assert_eq!(
        run(&more).iter().map(|c| c.2).collect::<Vec<_>>(),
        [Level::Minor, Level::Minor]
    );
    let back = {
        let a = parse_content(PackageKind::Process, &more).unwrap();
        let b = parse_content(PackageKind::Process, p).unwrap();
        diff(&m, &a, &m, &b).level()
    };
    assert_eq!(back, Some(Level::Major));
}
