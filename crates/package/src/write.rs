//! Writes the package model back to TOML: `gemeinwerk.toml` and the content
//! file of each kind, in the layout the format reference uses. What is
//! written parses back to the same model (positions aside, see
//! [`without_positions`]); comments and keys the model does not keep
//! (`placeholder`, `default`) are not written. The merge works on the
//! user's files and keeps both; this writer is for generated packages
//! (the importer, the bench, conflict texts).

use std::fmt::Write as _;

use toml::Spanned;

use super::codelist::{Codelist, CodelistSource};
use super::codelist_package::CodelistPackage;
use super::content::Content;
use super::fieldgroup::Fieldgroup;
use super::form::{Body, Form};
use super::manifest::Manifest;
use super::model::{Bound, Condition, Field, FimRef, Group, Item, LegalBasis, Occurs, Text};
use super::process::Process;

/// A TOML string literal (basic string, escaped as TOML requires).
fn quote(s: &str) -> String {
    // Most texts need no escaping: written directly, as toml_edit would
    // (a code list of 20,000 codes has 60,000 of them).
    if !s.contains(|c: char| c == '"' || c == '\\' || c.is_control()) {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        return out;
    }
    toml_edit::Value::from(s).to_string()
}

/// A TOML key, quoted when it needs to be.
fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if bare {
        return k.to_string();
    }
    toml_edit::Key::new(k).display_repr().into_owned()
}

struct Out(String);

impl Out {
    fn line(&mut self, k: &str, v: String) {
        let _ = writeln!(self.0, "{} = {v}", key(k));
    }
    fn str(&mut self, k: &str, v: &str) {
        self.line(k, quote(v));
    }
    fn opt(&mut self, k: &str, v: &Option<String>) {
        if let Some(v) = v {
            self.str(k, v);
        }
    }
    fn strs(&mut self, k: &str, v: &[String]) {
        if !v.is_empty() {
            let items: Vec<String> = v.iter().map(|s| quote(s)).collect();
            self.line(k, format!("[{}]", items.join(", ")));
        }
    }
    fn text(&mut self, k: &str, t: &Option<Text>) {
        if let Some(t) = t {
            self.str(k, &t.de);
            if let Some(en) = &t.en {
                self.str(&format!("{k}-en"), en);
            }
        }
    }
    fn fim(&mut self, f: &Option<FimRef>) {
        if let Some(f) = f {
            self.str("fim-id", &f.id);
            self.opt("fim-version", &f.version);
            self.opt("fim-status", &f.status);
            self.opt("fim-schemaelementart", &f.schemaelementart);
            self.opt("fim-definition", &f.definition);
            self.opt("fim-help-output", &f.help_output);
        }
    }
    fn legal_basis(&mut self, l: &[LegalBasis]) {
        if l.is_empty() {
            return;
        }
        let items: Vec<String> = l
            .iter()
            .map(|b| match &b.link {
                None => quote(&b.text),
                Some(link) => format!("{{ text = {}, link = {} }}", quote(&b.text), quote(link)),
            })
            .collect();
        self.line("legal-basis", format!("[{}]", items.join(", ")));
    }
    fn cond(&mut self, k: &str, c: &Option<Condition>) {
        if let Some(c) = c {
            self.str(k, &c.source);
        }
    }
    fn header(&mut self, h: &str) {
        if !self.0.is_empty() {
            self.0.push('\n');
        }
        let _ = writeln!(self.0, "{h}");
    }
}

/// `gemeinwerk.toml`.
pub fn write_manifest(m: &Manifest) -> String {
    let mut o = Out(String::new());
    o.header("[package]");
    o.str("name", &m.full_name());
    o.str("version", &m.version.to_string());
    o.str("kind", m.kind.as_str());
    o.opt("title", &m.title);
    o.str("description", &m.description);
    o.str("license", &m.license);
    o.opt("themenfeld", &m.themenfeld);
    o.opt("leika", &m.leika);
    o.opt("readme", &m.readme);
    o.strs("keywords", &m.keywords);
    if m.lowers_vertrauensniveau {
        o.line("lowers-vertrauensniveau", "true".into());
    }
    if !m.dependencies.is_empty() {
        o.header("[dependencies]");
        for d in &m.dependencies {
            o.str(&d.full_name(), &d.req.to_string());
        }
    }
    if let Some(f) = &m.forked_from {
        o.header("[forked-from]");
        o.str("package", &format!("{}/{}", f.namespace, f.name));
        o.str("version", &f.version.to_string());
        o.opt("cksum", &f.cksum);
    }
    if let Some(f) = &m.fim {
        o.header("[fim]");
        o.str("id", &f.id);
        o.opt("version", &f.version);
    }
    o.0
}

/// The files of a generated package folder: manifest, content, README.
pub fn package_files(m: &Manifest, c: &Content, readme: &str) -> crate::PackageFiles {
    let mut files = crate::PackageFiles::new();
    files.insert(
        crate::manifest::MANIFEST_FILE.into(),
        write_manifest(m).into_bytes(),
    );
    files.insert(m.kind.content_file().into(), write_content(c).into_bytes());
    files.insert("README.md".into(), readme.as_bytes().to_vec());
    files
}

/// The content file of the package's kind (`form.toml`, …).
pub fn write_content(c: &Content) -> String {
    match c {
        Content::Form(f) => write_form(f),
        Content::Process(p) => write_process(p),
        Content::Fieldgroup(f) => write_fieldgroup(f),
        Content::Codelist(l) => write_codelist_package(l),
    }
}

/// `codelist.toml`; the columns only when they are not the implied
/// `code` and `label`.
pub fn write_codelist_package(l: &CodelistPackage) -> String {
    let mut o = Out(String::new());
    o.header("[codelist]");
    o.str("label", &l.label);
    o.opt("short-name", &l.short_name);
    o.opt("description", &l.description);
    o.opt("canonical-uri", &l.canonical_uri);
    o.opt("source-version", &l.source_version);
    o.opt("canonical-version-uri", &l.canonical_version_uri);
    o.opt("agency", &l.agency);
    o.opt("valid-from", &l.valid_from);
    if !l.has_default_columns() {
        o.str("key", &l.key);
        o.str("label-column", l.label_column.as_deref().unwrap_or(""));
        for c in &l.columns {
            o.header("[[column]]");
            o.str("id", &c.id);
            o.opt("name", &c.name);
            o.opt("long-name", &c.long_name);
            o.opt("type", &c.data_type);
            o.opt("lang", &c.lang);
            if c.required {
                o.line("required", "true".into());
            }
        }
    }
    for c in &l.codes {
        o.header("[[code]]");
        o.str("code", &c.code);
        o.opt("label", &c.label);
        if !c.values.is_empty() {
            let values: Vec<String> = c
                .values
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), quote(v)))
                .collect();
            o.line("values", format!("{{ {} }}", values.join(", ")));
        }
    }
    o.0
}

pub fn write_form(f: &Form) -> String {
    let mut o = Out(String::new());
    o.header("[form]");
    o.text("title", &f.title);
    if let Some(v) = f.vertrauensniveau {
        o.str("vertrauensniveau", v.as_str());
    }
    let accounts: Vec<String> = f.accounts.iter().map(|a| a.as_str().to_string()).collect();
    o.strs("accounts", &accounts);
    o.legal_basis(&f.legal_basis);
    o.fim(&f.fim);
    if let Some(a) = f.ableitung {
        o.str("ableitungsmodifikation", a.as_str());
    }
    write_body(&mut o, &f.body);
    o.0
}

pub fn write_fieldgroup(f: &Fieldgroup) -> String {
    let mut o = Out(String::new());
    o.header("[fieldgroup]");
    o.text("label", &f.label);
    o.text("help", &f.help);
    o.legal_basis(&f.legal_basis);
    o.fim(&f.fim);
    write_body(&mut o, &f.body);
    o.0
}

fn write_body(o: &mut Out, b: &Body) {
    for cl in &b.codelists {
        write_codelist(o, cl);
    }
    write_items(o, &b.items, "");
}

fn write_codelist(o: &mut Out, cl: &Codelist) {
    o.header(&format!("[codelist.{}]", key(&cl.id)));
    o.opt("label", &cl.label);
    match &cl.source {
        CodelistSource::Inline(codes) => {
            o.0.push_str("codes = [\n");
            for c in codes {
                let mut parts = vec![
                    format!("code = {}", quote(&c.code)),
                    format!("label = {}", quote(&c.label)),
                ];
                if let Some(en) = &c.label_en {
                    parts.push(format!("label-en = {}", quote(en)));
                }
                let _ = writeln!(o.0, "  {{ {} }},", parts.join(", "));
            }
            o.0.push_str("]\n");
        }
        CodelistSource::XRepository { urn, version } => {
            o.str("urn", urn);
            o.str("version", version);
        }
    }
}

/// `prefix` is the dotted path of array names above: `""`, `"group"`,
/// `"group.group"`.
fn write_items(o: &mut Out, items: &[Item], prefix: &str) {
    let name = |n: &str| {
        if prefix.is_empty() {
            n.to_string()
        } else {
            format!("{prefix}.{n}")
        }
    };
    for item in items {
        match item {
            Item::Field(f) => {
                o.header(&format!("[[{}]]", name("field")));
                write_field(o, f);
            }
            Item::Group(g) => {
                let here = name("group");
                o.header(&format!("[[{here}]]"));
                write_group(o, g);
                write_items(o, &g.items, &here);
            }
        }
    }
}

fn bound(b: &Bound) -> String {
    match b {
        Bound::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => format!("{}", *n as i64),
        Bound::Number(n) => toml_edit::Value::from(*n).to_string(),
        Bound::Date(s) | Bound::Time(s) => quote(s),
        Bound::Today { offset, .. } => quote(&format!("today{offset}")),
    }
}

fn write_field(o: &mut Out, f: &Field) {
    o.str("id", &f.id);
    o.str("type", f.ty.as_str());
    o.text("label", &f.label);
    o.text("help", &f.help);
    o.text("text", &f.text);
    if f.required {
        o.line("required", "true".into());
    }
    o.cond("shown-when", &f.shown_when);
    o.cond("required-when", &f.required_when);
    let c = &f.constraints;
    if let Some(n) = c.min_length {
        o.line("min-length", n.to_string());
    }
    if let Some(n) = c.max_length {
        o.line("max-length", n.to_string());
    }
    o.opt("pattern", &c.pattern);
    if let Some(b) = &c.min {
        o.line("min", bound(b));
    }
    if let Some(b) = &c.max {
        o.line("max", bound(b));
    }
    o.strs("media-types", &c.media_types);
    if let Some(n) = c.max_size {
        o.line("max-size", n.to_string());
    }
    if let Some(cl) = &f.codelist {
        o.str("codelist", cl.get_ref());
    }
    o.strs("examples", &f.examples);
    o.opt("fixed", &f.fixed);
    o.legal_basis(&f.legal_basis);
    o.fim(&f.fim);
}

fn write_group(o: &mut Out, g: &Group) {
    o.str("id", &g.id);
    o.text("label", &g.label);
    o.text("help", &g.help);
    if g.occurs != Occurs::ONCE {
        o.str("occurs", &g.occurs.to_string());
    }
    if let Some(i) = &g.include {
        o.str("include", i.get_ref());
    }
    o.cond("shown-when", &g.shown_when);
    o.legal_basis(&g.legal_basis);
    o.fim(&g.fim);
}

/// An amount in cents as `"30.70"`.
pub fn amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

pub fn write_process(p: &Process) -> String {
    let mut o = Out(String::new());
    o.header("[process]");
    o.text("title", &p.title);
    if !p.roles.is_empty() {
        o.header("[roles]");
        for r in &p.roles {
            o.str(&r.id, &r.label);
        }
    }
    for s in &p.states {
        o.header("[[state]]");
        o.str("id", &s.id);
        o.text("label", &s.label);
        if s.start {
            o.line("start", "true".into());
        }
        if let Some(e) = s.end {
            o.str("end", e.as_str());
        }
        o.opt("deadline", &s.deadline);
    }
    for t in &p.transitions {
        o.header("[[transition]]");
        o.str("id", &t.id);
        o.text("label", &t.label);
        o.str("from", t.from.get_ref());
        o.str("to", t.to.get_ref());
        o.str("role", t.role.get_ref());
        o.str("action", &t.action);
        let forms: Vec<String> = t.forms.iter().map(|f| f.get_ref().clone()).collect();
        o.strs("forms", &forms);
        o.opt("deadline", &t.deadline);
    }
    for f in &p.fees {
        o.header("[[fee]]");
        o.str("id", &f.id);
        o.text("label", &f.label);
        o.str("amount", &amount(f.amount_cents));
        o.opt("per", &f.per);
        o.opt("legal-basis", &f.legal_basis);
        if let Some(on) = &f.on {
            o.str("on", on.get_ref());
        }
    }
    for n in &p.notices {
        o.header("[[notice]]");
        o.str("id", &n.id);
        o.text("label", &n.label);
        o.str("on", n.on.get_ref());
        o.opt("legal-basis", &n.legal_basis);
    }
    o.0
}

fn zero<T: Clone>(s: &Spanned<T>) -> Spanned<T> {
    Spanned::new(0..0, s.get_ref().clone())
}

fn strip_cond(c: &mut Option<Condition>) {
    if let Some(c) = c {
        c.at = 0;
    }
}

fn strip_items(items: &mut [Item]) {
    for item in items {
        match item {
            Item::Field(f) => {
                f.at = 0;
                f.codelist = f.codelist.as_ref().map(zero);
                strip_cond(&mut f.shown_when);
                strip_cond(&mut f.required_when);
            }
            Item::Group(g) => {
                g.at = 0;
                g.include = g.include.as_ref().map(zero);
                strip_cond(&mut g.shown_when);
                strip_items(&mut g.items);
            }
        }
    }
}

fn strip_body(b: &mut Body) {
    strip_items(&mut b.items);
    for cl in &mut b.codelists {
        cl.at = 0;
        if let CodelistSource::Inline(codes) = &mut cl.source {
            for c in codes {
                c.at = 0;
            }
        }
    }
}

/// The model with every byte offset set to 0: two readings of the same
/// content compare equal with it, wherever the text put things.
pub fn without_positions(c: &Content) -> Content {
    let mut c = c.clone();
    match &mut c {
        Content::Form(f) => strip_body(&mut f.body),
        Content::Fieldgroup(f) => strip_body(&mut f.body),
        Content::Codelist(l) => l.codes.iter_mut().for_each(|c| c.at = 0),
        Content::Process(p) => {
            p.roles.iter_mut().for_each(|r| r.at = 0);
            p.states.iter_mut().for_each(|s| s.at = 0);
            for t in &mut p.transitions {
                t.at = 0;
                t.from = zero(&t.from);
                t.to = zero(&t.to);
                t.role = zero(&t.role);
                t.forms = t.forms.iter().map(zero).collect();
            }
            for f in &mut p.fees {
                f.at = 0;
                f.on = f.on.as_ref().map(zero);
            }
            for n in &mut p.notices {
                n.at = 0;
                n.on = zero(&n.on);
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::content::parse_content;
    use crate::manifest::parse_manifest;

    /// The short ways write what toml_edit writes.
    #[test]
    fn quoting_and_keys_as_toml_edit_writes_them() {
        for s in [
            "",
            "Zone A",
            "Straße, Größe & Maß",
            "it's",
            "Kennzeichen 🚗",
            "tab\there",
            "zeile\nzwei",
            "sagt \"ja\"",
            "back\\slash",
            "\u{7f}del",
        ] {
            assert_eq!(quote(s), toml_edit::Value::from(s).to_string(), "{s:?}");
        }
        for k in [
            "code",
            "name-en",
            "Kuerzel_2",
            "",
            "Kürzel",
            "a.b",
            "a b",
            "x\"y",
        ] {
            assert_eq!(
                key(k),
                toml_edit::Key::new(k).display_repr().into_owned(),
                "{k:?}"
            );
        }
    }

    /// parse → write → parse gives the same model, for every demo package.
    #[test]
    fn every_demo_package_round_trips() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo");
        let mut n = 0;
        for dir in std::fs::read_dir(root).unwrap() {
            let dir = dir.unwrap().path();
            let text = std::fs::read_to_string(dir.join("gemeinwerk.toml")).unwrap();
            let (m, _) = parse_manifest(&text).unwrap();
            let written = write_manifest(&m);
            let (again, _) =
                parse_manifest(&written).unwrap_or_else(|e| panic!("{written}\n{e:?}"));
            assert_eq!(m, again, "{}", dir.display());

            let file = m.kind.content_file();
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            let c = parse_content(m.kind, &text).unwrap();
            let written = write_content(&c);
            let again = parse_content(m.kind, &written)
                .unwrap_or_else(|e| panic!("{}:\n{written}\n{e:?}", dir.display()));
            assert_eq!(
                without_positions(&c),
                without_positions(&again),
                "{}:\n{written}",
                dir.display()
            );
            // Writing is stable: the second text is the first.
            assert_eq!(written, write_content(&again));
            n += 1;
        }
        assert!(n >= 9);
    }

    #[test]
    fn everything_the_model_holds_round_trips() {
        let src = r#"[form]
title = "T \"quoted\""
title-en = "T"
vertrauensniveau = "hoch"
accounts = ["BundID"]
fim-id = "S60000000001"
fim-version = "1.0"
ableitungsmodifikation = 1

[codelist.staat]
label = "Staaten"
urn = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staat"
version = "2024-02-01"

[[field]]
id = "geburt"
type = "date"
label = "Geburtsdatum"
min = "1900-01-01"
max = "today-P18Y"

[[group]]
id = "kinder"
label = "Kinder"
occurs = "0:*"
shown-when = "anzahl > 0"

[[group.group]]
id = "schule"
label = "Schule"

[[group.group.field]]
id = "name"
type = "text"
label = "Name"
min-length = 2
max-length = 80
pattern = "[A-Z].*"
examples = ["Anne"]

[[group.field]]
id = "alter"
type = "integer"
label = "Alter"
min = 0
max = 17

[[field]]
id = "anzahl"
type = "decimal"
label = "Anzahl"
min = 0.5
required-when = "is_set(geburt)"

[[field]]
id = "staat"
type = "select"
label = "Staat"
codelist = "staat"

[[field]]
id = "datei"
type = "file"
label = "Datei"
media-types = ["application/pdf"]
max-size = "2 MiB"
"#;
        let c = parse_content(crate::PackageKind::Form, src).unwrap();
        let written = write_content(&c);
        let again = parse_content(crate::PackageKind::Form, &written)
            .unwrap_or_else(|e| panic!("{written}\n{e:?}"));
        assert_eq!(
            without_positions(&c),
            without_positions(&again),
            "{written}"
        );
        assert!(written.contains("ableitungsmodifikation = \"erweitern\""));
        // The nested group keeps its fields and the order around it.
        let ids: Vec<&str> = match &again {
            Content::Form(f) => f.body.items.iter().map(Item::id).collect(),
            _ => unreachable!(),
        };
        assert_eq!(ids, ["geburt", "kinder", "anzahl", "staat", "datei"]);
    }
}
