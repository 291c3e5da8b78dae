//! Code lists: the values a select field offers. Declared inline in the
//! content file, or as a reference to a code list published in the
//! XRepository (by URN and version); fields of a form may also use a list
//! declared in a dependency (`codelist = "fim/natuerliche-person#geschlecht"`).
//!
//! ```toml
//! [codelist.parkzone]
//! label = "Bewohnerparkzonen"
//! codes = [
//!   { code = "A", label = "Zone A – Vorderer Westen" },
//!   { code = "B", label = "Zone B – Wehlheiden" },
//! ]
//!
//! [codelist.staat]
//! label = "Staaten"
//! urn = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staat"
//! version = "2024-02-01"
//! ```

use toml::Spanned;

use super::diagnostics::{Hint, Subject, SubjectKind};
use super::spanned::{Node, Seen, Sink, Suggest, Table};

#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    pub code: String,
    pub label: String,
    pub label_en: Option<String>,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CodelistSource {
    Inline(Vec<Code>),
    /// A code list of the XRepository (www.xrepository.de), by URN and version.
    XRepository {
        urn: String,
        version: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Codelist {
    pub id: String,
    pub at: usize,
    pub label: Option<String>,
    pub source: CodelistSource,
    /// The codes, when they are known (inline lists).
    pub codes: Vec<String>,
}

impl Codelist {
    pub fn known_codes(&self) -> Option<&[String]> {
        match self.source {
            CodelistSource::Inline(_) => Some(&self.codes),
            CodelistSource::XRepository { .. } => None,
        }
    }

    pub fn inline(&self) -> &[Code] {
        match &self.source {
            CodelistSource::Inline(c) => c,
            CodelistSource::XRepository { .. } => &[],
        }
    }
}

/// What a field's `codelist` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodelistRef<'a> {
    /// `parkzone`: a list declared in the same file.
    Own(&'a str),
    /// `ns/name#id`: a list declared in a dependency's file.
    InDependency { package: &'a str, id: &'a str },
    /// `ns/name`: a code list package (the ids of lists have no `/`).
    Package(&'a str),
}

impl<'a> CodelistRef<'a> {
    pub fn parse(s: &'a str) -> Self {
        match s.split_once('#') {
            Some((package, id)) => CodelistRef::InDependency { package, id },
            None if s.contains('/') => CodelistRef::Package(s),
            None => CodelistRef::Own(s),
        }
    }
}

const KEYS: [&str; 4] = ["label", "codes", "urn", "version"];
const CODE_KEYS: [&str; 3] = ["code", "label", "label-en"];

/// Reads the `[codelist.*]` tables.
pub fn read_all(entries: &[(&Spanned<String>, &Spanned<Node>)], sink: &mut Sink) -> Vec<Codelist> {
    let mut out = Vec::new();
    for (id, node) in entries {
        super::model::check_id(id.get_ref(), id.span().start, SubjectKind::Codelist, sink);
        let what = Subject::new(SubjectKind::Codelist, id.get_ref());
        let Some(mut t) = Table::expect(node, what.clone(), sink) else {
            continue;
        };
        let at = id.span().start;
        let label = t.string("label", sink).map(Spanned::into_inner);
        let urn = t.string("urn", sink);
        let version = t.string("version", sink);
        let codes_node = t.take("codes");
        let source = match (codes_node, urn) {
            (Some(_), Some(u)) => {
                sink.error(
                    "codelist.urn_and_codes",
                    u.span().start,
                    format!("{what} has both \"codes\" and \"urn\"; it is either inline or from the XRepository"),
                ).set_subject(&what);
                None
            }
            (None, None) => {
                sink.error(
                    "codelist.empty",
                    at,
                    format!("{what} has neither \"codes\" nor \"urn\""),
                ).set_arg("variant", "neither").set_subject(&what)
                .suggest(Hint::new("codes-or-urn", "list the codes inline (codes = [{ code = \"A\", label = \"…\" }]) or name an XRepository list with urn and version"));
                None
            }
            (None, Some(u)) => {
                if !u.get_ref().starts_with("urn:") || u.get_ref().contains(char::is_whitespace) {
                    sink.error(
                        "codelist.invalid_urn",
                        u.span().start,
                        format!("\"{}\" is not a URN", u.get_ref()),
                    ).set_arg("value", u.get_ref())
                    .suggest(Hint::new("urn-example", "XRepository code lists are named like \"urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staat\""));
                }
                match version {
                    Some(v) if !v.get_ref().trim().is_empty() => {
                        Some(CodelistSource::XRepository {
                            urn: u.into_inner(),
                            version: v.into_inner(),
                        })
                    }
                    _ => {
                        sink.error(
                            "codelist.missing_version",
                            u.span().start,
                            format!("{what} names an XRepository list but no \"version\""),
                        ).set_subject(&what)
                        .suggest(Hint::new("pin-codelist-version", "pin the version of the code list, for example version = \"2024-02-01\""));
                        None
                    }
                }
            }
            (Some(node), None) => {
                if let Some(v) = &version {
                    sink.error(
                        "codelist.version_without_urn",
                        v.span().start,
                        format!("{what} has a \"version\" but its codes are inline"),
                    )
                    .set_subject(&what);
                }
                Some(CodelistSource::Inline(read_codes(node, &what, sink)))
            }
        };
        t.finish(&KEYS, sink);
        if let Some(source) = source {
            let codes = match &source {
                CodelistSource::Inline(c) => c.iter().map(|c| c.code.clone()).collect(),
                CodelistSource::XRepository { .. } => Vec::new(),
            };
            out.push(Codelist {
                id: id.get_ref().clone(),
                at,
                label,
                source,
                codes,
            });
        }
    }
    out
}

fn read_codes(node: &Spanned<Node>, what: &Subject, sink: &mut Sink) -> Vec<Code> {
    let Node::Array(items) = node.get_ref() else {
        sink.error(
            "toml.wrong_type",
            node.span().start,
            format!("\"codes\" of {what} must be an array of {{ code = …, label = … }}"),
        )
        .set_arg("variant", "codes")
        .set_subject(what);
        return Vec::new();
    };
    if items.is_empty() {
        sink.error(
            "codelist.empty",
            node.span().start,
            format!("{what} has no codes"),
        )
        .set_arg("variant", "no_codes")
        .set_subject(what);
    }
    let mut seen = Seen::new();
    let mut out = Vec::new();
    for item in items {
        let Some(mut t) = Table::expect(item, Subject::new(SubjectKind::Code, &what.name), sink)
        else {
            continue;
        };
        let code = t.required_string("code", sink);
        let label = t.required_string("label", sink);
        let label_en = t.string("label-en", sink).map(Spanned::into_inner);
        t.finish(&CODE_KEYS, sink);
        let (Some(code), Some(label)) = (code, label) else {
            continue;
        };
        if code.get_ref().trim().is_empty() {
            sink.error(
                "codelist.empty_code",
                code.span().start,
                format!("{what} has an empty code"),
            )
            .set_subject(what);
        }
        if let Some(first) = seen.insert(code.get_ref().clone(), code.span().start) {
            duplicate_code(&code, first, what, sink);
            continue;
        }
        out.push(Code {
            code: code.get_ref().clone(),
            at: code.span().start,
            label: label.into_inner(),
            label_en,
        });
    }
    out
}

/// A code seen before in the same list (at `first`).
pub(crate) fn duplicate_code(
    code: &Spanned<String>,
    first: usize,
    what: &Subject,
    sink: &mut Sink,
) {
    let (line, _) = super::diagnostics::line_column(sink.source, first);
    sink.error(
        "codelist.duplicate_code",
        code.span().start,
        format!(
            "code \"{}\" appears twice in {what} (first on line {line})",
            code.get_ref()
        ),
    )
    .set_arg("code", code.get_ref())
    .set_subject(what)
    .set_arg("line", line);
}
