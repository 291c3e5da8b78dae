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

use super::reason::{code, fim_de, NO_FIM_ID};
use super::report::{
    CodelistGap, ConditionKeys, ImportReport, Note, NoteKind, NoteReason, RuleGap, Unreleased,
};
use super::xml::{self, Element, Limits, XmlError};
use crate::codelist::{Code, Codelist, CodelistSource};
use crate::content::Content;
use crate::fieldgroup::Fieldgroup;
use crate::form::{Ableitung, Body, Form, Vertrauensniveau};
use crate::manifest::{Dependency, FimSource, Manifest, PackageKind};
use crate::model::{
    is_date, is_web_address, Bound, Condition, Constraints, Field, FieldType, FimRef, Group, Item,
    LegalBasis, Occurs, Text, SCHEMAELEMENTART,
};
use crate::names::{check_slug, is_fim_id, is_fim_version};
use crate::{check_package, expr, write, PackageFiles};

mod codelists;
pub mod export;
mod items;
mod manifest;
mod rules;
mod structure;

// The tests read rule texts with it.
#[cfg(test)]
use rules::dependency;

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
    /// Code list packages of the registry by their list's canonical URI
    /// and own version; a `codelisteReferenz` to one of them becomes a
    /// dependency on the package. `None`: the registry was not asked, and
    /// the references stay as they are without a note.
    pub codelist_packages: Option<BTreeMap<(String, String), PackageRef>>,
    /// Field group packages of the registry by the FIM id and version of
    /// the Datenfeldgruppe they were made from; such a group becomes an
    /// `include` of the package instead of a copy.
    pub fieldgroup_packages: BTreeMap<(String, String), PackageRef>,
}

/// A published package the import depends on: a code list package that
/// holds a list, a field group package made from a Datenfeldgruppe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRef {
    /// `ns/name`.
    pub package: String,
    pub version: semver::Version,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            namespace: "fim".into(),
            name: None,
            license: "EUPL-1.2".into(),
            limits: Limits::default(),
            codelist_packages: None,
            fieldgroup_packages: BTreeMap::new(),
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
    /// The document breaks a rule of the standard (see `structure`).
    #[error("line {line}, column {column}: {problem}")]
    Refused {
        line: usize,
        column: usize,
        problem: String,
    },
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
        write::package_files(&self.manifest, &self.content, &self.readme)
    }
}

/// Elements the package format has no place for, most of them describing
/// rather than defining (`art`, a group's kind, is the exception: an
/// Auswahlgruppe has no counterpart); listed in the report's
/// `not_carried`.
const DESCRIPTIVE: [&str; 22] = [
    "beschreibung",
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
    "art",
];

const COMMON_MAPPED: [&str; 8] = [
    "identifikation",
    "id",
    "version",
    "name",
    "bezeichnungEingabe",
    "hilfetextEingabe",
    "regel",
    "bezug",
];

/// What FIM says of an element that the package keeps in its FIM
/// reference (see [`Importer::fim_ref`]).
const FIM_META: [&str; 5] = [
    "freigabestatus",
    "status",
    "schemaelementart",
    "definition",
    "hilfetextAusgabe",
];

/// The legal bases (`bezug`, 3.0.0 with a `link`) among `e`'s children,
/// and the links that are no web address (dropped, to be reported).
fn legal_basis(e: &Element) -> (Vec<LegalBasis>, Vec<(&Element, String)>) {
    let mut dropped = Vec::new();
    let found = e
        .children_named("bezug")
        .filter_map(|b| {
            let t = normalize_space(b.trimmed()?);
            let link = b.attr("link").map(str::trim).filter(|l| !l.is_empty());
            let link = match link {
                Some(l) if !is_web_address(l) => {
                    dropped.push((b, l.to_string()));
                    None
                }
                l => l.map(str::to_string),
            };
            (!t.is_empty() && t != "-").then_some(LegalBasis { text: t, link })
        })
        .collect();
    (found, dropped)
}

impl Importer<'_> {
    /// The legal bases of `e`; a link that is no web address is reported.
    fn legal_basis(&mut self, e: &Element, fim: &str) -> Vec<LegalBasis> {
        let (found, dropped) = legal_basis(e);
        for (b, link) in dropped {
            self.note(
                NoteKind::Dropped,
                Some(fim),
                None,
                b,
                NoteReason::LinkNotWeb { link },
            );
        }
        found
    }
}

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
    /// The conditions the rule became: `(path, keys, expression)`.
    conditions: Vec<(String, ConditionKeys, String)>,
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
    /// Packages the form names (code lists, included field groups), with
    /// the version found.
    package_deps: BTreeMap<String, semver::Version>,
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
    let Payload {
        std,
        kind,
        top,
        child_names,
        what,
    } = payload(&doc)?;
    structure::check(std, top)?;
    let mut imp = Importer {
        std,
        opts,
        notes: Vec::new(),
        not_carried: BTreeMap::new(),
        codelists: Vec::new(),
        xrepo_lists: HashMap::new(),
        package_deps: BTreeMap::new(),
        rules: Vec::new(),
        landed: HashMap::new(),
        fields: 0,
        groups: 0,
    };
    let (id, version) = imp.ident(top);
    let fim = fim_label(id.as_deref(), version.as_deref());
    // Foreign elements beside the payload (signatures, extensions) are
    // not read, and said so.
    for c in &root.children {
        if c.name == "header" {
            // Transport data of the message (its id, when it was made).
            if !c.is_blank() {
                imp.not_carried
                    .entry("header".into())
                    .or_default()
                    .push(fim.clone());
            }
            continue;
        }
        if !child_names.contains(&c.name.as_str()) {
            imp.note(
                NoteKind::Dropped,
                None,
                None,
                c,
                NoteReason::UnreadMessageElement,
            );
        }
    }
    let name = text(top, "name").unwrap_or("").to_string();
    // A 3.0.0 Stammdatenschema says `bezeichnung`, the others
    // `bezeichnungEingabe`.
    let title = text(top, "bezeichnungEingabe")
        .or_else(|| text(top, "bezeichnung"))
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
            "bezeichnung",
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
    let content = imp.content(kind, top, &title, &fim, fim_ref, body);
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
        unreleased: content
            .unreleased()
            .into_iter()
            .map(|(path, f)| Unreleased {
                fim: f.to_string(),
                path,
                status: f.status_label().unwrap_or_default(),
            })
            .collect(),
    };
    report.set_not_carried(std::mem::take(&mut imp.not_carried));
    let readme = manifest::readme(&manifest, std, what, &fim, top, &imp.rules, &report);
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

/// What the root element says: the standard, the kind of package, and the
/// element that carries it.
struct Payload<'d> {
    std: Standard,
    kind: PackageKind,
    top: &'d Element,
    /// The names the carrying element may have.
    child_names: &'static [&'static str],
    /// The kind in FIM's words, for messages.
    what: &'static str,
}

fn payload(doc: &xml::Document) -> Result<Payload<'_>, ImportError> {
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
    Ok(Payload {
        std,
        kind,
        top,
        child_names,
        what,
    })
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
        (None, _) => NO_FIM_ID.to_string(),
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
    /// The content of the package: a field group, or a form with what
    /// XDatenfelder says about forms.
    fn content(
        &mut self,
        kind: PackageKind,
        top: &Element,
        title: &str,
        fim: &str,
        fim_ref: Option<FimRef>,
        body: Body,
    ) -> Content {
        let help = text(top, "hilfetextEingabe").map(str::to_string);
        match kind {
            PackageKind::Fieldgroup => Content::Fieldgroup(Fieldgroup {
                label: Some(de(title)),
                help: help.as_deref().map(de),
                legal_basis: self.legal_basis(top, fim),
                fim: fim_ref,
                body,
            }),
            _ => {
                if help.is_some() {
                    self.not_carried
                        .entry("hilfetextEingabe".into())
                        .or_default()
                        .push(fim.to_string());
                }
                let ableitung = top.child("ableitungsmodifikationenStruktur").and_then(|e| {
                    let code = code_of(e)?;
                    let found = code
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| Ableitung::ALL.get(i))
                        .map(|(_, a)| *a);
                    if found.is_none() {
                        self.note(
                            NoteKind::Dropped,
                            Some(fim),
                            None,
                            e,
                            NoteReason::UnknownAbleitung {
                                code: code.to_string(),
                            },
                        );
                    }
                    found
                });
                self.note(
                    NoteKind::Approximated,
                    Some(fim),
                    None,
                    top,
                    NoteReason::VertrauensniveauAssumed,
                );
                Content::Form(Form {
                    title: Some(de(title)),
                    vertrauensniveau: Some(Vertrauensniveau::Niedrig),
                    accounts: Vec::new(),
                    legal_basis: self.legal_basis(top, fim),
                    fim: fim_ref,
                    ableitung,
                    body,
                })
            }
        }
    }

    fn note(
        &mut self,
        kind: NoteKind,
        fim: Option<&str>,
        path: Option<&str>,
        e: &Element,
        reason: NoteReason,
    ) {
        self.notes.push(Note {
            kind,
            fim: fim.map(str::to_string),
            path: path.map(str::to_string),
            element: e.name.clone(),
            line: e.line,
            reason,
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

    /// A FIM reference for our model, when the id has the shape FIM ids
    /// have, with what FIM says of the element (status, Schemaelementart,
    /// definition, help text for output); without one, that is reported.
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
                NoteReason::NotAFimId { id: id.to_string() },
            );
            for c in e
                .children
                .iter()
                .filter(|c| FIM_META.contains(&c.name.as_str()))
            {
                if !c.is_blank() {
                    self.not_carried
                        .entry(c.name.clone())
                        .or_default()
                        .push(label.to_string());
                }
            }
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
                    reason: NoteReason::NotAFimVersion {
                        version: v.to_string(),
                    },
                });
            }
            ok
        });
        let mut r = FimRef::new(id, version.map(str::to_string));
        r.status = self.status(e, label);
        r.schemaelementart = e.child("schemaelementart").and_then(|c| {
            let v = code_of(c)?;
            if SCHEMAELEMENTART.iter().any(|(k, _)| *k == v) {
                return Some(v.to_string());
            }
            self.unknown_code(label, c, v);
            None
        });
        r.definition = text(e, "definition").map(clean_text);
        r.help_output = text(e, "hilfetextAusgabe").map(clean_text);
        Some(r)
    }

    /// The Freigabestatus (3.0.0, checked by `structure`), or 2.0's status
    /// as the Freigabestatus it corresponds to.
    fn status(&mut self, e: &Element, label: &str) -> Option<String> {
        if let Some(c) = e.child("freigabestatus") {
            return code_of(c).map(str::to_string);
        }
        let c = e.child("status")?;
        let v = code_of(c)?;
        // As the FIM-XSLT conversion of 2.0 to 3.0.0 does: inaktiv is 7;
        // an active element with a version and a release date is released
        // (6); everything else is still being worked on (2).
        let released = self.ident(e).1.is_some() && text(e, "freigabedatum").is_some();
        let to = match v {
            "inaktiv" => Some("7"),
            "aktiv" if released => Some("6"),
            "aktiv" | "inVorbereitung" => Some("2"),
            _ => None,
        };
        match to {
            Some(to) => {
                let reason = NoteReason::StatusAsFreigabestatus {
                    status: v.to_string(),
                    freigabestatus: to.to_string(),
                };
                // Once per kind of mapping: a 2.0 document has a status on
                // every element.
                if !self.notes.iter().any(|n| n.reason == reason) {
                    self.note(NoteKind::Approximated, Some(label), None, c, reason);
                }
                Some(to.to_string())
            }
            None => {
                self.unknown_code(label, c, v);
                None
            }
        }
    }

    fn unknown_code(&mut self, label: &str, e: &Element, code: &str) {
        let reason = NoteReason::UnknownCode {
            code: code.to_string(),
        };
        self.note(NoteKind::Dropped, Some(label), None, e, reason);
    }

    /// Records the children of `e` that were neither mapped nor named in
    /// `also`: descriptive ones by name, unknown ones as notes.
    fn scan_rest(&mut self, e: &Element, fim: &str, also: &[&str]) {
        for c in &e.children {
            let n = c.name.as_str();
            if COMMON_MAPPED.contains(&n) || FIM_META.contains(&n) || also.contains(&n) {
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
                    NoteReason::UnknownElement,
                );
            }
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

/// A text of several lines as the package keeps it: XML's line ends (an
/// XML reader makes `\r\n` a `\n`), no space at a line's end, at most one
/// empty line in a row.
fn clean_text(s: &str) -> String {
    let mut out = String::new();
    let mut empty = 0;
    for line in s.lines().map(str::trim_end) {
        empty = if line.is_empty() { empty + 1 } else { 0 };
        if empty < 2 {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.trim().to_string()
}

fn normalize_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
