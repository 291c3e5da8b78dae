//! The one evaluator of the condition language and of a field's rules.
//!
//! A parsed condition ([`Expr`]) is compiled into a [`Cond`]: every name is
//! resolved to a concrete input name with its kind ([`Slot`]), so that
//! evaluating needs no scopes and no form. A field's rules (required,
//! required-when, pattern, lengths, bounds, code list, and the conditions
//! that show it) become a [`FieldRule`] with its German messages. Both are
//! plain data: the server evaluates them here, and the web page receives
//! the very same trees as JSON, which its script only reads. The script
//! follows the rules written down in this file; a test runs both on one
//! generated set of inputs and requires equal results.
//!
//! Values come from a form as text (what a browser sends) and are read by
//! [`read`] with the same strict rules on both sides: a number is
//! `-?digits[(.|,)digits]`, a date `YYYY-MM-DD` that exists, a time
//! `HH:MM[:SS]`; anything else is no value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::expr::{CmpOp, Expr, Func, Literal};

/// What an input name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Slot {
    Bool,
    Number,
    Text,
    /// Several choices (a multi-select).
    Multi,
    /// A group: its value is the number of entries.
    Group,
}

/// A value while evaluating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Val {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl From<CmpOp> for Op {
    fn from(op: CmpOp) -> Op {
        match op {
            CmpOp::Eq => Op::Eq,
            CmpOp::Ne => Op::Ne,
            CmpOp::Lt => Op::Lt,
            CmpOp::Le => Op::Le,
            CmpOp::Gt => Op::Gt,
            CmpOp::Ge => Op::Ge,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    IsSet,
    Count,
    YearsSince,
    Today,
}

/// A compiled condition: names resolved to input names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Cond {
    Lit {
        v: Val,
    },
    Input {
        name: String,
        slot: Slot,
    },
    Not {
        e: Box<Cond>,
    },
    And {
        a: Box<Cond>,
        b: Box<Cond>,
    },
    Or {
        a: Box<Cond>,
        b: Box<Cond>,
    },
    Cmp {
        op: Op,
        a: Box<Cond>,
        b: Box<Cond>,
    },
    In {
        e: Box<Cond>,
        list: Vec<Val>,
        neg: bool,
    },
    Call {
        f: Call,
        args: Vec<Cond>,
    },
}

fn literal(l: &Literal) -> Val {
    match l {
        Literal::Bool(b) => Val::Bool(*b),
        Literal::Number(n) => Val::Number(*n),
        Literal::Text(s) => Val::Text(s.clone()),
    }
}

/// Compiles a parsed condition; `resolve` names the input a path stands
/// for (from the condition's group outwards). A name that resolves to
/// nothing (a field of a dependency that could not be loaded) is no value.
pub fn compile(e: &Expr, resolve: &dyn Fn(&str) -> Option<(String, Slot)>) -> Cond {
    let sub = |x: &Expr| Box::new(compile(x, resolve));
    match e {
        Expr::Lit(l, _) => Cond::Lit { v: literal(l) },
        Expr::Path(p, _) => match resolve(p) {
            Some((name, slot)) => Cond::Input { name, slot },
            None => Cond::Lit { v: Val::Null },
        },
        Expr::Not(x, _) => Cond::Not { e: sub(x) },
        Expr::And(a, b) => Cond::And {
            a: sub(a),
            b: sub(b),
        },
        Expr::Or(a, b) => Cond::Or {
            a: sub(a),
            b: sub(b),
        },
        Expr::Cmp(op, a, b, _) => Cond::Cmp {
            op: (*op).into(),
            a: sub(a),
            b: sub(b),
        },
        Expr::In {
            value,
            list,
            negated,
            ..
        } => Cond::In {
            e: sub(value),
            list: list.iter().map(|(l, _)| literal(l)).collect(),
            neg: *negated,
        },
        Expr::Call(func, args, _) => Cond::Call {
            f: match func {
                Func::IsSet => Call::IsSet,
                Func::Count => Call::Count,
                Func::YearsSince => Call::YearsSince,
                Func::Today => Call::Today,
            },
            args: args.iter().map(|a| compile(a, resolve)).collect(),
        },
    }
}

/// Where an evaluation reads the entered values: the raw texts sent for an
/// input name (several for a multi-select), and a group's entry count.
pub trait Values {
    fn raw(&self, name: &str) -> &[String];
    fn entries(&self, group: &str) -> u32;
}

/// Only spaces, tabs and line breaks count as blank (the script uses the
/// same four characters, not its wider `trim`).
pub fn is_blank(s: &str) -> bool {
    s.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

/// A number as a person types it: `-12`, `30,70`, `30.70`.
pub fn parse_number(s: &str) -> Option<f64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.find(['.', ',']) {
        Some(i) => (&digits[..i], Some(&digits[i + 1..])),
        None => (digits, None),
    };
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    s.replace(',', ".").parse().ok()
}

fn digits(s: &str, len: usize) -> Option<u32> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `YYYY-MM-DD` of a day that exists (Gregorian leap years).
pub fn is_date(s: &str) -> bool {
    let mut parts = s.split('-');
    let (Some(y), Some(m), Some(d), None) = (
        parts.next().and_then(|p| digits(p, 4)),
        parts.next().and_then(|p| digits(p, 2)),
        parts.next().and_then(|p| digits(p, 2)),
        parts.next(),
    ) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// `HH:MM` or `HH:MM:SS`.
pub fn is_time(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return false;
    }
    let ok = |p: &str, max: u32| digits(p, 2).is_some_and(|n| n <= max);
    ok(parts[0], 23) && ok(parts[1], 59) && parts.get(2).is_none_or(|p| ok(p, 59))
}

/// What a condition sees of an input.
pub fn read(slot: Slot, raws: &[String]) -> Val {
    let first = raws.iter().find(|s| !is_blank(s));
    match slot {
        Slot::Bool => Val::Bool(first.is_some()),
        Slot::Multi => Val::List(raws.iter().filter(|s| !is_blank(s)).cloned().collect()),
        Slot::Number => first
            .and_then(|s| parse_number(s))
            .map_or(Val::Null, Val::Number),
        Slot::Text => first.map_or(Val::Null, |s| Val::Text(s.clone())),
        // A group's value comes from its entry count, not from raw texts.
        Slot::Group => Val::Null,
    }
}

pub fn truthy(v: &Val) -> bool {
    match v {
        Val::Null => false,
        Val::Bool(b) => *b,
        Val::Number(n) => *n != 0.0,
        Val::Text(s) => !s.is_empty(),
        Val::List(l) => !l.is_empty(),
    }
}

fn is_set(v: &Val) -> bool {
    match v {
        Val::Null => false,
        Val::Bool(b) => *b,
        Val::Number(_) => true,
        Val::Text(s) => !s.is_empty(),
        Val::List(l) => !l.is_empty(),
    }
}

fn equal(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Number(x), Val::Text(s)) | (Val::Text(s), Val::Number(x)) => {
            parse_number(s) == Some(*x)
        }
        _ => a == b,
    }
}

/// Numbers by value, texts by Unicode code points (ISO dates and times
/// order correctly as text).
fn order(a: &Val, b: &Val) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Val::Number(x), Val::Number(y)) => x.partial_cmp(y),
        (Val::Text(x), Val::Text(y)) => Some(x.chars().cmp(y.chars())),
        _ => None,
    }
}

/// Whole years from a date (the first ten characters) to `today`.
fn years_since(date: &str, today: &str) -> Option<f64> {
    let d = date.get(..10).filter(|d| is_date(d))?;
    let t = today.get(..10).filter(|t| is_date(t))?;
    let num = |s: &str, r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap_or(0);
    let mut years = num(t, 0..4) - num(d, 0..4);
    if (num(t, 5..7), num(t, 8..10)) < (num(d, 5..7), num(d, 8..10)) {
        years -= 1;
    }
    Some(years as f64)
}

/// Evaluates a compiled condition; `today` is an ISO date.
pub fn eval(c: &Cond, values: &dyn Values, today: &str) -> Val {
    let sub = |x: &Cond| eval(x, values, today);
    match c {
        Cond::Lit { v } => v.clone(),
        Cond::Input {
            name,
            slot: Slot::Group,
        } => Val::Number(f64::from(values.entries(name))),
        Cond::Input { name, slot } => read(*slot, values.raw(name)),
        Cond::Not { e } => Val::Bool(!truthy(&sub(e))),
        Cond::And { a, b } => Val::Bool(truthy(&sub(a)) && truthy(&sub(b))),
        Cond::Or { a, b } => Val::Bool(truthy(&sub(a)) || truthy(&sub(b))),
        Cond::Cmp { op, a, b } => {
            let (a, b) = (sub(a), sub(b));
            use std::cmp::Ordering::*;
            let o = order(&a, &b);
            Val::Bool(match op {
                Op::Eq => equal(&a, &b),
                Op::Ne => !equal(&a, &b),
                Op::Lt => o == Some(Less),
                Op::Le => matches!(o, Some(Less | Equal)),
                Op::Gt => o == Some(Greater),
                Op::Ge => matches!(o, Some(Greater | Equal)),
            })
        }
        Cond::In { e, list, neg } => {
            let found = match sub(e) {
                Val::List(chosen) => chosen
                    .iter()
                    .any(|c| list.iter().any(|l| equal(&Val::Text(c.clone()), l))),
                Val::Null => false,
                v => list.iter().any(|l| equal(&v, l)),
            };
            Val::Bool(found != *neg)
        }
        Cond::Call { f, args } => {
            let first = args.first().map(sub).unwrap_or(Val::Null);
            match f {
                Call::IsSet => Val::Bool(is_set(&first)),
                Call::Count => match first {
                    Val::List(l) => Val::Number(l.len() as f64),
                    Val::Number(n) => Val::Number(n),
                    Val::Null => Val::Number(0.0),
                    _ => Val::Number(1.0),
                },
                Call::YearsSince => match &first {
                    Val::Text(d) => years_since(d, today).map_or(Val::Null, Val::Number),
                    _ => Val::Null,
                },
                Call::Today => Val::Text(today.to_string()),
            }
        }
    }
}

/// How a field's value is read and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Text,
    Number,
    Integer,
    Date,
    Time,
    DateTime,
    Email,
    Phone,
    Iban,
    Postal,
    Bool,
    Choice,
    Multi,
    File,
}

/// Everything the registry knows about one input of a form, compiled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldRule {
    pub name: String,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_when: Option<Cond>,
    /// The field's own `shown-when` and those of its enclosing groups: the
    /// field is checked only when all hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shown_when: Vec<Cond>,
    /// The pattern in the registry's dialect (Rust `regex`, whole value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// The same pattern for a browser's `RegExp` with the `u` flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_js: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// A number, or an ISO date or time as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Val>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Val>,
    /// The codes of an inline code list; `None` when they are not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codes: Option<Vec<String>>,
    /// The German message for each way the value can be wrong.
    pub messages: BTreeMap<Problem, String>,
}

/// Why a value is refused; the key of a [`FieldRule`]'s messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    Required,
    Number,
    Integer,
    Date,
    Time,
    DateTime,
    Email,
    Phone,
    Iban,
    Postal,
    Code,
    TooShort,
    TooLong,
    Pattern,
    TooSmall,
    TooLarge,
}

impl FieldRule {
    /// A rule with no checks yet; [`FieldRule::finish`] writes the messages.
    pub fn new(name: &str, kind: Kind) -> FieldRule {
        FieldRule {
            name: name.to_string(),
            kind,
            required: false,
            required_when: None,
            shown_when: Vec::new(),
            pattern: None,
            pattern_js: None,
            min_length: None,
            max_length: None,
            min: None,
            max: None,
            codes: None,
            messages: BTreeMap::new(),
        }
    }

    /// Writes the German message of every problem this rule can report.
    pub fn finish(mut self, label: &str) -> FieldRule {
        // A label that is a sentence ("Ich bin Halterin.") loses its full
        // stop inside the quotes, where the message has its own.
        let l = format!("„{}“", label.trim_end_matches(['.', ':', ' ']));
        let shown = |v: &Val| match v {
            Val::Number(n) => german_number(*n),
            Val::Text(t) if is_date(t) => german_date(t),
            Val::Text(t) => t.clone(),
            _ => String::new(),
        };
        let mut m = BTreeMap::new();
        m.insert(
            Problem::Required,
            match self.kind {
                Kind::Bool => format!("Bitte bestätigen Sie {l}."),
                Kind::Choice | Kind::Multi => format!("Bitte wählen Sie bei {l} etwas aus."),
                _ => format!("Bitte füllen Sie {l} aus."),
            },
        );
        let format_problem = match self.kind {
            Kind::Number => Some((Problem::Number, "eine Zahl, zum Beispiel 12 oder 30,70")),
            Kind::Integer => Some((Problem::Number, "eine ganze Zahl, zum Beispiel 12")),
            Kind::Date => Some((Problem::Date, "ein Datum, zum Beispiel 2025-01-31")),
            Kind::Time => Some((Problem::Time, "eine Uhrzeit, zum Beispiel 08:30")),
            Kind::DateTime => Some((
                Problem::DateTime,
                "Datum und Uhrzeit, zum Beispiel 2025-01-31T08:30",
            )),
            Kind::Email => Some((
                Problem::Email,
                "eine E-Mail-Adresse, zum Beispiel name@example.de",
            )),
            Kind::Phone => Some((
                Problem::Phone,
                "eine Telefonnummer aus Ziffern, Leerzeichen und + ( ) / -",
            )),
            Kind::Iban => Some((
                Problem::Iban,
                "eine gültige IBAN, zum Beispiel DE02 1203 0000 0000 2020 51",
            )),
            Kind::Postal => Some((Problem::Postal, "eine Postleitzahl aus fünf Ziffern")),
            _ => None,
        };
        if let Some((p, what)) = format_problem {
            m.insert(p, format!("Bitte geben Sie bei {l} {what} ein."));
        }
        if self.kind == Kind::Integer {
            m.insert(
                Problem::Integer,
                format!("Bitte geben Sie bei {l} eine ganze Zahl ein."),
            );
        }
        if self.codes.is_some() {
            m.insert(
                Problem::Code,
                format!("Bitte wählen Sie bei {l} einen Eintrag aus der Liste."),
            );
        }
        let chars = |n: u64| {
            if n == 1 {
                "1 Zeichen".to_string()
            } else {
                format!("{n} Zeichen")
            }
        };
        if let Some(n) = self.min_length {
            m.insert(
                Problem::TooShort,
                format!("{l} muss mindestens {} lang sein.", chars(n)),
            );
        }
        if let Some(n) = self.max_length {
            m.insert(
                Problem::TooLong,
                format!("{l} darf höchstens {} lang sein.", chars(n)),
            );
        }
        if self.pattern.is_some() {
            m.insert(
                Problem::Pattern,
                format!("{l} hat nicht die erwartete Form."),
            );
        }
        let temporal = matches!(self.kind, Kind::Date | Kind::Time | Kind::DateTime);
        if let Some(v) = &self.min {
            m.insert(
                Problem::TooSmall,
                if temporal {
                    format!("{l} darf nicht vor {} liegen.", shown(v))
                } else {
                    format!("{l} muss mindestens {} sein.", shown(v))
                },
            );
        }
        if let Some(v) = &self.max {
            m.insert(
                Problem::TooLarge,
                if temporal {
                    format!("{l} darf nicht nach {} liegen.", shown(v))
                } else {
                    format!("{l} darf höchstens {} sein.", shown(v))
                },
            );
        }
        self.messages = m;
        self
    }
}

/// `30.7` → `30,7`; `1234` → `1.234`.
pub fn german_number(n: f64) -> String {
    let text = format!("{n}");
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text, None),
    };
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d.to_string()),
        None => ("", int),
    };
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped},{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// `2025-01-31` → `31.01.2025`.
pub fn german_date(iso: &str) -> String {
    format!("{}.{}.{}", &iso[8..10], &iso[5..7], &iso[0..4])
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let plain = |p: &str| !p.is_empty() && !p.chars().any(|c| c == '@' || is_blank(&c.to_string()));
    plain(local)
        && plain(domain)
        && domain
            .split_once('.')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
        && !domain.ends_with('.')
}

fn is_phone(s: &str) -> bool {
    s.chars().filter(|c| c.is_ascii_digit()).count() >= 3
        && s.chars()
            .all(|c| c.is_ascii_digit() || " +()/-".contains(c))
}

/// ISO 13616: 15 to 34 characters without spaces, country letters, check
/// digits, and the remainder 1 modulo 97.
pub fn is_iban(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| *c != ' ').collect();
    let b = compact.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    let mut rest = 0u32;
    for &c in b[4..].iter().chain(&b[..4]) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rest = if v >= 10 {
            (rest * 100 + v) % 97
        } else {
            (rest * 10 + v) % 97
        };
    }
    rest == 1
}

fn is_datetime(s: &str) -> bool {
    s.split_once('T')
        .is_some_and(|(d, t)| is_date(d) && is_time(t))
}

/// Checks one input against its rule: `None` when the value is fine or the
/// field is not shown.
pub fn check_field(rule: &FieldRule, values: &dyn Values, today: &str) -> Option<Problem> {
    if !rule
        .shown_when
        .iter()
        .all(|c| truthy(&eval(c, values, today)))
    {
        return None;
    }
    let raws = values.raw(&rule.name);
    let filled: Vec<&String> = raws.iter().filter(|s| !is_blank(s)).collect();
    if filled.is_empty() {
        let required = rule.required
            || rule
                .required_when
                .as_ref()
                .is_some_and(|c| truthy(&eval(c, values, today)));
        return required.then_some(Problem::Required);
    }
    let value = filled[0].as_str();
    let format_ok = match rule.kind {
        Kind::Number | Kind::Integer => parse_number(value).is_some(),
        Kind::Date => is_date(value),
        Kind::Time => is_time(value),
        Kind::DateTime => is_datetime(value),
        Kind::Email => is_email(value),
        Kind::Phone => is_phone(value),
        Kind::Iban => is_iban(value),
        Kind::Postal => value.len() == 5 && value.bytes().all(|b| b.is_ascii_digit()),
        _ => true,
    };
    if !format_ok {
        return Some(match rule.kind {
            Kind::Integer => Problem::Number,
            Kind::Number => Problem::Number,
            Kind::Date => Problem::Date,
            Kind::Time => Problem::Time,
            Kind::DateTime => Problem::DateTime,
            Kind::Email => Problem::Email,
            Kind::Phone => Problem::Phone,
            Kind::Iban => Problem::Iban,
            _ => Problem::Postal,
        });
    }
    if let Some(codes) = &rule.codes {
        if filled.iter().any(|v| !codes.contains(v)) {
            return Some(Problem::Code);
        }
    }
    let len = value.chars().count() as u64;
    if rule.min_length.is_some_and(|m| len < m) {
        return Some(Problem::TooShort);
    }
    if rule.max_length.is_some_and(|m| len > m) {
        return Some(Problem::TooLong);
    }
    if let Some(p) = &rule.pattern {
        // A pattern that does not compile is refused on publish; a broken
        // archive's pattern checks nothing.
        if let Ok(re) = regex::Regex::new(&format!("^(?:{p})$")) {
            if !re.is_match(value) {
                return Some(Problem::Pattern);
            }
        }
    }
    let v = match rule.kind {
        Kind::Number | Kind::Integer => parse_number(value).map(Val::Number),
        Kind::Date | Kind::Time | Kind::DateTime => Some(Val::Text(value.to_string())),
        _ => None,
    };
    if let Some(v) = v {
        if let Val::Number(n) = v {
            if rule.kind == Kind::Integer && n.fract() != 0.0 {
                return Some(Problem::Integer);
            }
        }
        use std::cmp::Ordering::*;
        if let Some(min) = &rule.min {
            if order(&v, min) == Some(Less) {
                return Some(Problem::TooSmall);
            }
        }
        if let Some(max) = &rule.max {
            if order(&v, max) == Some(Greater) {
                return Some(Problem::TooLarge);
            }
        }
    }
    None
}

/// The registry's pattern for a browser: Rust's `regex` reads `\d`, `\w`
/// and `\s` as Unicode classes, a browser's `RegExp` (even with `u`) as
/// ASCII, so they are spelled out as Unicode properties. `None` for what
/// a browser cannot read the same way (inline flags, `\A`, `\z`, named
/// classes); the server's check still applies to those.
pub fn pattern_for_browser(p: &str) -> Option<String> {
    let mut out = String::new();
    let mut in_class = false;
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let n = chars.next()?;
                let (inner, negated) = match n {
                    'd' => ("\\p{Nd}", false),
                    'D' => ("\\p{Nd}", true),
                    'w' => (
                        "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}",
                        false,
                    ),
                    'W' => ("\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}", true),
                    's' => ("\\p{White_Space}", false),
                    'S' => ("\\p{White_Space}", true),
                    'A' | 'z' | 'b' | 'B' | 'p' | 'P' | 'x' | 'u' => return None,
                    other => {
                        out.push('\\');
                        out.push(other);
                        continue;
                    }
                };
                match (in_class, negated) {
                    (false, false) => out.push_str(&format!("[{inner}]")),
                    (false, true) => out.push_str(&format!("[^{inner}]")),
                    (true, false) => out.push_str(inner),
                    // A negated class inside a class needs set operations.
                    (true, true) => return None,
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push(chars.next()?);
                }
                if chars.peek() == Some(&']') {
                    // `[]…]` is a literal `]` in Rust, an empty class in JS.
                    chars.next();
                    out.push_str("\\]");
                }
                if chars.peek() == Some(&'[') {
                    return None;
                }
            }
            '[' => {
                if chars.peek() == Some(&':') {
                    return None;
                }
                out.push_str("\\[");
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '(' if chars.peek() == Some(&'?') => {
                out.push('(');
                out.push(chars.next()?);
                match chars.peek() {
                    Some(':') | Some('=') | Some('!') => {}
                    _ => return None,
                }
            }
            '.' if !in_class => out.push_str("[^\\n]"),
            // `{`, `}`, `/`, `-` and `|` are literal in the same places in
            // both dialects for the patterns forms use.
            _ => out.push(c),
        }
    }
    Some(out)
}

/// All rules of a form against the same values: each failing input with
/// its problem, in form order.
pub fn check_all<'a>(
    rules: &'a [FieldRule],
    values: &dyn Values,
    today: &str,
) -> Vec<(&'a FieldRule, Problem)> {
    rules
        .iter()
        .filter_map(|r| check_field(r, values, today).map(|p| (r, p)))
        .collect()
}

/// `today` moved by an ISO 8601 duration such as `+P1Y` or `-P18Y`.
pub fn shift_date(today: &str, offset: &str) -> Option<String> {
    use chrono::{Datelike, Months, NaiveDate};
    let date = NaiveDate::parse_from_str(today, "%Y-%m-%d").ok()?;
    if offset.is_empty() {
        return Some(date.to_string());
    }
    let (sign, iso) = match offset.as_bytes()[0] {
        b'+' => (1, &offset[1..]),
        b'-' => (-1, &offset[1..]),
        _ => (1, offset),
    };
    let d = super::model::Duration::parse(iso).ok()?;
    let months = Months::new(d.years * 12 + d.months);
    let days = chrono::Days::new(u64::from(d.weeks) * 7 + u64::from(d.days));
    let moved = if sign > 0 {
        date.checked_add_months(months)?.checked_add_days(days)?
    } else {
        date.checked_sub_months(months)?.checked_sub_days(days)?
    };
    let _ = moved.year();
    Some(moved.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<String, Vec<String>>);
    impl Values for Map {
        fn raw(&self, name: &str) -> &[String] {
            self.0.get(name).map(Vec::as_slice).unwrap_or(&[])
        }
        fn entries(&self, _: &str) -> u32 {
            2
        }
    }
    fn values(pairs: &[(&str, &str)]) -> Map {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            m.entry(k.to_string()).or_default().push(v.to_string());
        }
        Map(m)
    }
    fn cond(src: &str, slots: &[(&str, Slot)]) -> Cond {
        let e = super::super::expr::parse(src).unwrap();
        compile(&e, &|p| {
            slots
                .iter()
                .find(|(n, _)| *n == p)
                .map(|(n, s)| (n.to_string(), *s))
        })
    }

    #[test]
    fn conditions_evaluate_typed_values() {
        let slots = [
            ("halter", Slot::Bool),
            ("alter", Slot::Number),
            ("geburt", Slot::Text),
            ("arten", Slot::Multi),
            ("kinder", Slot::Group),
        ];
        let v = values(&[("alter", "17,5"), ("geburt", "2000-06-15"), ("arten", "b")]);
        let t = |src: &str| truthy(&eval(&cond(src, &slots), &v, "2026-06-14"));
        assert!(t("!halter"));
        assert!(t("alter < 18 && alter > 17"));
        assert!(t("years_since(geburt) == 25"));
        assert!(t("\"b\" in [\"a\", \"b\"]") || t("arten in ['b']"));
        assert!(t("arten in ['b']"));
        assert!(t("count(kinder) == 2"));
        assert!(!t("is_set(unbekannt)"));
        assert!(t("geburt < today()"));
    }

    #[test]
    fn values_are_read_strictly() {
        assert_eq!(parse_number("30,70"), Some(30.7));
        assert_eq!(parse_number("-5"), Some(-5.0));
        for bad in ["", "1e5", "inf", " 5", "5.", ".5", "1,2,3", "0x10", "+5"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2023-13-01"));
        assert!(is_time("23:59") && is_time("08:30:00") && !is_time("24:00"));
        assert!(is_iban("DE02 1203 0000 0000 2020 51"));
        assert!(!is_iban("DE03 1203 0000 0000 2020 51"));
        assert!(is_email("a@b.de") && !is_email("a@b") && !is_email("a b@c.de"));
        assert_eq!(german_number(1234.5), "1.234,5");
        assert_eq!(
            shift_date("2026-03-31", "-P18Y").as_deref(),
            Some("2008-03-31")
        );
    }

    #[test]
    fn a_rule_reports_the_first_problem_in_german() {
        let mut r = FieldRule::new("kennzeichen", Kind::Text);
        r.required = true;
        r.pattern = Some("[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} [0-9]{1,4}".into());
        r.max_length = Some(12);
        let r = r.finish("Kennzeichen");
        assert_eq!(
            check_field(&r, &values(&[]), "2026-01-01"),
            Some(Problem::Required)
        );
        assert_eq!(
            check_field(&r, &values(&[("kennzeichen", "KS AB 123")]), "2026-01-01"),
            Some(Problem::Pattern)
        );
        assert_eq!(
            check_field(&r, &values(&[("kennzeichen", "KS-AB 123")]), "2026-01-01"),
            None
        );
        assert_eq!(
            r.messages[&Problem::Required],
            "Bitte füllen Sie „Kennzeichen“ aus."
        );
    }

    #[test]
    fn patterns_keep_their_meaning_for_the_browser() {
        assert_eq!(
            pattern_for_browser(r"\d{5}").as_deref(),
            Some(r"[\p{Nd}]{5}")
        );
        assert_eq!(
            pattern_for_browser(r"[\w-]+").as_deref(),
            Some(r"[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}-]+")
        );
        assert_eq!(pattern_for_browser("(?i)abc"), None);
        assert_eq!(pattern_for_browser("a.c").as_deref(), Some("a[^\\n]c"));
    }
}
