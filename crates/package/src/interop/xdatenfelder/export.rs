//! XDatenfelder 3.0.0 out: a form becomes a Stammdatenschema message, a
//! field group a Datenfeldgruppe message, written so that [`import`] reads
//! back the same package (the manifest and content files equal; see
//! docs/interop.md, "XDatenfelder export"). What the package holds and
//! XDatenfelder has no place for is listed in [`Exported::notes`].
//!
//! The export writes what a package knows, and nothing it does not: an
//! element whose Freigabestatus the package does not keep (one made in
//! gemeinwerk) is written as a draft (3, Entwurf); elements without a FIM
//! id get an id of gemeinwerk (`gw:…`), never one that looks like a FIM
//! repository's.

use std::collections::HashMap;
use std::io;

use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use sha2::{Digest, Sha256};

use super::manifest::package_version;
use super::rules::dependency;
use super::{join, NS_V3};
use crate::body::Body;
use crate::codelist::{CodelistRef, CodelistSource};
use crate::content::{Content, DependencyContent};
use crate::expr::Expr;
use crate::form::Ableitung;
use crate::manifest::Manifest;
use crate::model::{Bound, Condition, Field, FieldType, FimRef, Group, Item, LegalBasis};
use crate::names::is_fim_id;

/// Freigabestatus 3, Entwurf, for an element whose status the package
/// does not keep.
const FREIGABESTATUS: &str = "3";
/// The version of an element whose FIM version is not known (those of
/// XDatenfelder 1.0 have none): 1.0's spelling of nothing, which the
/// import reads as no version. The standard requires the element.
const NO_VERSION: &str = "-";
/// Schemaelementart for an element that does not keep one:
/// rechtsnormgebunden is the kind a municipality's own elements have.
const SCHEMAELEMENTART: &str = "RNG";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    #[error("{name} is a {kind} package; XDatenfelder describes forms (Stammdatenschema) and field groups (Datenfeldgruppe)")]
    NotAForm { name: String, kind: String },
    #[error("the group {path} includes {package}, which was not resolved: the export writes the included fields, so it needs the registry")]
    IncludeUnresolved { path: String, package: String },
    #[error("the field {path} uses the code list {list}, which was not resolved: the export writes the list's reference or codes, so it needs the registry")]
    CodelistUnresolved { path: String, list: String },
}

/// An exported message and what it could not carry.
#[derive(Debug, Clone)]
pub struct Exported {
    pub xml: String,
    pub notes: Vec<ExportNote>,
}

/// Something of the package that the message does not carry exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportNote {
    /// The item's path, or empty for the package.
    pub path: String,
    pub loss: Loss,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loss {
    /// The form's Vertrauensniveau or accounts: XDatenfelder has none.
    FormSettings,
    /// An English text: XDatenfelder texts are German.
    English,
    /// Examples of a field.
    Examples,
    /// A type XDatenfelder has no datentyp for, written as this one.
    Type {
        ty: FieldType,
        written: &'static str,
    },
    /// A bound relative to today or a time of day.
    Bound { bound: String },
    /// A condition that is not "shown when a yes/no field is yes": written
    /// as the text of a rule, which the import does not turn back.
    ConditionAsText { condition: String },
    /// An element without a FIM id: it gets an id of gemeinwerk.
    NoFimId { id: String },
    /// An element without a FIM version: written as "-" (the package's
    /// version, for the package itself).
    NoFimVersion { id: String },
    /// The package version differs from the FIM version it came from; the
    /// package version is written.
    VersionChanged { fim: String, package: String },
    /// A list of a dependency or a code list package without a canonical
    /// URI, written as codes.
    CodelistInlined { list: String },
    /// The form's title differs from the manifest's; the form's is written.
    Title,
}

impl Loss {
    pub fn english(&self) -> String {
        match self {
            Loss::FormSettings => {
                "the Vertrauensniveau and the accounts of the form: XDatenfelder has no place for them".into()
            }
            Loss::English => "English texts: XDatenfelder texts are German".into(),
            Loss::Examples => "examples: XDatenfelder has no place for them".into(),
            Loss::Type { ty, written } => format!(
                "the type {} has no datentyp of its own; written as {written}",
                ty.as_str()
            ),
            Loss::Bound { bound } => {
                format!("the bound {bound} cannot be written as a praezisierung")
            }
            Loss::ConditionAsText { condition } => format!(
                "the condition \"{condition}\" is written as the text of a rule; only \"shown when a yes/no field is yes\" is read back as a condition"
            ),
            Loss::NoFimId { id } => format!("no FIM id; written with the id {id}"),
            Loss::NoFimVersion { id } => {
                format!("no FIM version; {id} is written with the version \"-\" (the package itself with the package version)")
            }
            Loss::VersionChanged { fim, package } => format!(
                "the package version {package} differs from the FIM version {fim} it was made from; {package} is written"
            ),
            Loss::CodelistInlined { list } => format!(
                "the code list {list} has no XRepository reference; its codes are written into the field"
            ),
            Loss::Title => "the form's title differs from the package title; the form's is written".into(),
        }
    }

    pub fn german(&self) -> String {
        match self {
            Loss::FormSettings => {
                "Vertrauensniveau und Nutzerkonten des Formulars: XDatenfelder kennt sie nicht".into()
            }
            Loss::English => "englische Texte: XDatenfelder-Texte sind deutsch".into(),
            Loss::Examples => "Beispiele: XDatenfelder kennt sie nicht".into(),
            Loss::Type { ty, written } => format!(
                "der Typ {} hat keinen eigenen Datentyp; geschrieben als {written}",
                ty.as_str()
            ),
            Loss::Bound { bound } => {
                format!("die Grenze {bound} lässt sich nicht als Präzisierung schreiben")
            }
            Loss::ConditionAsText { condition } => format!(
                "die Bedingung „{condition}“ steht als Text einer Regel; nur „angezeigt, wenn ein Ja/Nein-Feld bejaht ist“ wird wieder zur Bedingung"
            ),
            Loss::NoFimId { id } => format!("keine FIM-ID; geschrieben mit der ID {id}"),
            Loss::NoFimVersion { id } => {
                format!("keine FIM-Version; {id} steht mit der Version „-“ (das Paket selbst mit der Paketversion)")
            }
            Loss::VersionChanged { fim, package } => format!(
                "die Paketversion {package} weicht von der FIM-Version {fim} ab, aus der das Paket stammt; geschrieben wird {package}"
            ),
            Loss::CodelistInlined { list } => format!(
                "die Codeliste {list} hat keinen XRepository-Verweis; ihre Codes stehen im Feld"
            ),
            Loss::Title => "der Titel des Formulars weicht vom Pakettitel ab; geschrieben wird der des Formulars".into(),
        }
    }
}

/// Writes `content` as an XDatenfelder 3.0.0 message, created `at`.
/// `deps` must hold the field group packages the form includes and the
/// code lists it names; a missing one is an error, since the message
/// must be complete.
pub fn export(
    m: &Manifest,
    content: &Content,
    deps: &DependencyContent,
    at: DateTime<Utc>,
) -> Result<Exported, ExportError> {
    let (root, payload, body, fim, title, help, legal) = match content {
        Content::Form(f) => (
            "xdf:xdatenfelder.stammdatenschema.0102",
            "xdf:stammdatenschema",
            &f.body,
            f.fim.as_ref(),
            f.title.as_ref(),
            None,
            &f.legal_basis,
        ),
        Content::Fieldgroup(g) => (
            "xdf:xdatenfelder.datenfeldgruppe.0103",
            "xdf:datenfeldgruppe",
            &g.body,
            g.fim.as_ref(),
            g.label.as_ref(),
            g.help.as_ref(),
            &g.legal_basis,
        ),
        other => {
            return Err(ExportError::NotAForm {
                name: m.full_name(),
                kind: other.kind().as_str().into(),
            })
        }
    };
    let mut ex = Exporter {
        m,
        deps,
        when: at.to_rfc3339_opts(SecondsFormat::Secs, true),
        notes: Vec::new(),
        landed: HashMap::new(),
        fim_count: HashMap::new(),
        names: HashMap::new(),
        rules: 0,
    };
    ex.survey(&body.items, body, "", &[])?;
    if let Content::Form(f) = content {
        if f.vertrauensniveau.is_some_and(|v| v.as_str() != "niedrig") || !f.accounts.is_empty() {
            ex.note("", Loss::FormSettings);
        }
        if f.title.as_ref().map(|t| t.de.as_str()) != m.title.as_deref() && f.title.is_some() {
            ex.note("", Loss::Title);
        }
    }
    let title = title
        .map(|t| t.de.clone())
        .or_else(|| m.title.clone())
        .unwrap_or_else(|| m.name.clone());
    let top_fim = fim.cloned().or_else(|| {
        m.fim
            .as_ref()
            .map(|s| FimRef::new(&s.id, s.version.clone()))
    });
    let (id, version) = ex.top_identity(top_fim.as_ref());

    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let result: io::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.write_event(Event::Start(
            BytesStart::new(root).with_attributes([("xmlns:xdf", NS_V3)]),
        ))?;
        open(&mut w, "xdf:header")?;
        let mut h = Sha256::new();
        h.update(format!("{}@{} {}", m.full_name(), m.version, ex.when));
        text_el(&mut w, "xdf:nachrichtID", &hex::encode(&h.finalize()[..16]))?;
        text_el(&mut w, "xdf:erstellungszeitpunkt", &ex.when)?;
        close(&mut w, "xdf:header")?;
        open(&mut w, payload)?;
        identification(&mut w, &id, &version)?;
        text_el(&mut w, "xdf:name", &m.name)?;
        text_el(&mut w, "xdf:beschreibung", &m.description)?;
        let keywords: Vec<&str> = m
            .keywords
            .iter()
            .map(String::as_str)
            .filter(|k| *k != "fim")
            .collect();
        let head = Head {
            fim: top_fim.as_ref(),
            legal,
            keywords: &keywords,
            label: &title,
            help: help.map(|h| h.de.as_str()),
            schema: matches!(content, Content::Form(_)),
        };
        ex.described(&mut w, &head)?;
        if let Content::Form(f) = content {
            if let Some(a) = f.ableitung {
                let code = Ableitung::ALL
                    .iter()
                    .position(|(_, x)| *x == a)
                    .expect("every Ableitung is listed");
                code_el(
                    &mut w,
                    "xdf:ableitungsmodifikationenStruktur",
                    &code.to_string(),
                )?;
            }
        }
        ex.items(&mut w, &body.items, body, "")?;
        close(&mut w, payload)?;
        w.write_event(Event::End(BytesEnd::new(root)))?;
        Ok(())
    })();
    // Writing into memory fails only with what `to_io` wrapped.
    if let Err(e) = result {
        let inner = e
            .into_inner()
            .and_then(|b| b.downcast::<ExportError>().ok());
        return Err(*inner.expect("writing XML into memory does not fail"));
    }
    let mut xml = String::from_utf8(w.into_inner()).expect("the writer writes UTF-8");
    xml.push('\n');
    Ok(Exported {
        xml,
        notes: ex.notes,
    })
}

/// What an element says of itself after its name.
struct Head<'h> {
    fim: Option<&'h FimRef>,
    legal: &'h [LegalBasis],
    keywords: &'h [&'h str],
    label: &'h str,
    help: Option<&'h str>,
    /// A Stammdatenschema: its label is `bezeichnung`, and it has no
    /// Schemaelementart.
    schema: bool,
}

/// Where an item of the message lands when it is read back: what the
/// import records to turn rules into conditions.
#[derive(Debug, Clone)]
struct Landed {
    ty: Option<FieldType>,
    fim: Option<String>,
    /// Paths of the repeatable groups around it (and itself, for one).
    repeat: Vec<String>,
}

struct Exporter<'a> {
    m: &'a Manifest,
    deps: &'a DependencyContent,
    when: String,
    notes: Vec<ExportNote>,
    landed: HashMap<String, Landed>,
    /// How often each FIM id lands: a rule names an element by its id,
    /// so only an id that lands once can carry a condition.
    fim_count: HashMap<String, usize>,
    /// The name each id and version was first written with.
    names: HashMap<(String, String), String>,
    rules: usize,
}

/// A group that stands in for a field that occurs more than once (the
/// import's reading of a repeated Datenfeld): written back as that field.
fn repeated_field(g: &Group) -> Option<&Field> {
    match g.items.as_slice() {
        [Item::Field(f)]
            if f.id == "wert"
                && g.fim.is_none()
                && g.include.is_none()
                && g.help.is_none()
                && g.legal_basis.is_empty()
                && g.occurs.is_repeatable()
                && f.required
                && f.shown_when.is_none()
                && f.required_when.is_none()
                && f.fixed.is_none()
                && g.label == f.label =>
        {
            Some(f)
        }
        _ => None,
    }
}

fn to_io(e: ExportError) -> io::Error {
    io::Error::other(e)
}

impl<'a> Exporter<'a> {
    fn note(&mut self, path: &str, loss: Loss) {
        let n = ExportNote {
            path: path.to_string(),
            loss,
        };
        if !self.notes.contains(&n) {
            self.notes.push(n);
        }
    }

    /// The items of a group and the body their lists are in: its own, or
    /// those of the field group package it includes.
    fn contents(
        &self,
        g: &'a Group,
        body: &'a Body,
        path: &str,
    ) -> Result<(&'a [Item], &'a Body), ExportError> {
        let Some(package) = &g.include else {
            return Ok((g.items.as_slice(), body));
        };
        let deps: &'a DependencyContent = self.deps;
        deps.body(package.get_ref())
            .map(|b| (b.items.as_slice(), b))
            .ok_or_else(|| ExportError::IncludeUnresolved {
                path: path.to_string(),
                package: package.get_ref().clone(),
            })
    }

    /// Records where every item lands, as the import will.
    fn survey(
        &mut self,
        items: &'a [Item],
        body: &'a Body,
        scope: &str,
        repeat: &[String],
    ) -> Result<(), ExportError> {
        for item in items {
            let path = join(scope, item.id());
            match item {
                Item::Field(f) => self.land(&path, Some(f.ty), f.fim.as_ref(), repeat),
                Item::Group(g) => {
                    let mut inner = repeat.to_vec();
                    if g.occurs.is_repeatable() {
                        inner.push(path.clone());
                    }
                    if let Some(f) = repeated_field(g) {
                        self.land(&path, None, f.fim.as_ref(), &inner);
                        continue;
                    }
                    self.land(&path, None, g.fim.as_ref(), &inner);
                    let (items, body) = self.contents(g, body, &path)?;
                    self.survey(items, body, &path, &inner)?;
                }
            }
        }
        Ok(())
    }

    fn land(&mut self, path: &str, ty: Option<FieldType>, fim: Option<&FimRef>, repeat: &[String]) {
        let fim = fim.map(|f| f.id.clone());
        if let Some(id) = &fim {
            *self.fim_count.entry(id.clone()).or_default() += 1;
        }
        self.landed.insert(
            path.to_string(),
            Landed {
                ty,
                fim,
                repeat: repeat.to_vec(),
            },
        );
    }

    fn top_identity(&mut self, fim: Option<&FimRef>) -> (String, String) {
        let ours = self.m.version.to_string();
        match fim {
            None => {
                let id = format!("gw:{}", self.m.full_name());
                self.note("", Loss::NoFimId { id: id.clone() });
                (id, ours)
            }
            Some(f) => {
                let same = f.version.as_deref().and_then(package_version).as_ref()
                    == Some(&self.m.version);
                let version = match &f.version {
                    Some(v) if same => v.clone(),
                    Some(v) => {
                        self.note(
                            "",
                            Loss::VersionChanged {
                                fim: v.clone(),
                                package: ours.clone(),
                            },
                        );
                        ours
                    }
                    // What the import makes of a schema without version.
                    None if ours == "0.1.0" => NO_VERSION.to_string(),
                    None => {
                        self.note("", Loss::NoFimVersion { id: f.id.clone() });
                        ours
                    }
                };
                (f.id.clone(), version)
            }
        }
    }

    /// The id and version an element is written with.
    fn identity(&mut self, fim: Option<&FimRef>, path: &str) -> (String, String) {
        match fim {
            Some(FimRef {
                id,
                version: Some(v),
                ..
            }) => (id.clone(), v.clone()),
            Some(FimRef {
                id, version: None, ..
            }) => {
                self.note(path, Loss::NoFimVersion { id: id.clone() });
                (id.clone(), NO_VERSION.to_string())
            }
            None => {
                let id = format!("gw:{path}");
                self.note(path, Loss::NoFimId { id: id.clone() });
                (id, self.m.version.to_string())
            }
        }
    }

    fn items<W: io::Write>(
        &mut self,
        w: &mut Writer<W>,
        items: &'a [Item],
        body: &'a Body,
        scope: &str,
    ) -> io::Result<()> {
        for item in items {
            let path = join(scope, item.id());
            open(w, "xdf:struktur")?;
            match item {
                Item::Field(f) => {
                    // Required when shown: the import reads "1:1" and the
                    // rule as shown-when and required-when.
                    let required_when_shown = match (&f.shown_when, &f.required_when) {
                        (Some(s), Some(r)) => {
                            s.canonical() == r.canonical()
                                && self.dependency_text(&path, s).is_some()
                        }
                        _ => false,
                    };
                    let occurs = if f.required || required_when_shown {
                        "1:1"
                    } else {
                        "0:1"
                    };
                    text_el(w, "xdf:anzahl", occurs)?;
                    open(w, "xdf:enthaelt")?;
                    self.field(w, f, &f.id, &path, body, None)?;
                }
                Item::Group(g) => {
                    text_el(w, "xdf:anzahl", &g.occurs.to_string())?;
                    open(w, "xdf:enthaelt")?;
                    if let Some(f) = repeated_field(g) {
                        self.field(w, f, &g.id, &path, body, g.shown_when.as_ref())?;
                    } else {
                        self.group(w, g, &path, body)?;
                    }
                }
            }
            close(w, "xdf:enthaelt")?;
            close(w, "xdf:struktur")?;
        }
        Ok(())
    }

    /// The children every element has, in the order of the standard.
    #[allow(clippy::too_many_arguments)]
    fn element_head<W: io::Write>(
        &mut self,
        w: &mut Writer<W>,
        fim: Option<&FimRef>,
        legal: &[LegalBasis],
        name: &str,
        label: &str,
        help: Option<&str>,
        path: &str,
    ) -> io::Result<()> {
        let (id, version) = self.identity(fim, path);
        // One id and version is one definition: an element used twice
        // keeps the name it was first written with (its second id in the
        // package, `doppelt_2`, comes back from the name the same way).
        let name = self
            .names
            .entry((id.clone(), version.clone()))
            .or_insert_with(|| name.to_string())
            .clone();
        identification(w, &id, &version)?;
        text_el(w, "xdf:name", &name)?;
        self.described(
            w,
            &Head {
                fim,
                legal,
                keywords: &[],
                label,
                help,
                schema: false,
            },
        )
    }

    /// What follows the name, in the order of the standard: definition,
    /// legal bases, status, keywords, labels, Schemaelementart, help texts.
    fn described<W: io::Write>(&self, w: &mut Writer<W>, h: &Head) -> io::Result<()> {
        if let Some(d) = h.fim.and_then(|f| f.definition.as_deref()) {
            text_el(w, "xdf:definition", d)?;
        }
        for b in h.legal {
            let mut start = BytesStart::new("xdf:bezug");
            if let Some(link) = &b.link {
                start.push_attribute(("link", link.as_str()));
            }
            w.write_event(Event::Start(start))?;
            w.write_event(Event::Text(BytesText::new(&b.text)))?;
            w.write_event(Event::End(BytesEnd::new("xdf:bezug")))?;
        }
        let status = h.fim.and_then(|f| f.status.as_deref());
        code_el(w, "xdf:freigabestatus", status.unwrap_or(FREIGABESTATUS))?;
        text_el(w, "xdf:letzteAenderung", &self.when)?;
        for k in h.keywords {
            text_el(w, "xdf:stichwort", k)?;
        }
        if h.schema {
            return text_el(w, "xdf:bezeichnung", h.label);
        }
        text_el(w, "xdf:bezeichnungEingabe", h.label)?;
        let art = h.fim.and_then(|f| f.schemaelementart.as_deref());
        code_el(w, "xdf:schemaelementart", art.unwrap_or(SCHEMAELEMENTART))?;
        if let Some(help) = h.help {
            text_el(w, "xdf:hilfetextEingabe", help)?;
        }
        if let Some(out) = h.fim.and_then(|f| f.help_output.as_deref()) {
            text_el(w, "xdf:hilfetextAusgabe", out)?;
        }
        Ok(())
    }

    fn group<W: io::Write>(
        &mut self,
        w: &mut Writer<W>,
        g: &'a Group,
        path: &str,
        body: &'a Body,
    ) -> io::Result<()> {
        let (items, body) = self.contents(g, body, path).map_err(to_io)?;
        if g.label.as_ref().is_some_and(|t| t.en.is_some())
            || g.help.as_ref().is_some_and(|t| t.en.is_some())
        {
            self.note(path, Loss::English);
        }
        open(w, "xdf:datenfeldgruppe")?;
        let label = g.label.as_ref().map_or(g.id.as_str(), |t| t.de.as_str());
        let help = g.help.as_ref().map(|t| t.de.as_str());
        self.element_head(w, g.fim.as_ref(), &g.legal_basis, &g.id, label, help, path)?;
        if let Some(c) = &g.shown_when {
            self.rule(w, path, c, None)?;
        }
        self.items(w, items, body, path)?;
        close(w, "xdf:datenfeldgruppe")
    }

    /// A Datenfeld; `name` is its id in the package (the group's, for a
    /// repeated field), `group_condition` the condition of that group.
    fn field<W: io::Write>(
        &mut self,
        w: &mut Writer<W>,
        f: &'a Field,
        name: &str,
        path: &str,
        body: &'a Body,
        group_condition: Option<&Condition>,
    ) -> io::Result<()> {
        if [&f.label, &f.help, &f.text]
            .iter()
            .any(|t| t.as_ref().is_some_and(|t| t.en.is_some()))
        {
            self.note(path, Loss::English);
        }
        if !f.examples.is_empty() {
            self.note(path, Loss::Examples);
        }
        open(w, "xdf:datenfeld")?;
        if f.ty == FieldType::StaticText {
            let shown = f.text.as_ref().map_or("", |t| t.de.as_str());
            self.element_head(w, f.fim.as_ref(), &f.legal_basis, name, shown, None, path)?;
            code_el(w, "xdf:feldart", "label")?;
            code_el(w, "xdf:datentyp", "text")?;
            text_el(w, "xdf:inhalt", shown)?;
            code_el(w, "xdf:vorbefuellung", "keine")?;
            self.field_rules(w, f, path, group_condition)?;
            return close(w, "xdf:datenfeld");
        }
        let label = f.label.as_ref().map_or(f.id.as_str(), |t| t.de.as_str());
        let help = f.help.as_ref().map(|t| t.de.as_str());
        self.element_head(w, f.fim.as_ref(), &f.legal_basis, name, label, help, path)?;
        let feldart = if f.fixed.is_some() {
            "locked"
        } else if matches!(f.ty, FieldType::Select | FieldType::MultiSelect) {
            "select"
        } else {
            "input"
        };
        code_el(w, "xdf:feldart", feldart)?;
        let datentyp = match f.ty {
            FieldType::Text | FieldType::Select => "text",
            FieldType::Integer => "num_int",
            FieldType::Decimal => "num",
            FieldType::Money => "num_currency",
            FieldType::Date => "date",
            FieldType::Time => "time",
            FieldType::DateTime => "datetime",
            FieldType::Boolean => "bool",
            FieldType::File => "file",
            ty => {
                let written = if ty == FieldType::MultiSelect {
                    "select"
                } else {
                    "text"
                };
                self.note(path, Loss::Type { ty, written });
                "text"
            }
        };
        code_el(w, "xdf:datentyp", datentyp)?;
        self.praezisierung(w, f, path)?;
        if let Some(v) = &f.fixed {
            text_el(w, "xdf:inhalt", v)?;
        }
        code_el(w, "xdf:vorbefuellung", "keine")?;
        if let Some(list) = &f.codelist {
            self.codelist(w, list.get_ref(), path, body)?;
        }
        if f.ty == FieldType::File {
            if let Some(n) = f.constraints.max_size {
                text_el(w, "xdf:maxSize", &n.to_string())?;
            }
            for t in &f.constraints.media_types {
                text_el(w, "xdf:mediaType", t)?;
            }
        }
        self.field_rules(w, f, path, group_condition)?;
        close(w, "xdf:datenfeld")
    }

    fn field_rules<W: io::Write>(
        &mut self,
        w: &mut Writer<W>,
        f: &Field,
        path: &str,
        group_condition: Option<&Condition>,
    ) -> io::Result<()> {
        if let Some(c) = group_condition {
            return self.rule(w, path, c, None);
        }
        match (&f.shown_when, &f.required_when) {
            (Some(s), r) => self.rule(w, path, s, r.as_ref()),
            (None, Some(r)) => {
                self.note(
                    path,
                    Loss::ConditionAsText {
                        condition: r.canonical(),
                    },
                );
                self.text_rule(w, &format!("Pflichtangabe, wenn: {}", r.canonical()))
            }
            (None, None) => Ok(()),
        }
    }

    fn praezisierung<W: io::Write>(
        &mut self,
        w: &mut Writer<W>,
        f: &Field,
        path: &str,
    ) -> io::Result<()> {
        let c = &f.constraints;
        let mut attrs: Vec<(&str, String)> = Vec::new();
        if let Some(n) = c.min_length {
            attrs.push(("minLength", n.to_string()));
        }
        if let Some(n) = c.max_length {
            attrs.push(("maxLength", n.to_string()));
        }
        for (key, bound) in [("minValue", &c.min), ("maxValue", &c.max)] {
            match bound {
                Some(Bound::Number(n)) => attrs.push((key, n.to_string())),
                Some(Bound::Date(d)) => attrs.push((key, d.clone())),
                Some(b) => self.note(
                    path,
                    Loss::Bound {
                        bound: b.to_string(),
                    },
                ),
                None => {}
            }
        }
        if let Some(p) = &c.pattern {
            attrs.push(("pattern", p.clone()));
        }
        if attrs.is_empty() {
            return Ok(());
        }
        w.write_event(Event::Empty(
            BytesStart::new("xdf:praezisierung")
                .with_attributes(attrs.iter().map(|(k, v)| (*k, v.as_str()))),
        ))
    }

    fn codelist<W: io::Write>(
        &mut self,
        w: &mut Writer<W>,
        list: &str,
        path: &str,
        body: &'a Body,
    ) -> io::Result<()> {
        let unresolved = || {
            to_io(ExportError::CodelistUnresolved {
                path: path.to_string(),
                list: list.to_string(),
            })
        };
        let deps: &'a DependencyContent = self.deps;
        let found = match CodelistRef::parse(list) {
            CodelistRef::Own(id) => body.codelist(id).ok_or_else(unresolved)?,
            CodelistRef::InDependency { package, id } => deps
                .body(package)
                .and_then(|b| b.codelist(id))
                .ok_or_else(unresolved)?,
            CodelistRef::Package(p) => {
                let l = deps.codelist_package(p).ok_or_else(unresolved)?;
                return match (&l.canonical_uri, &l.source_version) {
                    (Some(uri), Some(v)) => reference(w, uri, v),
                    _ => {
                        self.note(
                            path,
                            Loss::CodelistInlined {
                                list: list.to_string(),
                            },
                        );
                        let codes = l
                            .codes
                            .iter()
                            .map(|c| (c.code.as_str(), c.label.as_deref().unwrap_or(&c.code)));
                        werte(w, codes)
                    }
                };
            }
        };
        match &found.source {
            CodelistSource::Inline(codes) => {
                if codes.iter().any(|c| c.label_en.is_some()) {
                    self.note(path, Loss::English);
                }
                werte(w, codes.iter().map(|c| (c.code.as_str(), c.label.as_str())))
            }
            CodelistSource::XRepository { urn, version } => reference(w, urn, version),
        }
    }

    /// A rule for a condition: in the wording the import reads back when
    /// it is "shown (and required) when a yes/no field is yes" and both
    /// ends have a FIM id that lands once; else its text.
    fn rule<W: io::Write>(
        &mut self,
        w: &mut Writer<W>,
        path: &str,
        shown: &Condition,
        required: Option<&Condition>,
    ) -> io::Result<()> {
        let same_required = required.is_none_or(|r| r.canonical() == shown.canonical());
        match self.dependency_text(path, shown).filter(|_| same_required) {
            Some(text) => self.text_rule(w, &text),
            None => {
                let mut text = format!("Anzeigen, wenn: {}", shown.canonical());
                self.note(
                    path,
                    Loss::ConditionAsText {
                        condition: shown.canonical(),
                    },
                );
                if let Some(r) = required {
                    text.push_str(&format!(". Pflichtangabe, wenn: {}", r.canonical()));
                    self.note(
                        path,
                        Loss::ConditionAsText {
                            condition: r.canonical(),
                        },
                    );
                }
                self.text_rule(w, &text)
            }
        }
    }

    fn dependency_text(&self, path: &str, c: &Condition) -> Option<String> {
        let (name, negated) = match &c.expr {
            Some(Expr::Path(name, _)) => (name, false),
            Some(Expr::Not(inner, _)) => match inner.as_ref() {
                Expr::Path(name, _) => (name, true),
                _ => return None,
            },
            _ => return None,
        };
        let target = self.landed.get(path)?;
        let target_id = target.fim.as_deref()?;
        let scope = path.rsplit_once('.').map_or("", |(s, _)| s);
        // The outward lookup of the condition language.
        let mut s = scope;
        let source_path = loop {
            let p = join(s, name);
            if self.landed.contains_key(&p) {
                break p;
            }
            if s.is_empty() {
                return None;
            }
            s = s.rsplit_once('.').map_or("", |(a, _)| a);
        };
        let source = &self.landed[&source_path];
        let source_id = source.fim.as_deref()?;
        // A source inside a repeatable group that does not hold the target
        // has no single value to depend on.
        let inside = |g: &String| scope == g || scope.starts_with(&format!("{g}."));
        if !source.repeat.iter().all(inside) {
            return None;
        }
        let once = |id: &str| self.fim_count.get(id) == Some(&1);
        if source.ty != Some(FieldType::Boolean)
            || !once(target_id)
            || !once(source_id)
            || !is_fim_id(target_id)
            || !is_fim_id(source_id)
        {
            return None;
        }
        let subject = if target.ty.is_none() && !target_id.starts_with('F') {
            "Die Datenfeldgruppe"
        } else {
            "Das Feld"
        };
        let answer = if negated { "verneint" } else { "bejaht" };
        let text = format!(
            "{subject} {target_id} ist nur zu befüllen, wenn das Feld {source_id} {answer} wurde."
        );
        // The import reads it with this very pattern.
        let read = dependency(&text)?;
        (read.targets == [target_id] && read.source == source_id && read.negated == negated)
            .then_some(text)
    }

    fn text_rule<W: io::Write>(&mut self, w: &mut Writer<W>, text: &str) -> io::Result<()> {
        self.rules += 1;
        open(w, "xdf:regel")?;
        identification(w, &format!("gw:regel:{}", self.rules), "1.0.0")?;
        text_el(w, "xdf:name", &format!("Bedingung {}", self.rules))?;
        text_el(w, "xdf:freitextRegel", text)?;
        text_el(w, "xdf:letzteAenderung", &self.when)?;
        code_el(w, "xdf:typ", "K")?;
        close(w, "xdf:regel")
    }
}

fn open<W: io::Write>(w: &mut Writer<W>, name: &str) -> io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))
}

fn close<W: io::Write>(w: &mut Writer<W>, name: &str) -> io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn text_el<W: io::Write>(w: &mut Writer<W>, name: &str, text: &str) -> io::Result<()> {
    open(w, name)?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    close(w, name)
}

/// A code of a code list: `<xdf:feldart><code>input</code></xdf:feldart>`.
fn code_el<W: io::Write>(w: &mut Writer<W>, name: &str, code: &str) -> io::Result<()> {
    open(w, name)?;
    text_el(w, "code", code)?;
    close(w, name)
}

fn identification<W: io::Write>(w: &mut Writer<W>, id: &str, version: &str) -> io::Result<()> {
    open(w, "xdf:identifikation")?;
    text_el(w, "xdf:id", id)?;
    text_el(w, "xdf:version", version)?;
    close(w, "xdf:identifikation")
}

fn reference<W: io::Write>(w: &mut Writer<W>, uri: &str, version: &str) -> io::Result<()> {
    open(w, "xdf:codelisteReferenz")?;
    text_el(w, "xdf:canonicalIdentification", uri)?;
    text_el(w, "xdf:version", version)?;
    close(w, "xdf:codelisteReferenz")
}

fn werte<'c, W: io::Write>(
    w: &mut Writer<W>,
    codes: impl Iterator<Item = (&'c str, &'c str)>,
) -> io::Result<()> {
    open(w, "xdf:werte")?;
    for (code, label) in codes {
        open(w, "xdf:wert")?;
        text_el(w, "xdf:code", code)?;
        text_el(w, "xdf:name", label)?;
        close(w, "xdf:wert")?;
    }
    close(w, "xdf:werte")
}

#[cfg(test)]
mod tests;
