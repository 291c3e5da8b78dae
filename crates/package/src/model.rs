//! The parts forms and field groups share: fields, groups, conditions, FIM
//! references, occurrences, ISO 8601 durations; and how they are read from
//! `[[field]]` and `[[group]]` tables.

use std::fmt;

use toml::Spanned;

use super::diagnostics::{nearest, Cause, Hint, Subject, SubjectKind};
use super::expr::{self, Expr};
use super::names::{is_fim_id, is_fim_version};
use super::spanned::{string_content_start, Node, Seen, Sink, Suggest, Table};

/// A German text with an optional English translation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub de: String,
    pub en: Option<String>,
}

/// A reference into FIM (Föderales Informationsmanagement): the id of an
/// XDatenfelder element (F… field, G… group, S… schema) and its version,
/// and what FIM says about the element beyond its use in a form, kept so
/// that an export gives it back and a reuser sees whether it is released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FimRef {
    pub id: String,
    pub version: Option<String>,
    /// A code of [`FIM_STATUS`], the Freigabestatus.
    pub status: Option<String>,
    /// Schemaelementart: `ABS`, `HAR` or `RNG`.
    pub schemaelementart: Option<String>,
    /// The methodological definition (`definition`).
    pub definition: Option<String>,
    /// The help text for printed output (`hilfetextAusgabe`).
    pub help_output: Option<String>,
}

/// The codes a `fim-status` may hold: XDatenfelder 3.0.0's Freigabestatus,
/// with their names. (The import keeps 2.0's status as one of them.)
pub const FIM_STATUS: [(&str, &str); 8] = [
    ("1", "in Planung"),
    ("2", "in Bearbeitung"),
    ("3", "Entwurf"),
    ("4", "methodisch freigegeben"),
    ("5", "fachlich freigegeben (silber)"),
    ("6", "fachlich freigegeben (gold)"),
    ("7", "inaktiv"),
    ("8", "vorgesehen zum Löschen"),
];

/// The codes of the Schemaelementart: abstract, harmonised, bound to a
/// legal norm.
pub const SCHEMAELEMENTART: [(&str, &str); 3] = [
    ("ABS", "abstrakt"),
    ("HAR", "harmonisiert"),
    ("RNG", "rechtsnormgebunden"),
];

impl FimRef {
    pub fn new(id: impl Into<String>, version: Option<String>) -> FimRef {
        FimRef {
            id: id.into(),
            version,
            status: None,
            schemaelementart: None,
            definition: None,
            help_output: None,
        }
    }

    /// The German name of the status, with its code: "3 Entwurf".
    pub fn status_label(&self) -> Option<String> {
        let code = self.status.as_deref()?;
        let name = FIM_STATUS.iter().find(|(c, _)| *c == code)?.1;
        Some(format!("{code} {name}"))
    }

    /// Whether FIM has not released the element for use: a Freigabestatus
    /// other than 5 or 6. Without a status nothing is known, and nothing
    /// is claimed.
    pub fn is_unreleased(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| !matches!(s, "5" | "6"))
    }
}

/// A legal basis (FIM's `bezug`): the norm as cited, and where its text is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalBasis {
    pub text: String,
    pub link: Option<String>,
}

impl fmt::Display for LegalBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for FimRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{} V{v}", self.id),
            None => f.write_str(&self.id),
        }
    }
}

/// How often a group occurs, FIM style: `0:1`, `1:1`, `1:*`, `2:5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurs {
    pub min: u32,
    /// `None` for `*`.
    pub max: Option<u32>,
}

impl Occurs {
    pub const ONCE: Occurs = Occurs {
        min: 1,
        max: Some(1),
    };

    pub fn is_repeatable(&self) -> bool {
        self.max != Some(1)
    }

    pub fn parse(s: &str) -> Result<Occurs, Cause> {
        let (a, b) = s.split_once(':').ok_or_else(|| {
            Cause::new(
                "occurs-form",
                format!("\"{s}\" is not an occurrence like \"0:1\", \"1:*\" or \"2:5\""),
            )
            .arg("value", s)
        })?;
        let min: u32 = a.trim().parse().map_err(|_| {
            Cause::new("occurs-min", format!("\"{a}\" in \"{s}\" is not a number"))
                .arg("part", a)
                .arg("value", s)
        })?;
        let max = match b.trim() {
            "*" | "n" => None,
            b => Some(b.parse::<u32>().map_err(|_| {
                Cause::new(
                    "occurs-max",
                    format!("\"{b}\" in \"{s}\" is not a number or \"*\""),
                )
                .arg("part", b)
                .arg("value", s)
            })?),
        };
        if let Some(max) = max {
            if max == 0 {
                return Err(Cause::new(
                    "occurs-zero",
                    format!("\"{s}\": a group that occurs at most 0 times is never shown"),
                )
                .arg("value", s));
            }
            if min > max {
                return Err(Cause::new(
                    "occurs-order",
                    format!("\"{s}\": the minimum {min} is greater than the maximum {max}"),
                )
                .arg("value", s)
                .arg("min", min)
                .arg("max", max));
            }
        }
        Ok(Occurs { min, max })
    }
}

impl fmt::Display for Occurs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max {
            Some(m) => write!(f, "{}:{m}", self.min),
            None => write!(f, "{}:*", self.min),
        }
    }
}

/// An ISO 8601 duration such as `P14D`, `P1Y`, `P3M`, `PT48H`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Duration {
    pub years: u32,
    pub months: u32,
    pub weeks: u32,
    pub days: u32,
    pub hours: u32,
    pub minutes: u32,
    pub seconds: u32,
}

impl Duration {
    pub fn parse(s: &str) -> Result<Duration, Cause> {
        let bad = || {
            Cause::new(
                "duration-form",
                format!("\"{s}\" is not an ISO 8601 duration (for example \"P14D\", \"P3M\", \"P1Y\", \"PT48H\")"),
            )
            .arg("value", s)
        };
        let rest = s.strip_prefix('P').ok_or_else(bad)?;
        if rest.is_empty() || rest == "T" {
            return Err(bad());
        }
        let mut d = Duration::default();
        let mut in_time = false;
        let mut num = String::new();
        let mut any = false;
        for c in rest.chars() {
            match c {
                '0'..='9' => num.push(c),
                'T' if !in_time && num.is_empty() => in_time = true,
                _ => {
                    let n: u32 = num.parse().map_err(|_| bad())?;
                    num.clear();
                    any = true;
                    let slot = match (in_time, c) {
                        (false, 'Y') => &mut d.years,
                        (false, 'M') => &mut d.months,
                        (false, 'W') => &mut d.weeks,
                        (false, 'D') => &mut d.days,
                        (true, 'H') => &mut d.hours,
                        (true, 'M') => &mut d.minutes,
                        (true, 'S') => &mut d.seconds,
                        _ => return Err(bad()),
                    };
                    *slot = n;
                }
            }
        }
        if !num.is_empty() || !any || rest.ends_with('T') {
            return Err(bad());
        }
        Ok(d)
    }

    /// Length in days, months counted as 30 and years as 365: for ordering.
    pub fn approx_days(&self) -> f64 {
        f64::from(self.years) * 365.0
            + f64::from(self.months) * 30.0
            + f64::from(self.weeks) * 7.0
            + f64::from(self.days)
            + (f64::from(self.hours)
                + f64::from(self.minutes) / 60.0
                + f64::from(self.seconds) / 3600.0)
                / 24.0
    }
}

/// The kinds of fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Text,
    MultilineText,
    Integer,
    Decimal,
    /// An amount in EUR with cents.
    Money,
    Date,
    Time,
    DateTime,
    Boolean,
    Email,
    Phone,
    Iban,
    /// A German postal code (Postleitzahl): five digits.
    PostalCode,
    Select,
    MultiSelect,
    File,
    /// Text shown to the applicant, no input.
    StaticText,
}

impl FieldType {
    pub const ALL: [(&'static str, FieldType); 17] = [
        ("text", FieldType::Text),
        ("multiline-text", FieldType::MultilineText),
        ("integer", FieldType::Integer),
        ("decimal", FieldType::Decimal),
        ("money", FieldType::Money),
        ("date", FieldType::Date),
        ("time", FieldType::Time),
        ("date-time", FieldType::DateTime),
        ("boolean", FieldType::Boolean),
        ("email", FieldType::Email),
        ("phone", FieldType::Phone),
        ("iban", FieldType::Iban),
        ("postal-code", FieldType::PostalCode),
        ("select", FieldType::Select),
        ("multi-select", FieldType::MultiSelect),
        ("file", FieldType::File),
        ("static-text", FieldType::StaticText),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    pub fn is_textual(self) -> bool {
        matches!(
            self,
            FieldType::Text | FieldType::MultilineText | FieldType::Email | FieldType::Phone
        )
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Integer | FieldType::Decimal | FieldType::Money
        )
    }

    pub fn is_temporal(self) -> bool {
        matches!(
            self,
            FieldType::Date | FieldType::Time | FieldType::DateTime
        )
    }

    pub fn is_input(self) -> bool {
        self != FieldType::StaticText
    }

    /// A change from `self` to `to` that accepts every old value.
    pub fn widens_to(self, to: FieldType) -> bool {
        matches!(
            (self, to),
            (FieldType::Text, FieldType::MultilineText)
                | (FieldType::Integer, FieldType::Decimal)
                | (FieldType::Select, FieldType::MultiSelect)
        )
    }
}

/// A lower or upper bound of a number or a date.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    Number(f64),
    /// An ISO date, `YYYY-MM-DD`.
    Date(String),
    /// Relative to the day the form is filled in: `today`, `today+P1Y`,
    /// `today-P18Y`; in days (approximately, for ordering).
    Today {
        offset: String,
        days: f64,
    },
    /// A time of day, `HH:MM`.
    Time(String),
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Number(n) => write!(f, "{n}"),
            Bound::Date(d) | Bound::Time(d) => f.write_str(d),
            Bound::Today { offset, .. } => write!(f, "today{offset}"),
        }
    }
}

impl Bound {
    /// Orders two bounds when they can be ordered.
    pub fn partial_cmp(&self, other: &Bound) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Bound::Number(a), Bound::Number(b)) => a.partial_cmp(b),
            (Bound::Date(a), Bound::Date(b)) | (Bound::Time(a), Bound::Time(b)) => Some(a.cmp(b)),
            (Bound::Today { days: a, .. }, Bound::Today { days: b, .. }) => a.partial_cmp(b),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Constraints {
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    /// A Rust `regex` that the whole value must match.
    pub pattern: Option<String>,
    pub min: Option<Bound>,
    pub max: Option<Bound>,
    /// Accepted media types of a file upload, e.g. `application/pdf`.
    pub media_types: Vec<String>,
    /// Largest file, in bytes.
    pub max_size: Option<u64>,
}

/// A `shown-when` or `required-when` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub source: String,
    /// `None` when the text did not parse (the error is reported).
    pub expr: Option<Expr>,
    /// Offset in the file of the first character of the condition text.
    pub at: usize,
}

impl Condition {
    /// The canonical text: what the diff compares.
    pub fn canonical(&self) -> String {
        match &self.expr {
            Some(e) => e.to_string(),
            None => self.source.trim().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub id: String,
    pub at: usize,
    pub ty: FieldType,
    pub label: Option<Text>,
    pub help: Option<Text>,
    /// The text of a static-text field.
    pub text: Option<Text>,
    pub required: bool,
    pub shown_when: Option<Condition>,
    pub required_when: Option<Condition>,
    pub constraints: Constraints,
    /// Local id (`parkzone`) or `ns/name#id` of a dependency's list.
    pub codelist: Option<Spanned<String>>,
    pub examples: Vec<String>,
    /// A value that is filled in and cannot be changed (FIM's feldart
    /// `locked`): shown read-only, and every submission carries it.
    pub fixed: Option<String>,
    /// The norms the field rests on (FIM's `bezug`).
    pub legal_basis: Vec<LegalBasis>,
    pub fim: Option<FimRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: String,
    pub at: usize,
    pub label: Option<Text>,
    pub help: Option<Text>,
    pub occurs: Occurs,
    /// A field group package this group takes its fields from, `ns/name`.
    pub include: Option<Spanned<String>>,
    pub shown_when: Option<Condition>,
    pub legal_basis: Vec<LegalBasis>,
    pub fim: Option<FimRef>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
// Fields are the common case; boxing them would cost more than it saves.
#[allow(clippy::large_enum_variant)]
pub enum Item {
    Field(Field),
    Group(Group),
}

impl Item {
    pub fn id(&self) -> &str {
        match self {
            Item::Field(f) => &f.id,
            Item::Group(g) => &g.id,
        }
    }
    pub fn at(&self) -> usize {
        match self {
            Item::Field(f) => f.at,
            Item::Group(g) => g.at,
        }
    }
}

/// Checks an id: lowercase a–z, 0–9 and `_`, starting with a letter.
pub fn check_id(id: &str, at: usize, kind: SubjectKind, sink: &mut Sink) -> bool {
    let ok = id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        let d = sink
            .error(
                "model.invalid_id",
                at,
                format!(
                    "{} id \"{id}\" must start with a–z and use only a–z, 0–9 and \"_\"",
                    kind.english()
                ),
            )
            .set_subject(&Subject::new(kind, id));
        let suggestion: String = id
            .to_lowercase()
            .replace('ä', "ae")
            .replace('ö', "oe")
            .replace('ü', "ue")
            .replace('ß', "ss")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if suggestion.starts_with(|c: char| c.is_ascii_lowercase()) {
            d.suggest(
                Hint::new("for-example", format!("for example \"{suggestion}\""))
                    .arg("example", &suggestion),
            );
        }
    }
    ok
}

/// Reads `label` / `label-en` style pairs.
pub fn read_text(t: &mut Table, key: &str, sink: &mut Sink) -> Option<Text> {
    let de = t.string(key, sink);
    let en = t.string(&format!("{key}-en"), sink);
    match (de, en) {
        (Some(de), en) => {
            if de.get_ref().trim().is_empty() {
                sink.error(
                    "model.empty_text",
                    de.span().start,
                    format!("\"{key}\" of {} is empty", t.what),
                )
                .set_arg("key", key)
                .set_subject(&t.what);
            }
            Some(Text {
                de: de.into_inner(),
                en: en.map(Spanned::into_inner),
            })
        }
        (None, Some(en)) => {
            sink.error(
                "model.english_without_german",
                en.span().start,
                format!(
                    "{} has \"{key}-en\" but no \"{key}\"; the German text is required",
                    t.what
                ),
            )
            .set_subject(&t.what)
            .set_arg("key", key);
            None
        }
        (None, None) => None,
    }
}

/// FIM ids on fields, groups and forms (see [`is_fim_id`]).
pub fn read_fim(t: &mut Table, expected: char, sink: &mut Sink) -> Option<FimRef> {
    let id = t.string("fim-id", sink);
    let version = t.string("fim-version", sink);
    let meta_at: Vec<(&str, usize)> = FIM_KEYS[2..]
        .iter()
        .filter_map(|k| Some((*k, t.key_at(k)?)))
        .collect();
    let meta = read_fim_meta(t, sink);
    let Some(id) = id else {
        if let Some(v) = version {
            sink.error(
                "fim.version_without_id",
                v.span().start,
                format!("{} has \"fim-version\" but no \"fim-id\"", t.what),
            )
            .set_subject(&t.what);
        }
        for (key, at) in meta_at {
            sink.error(
                "fim.meta_without_id",
                at,
                format!("{} has \"{key}\" but no \"fim-id\"", t.what),
            )
            .set_subject(&t.what)
            .set_arg("key", key);
        }
        return None;
    };
    let s = id.get_ref();
    if !is_fim_id(s) {
        sink.error(
            "fim.invalid_id",
            id.span().start,
            format!("\"{s}\" is not a FIM id"),
        ).set_arg("value", s)
        .suggest(
            Hint::new("fim-id-form", format!(
                "FIM ids are a letter and 11 digits (XDatenfelder 3, \"{expected}60000000243\") or 8 digits (XDatenfelder 2, \"{expected}00000243\")"
            ))
            .arg("letter", expected),
        );
    } else if !s.starts_with(expected) {
        // A keyword for the args, and the English for the message.
        let kind = |c: char| match c {
            'F' => ("field", "a field (Datenfeld)"),
            'G' => ("group", "a group (Datenfeldgruppe)"),
            'S' => ("schema", "a schema (Stammdatenschema)"),
            _ => ("document", "a document profile"),
        };
        let (found, expected) = (kind(s.chars().next().unwrap_or('?')), kind(expected));
        sink.error(
            "fim.wrong_kind",
            id.span().start,
            format!("\"{s}\" names {} but is used on {}", found.1, expected.1),
        )
        .set_arg("fim_id", s)
        .set_arg("found", found.0)
        .set_arg("expected", expected.0);
    }
    if let Some(v) = &version {
        if !is_fim_version(v.get_ref()) {
            sink.error(
                "fim.invalid_version",
                v.span().start,
                format!(
                    "FIM version \"{}\" must be numbers separated by dots, like \"1.2\"",
                    v.get_ref()
                ),
            )
            .set_arg("value", v.get_ref());
        }
    }
    Some(FimRef {
        id: id.into_inner(),
        version: version.map(Spanned::into_inner),
        status: meta.status,
        schemaelementart: meta.schemaelementart,
        definition: meta.definition,
        help_output: meta.help_output,
    })
}

/// The keys of [`FimRef`] beyond `fim-id` and `fim-version`.
struct FimMeta {
    status: Option<String>,
    schemaelementart: Option<String>,
    definition: Option<String>,
    help_output: Option<String>,
}

fn read_fim_meta(t: &mut Table, sink: &mut Sink) -> FimMeta {
    let mut code = |key: &str, allowed: &[(&str, &str)], sink: &mut Sink| {
        let v = t.string(key, sink)?;
        if allowed.iter().any(|(c, _)| c == v.get_ref()) {
            return Some(v);
        }
        let codes: Vec<&str> = allowed.iter().map(|(c, _)| *c).collect();
        sink.error(
            "fim.invalid_code",
            v.span().start,
            format!(
                "\"{}\" is no code of \"{key}\" ({})",
                v.get_ref(),
                codes.join(", ")
            ),
        )
        .set_arg("value", v.get_ref())
        .set_arg("key", key)
        .set_arg("codes", codes.join(", "));
        None
    };
    let status = code("fim-status", &FIM_STATUS, sink);
    let schemaelementart = code("fim-schemaelementart", &SCHEMAELEMENTART, sink);
    let status = status.map(Spanned::into_inner);
    let schemaelementart = schemaelementart.map(Spanned::into_inner);
    let definition = t.string("fim-definition", sink).map(Spanned::into_inner);
    let help_output = t.string("fim-help-output", sink).map(Spanned::into_inner);
    FimMeta {
        status,
        schemaelementart,
        definition,
        help_output,
    }
}

/// Whether a link may stand on a page: an `http(s)` address, never a
/// script.
pub fn is_web_address(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > "https://".len()
        && !s.contains(char::is_whitespace)
}

/// The keys [`read_fim`] reads.
const FIM_KEYS: [&str; 6] = [
    "fim-id",
    "fim-version",
    "fim-status",
    "fim-schemaelementart",
    "fim-definition",
    "fim-help-output",
];

/// Ends the reading of a table that may describe a FIM element: its own
/// `keys`, `legal-basis` and the `fim-…` keys are known, any other key is
/// reported.
pub fn finish_described(t: Table, keys: &[&str], sink: &mut Sink) {
    let known: Vec<&str> = keys
        .iter()
        .chain(&["legal-basis"])
        .chain(&FIM_KEYS)
        .copied()
        .collect();
    t.finish(&known, sink);
}

/// `legal-basis`: a list of norms, each a string or `{ text, link }`.
pub fn read_legal_basis(t: &mut Table, sink: &mut Sink) -> Vec<LegalBasis> {
    let Some(node) = t.take("legal-basis") else {
        return Vec::new();
    };
    let what = t.what.clone();
    let bad = |sink: &mut Sink, at: usize| {
        sink.error(
            "model.invalid_legal_basis",
            at,
            format!("\"legal-basis\" of {what} must be a list of norms, each a string or {{ text = \"…\", link = \"https://…\" }}"),
        )
        .set_subject(&what);
    };
    let Node::Array(items) = node.get_ref() else {
        bad(sink, node.span().start);
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        match item.get_ref() {
            Node::String(s) if !s.trim().is_empty() => out.push(LegalBasis {
                text: s.clone(),
                link: None,
            }),
            Node::Table(entries) => {
                let get = |k: &str| {
                    entries
                        .iter()
                        .find(|(key, _)| key.get_ref() == k)
                        .map(|(_, v)| v.get_ref())
                };
                let known = entries
                    .iter()
                    .all(|(k, _)| matches!(k.get_ref().as_str(), "text" | "link"));
                match (get("text"), get("link")) {
                    (Some(Node::String(text)), link)
                        if known
                            && !text.trim().is_empty()
                            && match link {
                                None => true,
                                Some(Node::String(l)) => is_web_address(l),
                                Some(_) => false,
                            } =>
                    {
                        out.push(LegalBasis {
                            text: text.clone(),
                            link: match link {
                                Some(Node::String(l)) => Some(l.clone()),
                                _ => None,
                            },
                        })
                    }
                    _ => bad(sink, item.span().start),
                }
            }
            _ => bad(sink, item.span().start),
        }
    }
    out
}

/// Reads and parses a condition; a syntax error is reported in place.
pub fn read_condition(t: &mut Table, key: &str, sink: &mut Sink) -> Option<Condition> {
    let s = t.string(key, sink)?;
    let at = string_content_start(sink.source, s.span().start);
    let expr = match expr::parse(s.get_ref()) {
        Ok(e) => Some(e),
        Err(e) => {
            let d = sink
                .error(
                    "expr.syntax",
                    at + e.offset,
                    format!("{key} of {}: {}", t.what, e.cause.english),
                )
                .set_arg("key", key)
                .set_subject(&t.what)
                .set_cause(e.cause);
            if let Some(sugg) = e.suggestion {
                d.suggest(*sugg);
            }
            None
        }
    };
    Some(Condition {
        source: s.into_inner(),
        expr,
        at,
    })
}

const FIELD_KEYS: [&str; 24] = [
    "id",
    "type",
    "label",
    "label-en",
    "help",
    "help-en",
    "text",
    "text-en",
    "required",
    "shown-when",
    "required-when",
    "min-length",
    "max-length",
    "pattern",
    "min",
    "max",
    "media-types",
    "max-size",
    "codelist",
    "examples",
    "fixed",
    "placeholder",
    "placeholder-en",
    "default",
];

const GROUP_KEYS: [&str; 11] = [
    "id",
    "label",
    "label-en",
    "help",
    "help-en",
    "occurs",
    "include",
    "shown-when",
    "field",
    "group",
    "required",
];

/// Reads the `field` and `group` arrays of a table, in file order, and
/// checks what can be checked of each item on its own.
pub fn read_items(t: &mut Table, scope: &str, sink: &mut Sink) -> Vec<Item> {
    let mut items: Vec<(usize, Item)> = Vec::new();
    for node in t.tables("field", sink) {
        if let Some(f) = read_field(node, scope, sink) {
            items.push((f.at, Item::Field(f)));
        }
    }
    for node in t.tables("group", sink) {
        if let Some(g) = read_group(node, scope, sink) {
            items.push((g.at, Item::Group(g)));
        }
    }
    items.sort_by_key(|(at, _)| *at);
    let mut seen = Seen::new();
    let mut out = Vec::with_capacity(items.len());
    for (_, item) in items {
        if let Some(first) = seen.insert(item.id().to_string(), item.at()) {
            let (line, _) = super::diagnostics::line_column(sink.source, first);
            sink.error(
                "model.duplicate_id",
                item.at(),
                format!(
                    "id \"{}\" is used twice in {} (first on line {line})",
                    item.id(),
                    if scope.is_empty() {
                        "the top level".to_string()
                    } else {
                        format!("group \"{scope}\"")
                    }
                ),
            )
            .set_arg(
                "variant",
                if scope.is_empty() {
                    "top_level"
                } else {
                    "group"
                },
            )
            .set_arg("name", item.id())
            .set_arg("group", scope)
            .set_arg("line", line);
            continue;
        }
        out.push(item);
    }
    out
}

fn join(scope: &str, id: &str) -> String {
    if scope.is_empty() {
        id.to_string()
    } else {
        format!("{scope}.{id}")
    }
}

fn read_id(t: &mut Table, kind: SubjectKind, sink: &mut Sink) -> Option<Spanned<String>> {
    let id = t.required_string("id", sink)?;
    check_id(id.get_ref(), id.span().start, kind, sink).then_some(id)
}

fn read_group(node: &Spanned<Node>, scope: &str, sink: &mut Sink) -> Option<Group> {
    let mut t = Table::new(node, Subject::unnamed(SubjectKind::Group))?;
    let id = read_id(&mut t, SubjectKind::Group, sink);
    let path = join(
        scope,
        id.as_ref().map(|s| s.get_ref().as_str()).unwrap_or("?"),
    );
    t.what = Subject::new(SubjectKind::Group, &path);
    let label = read_text(&mut t, "label", sink);
    let help = read_text(&mut t, "help", sink);
    let occurs = match t.string("occurs", sink) {
        None => Occurs::ONCE,
        Some(s) => match Occurs::parse(s.get_ref()) {
            Ok(o) => o,
            Err(e) => {
                sink.error("model.invalid_occurs", s.span().start, e.english.clone()).set_cause(e)
                    .suggest(Hint::new("fim-occurs", "FIM occurrences: \"0:1\" optional, \"1:1\" once, \"1:*\" at least once, \"2:5\" two to five times"));
                Occurs::ONCE
            }
        },
    };
    if let Some(r) = t.bool("required", sink) {
        sink.error(
            "model.required_on_group",
            r.span().start,
            format!(
                "groups are not \"required\"; {} says how often it occurs with \"occurs\"",
                t.what
            ),
        )
        .set_subject(&t.what)
        .suggest(Hint::snippet(if *r.get_ref() {
            "occurs = \"1:1\""
        } else {
            "occurs = \"0:1\""
        }));
    }
    let include = t.string("include", sink);
    let shown_when = read_condition(&mut t, "shown-when", sink);
    let legal_basis = read_legal_basis(&mut t, sink);
    let fim = read_fim(&mut t, 'G', sink);
    let items = read_items(&mut t, &path, sink);
    if let Some(inc) = &include {
        if let Err(e) = super::names::split_full_name(inc.get_ref()) {
            sink.error(
                "model.invalid_include",
                inc.span().start,
                format!("include {e}"),
            )
            .set_cause(e);
        }
        if !items.is_empty() {
            sink.error(
                "model.include_with_fields",
                inc.span().start,
                format!(
                    "{} includes \"{}\" and also has fields of its own",
                    t.what,
                    inc.get_ref()
                ),
            )
            .set_subject(&t.what)
            .set_arg("package", inc.get_ref())
            .suggest(Hint::new(
                "group-beside-include",
                "put the extra fields into a group of their own beside the included one",
            ));
        }
    } else if items.is_empty() {
        sink.error(
            "model.empty_group",
            t.at,
            format!("{} has no fields", t.what),
        )
        .set_subject(&t.what)
        .suggest(Hint::new(
            "add-group-fields",
            "add [[group.field]] tables or include a field group with include = \"ns/name\"",
        ));
    }
    if label.is_none() && include.is_none() {
        sink.error(
            "model.missing_label",
            t.at,
            format!("{} has no label", t.what),
        )
        .set_subject(&t.what);
    }
    finish_described(t, &GROUP_KEYS, sink);
    Some(Group {
        id: id?.into_inner(),
        at: node.span().start,
        label,
        help,
        occurs,
        include,
        shown_when,
        legal_basis,
        fim,
        items,
    })
}

fn read_field(node: &Spanned<Node>, scope: &str, sink: &mut Sink) -> Option<Field> {
    let mut t = Table::new(node, Subject::unnamed(SubjectKind::Field))?;
    let id = read_id(&mut t, SubjectKind::Field, sink);
    let path = join(
        scope,
        id.as_ref().map(|s| s.get_ref().as_str()).unwrap_or("?"),
    );
    t.what = Subject::new(SubjectKind::Field, &path);
    let ty = read_field_type(&mut t, sink);
    let label = read_text(&mut t, "label", sink);
    let help = read_text(&mut t, "help", sink);
    let text = read_text(&mut t, "text", sink);
    let _placeholder = read_text(&mut t, "placeholder", sink);
    let required = t.bool("required", sink);
    let shown_when = read_condition(&mut t, "shown-when", sink);
    let required_when = read_condition(&mut t, "required-when", sink);
    let legal_basis = read_legal_basis(&mut t, sink);
    let fim = read_fim(&mut t, 'F', sink);
    let codelist = t.string("codelist", sink);
    let examples = t.strings("examples", sink).unwrap_or_default();
    let fixed = t.string("fixed", sink);
    if let Some(d) = t.take("default") {
        sink.warning(
            "model.default_ignored",
            d.span().start,
            "default values are not supported yet and are ignored",
        );
    }
    let raw = RawConstraints::take(&mut t, sink);
    finish_described(t, &FIELD_KEYS, sink);
    let check = FieldCheck {
        path: &path,
        ty: ty?,
        at: node.span().start,
    };
    let constraints = check.constraints(raw, sink);
    check.what_the_type_needs(&label, &text, &required, &codelist, sink);
    check.required_when(&required, &required_when, sink);
    check.examples(&examples, &constraints, sink);
    check.fixed(&fixed, &constraints, sink);

    Some(Field {
        id: id?.into_inner(),
        at: check.at,
        ty: check.ty,
        label,
        help,
        text,
        required: required.is_some_and(|r| r.into_inner()),
        shown_when,
        required_when,
        constraints,
        codelist,
        examples: examples.into_iter().map(Spanned::into_inner).collect(),
        fixed: fixed.map(Spanned::into_inner),
        legal_basis,
        fim,
    })
}

fn read_field_type(t: &mut Table, sink: &mut Sink) -> Option<FieldType> {
    let s = t.required_string("type", sink)?;
    if let Some((_, ty)) = FieldType::ALL.iter().find(|(n, _)| *n == s.get_ref()) {
        return Some(*ty);
    }
    let names: Vec<&str> = FieldType::ALL.iter().map(|(n, _)| *n).collect();
    let d = sink
        .error(
            "model.unknown_type",
            s.span().start,
            format!("field type \"{}\" is not known", s.get_ref()),
        )
        .set_arg("value", s.get_ref());
    match nearest(s.get_ref(), &names) {
        Some(b) => d.suggest(Hint::did_you_mean(b)),
        None => d.suggest(Hint::choices("known-types", "types", &names)),
    }
    None
}

/// A field's constraint keys as written, before it is known which of them
/// apply to the field's type.
struct RawConstraints<'n> {
    /// A length and where it is written.
    min_length: Option<(u64, usize)>,
    max_length: Option<(u64, usize)>,
    pattern: Option<Spanned<String>>,
    min: Option<&'n Spanned<Node>>,
    max: Option<&'n Spanned<Node>>,
    media_types: Option<Vec<Spanned<String>>>,
    max_size: Option<&'n Spanned<Node>>,
}

impl<'n> RawConstraints<'n> {
    fn take(t: &mut Table<'n>, sink: &mut Sink) -> Self {
        RawConstraints {
            min_length: read_length(t, "min-length", sink),
            max_length: read_length(t, "max-length", sink),
            pattern: t.string("pattern", sink),
            min: t.take("min"),
            max: t.take("max"),
            media_types: t.strings("media-types", sink),
            max_size: t.take("max-size"),
        }
    }
}

fn read_length(t: &mut Table, key: &str, sink: &mut Sink) -> Option<(u64, usize)> {
    let v = t.integer(key, sink)?;
    if *v.get_ref() < 0 {
        sink.error(
            "model.negative_length",
            v.span().start,
            format!("\"{key}\" cannot be negative"),
        )
        .set_arg("key", key);
        return None;
    }
    Some((*v.get_ref() as u64, v.span().start))
}

/// The checks of a field whose type is known.
struct FieldCheck<'p> {
    path: &'p str,
    ty: FieldType,
    /// Where the field starts.
    at: usize,
}

impl FieldCheck<'_> {
    fn not_for(&self, key: &str, at: usize, sink: &mut Sink) {
        sink.error(
            "model.constraint_not_applicable",
            at,
            format!(
                "\"{key}\" does not apply to {} of type \"{}\"",
                t_what(self.path),
                self.ty.as_str()
            ),
        )
        .set_arg("variant", "type")
        .set_arg("key", key)
        .set_subject(&t_what(self.path))
        .set_arg("field_type", self.ty.as_str());
    }

    /// Constraints, each only where it applies.
    fn constraints(&self, raw: RawConstraints<'_>, sink: &mut Sink) -> Constraints {
        let mut c = Constraints::default();
        self.lengths(raw.min_length, raw.max_length, &mut c, sink);
        if let Some(p) = raw.pattern {
            self.pattern(p, &mut c, sink);
        }
        self.bounds(raw.min, raw.max, &mut c, sink);
        if let Some(mt) = raw.media_types {
            self.media_types(mt, &mut c, sink);
        }
        if let Some(node) = raw.max_size {
            self.max_size(node, &mut c, sink);
        }
        if self.ty == FieldType::File && c.media_types.is_empty() {
            sink.warning(
                "model.file_without_media_types",
                self.at,
                format!("{} accepts any kind of file", t_what(self.path)),
            )
            .set_subject(&t_what(self.path))
            .suggest(Hint::snippet(
                "media-types = [\"application/pdf\", \"image/jpeg\", \"image/png\"]",
            ));
        }
        c
    }

    fn lengths(
        &self,
        min_length: Option<(u64, usize)>,
        max_length: Option<(u64, usize)>,
        c: &mut Constraints,
        sink: &mut Sink,
    ) {
        let ty = self.ty;
        for (key, v) in [("min-length", min_length), ("max-length", max_length)] {
            if let Some((n, pos)) = v {
                if ty.is_textual() || ty == FieldType::MultiSelect {
                    if key == "min-length" {
                        c.min_length = Some(n);
                    } else {
                        c.max_length = Some(n);
                    }
                } else {
                    self.not_for(key, pos, sink);
                }
            }
        }
        if let (Some(a), Some(b)) = (c.min_length, c.max_length) {
            if a > b {
                sink.error(
                    "model.min_greater_than_max",
                    self.at,
                    format!(
                        "{}: min-length {a} is greater than max-length {b}",
                        t_what(self.path)
                    ),
                )
                .set_arg("variant", "length")
                .set_subject(&t_what(self.path))
                .set_arg("min", a)
                .set_arg("max", b);
            }
        }
    }

    fn pattern(&self, p: Spanned<String>, c: &mut Constraints, sink: &mut Sink) {
        if !self.ty.is_textual() && !matches!(self.ty, FieldType::PostalCode) {
            self.not_for("pattern", p.span().start, sink);
            return;
        }
        let pos = string_content_start(sink.source, p.span().start);
        if let Err(e) = regex_syntax::ParserBuilder::new()
            .build()
            .parse(p.get_ref())
        {
            let offset = match &e {
                regex_syntax::Error::Parse(pe) => pe.span().start.offset,
                regex_syntax::Error::Translate(te) => te.span().start.offset,
                _ => 0,
            };
            let msg = match &e {
                regex_syntax::Error::Parse(pe) => pe.kind().to_string(),
                regex_syntax::Error::Translate(te) => te.kind().to_string(),
                other => other.to_string(),
            };
            sink.error(
                "model.invalid_pattern",
                pos + offset,
                format!("the pattern of {} is not a valid regular expression: {msg}", t_what(self.path)),
            ).set_subject(&t_what(self.path)).set_arg("detail", &msg)
            .suggest(Hint::new("regex-syntax", "patterns use Rust regex syntax (no look-around, no backreferences); see docs/package-format.md"));
        } else {
            c.pattern = Some(p.into_inner());
        }
    }

    fn bounds(
        &self,
        min: Option<&Spanned<Node>>,
        max: Option<&Spanned<Node>>,
        c: &mut Constraints,
        sink: &mut Sink,
    ) {
        for (key, node) in [("min", min), ("max", max)] {
            let Some(node) = node else { continue };
            let bound = read_bound(node, self.ty, key, self.path, sink);
            if key == "min" {
                c.min = bound;
            } else {
                c.max = bound;
            }
        }
        if let (Some(a), Some(b)) = (&c.min, &c.max) {
            if a.partial_cmp(b) == Some(std::cmp::Ordering::Greater) {
                sink.error(
                    "model.min_greater_than_max",
                    self.at,
                    format!("{}: min {a} is greater than max {b}", t_what(self.path)),
                )
                .set_arg("variant", "value")
                .set_subject(&t_what(self.path))
                .set_arg("min", a)
                .set_arg("max", b);
            }
        }
    }

    fn media_types(&self, mt: Vec<Spanned<String>>, c: &mut Constraints, sink: &mut Sink) {
        if self.ty != FieldType::File {
            if let Some(first) = mt.first() {
                self.not_for("media-types", first.span().start, sink);
            }
            return;
        }
        for m in mt {
            let s = m.get_ref();
            let ok = s.split_once('/').is_some_and(|(a, b)| {
                let tok = |x: &str| {
                    !x.is_empty()
                        && x.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
                };
                tok(a) && (tok(b) || b == "*")
            });
            if !ok {
                sink.error(
                    "model.invalid_media_type",
                    m.span().start,
                    format!("\"{s}\" is not a media type"),
                )
                .set_arg("value", s)
                .suggest(Hint::new(
                    "media-type-examples",
                    "for example \"application/pdf\", \"image/jpeg\" or \"image/*\"",
                ));
            } else {
                c.media_types.push(s.to_ascii_lowercase());
            }
        }
    }

    fn max_size(&self, node: &Spanned<Node>, c: &mut Constraints, sink: &mut Sink) {
        if self.ty != FieldType::File {
            self.not_for("max-size", node.span().start, sink);
            return;
        }
        let parsed = match node.get_ref() {
            Node::Integer(n) if *n > 0 => Ok(*n as u64),
            Node::String(s) => parse_size(s),
            _ => Err(Cause::new(
                "size-type",
                "max-size must be a size like \"10 MB\" or a number of bytes",
            )),
        };
        match parsed {
            Ok(n) => c.max_size = Some(n),
            Err(e) => {
                sink.error("model.invalid_size", node.span().start, e.english.clone())
                    .set_cause(e)
                    .suggest(Hint::new(
                        "max-size-example",
                        "for example max-size = \"10 MB\"",
                    ));
            }
        }
    }

    /// Static text has a text and nothing to fill in; an input has a label,
    /// and a select its code list.
    fn what_the_type_needs(
        &self,
        label: &Option<Text>,
        text: &Option<Text>,
        required: &Option<Spanned<bool>>,
        codelist: &Option<Spanned<String>>,
        sink: &mut Sink,
    ) {
        let (ty, at, what) = (self.ty, self.at, t_what(self.path));
        if ty == FieldType::StaticText {
            if text.is_none() {
                sink.error(
                    "model.static_without_text",
                    at,
                    format!("{what} is static text but has no \"text\""),
                )
                .set_subject(&what);
            }
            if let Some(r) = required {
                sink.error(
                    "model.constraint_not_applicable",
                    r.span().start,
                    "static text cannot be required",
                )
                .set_arg("variant", "static_required");
            }
        } else {
            if label.is_none() {
                sink.error("model.missing_label", at, format!("{what} has no label"))
                    .set_subject(&what)
                    .suggest(Hint::new(
                        "label-in-german",
                        "label = \"…\" in German (label-en for English)",
                    ));
            }
            if text.is_some() {
                sink.error(
                    "model.constraint_not_applicable",
                    at,
                    format!("\"text\" is for static-text fields; {what} is an input"),
                )
                .set_arg("variant", "text_on_input")
                .set_subject(&what)
                .suggest(Hint::new(
                    "use-help",
                    "use \"help\" for explanations next to an input",
                ));
            }
        }
        let is_select = matches!(ty, FieldType::Select | FieldType::MultiSelect);
        match (codelist, is_select) {
            (None, true) => {
                sink.error(
                    "model.missing_codelist",
                    at,
                    format!("{what} is a {} but names no codelist", ty.as_str()),
                )
                .set_subject(&what)
                .set_arg("field_type", ty.as_str());
            }
            (Some(cl), false) => self.not_for("codelist", cl.span().start, sink),
            _ => {}
        }
    }

    fn required_when(
        &self,
        required: &Option<Spanned<bool>>,
        required_when: &Option<Condition>,
        sink: &mut Sink,
    ) {
        if required.as_ref().is_some_and(|r| *r.get_ref()) {
            if let Some(rw) = required_when {
                sink.error(
                    "model.required_and_required_when",
                    rw.at,
                    format!(
                        "{} is always required, so its required-when has no effect",
                        t_what(self.path)
                    ),
                )
                .set_subject(&t_what(self.path))
                .suggest(Hint::new(
                    "remove-required",
                    "remove required = true or the required-when condition",
                ));
            }
        }
    }

    /// Examples must satisfy the field's own constraints: the semver check
    /// relies on them to show that a changed pattern still accepts them.
    /// A fixed value is a value of the field's type within its limits.
    fn fixed(&self, fixed: &Option<Spanned<String>>, c: &Constraints, sink: &mut Sink) {
        let Some(v) = fixed else { return };
        let value = v.get_ref().as_str();
        match fixed_fits(self.ty, c, value) {
            None => {
                sink.error(
                    "model.constraint_not_applicable",
                    v.span().start,
                    format!("{} cannot have a fixed value", t_what(self.path)),
                )
                .set_arg("variant", "fixed")
                .set_subject(&t_what(self.path));
            }
            Some(false) => {
                sink.error(
                    "model.invalid_fixed",
                    v.span().start,
                    format!(
                        "the fixed value \"{value}\" is not a valid value of {}",
                        t_what(self.path)
                    ),
                )
                .set_arg("value", value)
                .set_subject(&t_what(self.path));
            }
            Some(true) => {}
        }
    }

    fn examples(&self, examples: &[Spanned<String>], c: &Constraints, sink: &mut Sink) {
        if !examples.is_empty() && !self.ty.is_input() {
            sink.error(
                "model.constraint_not_applicable",
                examples[0].span().start,
                "static text has no examples",
            )
            .set_arg("variant", "static_examples");
        }
        if let Some(p) = &c.pattern {
            if !examples.is_empty() {
                let failing: Vec<&Spanned<String>> = match sink.pattern(p) {
                    Some(re) => examples
                        .iter()
                        .filter(|ex| !re.is_match(ex.get_ref()))
                        .collect(),
                    None => Vec::new(),
                };
                for ex in failing {
                    sink.error(
                        "model.example_does_not_match",
                        ex.span().start,
                        format!(
                            "example \"{}\" does not match the pattern of {}",
                            ex.get_ref(),
                            t_what(self.path)
                        ),
                    )
                    .set_arg("variant", "pattern")
                    .set_arg("example", ex.get_ref())
                    .set_subject(&t_what(self.path));
                }
            }
        }
        for ex in examples {
            let n = ex.get_ref().chars().count() as u64;
            if c.max_length.is_some_and(|m| n > m) || c.min_length.is_some_and(|m| n < m) {
                sink.error(
                    "model.example_does_not_match",
                    ex.span().start,
                    format!(
                        "example \"{}\" has a length outside min-length/max-length",
                        ex.get_ref()
                    ),
                )
                .set_arg("variant", "length")
                .set_arg("example", ex.get_ref());
            }
        }
    }
}

fn t_what(path: &str) -> Subject {
    Subject::new(SubjectKind::Field, path)
}

/// `"10 MB"`, `"500 kB"`, `"2 MiB"`, `"1048576"`.
pub fn parse_size(s: &str) -> Result<u64, Cause> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| {
        Cause::new("size-form", format!("\"{s}\" is not a size like \"10 MB\"")).arg("value", s)
    })?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        u => {
            return Err(Cause::new(
                "size-unit",
                format!("\"{u}\" is not a size unit (B, kB, MB, GB, KiB, MiB, GiB)"),
            )
            .arg("unit", u))
        }
    };
    let bytes = n * factor;
    if bytes < 1.0 {
        return Err(
            Cause::new("size-small", format!("\"{s}\" is smaller than one byte")).arg("value", s),
        );
    }
    Ok(bytes as u64)
}

/// Whether `value` can be the fixed value of a field of type `ty` with
/// the constraints `c`; `None` when the type takes no fixed value (static
/// text, files, multi-selects). Codes of a select are checked where the
/// code lists are known.
pub fn fixed_fits(ty: FieldType, c: &Constraints, value: &str) -> Option<bool> {
    Some(match ty {
        FieldType::StaticText | FieldType::File | FieldType::MultiSelect => return None,
        FieldType::Integer => value.parse::<i64>().is_ok(),
        FieldType::Decimal | FieldType::Money => {
            value.parse::<f64>().is_ok_and(f64::is_finite) && !value.contains(['e', 'E'])
        }
        FieldType::Boolean => matches!(value, "true" | "false"),
        FieldType::Date => is_date(value),
        _ => {
            let n = value.chars().count() as u64;
            let length = c.max_length.is_none_or(|m| n <= m) && c.min_length.is_none_or(|m| n >= m);
            let pattern = c.pattern.as_ref().is_none_or(|p| {
                regex::Regex::new(&format!("^(?:{p})$")).is_ok_and(|re| re.is_match(value))
            });
            length && pattern
        }
    })
}

/// `YYYY-MM-DD` with a month and day in range.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&s[5..7].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&s[8..10].parse::<u32>().unwrap_or(0))
}

fn read_bound(
    node: &Spanned<Node>,
    ty: FieldType,
    key: &str,
    path: &str,
    sink: &mut Sink,
) -> Option<Bound> {
    let at = node.span().start;
    let na = |sink: &mut Sink| {
        sink.error(
            "model.constraint_not_applicable",
            at,
            format!(
                "\"{key}\" does not apply to field \"{path}\" of type \"{}\"",
                ty.as_str()
            ),
        )
        .set_arg("variant", "bound")
        .set_arg("key", key)
        .set_arg("path", path)
        .set_arg("field_type", ty.as_str());
        None
    };
    match (ty, node.get_ref()) {
        (FieldType::Integer, Node::Integer(n)) => Some(Bound::Number(*n as f64)),
        (FieldType::Integer, _) => {
            sink.error(
                "model.invalid_bound",
                at,
                format!("\"{key}\" of integer field \"{path}\" must be an integer"),
            )
            .set_arg("variant", "integer")
            .set_arg("key", key)
            .set_arg("path", path);
            None
        }
        (FieldType::Decimal | FieldType::Money, Node::Integer(n)) => Some(Bound::Number(*n as f64)),
        (FieldType::Decimal | FieldType::Money, Node::Float(n)) => Some(Bound::Number(*n)),
        (FieldType::Decimal | FieldType::Money, _) => {
            sink.error(
                "model.invalid_bound",
                at,
                format!("\"{key}\" of field \"{path}\" must be a number"),
            )
            .set_arg("variant", "number")
            .set_arg("key", key)
            .set_arg("path", path);
            None
        }
        (FieldType::Date | FieldType::DateTime, Node::String(s)) => {
            if is_date(s) {
                return Some(Bound::Date(s.clone()));
            }
            if let Some(rest) = s.strip_prefix("today") {
                if rest.is_empty() {
                    return Some(Bound::Today {
                        offset: String::new(),
                        days: 0.0,
                    });
                }
                let (sign, dur) = rest.split_at(1);
                if sign == "+" || sign == "-" {
                    if let Ok(d) = Duration::parse(dur) {
                        let days = d.approx_days() * if sign == "-" { -1.0 } else { 1.0 };
                        return Some(Bound::Today {
                            offset: rest.to_string(),
                            days,
                        });
                    }
                }
            }
            sink.error(
                "model.invalid_bound",
                at,
                format!("\"{key}\" of date field \"{path}\" is \"{s}\", neither a date nor relative to today"),
            ).set_arg("variant", "date").set_arg("key", key).set_arg("path", path).set_arg("value", s)
            .suggest(Hint::new("date-bounds", "write \"2025-01-31\", \"today\", \"today+P1Y\" or \"today-P18Y\""));
            None
        }
        (FieldType::Time, Node::String(s)) if s.len() == 5 && s.as_bytes()[2] == b':' => {
            Some(Bound::Time(s.clone()))
        }
        (FieldType::Date | FieldType::DateTime | FieldType::Time, _) => {
            sink.error(
                "model.invalid_bound",
                at,
                format!("\"{key}\" of field \"{path}\" must be a date in quotes (\"2025-01-31\", \"today-P18Y\") or a time (\"08:30\")"),
            ).set_arg("variant", "date_or_time").set_arg("key", key).set_arg("path", path);
            None
        }
        _ => na(sink),
    }
}

/// Walks every item, depth first, with the item's full path.
pub fn walk<'a>(items: &'a [Item], scope: &str, f: &mut dyn FnMut(&str, &'a Item)) {
    for item in items {
        let path = join(scope, item.id());
        f(&path, item);
        if let Item::Group(g) = item {
            walk(&g.items, &path, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occurrences() {
        assert_eq!(Occurs::parse("1:*").unwrap(), Occurs { min: 1, max: None });
        assert_eq!(Occurs::parse("2:5").unwrap().to_string(), "2:5");
        assert!(Occurs::parse("3:2").is_err());
        assert!(Occurs::parse("0:0").is_err());
        assert!(Occurs::parse("x").is_err());
        assert!(Occurs::parse("1:*").unwrap().is_repeatable());
        assert!(!Occurs::parse("0:1").unwrap().is_repeatable());
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("P14D").unwrap().days, 14);
        let d = Duration::parse("P1Y2M3DT4H5M6S").unwrap();
        assert_eq!(
            (d.years, d.months, d.days, d.hours, d.minutes, d.seconds),
            (1, 2, 3, 4, 5, 6)
        );
        assert_eq!(Duration::parse("PT48H").unwrap().hours, 48);
        for bad in ["14D", "P", "PT", "P1H", "P1.5D", "P1DT", "PD"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
        assert!(
            Duration::parse("P1M").unwrap().approx_days()
                > Duration::parse("P4W").unwrap().approx_days()
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10 MB").unwrap(), 10_000_000);
        assert_eq!(parse_size("2MiB").unwrap(), 2 * 1024 * 1024);
        assert!(parse_size("zehn MB").is_err());
        assert!(parse_size("10 XB").is_err());
    }
}
