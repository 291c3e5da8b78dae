//! FIM XDatenfelder import: a Stammdatenschema becomes a form package, a
//! Datenfeldgruppe a field group package, in our format (the model of
//! `package::`, written by `package::write`). Versions 1.0, 2.0 and 3.0.0.
//!
//! What maps to what is documented in `docs/interop.md`; everything that
//! does not map exactly goes into the [`ImportReport`]. The result is
//! checked with [`check_package`] before it is returned, so an import that
//! succeeds always validates.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use toml::Spanned;

use super::report::{ImportReport, Note, NoteKind};
use super::xml::{self, Element, Limits, XmlError};
use crate::package::codelist::{Code, Codelist, CodelistSource};
use crate::package::content::Content;
use crate::package::fieldgroup::Fieldgroup;
use crate::package::form::{Ableitung, Body, Form, Vertrauensniveau};
use crate::package::manifest::{check_slug, FimSource, Manifest, PackageKind, MANIFEST_FILE};
use crate::package::model::{
    is_date, is_fim_id, is_fim_version, Bound, Condition, Constraints, Field, FieldType, FimRef,
    Group, Item, Occurs, Text,
};
use crate::package::{check_package, expr, write, PackageFiles};

pub const NS_V1: &str = "urn:xoev-de:fim:standard:xdatenfelder_1";
pub const NS_V2: &str = "urn:xoev-de:fim:standard:xdatenfelder_2";
pub const NS_V3: &str = "urn:xoev-de:fim:standard:xdatenfelder_3.0.0";

/// The XDatenfelder version of a document, told by its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standard {
    V1,
    V2,
    V3,
}

impl Standard {
    pub fn as_str(self) -> &'static str {
        match self {
            Standard::V1 => "XDatenfelder 1.0",
            Standard::V2 => "XDatenfelder 2.0",
            Standard::V3 => "XDatenfelder 3.0.0",
        }
    }

    fn from_namespace(ns: &str) -> Option<Standard> {
        match ns {
            NS_V1 => Some(Standard::V1),
            NS_V2 => Some(Standard::V2),
            NS_V3 => Some(Standard::V3),
            _ => None,
        }
    }
}

/// The root elements read: message name → what it carries.
const ROOTS: [(&str, PackageKind); 4] = [
    ("xdatenfelder.stammdatenschema.0102", PackageKind::Form),
    ("xdatenfelder.datenfeldgruppe.0103", PackageKind::Fieldgroup),
    // XDatenfelder 1.0 spells the message names with a longer number.
    ("xdatenfelder.stammdatenschema.0102001", PackageKind::Form),
    (
        "xdatenfelder.datenfeldgruppe.0103001",
        PackageKind::Fieldgroup,
    ),
];

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub namespace: String,
    /// The package name; default: made from the FIM name.
    pub name: Option<String>,
    /// XDatenfelder carries no licence; the importer writes this one.
    pub license: String,
    pub limits: Limits,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            namespace: "fim".into(),
            name: None,
            license: "EUPL-1.2".into(),
            limits: Limits::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Xml(#[from] XmlError),
    #[error("line {line}: the root element <{element}> is in the namespace \"{found}\"; XDatenfelder documents use {NS_V1}, {NS_V2} or {NS_V3}")]
    WrongNamespace {
        line: usize,
        element: String,
        found: String,
    },
    #[error("line {line}: the root element is <{found}>; an XDatenfelder Stammdatenschema or Datenfeldgruppe is expected (<xdatenfelder.stammdatenschema.0102> or <xdatenfelder.datenfeldgruppe.0103>)")]
    WrongRoot { line: usize, found: String },
    #[error("line {line}: <{parent}> has no <{child}>")]
    Missing {
        line: usize,
        parent: String,
        child: String,
    },
    #[error("{0}")]
    Options(String),
    #[error("{what} has no fields that can be imported")]
    Empty { what: String },
    /// The importer wrote something `validate` refuses: a bug, reported
    /// instead of writing a broken package.
    #[error("the imported package does not validate (please report this): {0}")]
    Invalid(String),
}

/// An imported package: its model, its files, and the report.
#[derive(Debug, Clone)]
pub struct Imported {
    pub manifest: Manifest,
    pub content: Content,
    pub readme: String,
    pub report: ImportReport,
}

impl Imported {
    /// The files of the package folder, by path.
    pub fn files(&self) -> PackageFiles {
        let mut files = PackageFiles::new();
        files.insert(
            MANIFEST_FILE.into(),
            write::write_manifest(&self.manifest).into_bytes(),
        );
        files.insert(
            self.manifest.kind.content_file().into(),
            write::write_content(&self.content).into_bytes(),
        );
        files.insert("README.md".into(), self.readme.clone().into_bytes());
        files
    }
}

/// Elements that describe rather than define, which the package format has
/// no place for; listed in the report's `not_carried`.
const DESCRIPTIVE: [&str; 27] = [
    "beschreibung",
    "definition",
    "bezug",
    "status",
    "freigabestatus",
    "statusGesetztAm",
    "statusGesetztDurch",
    "versionshinweis",
    "gueltigAb",
    "gueltigBis",
    "veroeffentlichungsdatum",
    "freigabedatum",
    "letzteAenderung",
    "fachlicherErsteller",
    "bezeichnungAusgabe",
    "hilfetextAusgabe",
    "schemaelementart",
    "stichwort",
    "relation",
    "vorbefuellung",
    "ableitungsmodifikationenRepraesentation",
    "dokumentsteckbrief",
    "hilfetext",
    "codeKey",
    "nameKey",
    "helpKey",
    "typ",
];

const COMMON_MAPPED: [&str; 7] = [
    "identifikation",
    "id",
    "version",
    "name",
    "bezeichnungEingabe",
    "hilfetextEingabe",
    "regel",
];

const FIELD_MAPPED: [&str; 9] = [
    "feldart",
    "datentyp",
    "praezisierung",
    "inhalt",
    "codeliste",
    "codelisteReferenz",
    "werte",
    "maxSize",
    "mediaType",
];

/// A rule (Regel) as found, with the elements it was attached to.
#[derive(Debug, Clone)]
struct Rule {
    fim: String,
    name: Option<String>,
    text: Option<String>,
    script: Option<String>,
    line: usize,
    on: Vec<String>,
    /// Set when the rule became a condition: `(path, key, expression)`.
    condition: Option<(String, &'static str, String)>,
}

/// Where an imported FIM element landed.
#[derive(Debug, Clone)]
struct Landed {
    path: String,
    /// The field's type; `None` for groups.
    ty: Option<FieldType>,
    /// Paths of the repeatable groups around it (and itself, for one).
    repeat: Vec<String>,
}

struct Importer<'a> {
    std: Standard,
    opts: &'a ImportOptions,
    notes: Vec<Note>,
    not_carried: BTreeMap<String, Vec<String>>,
    codelists: Vec<Codelist>,
    /// `(urn, version)` → code list id, so that fields share a list.
    xrepo_lists: HashMap<(String, String), String>,
    rules: Vec<Rule>,
    landed: HashMap<String, Vec<Landed>>,
    fields: usize,
    groups: usize,
}

/// Imports an XDatenfelder document. Pure: the caller reads the file and
/// writes the folder.
pub fn import(input: &[u8], opts: &ImportOptions) -> Result<Imported, ImportError> {
    check_slug(&opts.namespace).map_err(|e| ImportError::Options(format!("namespace {e}")))?;
    if let Some(n) = &opts.name {
        check_slug(n).map_err(|e| ImportError::Options(format!("name {e}")))?;
    }
    let doc = xml::parse(input, &opts.limits)?;
    let root = &doc.root;
    let ns = doc.namespace_of(root).unwrap_or("");
    let std = Standard::from_namespace(ns).ok_or_else(|| ImportError::WrongNamespace {
        line: root.line,
        element: root.name.clone(),
        found: if ns.is_empty() {
            "(none)".into()
        } else {
            ns.into()
        },
    })?;
    let kind = ROOTS
        .iter()
        .find(|(n, _)| *n == root.name)
        .map(|(_, k)| *k)
        .ok_or_else(|| ImportError::WrongRoot {
            line: root.line,
            found: root.name.clone(),
        })?;
    let (child_names, what): (&[&str], &str) = match kind {
        PackageKind::Fieldgroup => (&["datenfeldgruppe"], "Datenfeldgruppe"),
        _ => (&["stammdatenschema", "schema"], "Stammdatenschema"),
    };
    let top = child_names
        .iter()
        .find_map(|n| root.child(n))
        .ok_or_else(|| ImportError::Missing {
            line: root.line,
            parent: root.name.clone(),
            child: child_names[0].into(),
        })?;
    // Foreign elements beside the payload (signatures, extensions) are
    // not read; the header is transport data.
    let mut imp = Importer {
        std,
        opts,
        notes: Vec::new(),
        not_carried: BTreeMap::new(),
        codelists: Vec::new(),
        xrepo_lists: HashMap::new(),
        rules: Vec::new(),
        landed: HashMap::new(),
        fields: 0,
        groups: 0,
    };
    for c in &root.children {
        if c.name != "header" && !child_names.contains(&c.name.as_str()) {
            imp.note(
                NoteKind::Dropped,
                None,
                None,
                c,
                "an element of the message that is not read".into(),
            );
        }
    }
    let (id, version) = imp.ident(top);
    let fim = fim_label(id.as_deref(), version.as_deref());
    let name = text(top, "name").unwrap_or("").to_string();
    let title = text(top, "bezeichnungEingabe")
        .map(str::to_string)
        .unwrap_or_else(|| name.clone());
    if title.is_empty() {
        return Err(ImportError::Missing {
            line: top.line,
            parent: top.name.clone(),
            child: "name".into(),
        });
    }
    imp.collect_rules(top, &fim, "");
    let mut items = imp.items(top, "", &[], &fim);
    if items.is_empty() {
        return Err(ImportError::Empty {
            what: format!("{what} {fim}"),
        });
    }
    imp.scan_rest(
        top,
        &fim,
        &[
            "struktur",
            "ableitungsmodifikationenStruktur",
            "hilfetextEingabe",
            "stichwort",
            // Carried into the description and README.md.
            "beschreibung",
            "definition",
            "bezug",
        ],
    );
    let conditions = imp.apply_rules(&mut items);
    let body = Body {
        items,
        codelists: std::mem::take(&mut imp.codelists),
    };
    let fim_ref = imp.fim_ref(top, id.as_deref(), version.as_deref(), &fim);
    let help = text(top, "hilfetextEingabe").map(str::to_string);
    let content = match kind {
        PackageKind::Fieldgroup => Content::Fieldgroup(Fieldgroup {
            label: Some(de(&title)),
            help: help.as_deref().map(de),
            fim: fim_ref,
            body,
        }),
        _ => {
            if help.is_some() {
                imp.not_carried
                    .entry("hilfetextEingabe".into())
                    .or_default()
                    .push(fim.clone());
            }
            let ableitung = top.child("ableitungsmodifikationenStruktur").and_then(|e| {
                let code = code_of(e)?;
                let found = code
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| Ableitung::ALL.get(i))
                    .map(|(_, a)| *a);
                if found.is_none() {
                    imp.note(
                        NoteKind::Dropped,
                        Some(&fim),
                        None,
                        e,
                        format!("ableitungsmodifikationenStruktur \"{code}\" is not a code 0 to 3"),
                    );
                }
                found
            });
            imp.note(
                NoteKind::Approximated,
                Some(&fim),
                None,
                top,
                "XDatenfelder says nothing about the Vertrauensniveau; set to \"niedrig\": raise it in form.toml if the service needs more".into(),
            );
            Content::Form(Form {
                title: Some(de(&title)),
                vertrauensniveau: Some(Vertrauensniveau::Niedrig),
                accounts: Vec::new(),
                fim: fim_ref,
                ableitung,
                body,
            })
        }
    };
    let manifest = imp.manifest(
        top,
        kind,
        &name,
        &title,
        id.as_deref(),
        version.as_deref(),
        &fim,
    );

    let body = content.body().expect("forms and field groups have a body");
    let mut report = ImportReport {
        standard: std.as_str().into(),
        source: fim.clone(),
        package: format!("{}@{}", manifest.full_name(), manifest.version),
        kind: kind.as_str().into(),
        fields: imp.fields,
        groups: imp.groups,
        codelists: body.codelists.len(),
        rules: imp.rules.len(),
        conditions,
        notes: std::mem::take(&mut imp.notes),
        not_carried: Vec::new(),
    };
    report.set_not_carried(std::mem::take(&mut imp.not_carried));
    let readme = readme(&manifest, std, what, &fim, top, &imp.rules, &report);
    let imported = Imported {
        manifest,
        content,
        readme,
        report,
    };
    if let Err(found) = check_package(&imported.files()) {
        let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
        return Err(ImportError::Invalid(lines.join("; ")));
    }
    Ok(imported)
}

/// The trimmed text of a child; XDatenfelder 1.0 writes "-" for nothing.
fn text<'e>(e: &'e Element, name: &str) -> Option<&'e str> {
    e.text_of(name).filter(|t| *t != "-")
}

/// The value of a code element: `<xdf:feldart><code>input</code></xdf:feldart>`.
fn code_of(e: &Element) -> Option<&str> {
    e.text_of("code").or_else(|| e.trimmed())
}

fn de(s: &str) -> Text {
    Text {
        de: s.to_string(),
        en: None,
    }
}

fn fim_label(id: Option<&str>, version: Option<&str>) -> String {
    match (id, version) {
        (Some(i), Some(v)) => format!("{i} V{v}"),
        (Some(i), None) => i.to_string(),
        (None, _) => "(no id)".to_string(),
    }
}

/// An id of our format from a FIM name: lowercase a–z, 0–9 and `sep`,
/// umlauts spelled out, at most `max` characters, cut at a word boundary.
pub(crate) fn slug(s: &str, sep: char, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        let rep: &str = match c {
            'ä' => "ae",
            'ö' => "oe",
            'ü' => "ue",
            'ß' => "ss",
            'a'..='z' | '0'..='9' => {
                out.push(c);
                continue;
            }
            _ => {
                if !out.is_empty() && !out.ends_with(sep) {
                    out.push(sep);
                }
                continue;
            }
        };
        out.push_str(rep);
    }
    let mut out = out.trim_end_matches(sep).to_string();
    if out.len() > max {
        let cut = out[..max]
            .rfind(sep)
            .filter(|i| *i >= max / 2)
            .unwrap_or(max);
        out.truncate(cut);
    }
    out
}

impl Importer<'_> {
    fn note(
        &mut self,
        kind: NoteKind,
        fim: Option<&str>,
        path: Option<&str>,
        e: &Element,
        message: String,
    ) {
        self.notes.push(Note {
            kind,
            fim: fim.map(str::to_string),
            path: path.map(str::to_string),
            element: e.name.clone(),
            line: e.line,
            message,
        });
    }

    /// The FIM id and version of an element.
    fn ident(&self, e: &Element) -> (Option<String>, Option<String>) {
        let holder = match self.std {
            Standard::V1 => Some(e),
            _ => e.child("identifikation"),
        };
        let Some(h) = holder else {
            return (None, None);
        };
        (
            h.text_of("id").map(str::to_string),
            h.text_of("version").map(str::to_string),
        )
    }

    /// A FIM reference for our model, when the id has the shape FIM ids have.
    fn fim_ref(
        &mut self,
        e: &Element,
        id: Option<&str>,
        version: Option<&str>,
        label: &str,
    ) -> Option<FimRef> {
        let id = id?;
        if !is_fim_id(id) {
            self.note(
                NoteKind::Dropped,
                Some(label),
                None,
                e,
                format!("\"{id}\" is not a FIM id (a letter and 8 or 11 digits); the reference is not kept"),
            );
            return None;
        }
        let version = version.filter(|v| {
            let ok = is_fim_version(v);
            if !ok {
                self.notes.push(Note {
                    kind: NoteKind::Dropped,
                    fim: Some(label.to_string()),
                    path: None,
                    element: "version".into(),
                    line: e.line,
                    message: format!("the version \"{v}\" is not numbers and dots; not kept"),
                });
            }
            ok
        });
        Some(FimRef {
            id: id.to_string(),
            version: version.map(str::to_string),
        })
    }

    /// Records the children of `e` that were neither mapped nor named in
    /// `also`: descriptive ones by name, unknown ones as notes.
    fn scan_rest(&mut self, e: &Element, fim: &str, also: &[&str]) {
        for c in &e.children {
            let n = c.name.as_str();
            if COMMON_MAPPED.contains(&n) || also.contains(&n) {
                continue;
            }
            if DESCRIPTIVE.contains(&n) {
                if !c.is_blank() && c.trimmed() != Some("-") {
                    self.not_carried
                        .entry(n.to_string())
                        .or_default()
                        .push(fim.to_string());
                }
            } else {
                self.note(
                    NoteKind::Dropped,
                    Some(fim),
                    None,
                    c,
                    "an element this importer does not know".into(),
                );
            }
        }
    }

    fn collect_rules(&mut self, owner: &Element, owner_fim: &str, path: &str) {
        let on = if path.is_empty() {
            owner_fim.to_string()
        } else {
            format!("{owner_fim} ({path})")
        };
        for r in owner.children_named("regel") {
            let (id, version) = self.ident(r);
            let fim = fim_label(id.as_deref(), version.as_deref());
            if let Some(existing) = self.rules.iter_mut().find(|x| x.fim == fim && id.is_some()) {
                existing.on.push(on.clone());
                continue;
            }
            let textual = ["freitextRegel", "definition", "beschreibung"]
                .iter()
                .find_map(|n| text(r, n))
                .map(normalize_space);
            for c in &r.children {
                let n = c.name.as_str();
                let used = matches!(
                    n,
                    "identifikation"
                        | "id"
                        | "version"
                        | "name"
                        | "freitextRegel"
                        | "definition"
                        | "beschreibung"
                        | "script"
                        | "skript"
                        | "bezeichnungEingabe"
                );
                if !used && !c.is_blank() {
                    self.not_carried
                        .entry(n.to_string())
                        .or_default()
                        .push(fim.clone());
                }
            }
            self.rules.push(Rule {
                fim,
                name: text(r, "name").map(str::to_string),
                text: textual,
                script: text(r, "script")
                    .or_else(|| text(r, "skript"))
                    .map(str::to_string),
                line: r.line,
                on: vec![on.clone()],
                condition: None,
            });
        }
    }

    /// The items of a group or schema: its `struktur` entries, in order.
    fn items(
        &mut self,
        parent: &Element,
        scope: &str,
        repeat: &[String],
        parent_fim: &str,
    ) -> Vec<Item> {
        let mut out = Vec::new();
        let mut used: HashSet<String> = HashSet::new();
        for s in parent.children_named("struktur") {
            for c in &s.children {
                if !matches!(c.name.as_str(), "anzahl" | "enthaelt") && !c.is_blank() {
                    self.not_carried
                        .entry(format!("struktur/{}", c.name))
                        .or_default()
                        .push(parent_fim.to_string());
                }
            }
            let occurs = match s.text_of("anzahl") {
                None => {
                    self.note(
                        NoteKind::Approximated,
                        Some(parent_fim),
                        None,
                        s,
                        "no <anzahl>; taken as 1:1".into(),
                    );
                    Occurs::ONCE
                }
                Some(a) => match Occurs::parse(a) {
                    Ok(o) => o,
                    Err(e) if a.trim_end().ends_with(":0") => {
                        self.note(
                            NoteKind::Dropped,
                            Some(parent_fim),
                            None,
                            s,
                            format!("{e}: the element is left out"),
                        );
                        continue;
                    }
                    Err(e) => {
                        self.note(
                            NoteKind::Approximated,
                            Some(parent_fim),
                            None,
                            s,
                            format!("{e}; taken as 0:1"),
                        );
                        Occurs {
                            min: 0,
                            max: Some(1),
                        }
                    }
                },
            };
            let Some(enthaelt) = s.child("enthaelt") else {
                self.note(
                    NoteKind::Dropped,
                    Some(parent_fim),
                    None,
                    s,
                    "a <struktur> without <enthaelt>".into(),
                );
                continue;
            };
            for c in &enthaelt.children {
                let item = match c.name.as_str() {
                    "datenfeld" => self.field(c, occurs, scope, repeat, &mut used),
                    "datenfeldgruppe" => self.group(c, occurs, scope, repeat, &mut used),
                    _ => {
                        self.note(
                            NoteKind::Dropped,
                            Some(parent_fim),
                            None,
                            c,
                            "neither a datenfeld nor a datenfeldgruppe".into(),
                        );
                        None
                    }
                };
                out.extend(item);
            }
        }
        out
    }

    /// A unique id within one group.
    fn id_for(&self, name: &str, fallback: &str, used: &mut HashSet<String>) -> String {
        let mut base = slug(name, '_', 48);
        if base.is_empty() {
            base = slug(fallback, '_', 48);
        }
        if !base.starts_with(|c: char| c.is_ascii_lowercase()) {
            base = format!("f_{base}");
        }
        let mut id = base.clone();
        let mut n = 2;
        while !used.insert(id.clone()) {
            id = format!("{base}_{n}");
            n += 1;
        }
        id
    }

    /// The label of an element without `bezeichnungEingabe`: its FIM name
    /// (reported), else its id.
    fn label_from_name(
        &mut self,
        e: &Element,
        name: &str,
        id: &str,
        fim: &str,
        path: &str,
    ) -> String {
        if name.is_empty() {
            return id.to_string();
        }
        self.note(
            NoteKind::Approximated,
            Some(fim),
            Some(path),
            e,
            "no bezeichnungEingabe; the label is the FIM name".into(),
        );
        name.to_string()
    }

    fn land(&mut self, id: Option<&str>, landed: Landed) {
        if let Some(id) = id {
            self.landed.entry(id.to_string()).or_default().push(landed);
        }
    }

    fn group(
        &mut self,
        e: &Element,
        occurs: Occurs,
        scope: &str,
        repeat: &[String],
        used: &mut HashSet<String>,
    ) -> Option<Item> {
        let (fid, version) = self.ident(e);
        let fim = fim_label(fid.as_deref(), version.as_deref());
        let name = text(e, "name").unwrap_or("");
        let id = self.id_for(name, fid.as_deref().unwrap_or("gruppe"), used);
        let path = join(scope, &id);
        let label = match text(e, "bezeichnungEingabe") {
            Some(l) => l.to_string(),
            None => self.label_from_name(e, name, &id, &fim, &path),
        };
        let mut inner = repeat.to_vec();
        if occurs.is_repeatable() {
            inner.push(path.clone());
        }
        self.collect_rules(e, &fim, &path);
        let items = self.items(e, &path, &inner, &fim);
        self.scan_rest(e, &fim, &["struktur"]);
        if items.is_empty() {
            self.note(
                NoteKind::Dropped,
                Some(&fim),
                Some(&path),
                e,
                "the group has no fields that could be imported; left out".into(),
            );
            used.remove(&id);
            return None;
        }
        let fim_ref = self.fim_ref(e, fid.as_deref(), version.as_deref(), &fim);
        self.land(
            fid.as_deref(),
            Landed {
                path: path.clone(),
                ty: None,
                repeat: inner,
            },
        );
        self.groups += 1;
        Some(Item::Group(Group {
            id,
            at: 0,
            label: Some(de(&label)),
            help: text(e, "hilfetextEingabe").map(de),
            occurs,
            include: None,
            shown_when: None,
            fim: fim_ref,
            items,
        }))
    }

    fn field(
        &mut self,
        e: &Element,
        occurs: Occurs,
        scope: &str,
        repeat: &[String],
        used: &mut HashSet<String>,
    ) -> Option<Item> {
        let (fid, version) = self.ident(e);
        let fim = fim_label(fid.as_deref(), version.as_deref());
        let name = text(e, "name").unwrap_or("");
        let id = self.id_for(name, fid.as_deref().unwrap_or("feld"), used);
        // A repeated field becomes a repeatable group around it.
        let wrapped = occurs.is_repeatable();
        let path = if wrapped {
            join(&join(scope, &id), "wert")
        } else {
            join(scope, &id)
        };
        let feldart = e
            .child("feldart")
            .and_then(code_of)
            .unwrap_or("input")
            .to_string();
        let datentyp = e
            .child("datentyp")
            .and_then(code_of)
            .unwrap_or("text")
            .to_string();
        let label_text = text(e, "bezeichnungEingabe").map(str::to_string);
        self.collect_rules(e, &fim, &path);
        self.scan_rest(e, &fim, &FIELD_MAPPED);

        if feldart == "hidden" {
            self.note(NoteKind::Dropped, Some(&fim), None, e, "a hidden field (feldart hidden) is not part of what the applicant fills in; left out".into());
            used.remove(&id);
            return None;
        }
        if feldart == "label" {
            let shown = text(e, "inhalt")
                .map(str::to_string)
                .or(label_text.clone())
                .unwrap_or_else(|| name.to_string());
            if shown.is_empty() {
                self.note(
                    NoteKind::Dropped,
                    Some(&fim),
                    None,
                    e,
                    "a label without text; left out".into(),
                );
                used.remove(&id);
                return None;
            }
            let path = join(scope, &id);
            self.fields += 1;
            let fim_ref = self.fim_ref(e, fid.as_deref(), version.as_deref(), &fim);
            self.land(
                fid.as_deref(),
                Landed {
                    path,
                    ty: Some(FieldType::StaticText),
                    repeat: repeat.to_vec(),
                },
            );
            return Some(Item::Field(Field {
                id,
                at: 0,
                ty: FieldType::StaticText,
                label: None,
                help: None,
                text: Some(de(&shown)),
                required: false,
                shown_when: None,
                required_when: None,
                constraints: Constraints::default(),
                codelist: None,
                examples: Vec::new(),
                fim: fim_ref,
            }));
        }
        if feldart == "locked" {
            self.note(
                NoteKind::Approximated,
                Some(&fim),
                Some(&path),
                e,
                "a locked (read-only) field is imported as an ordinary input".into(),
            );
        } else if !matches!(feldart.as_str(), "input" | "select") {
            self.note(
                NoteKind::Approximated,
                Some(&fim),
                Some(&path),
                e,
                format!("feldart \"{feldart}\" is not known; imported as an input"),
            );
        }

        let mut ty = match datentyp.as_str() {
            "text" => FieldType::Text,
            "text_latin" => {
                self.note(NoteKind::Approximated, Some(&fim), Some(&path), e, "datentyp text_latin (DIN SPEC 91379 characters) is imported as text; the character set is not checked".into());
                FieldType::Text
            }
            "date" => FieldType::Date,
            "time" => FieldType::Time,
            "datetime" => FieldType::DateTime,
            "bool" => FieldType::Boolean,
            "num" => FieldType::Decimal,
            "num_int" => FieldType::Integer,
            "num_currency" => FieldType::Money,
            "file" => FieldType::File,
            "obj" => {
                self.note(
                    NoteKind::Approximated,
                    Some(&fim),
                    Some(&path),
                    e,
                    "datentyp obj (a binary object) is imported as a file upload".into(),
                );
                FieldType::File
            }
            other => {
                self.note(
                    NoteKind::Approximated,
                    Some(&fim),
                    Some(&path),
                    e,
                    format!("datentyp \"{other}\" is not known; imported as text"),
                );
                FieldType::Text
            }
        };
        let mut codelist = None;
        if feldart == "select" {
            match self.codelist_for(e, &id, &fim) {
                Ok(cl) => {
                    if datentyp != "text" {
                        self.note(
                            NoteKind::Approximated,
                            Some(&fim),
                            Some(&path),
                            e,
                            format!("a select of datentyp \"{datentyp}\": the codes are text"),
                        );
                    }
                    ty = FieldType::Select;
                    codelist = Some(Spanned::new(0..0, cl));
                }
                Err(why) => {
                    self.note(
                        NoteKind::Approximated,
                        Some(&fim),
                        Some(&path),
                        e,
                        format!("{why}; imported as a text field"),
                    );
                    ty = FieldType::Text;
                }
            }
        } else if e.child("codelisteReferenz").is_some_and(|c| !c.is_blank()) {
            self.note(
                NoteKind::Dropped,
                Some(&fim),
                Some(&path),
                e,
                "a code list on a field that is not a select; not kept".into(),
            );
        }
        let constraints = self.constraints(e, ty, &fim, &path);
        let label = label_text.unwrap_or_else(|| self.label_from_name(e, name, &id, &fim, &path));
        let fim_ref = self.fim_ref(e, fid.as_deref(), version.as_deref(), &fim);
        self.fields += 1;
        let field = Field {
            id: if wrapped { "wert".into() } else { id.clone() },
            at: 0,
            ty,
            label: Some(de(&label)),
            help: text(e, "hilfetextEingabe").map(de),
            text: None,
            required: wrapped || occurs.min >= 1,
            shown_when: None,
            required_when: None,
            constraints,
            codelist,
            examples: Vec::new(),
            fim: fim_ref,
        };
        if !wrapped {
            self.land(
                fid.as_deref(),
                Landed {
                    path,
                    ty: Some(ty),
                    repeat: repeat.to_vec(),
                },
            );
            return Some(Item::Field(field));
        }
        let group_path = join(scope, &id);
        let mut inner = repeat.to_vec();
        inner.push(group_path.clone());
        self.note(
            NoteKind::Approximated,
            Some(&fim),
            Some(&group_path),
            e,
            format!("the field occurs {occurs}; imported as the repeatable group \"{id}\" with the one field \"wert\""),
        );
        // Rules name the FIM field; for conditions the group stands in.
        self.land(
            fid.as_deref(),
            Landed {
                path: group_path,
                ty: None,
                repeat: inner,
            },
        );
        self.groups += 1;
        Some(Item::Group(Group {
            id,
            at: 0,
            label: Some(de(&label)),
            help: None,
            occurs,
            include: None,
            shown_when: None,
            fim: None,
            items: vec![Item::Field(field)],
        }))
    }

    /// The code list of a select field: inline values (3.0.0 `werte`) or a
    /// reference to the XRepository by URN and version.
    fn codelist_for(&mut self, e: &Element, field_id: &str, fim: &str) -> Result<String, String> {
        if let Some(werte) = e.child("werte").filter(|w| !w.is_blank()) {
            let mut codes: Vec<Code> = Vec::new();
            for w in werte.children_named("wert") {
                let Some(code) = w.text_of("code") else {
                    continue;
                };
                if codes.iter().any(|c| c.code == code) {
                    self.note(
                        NoteKind::Dropped,
                        Some(fim),
                        None,
                        w,
                        format!("the code \"{code}\" is listed twice; the second is left out"),
                    );
                    continue;
                }
                codes.push(Code {
                    code: code.to_string(),
                    label: w.text_of("name").unwrap_or(code).to_string(),
                    label_en: None,
                    at: 0,
                });
            }
            if codes.is_empty() {
                return Err("the <werte> list no code".into());
            }
            let mut id = field_id.to_string();
            let mut n = 2;
            while self.codelists.iter().any(|c| c.id == id) {
                id = format!("{field_id}_{n}");
                n += 1;
            }
            self.codelists.push(Codelist {
                id: id.clone(),
                at: 0,
                label: text(e, "bezeichnungEingabe")
                    .or_else(|| text(e, "name"))
                    .map(str::to_string),
                codes: codes.iter().map(|c| c.code.clone()).collect(),
                source: CodelistSource::Inline(codes),
            });
            return Ok(id);
        }
        let field_label = text(e, "bezeichnungEingabe").or_else(|| text(e, "name"));
        let (urn, version, label) = if let Some(r) = e.child("codelisteReferenz") {
            let g = r.child("genericodeIdentification").unwrap_or(r);
            let cid = r.child("identifikation").and_then(|i| i.text_of("id"));
            (
                g.text_of("canonicalIdentification").map(str::to_string),
                g.text_of("version").map(str::to_string),
                match (field_label, cid) {
                    (Some(l), Some(c)) => Some(format!("{l} ({c})")),
                    (l, c) => l.or(c).map(str::to_string),
                },
            )
        } else if let Some(c) = e.child("codeliste") {
            (
                c.text_of("kennung").map(str::to_string),
                c.text_of("version").map(str::to_string),
                c.text_of("name")
                    .or_else(|| c.text_of("id"))
                    .map(str::to_string),
            )
        } else {
            return Err("a select without a code list".into());
        };
        let Some(urn) = urn.filter(|u| u.starts_with("urn:") && !u.contains(char::is_whitespace))
        else {
            return Err(format!(
                "the code list {} names no URN",
                label.as_deref().unwrap_or("(unnamed)")
            ));
        };
        let Some(version) = version else {
            return Err(format!("the code list {urn} names no version"));
        };
        if let Some(id) = self.xrepo_lists.get(&(urn.clone(), version.clone())) {
            return Ok(id.clone());
        }
        let last = urn.rsplit(':').next().unwrap_or(field_id);
        let mut base = slug(last, '_', 40);
        if !base.starts_with(|c: char| c.is_ascii_lowercase()) {
            base = format!("liste_{base}");
        }
        let mut id = base.clone();
        let mut n = 2;
        while self.codelists.iter().any(|c| c.id == id) {
            id = format!("{base}_{n}");
            n += 1;
        }
        self.codelists.push(Codelist {
            id: id.clone(),
            at: 0,
            label,
            codes: Vec::new(),
            source: CodelistSource::XRepository {
                urn: urn.clone(),
                version: version.clone(),
            },
        });
        self.xrepo_lists.insert((urn, version), id.clone());
        Ok(id)
    }

    /// praezisierung: a JSON object in 1.0 and 2.0, attributes in 3.0.0.
    fn constraints(&mut self, e: &Element, ty: FieldType, fim: &str, path: &str) -> Constraints {
        let mut c = Constraints::default();
        if ty == FieldType::File {
            for m in e.children_named("mediaType") {
                if let Some(t) = m.trimmed() {
                    c.media_types.push(t.to_ascii_lowercase());
                }
            }
            if let Some(n) = text(e, "maxSize")
                .and_then(|s| s.parse::<u64>().ok())
                .filter(|n| *n > 0)
            {
                c.max_size = Some(n);
            }
        }
        let Some(p) = e.child("praezisierung") else {
            return c;
        };
        let mut given: Vec<(String, String)> = p.attrs.clone();
        if let Some(t) = p.trimmed() {
            match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(t) {
                Ok(map) => {
                    for (k, v) in map {
                        let v = match v {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        given.push((k, v));
                    }
                }
                Err(_) => self.note(
                    NoteKind::Dropped,
                    Some(fim),
                    Some(path),
                    p,
                    format!("\"{t}\" is not a JSON object of constraints; not kept"),
                ),
            }
        }
        for (k, v) in given {
            let v = v.trim().to_string();
            if v.is_empty() {
                continue;
            }
            let refuse = |why: String, this: &mut Self| {
                this.note(NoteKind::Dropped, Some(fim), Some(path), p, why);
            };
            match k.as_str() {
                "minLength" | "maxLength" => {
                    if !ty.is_textual() {
                        refuse(
                            format!(
                                "{k} {v} does not apply to a {} field; not kept",
                                ty.as_str()
                            ),
                            self,
                        );
                        continue;
                    }
                    match v.parse::<u64>() {
                        Ok(n) if k == "minLength" => c.min_length = Some(n),
                        Ok(n) => c.max_length = Some(n),
                        Err(_) => refuse(format!("{k} \"{v}\" is not a number; not kept"), self),
                    }
                }
                "minValue" | "maxValue" => {
                    let bound = if ty.is_numeric() {
                        match v.replace(',', ".").parse::<f64>() {
                            Ok(n) if ty == FieldType::Integer && n.fract() != 0.0 => {
                                refuse(
                                    format!("{k} {v} is not a whole number, but the field is"),
                                    self,
                                );
                                None
                            }
                            Ok(n) if n.is_finite() => Some(Bound::Number(n)),
                            _ => {
                                refuse(format!("{k} \"{v}\" is not a number; not kept"), self);
                                None
                            }
                        }
                    } else if matches!(ty, FieldType::Date | FieldType::DateTime) && is_date(&v) {
                        Some(Bound::Date(v.clone()))
                    } else {
                        refuse(
                            format!(
                                "{k} \"{v}\" does not apply to a {} field; not kept",
                                ty.as_str()
                            ),
                            self,
                        );
                        None
                    };
                    if k == "minValue" {
                        c.min = bound;
                    } else {
                        c.max = bound;
                    }
                }
                "pattern" => {
                    if !ty.is_textual() {
                        refuse(
                            format!(
                                "a pattern does not apply to a {} field; not kept",
                                ty.as_str()
                            ),
                            self,
                        );
                    } else if regex_syntax::ParserBuilder::new()
                        .build()
                        .parse(&v)
                        .is_err()
                    {
                        refuse(format!("the pattern \"{v}\" is not a regular expression our checks understand (no look-around, no backreferences); not kept"), self);
                    } else {
                        c.pattern = Some(v);
                    }
                }
                other => refuse(
                    format!("the constraint \"{other}\" is not known; not kept"),
                    self,
                ),
            }
        }
        if let (Some(a), Some(b)) = (c.min_length, c.max_length) {
            if a > b {
                self.note(
                    NoteKind::Dropped,
                    Some(fim),
                    Some(path),
                    p,
                    format!("minLength {a} is greater than maxLength {b}; neither is kept"),
                );
                c.min_length = None;
                c.max_length = None;
            }
        }
        if let (Some(a), Some(b)) = (&c.min, &c.max) {
            if a.partial_cmp(b) == Some(std::cmp::Ordering::Greater) {
                self.note(
                    NoteKind::Dropped,
                    Some(fim),
                    Some(path),
                    p,
                    format!("minValue {a} is greater than maxValue {b}; neither is kept"),
                );
                c.min = None;
                c.max = None;
            }
        }
        c
    }

    /// Turns rules that are plain dependencies into conditions; the others
    /// stay text. Returns how many conditions were set.
    fn apply_rules(&mut self, items: &mut [Item]) -> usize {
        let mut all_paths: HashSet<String> = HashSet::new();
        for v in self.landed.values() {
            for l in v {
                all_paths.insert(l.path.clone());
            }
        }
        let mut set = 0;
        let mut notes = Vec::new();
        for rule in &mut self.rules {
            let fake = Element {
                name: "regel".into(),
                line: rule.line,
                ..Element::default()
            };
            let outcome = match rule.text.as_deref().and_then(dependency) {
                None => Err("its text is not a plain dependency (\"F… ist nur zu befüllen, wenn F… bejaht wurde\")".to_string()),
                Some((a, b)) => condition_for(&self.landed, &all_paths, &a, &b),
            };
            match outcome {
                Ok((path, expr_text, is_group)) => {
                    match set_condition(items, &path, &expr_text, is_group) {
                        Ok(key) => {
                            set += 1;
                            notes.push((
                                NoteKind::RuleAsCondition,
                                rule.fim.clone(),
                                Some(path.clone()),
                                fake,
                                format!("{key} = \"{expr_text}\""),
                            ));
                            rule.condition = Some((path, key, expr_text));
                        }
                        Err(why) => notes.push((
                            NoteKind::RuleAsText,
                            rule.fim.clone(),
                            Some(path),
                            fake,
                            format!("kept as text in README.md: {why}"),
                        )),
                    }
                }
                Err(why) => notes.push((
                    NoteKind::RuleAsText,
                    rule.fim.clone(),
                    None,
                    fake,
                    format!("kept as text in README.md: {why}"),
                )),
            }
        }
        for (kind, fim, path, e, msg) in notes {
            self.note(kind, Some(&fim), path.as_deref(), &e, msg);
        }
        set
    }

    #[allow(clippy::too_many_arguments)]
    fn manifest(
        &mut self,
        top: &Element,
        kind: PackageKind,
        name: &str,
        title: &str,
        id: Option<&str>,
        version: Option<&str>,
        fim: &str,
    ) -> Manifest {
        let pkg_name = self.opts.name.clone().unwrap_or_else(|| {
            let s = slug(name, '-', 64);
            if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                format!("fim-{}", id.unwrap_or("import").to_ascii_lowercase())
            } else {
                s
            }
        });
        let semver = version.and_then(|v| {
            let parts: Vec<&str> = v.split('.').collect();
            let full = match parts.len() {
                1 => format!("{v}.0.0"),
                2 => format!("{v}.0"),
                _ => v.to_string(),
            };
            semver::Version::parse(&full).ok()
        });
        let semver = semver.unwrap_or_else(|| {
            self.note(
                NoteKind::Approximated,
                Some(fim),
                None,
                top,
                format!(
                    "the FIM version {} is not a version the package can take; the package starts at 0.1.0",
                    version.unwrap_or("(none)")
                ),
            );
            semver::Version::new(0, 1, 0)
        });
        let description = ["beschreibung", "definition"]
            .iter()
            .find_map(|n| text(top, n))
            .map(normalize_space)
            .unwrap_or_else(|| format!("{title}: imported from FIM {fim}"));
        let description: String = description.chars().take(1000).collect();
        let mut keywords = vec!["fim".to_string()];
        for s in top.children_named("stichwort") {
            if let Some(t) = s.trimmed() {
                let t = normalize_space(t);
                if t.chars().count() <= 40 && keywords.len() < 10 && !keywords.contains(&t) {
                    keywords.push(t);
                }
            }
        }
        let fim_source = id.filter(|i| is_fim_id(i)).map(|i| FimSource {
            id: i.to_string(),
            version: version.filter(|v| is_fim_version(v)).map(str::to_string),
        });
        self.note(
            NoteKind::Approximated,
            Some(fim),
            None,
            top,
            format!(
                "XDatenfelder carries no licence; the manifest says \"{}\": check the terms of the source before publishing",
                self.opts.license
            ),
        );
        Manifest {
            namespace: self.opts.namespace.clone(),
            name: pkg_name,
            version: semver,
            kind,
            title: Some(title.to_string()),
            description,
            license: self.opts.license.clone(),
            keywords,
            themenfeld: None,
            leika: None,
            readme: None,
            dependencies: Vec::new(),
            forked_from: None,
            lowers_vertrauensniveau: false,
            repository: None,
            homepage: None,
            fim: fim_source,
        }
    }
}

fn join(scope: &str, id: &str) -> String {
    if scope.is_empty() {
        id.to_string()
    } else {
        format!("{scope}.{id}")
    }
}

fn normalize_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a rule that is a plain dependency: "F… ist nur zu befüllen, wenn
/// F… bejaht wurde" and its usual wordings. Returns (dependent, condition)
/// FIM ids, or `None` for anything else: a rule that says more than that
/// is not guessed at.
pub(crate) fn dependency(text: &str) -> Option<(String, String)> {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        let id = r"([FG]\d{8}(?:\d{3})?)(?:\s+V?\d+(?:\.\d+)*)?";
        let quoted = r#"(?:\s+(?:„[^“”"]*[“”"]|"[^"]*"|\([^)]*\)))?"#;
        let subject = r"(?:(?:das|die|der)\s+)?(?:(?:daten)?feld(?:gruppe)?\s+|gruppe\s+)?";
        let fill = r"(?:zu\s+befüllen|auszufüllen|zu\s+füllen|anzugeben|einzublenden|anzuzeigen)";
        let yes = r#"(?:bejaht|mit\s+(?:„ja“|"ja"|ja)\s+beantwortet|angekreuzt|ausgewählt|gesetzt)"#;
        regex::Regex::new(&format!(
            r"(?i)^{subject}{id}{quoted}\s+(?:ist|sind)\s+nur\s+(?:dann\s+)?{fill}\s*,?\s*(?:wenn|falls)\s+{subject}{id}{quoted}\s+{yes}\s+(?:wurde|worden\s+ist|ist)\.?$"
        ))
        .expect("the dependency pattern compiles")
    });
    let t = normalize_space(text);
    let c = re.captures(&t)?;
    let a = c.get(1)?.as_str().to_string();
    let b = c.get(2)?.as_str().to_string();
    b.starts_with('F').then_some((a, b))
}

/// The path that gets the condition and its expression text, if the two
/// FIM ids name one element each and the expression reaches the source.
fn condition_for(
    landed: &HashMap<String, Vec<Landed>>,
    all_paths: &HashSet<String>,
    a: &str,
    b: &str,
) -> Result<(String, String, bool), String> {
    let one = |id: &str| -> Result<&Landed, String> {
        match landed.get(id).map(Vec::as_slice) {
            Some([l]) => Ok(l),
            Some([]) | None => Err(format!("{id} is not part of the import")),
            Some(many) => Err(format!(
                "{id} occurs {} times, so it is not clear which is meant",
                many.len()
            )),
        }
    };
    let target = one(a)?;
    let source = one(b)?;
    if source.ty != Some(FieldType::Boolean) {
        return Err(format!("{b} is not a yes/no field (datentyp bool)"));
    }
    let scope = target.path.rsplit_once('.').map(|(s, _)| s).unwrap_or("");
    let inside = |g: &String| scope == g || scope.starts_with(&format!("{g}."));
    if let Some(g) = source.repeat.iter().find(|g| !inside(g)) {
        return Err(format!("{b} lies in the repeatable group \"{g}\", so the condition could not tell which entry is meant"));
    }
    // The shortest name that reaches the source from the target's scope,
    // by the same outward lookup the condition language uses.
    let resolve = |name: &str| -> Option<String> {
        let mut s = scope;
        loop {
            let p = join(s, name);
            if all_paths.contains(&p) {
                return Some(p);
            }
            if s.is_empty() {
                return None;
            }
            s = s.rsplit_once('.').map(|(a, _)| a).unwrap_or("");
        }
    };
    let short = source.path.rsplit('.').next().unwrap_or(&source.path);
    let name = if resolve(short).as_deref() == Some(source.path.as_str()) {
        short.to_string()
    } else if resolve(&source.path).as_deref() == Some(source.path.as_str()) {
        source.path.clone()
    } else {
        return Err(format!(
            "{b} cannot be named unambiguously from {}",
            target.path
        ));
    };
    Ok((target.path.clone(), name, target.ty.is_none()))
}

fn item_mut<'a>(items: &'a mut [Item], path: &str) -> Option<&'a mut Item> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let item = items.iter_mut().find(|i| i.id() == head)?;
    match rest {
        None => Some(item),
        Some(r) => match item {
            Item::Group(g) => item_mut(&mut g.items, r),
            Item::Field(_) => None,
        },
    }
}

fn set_condition(
    items: &mut [Item],
    path: &str,
    expr_text: &str,
    is_group: bool,
) -> Result<&'static str, String> {
    let cond = || Condition {
        source: expr_text.to_string(),
        expr: expr::parse(expr_text).ok(),
        at: 0,
    };
    match item_mut(items, path) {
        Some(Item::Group(g)) if is_group => {
            if g.shown_when.is_some() {
                return Err(format!("\"{path}\" already has a condition"));
            }
            g.shown_when = Some(cond());
            Ok("shown-when")
        }
        Some(Item::Field(f)) if !is_group => {
            if f.shown_when.is_some() || f.required_when.is_some() {
                return Err(format!("\"{path}\" already has a condition"));
            }
            f.shown_when = Some(cond());
            if f.required {
                f.required = false;
                f.required_when = Some(cond());
                Ok("shown-when and required-when")
            } else {
                Ok("shown-when")
            }
        }
        _ => Err(format!("\"{path}\" was not found")),
    }
}

fn readme(
    m: &Manifest,
    std: Standard,
    what: &str,
    fim: &str,
    top: &Element,
    rules: &[Rule],
    report: &ImportReport,
) -> String {
    let mut s = format!(
        "# {}\n\nÜbernommen aus dem FIM-{what} {fim} („{}“, {}) mit `gemeinwerk import xdatenfelder`.\n",
        m.title.as_deref().unwrap_or(&m.name),
        text(top, "name").unwrap_or(""),
        std.as_str()
    );
    for key in ["beschreibung", "definition"] {
        if let Some(t) = text(top, key) {
            s.push_str(&format!("\n{}\n", normalize_space(t)));
        }
    }
    if let Some(b) = text(top, "bezug") {
        s.push_str(&format!("\nRechtsgrundlage: {}\n", normalize_space(b)));
    }
    if !rules.is_empty() {
        s.push_str("\n## Regeln\n\nDie Regeln der FIM-Quelle. Sie dienen der Dokumentation: Das Formular prüft nur die, die als Bedingung übernommen wurden.\n");
        for r in rules {
            s.push_str(&format!(
                "\n### {}{}\n\nBetrifft: {}\n",
                r.fim,
                r.name
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default(),
                r.on.join(", ")
            ));
            if let Some(t) = &r.text {
                s.push_str(&format!("\n> {t}\n"));
            }
            if let Some(script) = &r.script {
                s.push_str(&format!("\n```\n{}\n```\n", script.replace("```", "` ` `")));
            }
            if let Some((path, key, e)) = &r.condition {
                s.push_str(&format!(
                    "\nAls Bedingung geprüft: `{key} = \"{e}\"` an `{path}`.\n"
                ));
            }
        }
    }
    s.push_str(&format!(
        "\n## Bericht der Übernahme\n\n{}",
        report.german()
    ));
    s
}

#[cfg(test)]
mod tests;
