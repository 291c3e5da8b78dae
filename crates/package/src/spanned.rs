//! A TOML document as a tree in which every key and every value keeps its
//! byte span, and a reader over it that records every problem (unknown key,
//! wrong type, missing key) instead of stopping at the first.
//!
//! The content files are read in two steps: `toml` (with `Spanned`) turns
//! the text into a [`Node`] tree, then the kind's reader pulls typed values
//! out of it through [`Table`]. That is how `form.toml` reports a misspelt
//! key *and* a bad type *and* an unknown field in a condition in one run.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

use super::diagnostics::{nearest, toml_error, Diagnostic, Hint, Subject};

/// A TOML value with the spans of all its parts.
#[derive(Debug, Clone)]
pub enum Node {
    Table(Vec<(Spanned<String>, Spanned<Node>)>),
    Array(Vec<Spanned<Node>>),
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Datetime(String),
}

const DATETIME_KEY: &str = "$__toml_private_datetime";

impl Node {
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::Table(_) => "a table",
            Node::Array(_) => "an array",
            Node::String(_) => "a string",
            Node::Integer(_) => "an integer",
            Node::Float(_) => "a number",
            Node::Boolean(_) => "a boolean",
            Node::Datetime(_) => "a date",
        }
    }

    /// The type as a keyword (the arg `found`), for clients to word.
    pub fn type_keyword(&self) -> &'static str {
        match self {
            Node::Table(_) => "table",
            Node::Array(_) => "array",
            Node::String(_) => "string",
            Node::Integer(_) => "integer",
            Node::Float(_) => "number",
            Node::Boolean(_) => "boolean",
            Node::Datetime(_) => "date",
        }
    }
}

/// What a key's value must be, as a keyword (the arg `expected`) and in
/// English.
#[derive(Debug, Clone, Copy)]
enum Expected {
    String,
    Boolean,
    Integer,
    Strings,
    Table,
    Tables,
}

impl Expected {
    fn keyword(self) -> &'static str {
        match self {
            Expected::String => "string",
            Expected::Boolean => "boolean",
            Expected::Integer => "integer",
            Expected::Strings => "string_array",
            Expected::Table => "table",
            Expected::Tables => "table_array",
        }
    }

    fn english(self) -> &'static str {
        match self {
            Expected::String => "a string",
            Expected::Boolean => "true or false",
            Expected::Integer => "an integer",
            Expected::Strings => "an array of strings",
            Expected::Table => "a table",
            Expected::Tables => "an array of tables",
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Boolean(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Integer(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        i64::try_from(v)
            .map(Node::Integer)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Sp>()? {
            items.push(item.0);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            if key.get_ref() == DATETIME_KEY {
                let value: String = map.next_value()?;
                return Ok(Node::Datetime(value));
            }
            let value: Sp = map.next_value()?;
            entries.push((key, value.0));
        }
        Ok(Node::Table(entries))
    }
}

// The names by which `toml` recognises a request for a spanned value
// (serde_spanned 0.6, which toml 0.8 uses).
const SPANNED_NAME: &str = "$__serde_spanned_private_Spanned";
const SPANNED_START: &str = "$__serde_spanned_private_start";
const SPANNED_END: &str = "$__serde_spanned_private_end";
const SPANNED_VALUE: &str = "$__serde_spanned_private_value";
const SPANNED_FIELDS: [&str; 3] = [SPANNED_START, SPANNED_END, SPANNED_VALUE];

/// Like `toml::Spanned<Node>`, but also accepts the tables that TOML
/// creates implicitly (`codelist` in `[codelist.zone]`), which have no span
/// of their own: their keys are placed at their values.
struct Sp(Spanned<Node>);

impl<'de> Deserialize<'de> for Sp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(SPANNED_NAME, &SPANNED_FIELDS, SpVisitor)
    }
}

struct SpVisitor;

impl<'de> Visitor<'de> for SpVisitor {
    type Value = Sp;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Sp, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return Ok(Sp(Spanned::new(0..0, Node::Table(Vec::new()))));
        };
        if first == SPANNED_START {
            let start: usize = map.next_value()?;
            let mut end = start;
            let mut value = None;
            while let Some(key) = map.next_key::<String>()? {
                if key == SPANNED_END {
                    end = map.next_value()?;
                } else if key == SPANNED_VALUE {
                    value = Some(map.next_value::<Node>()?);
                } else {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
            let value = value.ok_or_else(|| de::Error::missing_field(SPANNED_VALUE))?;
            return Ok(Sp(Spanned::new(start..end, value)));
        }
        let mut entries = Vec::new();
        let mut key = Some(first);
        while let Some(k) = key {
            if k == DATETIME_KEY {
                let value: String = map.next_value()?;
                return Ok(Sp(Spanned::new(0..0, Node::Datetime(value))));
            }
            let value: Sp = map.next_value()?;
            let at = value.0.span().start;
            entries.push((Spanned::new(at..at, k), value.0));
            key = map.next_key::<String>()?;
        }
        Ok(Sp(Spanned::new(0..0, Node::Table(entries))))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Sp, A::Error> {
        NodeVisitor
            .visit_seq(seq)
            .map(|n| Sp(Spanned::new(0..0, n)))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Sp, E> {
        Ok(Sp(Spanned::new(0..0, Node::Boolean(v))))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Sp, E> {
        Ok(Sp(Spanned::new(0..0, Node::Integer(v))))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Sp, E> {
        Ok(Sp(Spanned::new(0..0, Node::Float(v))))
    }
    fn visit_str<E>(self, v: &str) -> Result<Sp, E> {
        Ok(Sp(Spanned::new(0..0, Node::String(v.to_string()))))
    }
}

/// Parses a content file into a spanned tree. A syntax error is the one
/// problem that stops everything.
// A syntax error happens at most once per file read: its size costs nothing.
#[allow(clippy::result_large_err)]
pub fn parse(file: &str, source: &str) -> Result<Spanned<Node>, Diagnostic> {
    let root: Node = toml::from_str(source).map_err(|e| {
        let mut d = toml_error(file, source, &e);
        if e.message().contains(DATETIME_KEY) {
            d.code = "toml.date_literal".into();
            d.args.clear();
            d.message = "dates and times are written as strings in gemeinwerk files".into();
            d.set_hint(Hint::new(
                "quote-dates",
                "put the date in quotes, for example \"2025-01-01\"",
            ));
        }
        d
    })?;
    // The root table has no span of its own.
    Ok(Spanned::new(0..0, root))
}

/// Where diagnostics go while a file is read.
pub struct Sink<'a> {
    pub file: &'a str,
    pub source: &'a str,
    pub found: Vec<Diagnostic>,
    /// Compiled patterns, as forms repeat the same pattern on many fields.
    patterns: BTreeMap<String, Option<regex::Regex>>,
    /// The source, parsed already by the caller (see [`Sink::with_parsed`]).
    parsed: Option<Spanned<Node>>,
}

impl<'a> Sink<'a> {
    pub fn new(file: &'a str, source: &'a str) -> Self {
        Sink {
            file,
            source,
            found: Vec::new(),
            patterns: BTreeMap::new(),
            parsed: None,
        }
    }

    /// A sink whose source the caller has parsed already: a large file is
    /// parsed once for all the checks of a publish.
    pub fn with_parsed(mut self, root: Spanned<Node>) -> Self {
        self.parsed = Some(root);
        self
    }

    /// The parsed source: the caller's tree, or parsed now.
    // A syntax error happens at most once per file read: its size costs nothing.
    #[allow(clippy::result_large_err)]
    pub fn parse_root(&mut self) -> Result<Spanned<Node>, Diagnostic> {
        match self.parsed.take() {
            Some(root) => Ok(root),
            None => parse(self.file, self.source),
        }
    }

    /// The compiled form of a field pattern, anchored at both ends.
    pub fn pattern(&mut self, pattern: &str) -> Option<&regex::Regex> {
        self.patterns
            .entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(&format!("^(?:{pattern})$")).ok())
            .as_ref()
    }

    pub fn error(&mut self, code: &str, at: usize, message: impl Into<String>) -> &mut Diagnostic {
        let d = Diagnostic::error(code, self.file, message).at(self.source, at);
        self.found.push(d);
        self.found.last_mut().expect("just pushed")
    }

    pub fn warning(
        &mut self,
        code: &str,
        at: usize,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let d = Diagnostic::warning(code, self.file, message).at(self.source, at);
        self.found.push(d);
        self.found.last_mut().expect("just pushed")
    }

    pub fn has_errors(&self) -> bool {
        self.found.iter().any(Diagnostic::is_error)
    }
}

/// Sets the suggestion of a diagnostic in place.
pub trait Suggest {
    fn suggest(&mut self, hint: Hint);
}

impl Suggest for Diagnostic {
    fn suggest(&mut self, hint: Hint) {
        self.set_hint(hint);
    }
}

/// A table being read: each key that is taken is marked, and
/// [`Table::finish`] reports the keys nobody took.
pub struct Table<'n> {
    /// Where the table starts (its header, or its first key).
    pub at: usize,
    /// What the table is, for messages: `field "kennzeichen"`.
    pub what: Subject,
    entries: &'n [(Spanned<String>, Spanned<Node>)],
    taken: Vec<bool>,
}

impl<'n> Table<'n> {
    pub fn new(node: &'n Spanned<Node>, what: Subject) -> Option<Self> {
        match node.get_ref() {
            Node::Table(entries) => {
                let at = if node.span().is_empty() {
                    entries.first().map(|(k, _)| k.span().start).unwrap_or(0)
                } else {
                    node.span().start
                };
                Some(Table {
                    at,
                    what,
                    entries,
                    taken: vec![false; entries.len()],
                })
            }
            _ => None,
        }
    }

    /// Reads `node` as a table or reports that it is not one.
    pub fn expect(node: &'n Spanned<Node>, what: Subject, sink: &mut Sink) -> Option<Self> {
        let t = Table::new(node, what.clone());
        if t.is_none() {
            sink.error(
                "toml.wrong_type",
                node.span().start,
                format!("{what} must be a table, not {}", node.get_ref().type_name()),
            )
            .set_arg("variant", "table")
            .set_subject(&what)
            .set_arg("found", node.get_ref().type_keyword());
        }
        t
    }

    pub fn take(&mut self, key: &str) -> Option<&'n Spanned<Node>> {
        let i = self.entries.iter().position(|(k, _)| k.get_ref() == key)?;
        self.taken[i] = true;
        Some(&self.entries[i].1)
    }

    /// The position of a key, for messages about it.
    pub fn key_at(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(k, _)| k.span().start)
    }

    fn wrong(&self, sink: &mut Sink, key: &str, node: &Spanned<Node>, expected: Expected) {
        sink.error(
            "toml.wrong_type",
            node.span().start,
            format!(
                "\"{key}\" of {} must be {}, not {}",
                self.what,
                expected.english(),
                node.get_ref().type_name()
            ),
        )
        .set_arg("variant", "key")
        .set_arg("key", key)
        .set_subject(&self.what)
        .set_arg("expected", expected.keyword())
        .set_arg("found", node.get_ref().type_keyword());
    }

    pub fn string(&mut self, key: &str, sink: &mut Sink) -> Option<Spanned<String>> {
        let node = self.take(key)?;
        match node.get_ref() {
            Node::String(s) => Some(Spanned::new(node.span(), s.clone())),
            _ => {
                self.wrong(sink, key, node, Expected::String);
                None
            }
        }
    }

    pub fn required_string(&mut self, key: &str, sink: &mut Sink) -> Option<Spanned<String>> {
        if self.key_at(key).is_none() {
            sink.error(
                "toml.missing_key",
                self.at,
                format!("{} has no \"{key}\"", self.what),
            )
            .set_subject(&self.what)
            .set_arg("key", key);
            return None;
        }
        self.string(key, sink)
    }

    pub fn bool(&mut self, key: &str, sink: &mut Sink) -> Option<Spanned<bool>> {
        let node = self.take(key)?;
        match node.get_ref() {
            Node::Boolean(b) => Some(Spanned::new(node.span(), *b)),
            _ => {
                self.wrong(sink, key, node, Expected::Boolean);
                None
            }
        }
    }

    pub fn integer(&mut self, key: &str, sink: &mut Sink) -> Option<Spanned<i64>> {
        let node = self.take(key)?;
        match node.get_ref() {
            Node::Integer(i) => Some(Spanned::new(node.span(), *i)),
            _ => {
                self.wrong(sink, key, node, Expected::Integer);
                None
            }
        }
    }

    /// An array of strings.
    pub fn strings(&mut self, key: &str, sink: &mut Sink) -> Option<Vec<Spanned<String>>> {
        let node = self.take(key)?;
        let Node::Array(items) = node.get_ref() else {
            self.wrong(sink, key, node, Expected::Strings);
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            match item.get_ref() {
                Node::String(s) => out.push(Spanned::new(item.span(), s.clone())),
                _ => self.wrong(sink, key, item, Expected::Strings),
            }
        }
        Some(out)
    }

    /// An array of tables (`[[field]]`) or a single table.
    pub fn tables(&mut self, key: &str, sink: &mut Sink) -> Vec<&'n Spanned<Node>> {
        let Some(node) = self.take(key) else {
            return Vec::new();
        };
        match node.get_ref() {
            Node::Array(items) => items
                .iter()
                .filter(|item| {
                    let ok = matches!(item.get_ref(), Node::Table(_));
                    if !ok {
                        self.wrong(sink, key, item, Expected::Table);
                    }
                    ok
                })
                .collect(),
            Node::Table(_) => vec![node],
            _ => {
                self.wrong(sink, key, node, Expected::Tables);
                Vec::new()
            }
        }
    }

    /// A table of tables keyed by id (`[states.eingang]`).
    pub fn keyed_tables(
        &mut self,
        key: &str,
        sink: &mut Sink,
    ) -> Vec<(&'n Spanned<String>, &'n Spanned<Node>)> {
        let Some(node) = self.take(key) else {
            return Vec::new();
        };
        match node.get_ref() {
            Node::Table(entries) => entries
                .iter()
                .filter(|(_, v)| {
                    let ok = matches!(v.get_ref(), Node::Table(_));
                    if !ok {
                        self.wrong(sink, key, v, Expected::Table);
                    }
                    ok
                })
                .map(|(k, v)| (k, v))
                .collect(),
            _ => {
                self.wrong(sink, key, node, Expected::Table);
                Vec::new()
            }
        }
    }

    /// Reports every key that was not taken, with the nearest known key.
    pub fn finish(self, known: &[&str], sink: &mut Sink) {
        for (i, (k, _)) in self.entries.iter().enumerate() {
            if self.taken[i] {
                continue;
            }
            let d = sink
                .error(
                    "toml.unknown_key",
                    k.span().start,
                    format!("unknown key \"{}\" in {}", k.get_ref(), self.what),
                )
                .set_arg("key", k.get_ref())
                .set_subject(&self.what);
            match nearest(k.get_ref(), known) {
                Some(best) => d.suggest(Hint::did_you_mean(best)),
                None => d.suggest(Hint::choices("known-keys", "known keys", known)),
            }
        }
    }
}

/// Offset of the first character inside a string value, so that positions
/// inside an expression can be mapped to the file.
pub fn string_content_start(source: &str, span_start: usize) -> usize {
    let rest = &source.as_bytes()[span_start.min(source.len())..];
    if rest.starts_with(b"\"\"\"") || rest.starts_with(b"'''") {
        span_start + 3
    } else {
        span_start + 1
    }
}

/// Keeps the entries of a spanned table in file order.
pub fn by_position<T>(items: &mut [(usize, T)]) {
    items.sort_by_key(|(at, _)| *at);
}

/// A map from id to position, for duplicate checks.
pub type Seen = BTreeMap<String, usize>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SubjectKind;

    #[test]
    fn every_value_keeps_its_span() {
        let src = "a = 1\n[[field]]\nid = \"x\"\n\n[[field]]\nid = \"y\"\nd = [1.5]\n";
        let root = parse("f.toml", src).unwrap();
        let mut sink = Sink::new("f.toml", src);
        let mut t = Table::new(&root, Subject::new(SubjectKind::File, "f.toml")).unwrap();
        let fields = t.tables("field", &mut sink);
        assert_eq!(fields.len(), 2);
        let mut f = Table::new(fields[1], Subject::unnamed(SubjectKind::Field)).unwrap();
        let id = f.string("id", &mut sink).unwrap();
        assert_eq!(&src[id.span()], "\"y\"");
        let d = f.take("d").unwrap();
        assert!(matches!(d.get_ref(), Node::Array(a) if a.len() == 1));
        t.finish(&["field"], &mut sink);
        assert_eq!(sink.found[0].code, "toml.unknown_key");
        assert_eq!((sink.found[0].line, sink.found[0].column), (1, 1));
    }

    #[test]
    fn date_literals_get_a_clear_message() {
        let src = "a = 1\nd = 2024-01-01\n";
        let d = parse("f.toml", src).unwrap_err();
        assert_eq!(d.code, "toml.date_literal");
        assert_eq!(d.line, 2);
    }
}
