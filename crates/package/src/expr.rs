//! The condition language of forms: `shown-when` and `required-when`.
//!
//! ```text
//! expr       = or
//! or         = and { "||" and }
//! and        = unary { "&&" unary }
//! unary      = "!" unary | comparison
//! comparison = operand [ cmp-op operand | ["not"] "in" list ]
//! cmp-op     = "==" | "!=" | "<" | "<=" | ">" | ">="
//! operand    = literal | path | call | "(" expr ")"
//! call       = ("is_set" | "count" | "years_since" | "today") "(" [ expr ] ")"
//! list       = "[" [ literal { "," literal } [","] ] "]"
//! literal    = "true" | "false" | ["-"] number | string
//! path       = ident { "." ident }          (ident = [a-z_][a-z0-9_]*)
//! string     = '"' … '"' | "'" … "'"       (no escapes)
//! ```
//!
//! A name is looked up from the condition's own group outwards: inside the
//! group `fahrzeug`, `halter` means `fahrzeug.halter` if there is one, else
//! the top-level `halter`. Dates and times are compared as strings in ISO
//! 8601 form (`geburtsdatum < "2007-01-01"`).

use std::fmt;
use std::ops::Range;

use super::diagnostics::{Cause, Hint};

/// Byte range inside the expression text.
pub type Span = Range<usize>;

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Bool(bool),
    Number(f64),
    Text(String),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Text(s) => write!(f, "\"{s}\""),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `is_set(x)`: the field has a value (or the group at least one entry).
    IsSet,
    /// `count(x)`: entries of a repeatable group, or choices of a multi-select.
    Count,
    /// `years_since(datum)`: whole years from a date to today (age).
    YearsSince,
    /// `today()`: today's date.
    Today,
}

impl Func {
    pub const ALL: [(&'static str, Func); 4] = [
        ("is_set", Func::IsSet),
        ("count", Func::Count),
        ("years_since", Func::YearsSince),
        ("today", Func::Today),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Literal, Span),
    Path(String, Span),
    Not(Box<Expr>, Span),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>, Span),
    In {
        value: Box<Expr>,
        list: Vec<(Literal, Span)>,
        negated: bool,
        span: Span,
    },
    Call(Func, Vec<Expr>, Span),
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Lit(_, s) | Expr::Path(_, s) | Expr::Not(_, s) | Expr::Cmp(_, _, _, s) => {
                s.clone()
            }
            Expr::In { span, .. } | Expr::Call(_, _, span) => span.clone(),
            Expr::And(a, b) | Expr::Or(a, b) => a.span().start..b.span().end,
        }
    }

    /// Every field path named in the expression, with its span.
    pub fn paths(&self) -> Vec<(&str, Span)> {
        let mut out = Vec::new();
        self.collect_paths(&mut out);
        out
    }

    fn collect_paths<'a>(&'a self, out: &mut Vec<(&'a str, Span)>) {
        match self {
            Expr::Lit(..) => {}
            Expr::Path(p, s) => out.push((p, s.clone())),
            Expr::Not(e, _) => e.collect_paths(out),
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b, _) => {
                a.collect_paths(out);
                b.collect_paths(out);
            }
            Expr::In { value, .. } => value.collect_paths(out),
            Expr::Call(_, args, _) => args.iter().for_each(|a| a.collect_paths(out)),
        }
    }
}

/// The canonical text of an expression: what the diff compares, so that
/// spacing and redundant parentheses do not count as a change.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn prec(e: &Expr) -> u8 {
            match e {
                Expr::Or(..) => 1,
                Expr::And(..) => 2,
                Expr::Not(..) => 3,
                Expr::Cmp(..) | Expr::In { .. } => 4,
                _ => 5,
            }
        }
        fn sub(f: &mut fmt::Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
            if prec(e) < min {
                write!(f, "({e})")
            } else {
                write!(f, "{e}")
            }
        }
        match self {
            Expr::Lit(l, _) => write!(f, "{l}"),
            Expr::Path(p, _) => f.write_str(p),
            Expr::Not(e, _) => {
                f.write_str("!")?;
                sub(f, e, 3)
            }
            Expr::And(a, b) => {
                sub(f, a, 2)?;
                f.write_str(" && ")?;
                sub(f, b, 3)
            }
            Expr::Or(a, b) => {
                sub(f, a, 1)?;
                f.write_str(" || ")?;
                sub(f, b, 2)
            }
            Expr::Cmp(op, a, b, _) => {
                sub(f, a, 5)?;
                write!(f, " {} ", op.as_str())?;
                sub(f, b, 5)
            }
            Expr::In {
                value,
                list,
                negated,
                ..
            } => {
                sub(f, value, 5)?;
                f.write_str(if *negated { " not in [" } else { " in [" })?;
                for (i, (l, _)) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{l}")?;
                }
                f.write_str("]")
            }
            Expr::Call(func, args, _) => {
                write!(f, "{}(", func.name())?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// A syntax error at a byte offset of the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    /// What is wrong, in English and as an id and values.
    pub cause: Cause,
    // Boxed: parse errors travel through every parser function.
    pub suggestion: Option<Box<Hint>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    AndAnd,
    OrOr,
    Bang,
    Op(CmpOp),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Minus,
}

/// A cause that names the token found, as the args `found_kind` (`text`,
/// `number` or `token`) and `found`.
fn found(id: &str, english: String, t: &Tok) -> Cause {
    let (kind, value) = match t {
        Tok::Str(s) => ("text", s.clone()),
        Tok::Num(n) => ("number", n.to_string()),
        Tok::Ident(s) => ("token", s.clone()),
        other => ("token", describe(other).trim_matches('"').to_string()),
    };
    Cause::new(id, english)
        .arg("found_kind", kind)
        .arg("found", value)
}

/// What `Parser::expect` waits for, as a keyword and in English.
#[derive(Debug, Clone, Copy)]
enum Expected {
    ListStart,
    ListNext,
    ParenClose,
}

impl Expected {
    fn keyword(self) -> &'static str {
        match self {
            Expected::ListStart => "list_start",
            Expected::ListNext => "list_next",
            Expected::ParenClose => "paren_close",
        }
    }

    fn english(self) -> &'static str {
        match self {
            Expected::ListStart => "\"[\" and a list of values",
            Expected::ListNext => "\",\" or \"]\"",
            Expected::ParenClose => "\")\"",
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("\"{s}\""),
        Tok::Str(s) => format!("the text \"{s}\""),
        Tok::Num(n) => format!("the number {n}"),
        Tok::AndAnd => "\"&&\"".into(),
        Tok::OrOr => "\"||\"".into(),
        Tok::Bang => "\"!\"".into(),
        Tok::Op(op) => format!("\"{}\"", op.as_str()),
        Tok::LParen => "\"(\"".into(),
        Tok::RParen => "\")\"".into(),
        Tok::LBracket => "\"[\"".into(),
        Tok::RBracket => "\"]\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::Dot => "\".\"".into(),
        Tok::Minus => "\"-\"".into(),
    }
}

pub(crate) fn hinted(hint: Hint) -> Option<Box<Hint>> {
    Some(Box::new(hint))
}

fn err(offset: usize, cause: Cause) -> ParseError {
    ParseError {
        offset,
        cause,
        suggestion: None,
    }
}

fn lex(src: &str) -> Result<Vec<(Tok, Span)>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let two = |t: Tok, i: &mut usize| {
            *i += 2;
            t
        };
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'&' if bytes.get(i + 1) == Some(&b'&') => two(Tok::AndAnd, &mut i),
            b'|' if bytes.get(i + 1) == Some(&b'|') => two(Tok::OrOr, &mut i),
            b'=' if bytes.get(i + 1) == Some(&b'=') => two(Tok::Op(CmpOp::Eq), &mut i),
            b'!' if bytes.get(i + 1) == Some(&b'=') => two(Tok::Op(CmpOp::Ne), &mut i),
            b'<' if bytes.get(i + 1) == Some(&b'=') => two(Tok::Op(CmpOp::Le), &mut i),
            b'>' if bytes.get(i + 1) == Some(&b'=') => two(Tok::Op(CmpOp::Ge), &mut i),
            b'&' | b'|' => {
                let mut e = err(
                    i,
                    Cause::new(
                        "lone-operator",
                        format!("\"{}\" alone is not an operator", c as char),
                    )
                    .arg("operator", c as char),
                );
                e.suggestion = hinted(write_instead(format!("{0}{0}", c as char)));
                return Err(e);
            }
            b'=' => {
                let mut e = err(
                    i,
                    Cause::new("lone-operator", "\"=\" alone is not an operator")
                        .arg("operator", "="),
                );
                e.suggestion = hinted(Hint::new("compare-with", "compare with \"==\""));
                return Err(e);
            }
            b'!' => {
                i += 1;
                Tok::Bang
            }
            b'<' => {
                i += 1;
                Tok::Op(CmpOp::Lt)
            }
            b'>' => {
                i += 1;
                Tok::Op(CmpOp::Gt)
            }
            b'(' | b')' | b'[' | b']' | b',' | b'.' | b'-' => {
                i += 1;
                match c {
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b'[' => Tok::LBracket,
                    b']' => Tok::RBracket,
                    b',' => Tok::Comma,
                    b'.' => Tok::Dot,
                    _ => Tok::Minus,
                }
            }
            b'"' | b'\'' => {
                let end = src[i + 1..].find(c as char).ok_or_else(|| {
                    err(
                        i,
                        Cause::new("unclosed-text", "this text has no closing quote"),
                    )
                })?;
                let s = src[i + 1..i + 1 + end].to_string();
                i += end + 2;
                Tok::Str(s)
            }
            b'0'..=b'9' => {
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                let text = &src[start..i];
                let n = text.parse::<f64>().map_err(|_| {
                    err(
                        start,
                        Cause::new("not-a-number", format!("\"{text}\" is not a number"))
                            .arg("value", text),
                    )
                })?;
                Tok::Num(n)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Tok::Ident(src[start..i].to_string())
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                let mut e = err(
                    i,
                    Cause::new(
                        "unexpected-character",
                        format!("unexpected character {ch:?}"),
                    )
                    .arg("character", format!("{ch:?}")),
                );
                if !ch.is_ascii() {
                    e.suggestion = hinted(Hint::new(
                        "ascii-ids",
                        "field ids use a–z, 0–9 and \"_\" only (ä → ae, ö → oe, ü → ue, ß → ss); put text values in quotes",
                    ));
                }
                return Err(e);
            }
        };
        out.push((tok, start..i));
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }
    fn here(&self) -> usize {
        self.toks
            .get(self.pos)
            .map(|(_, s)| s.start)
            .unwrap_or(self.len)
    }
    fn next(&mut self) -> Option<(Tok, Span)> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, t: &Tok, what: Expected) -> Result<Span, ParseError> {
        match self.next() {
            Some((got, span)) if &got == t => Ok(span),
            Some((got, span)) => Err(err(
                span.start,
                found(
                    "expected-found",
                    format!("expected {}, found {}", what.english(), describe(&got)),
                    &got,
                )
                .arg("expected", what.keyword()),
            )),
            None => Err(err(
                self.len,
                Cause::new(
                    "expected-end",
                    format!("expected {}, but the condition ends", what.english()),
                )
                .arg("expected", what.keyword()),
            )),
        }
    }
    fn peek_ident(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == word)
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.eat(&Tok::OrOr) {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        while self.eat(&Tok::AndAnd) {
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        let start = self.here();
        if self.eat(&Tok::Bang) {
            let e = self.unary()?;
            let end = e.span().end;
            return Ok(Expr::Not(Box::new(e), start..end));
        }
        if self.peek_ident("and") || self.peek_ident("or") || self.peek_ident("not") {
            let Some((Tok::Ident(w), _)) = self.toks.get(self.pos).cloned() else {
                unreachable!()
            };
            let sym = match w.as_str() {
                "and" => "&&",
                "or" => "||",
                _ => "!",
            };
            let mut e = err(
                start,
                Cause::new(
                    "not-an-operator",
                    format!("\"{w}\" is not an operator here"),
                )
                .arg("word", &w),
            );
            e.suggestion = hinted(write_instead(sym));
            return Err(e);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let left = self.operand()?;
        let start = left.span().start;
        if let Some(Tok::Op(op)) = self.peek().cloned() {
            self.pos += 1;
            let right = self.operand()?;
            let end = right.span().end;
            return Ok(Expr::Cmp(op, Box::new(left), Box::new(right), start..end));
        }
        let negated = self.peek_ident("not");
        if negated {
            self.pos += 1;
            if !self.peek_ident("in") {
                return Err(err(
                    self.here(),
                    Cause::new("in-after-not", "expected \"in\" after \"not\""),
                ));
            }
        }
        if self.peek_ident("in") {
            self.pos += 1;
            self.expect(&Tok::LBracket, Expected::ListStart)?;
            let mut list = Vec::new();
            loop {
                if self.peek() == Some(&Tok::RBracket) {
                    break;
                }
                list.push(self.literal()?);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            let end = self.expect(&Tok::RBracket, Expected::ListNext)?.end;
            if list.is_empty() {
                return Err(err(
                    start,
                    Cause::new("empty-list", "the list after \"in\" is empty"),
                ));
            }
            return Ok(Expr::In {
                value: Box::new(left),
                list,
                negated,
                span: start..end,
            });
        }
        Ok(left)
    }

    fn literal(&mut self) -> Result<(Literal, Span), ParseError> {
        let start = self.here();
        match self.next() {
            Some((Tok::Str(s), span)) => Ok((Literal::Text(s), span)),
            Some((Tok::Num(n), span)) => Ok((Literal::Number(n), span)),
            Some((Tok::Minus, _)) => match self.next() {
                Some((Tok::Num(n), span)) => Ok((Literal::Number(-n), start..span.end)),
                _ => Err(err(
                    start,
                    Cause::new("minus-number", "\"-\" must be followed by a number"),
                )),
            },
            Some((Tok::Ident(w), span)) if w == "true" || w == "false" => {
                Ok((Literal::Bool(w == "true"), span))
            }
            Some((t, span)) => Err(err(
                span.start,
                found(
                    "expected-value-found",
                    format!(
                        "expected a value (text in quotes, a number, true or false), found {}",
                        describe(&t)
                    ),
                    &t,
                ),
            )),
            None => Err(err(
                self.len,
                Cause::new(
                    "expected-value-end",
                    "expected a value, but the condition ends",
                ),
            )),
        }
    }

    fn operand(&mut self) -> Result<Expr, ParseError> {
        let start = self.here();
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                let e = self.or()?;
                self.expect(&Tok::RParen, Expected::ParenClose)?;
                Ok(e)
            }
            Some(Tok::Str(_)) | Some(Tok::Num(_)) | Some(Tok::Minus) => {
                let (l, s) = self.literal()?;
                Ok(Expr::Lit(l, s))
            }
            Some(Tok::Ident(w)) if w == "true" || w == "false" => {
                let (l, s) = self.literal()?;
                Ok(Expr::Lit(l, s))
            }
            Some(Tok::Ident(w)) => {
                self.pos += 1;
                if self.peek() == Some(&Tok::LParen) {
                    let Some(func) = Func::ALL.iter().find(|(n, _)| *n == w).map(|(_, f)| *f)
                    else {
                        let names: Vec<&str> = Func::ALL.iter().map(|(n, _)| *n).collect();
                        let mut e = err(
                            start,
                            Cause::new("unknown-function", format!("unknown function \"{w}\""))
                                .arg("function", &w),
                        );
                        e.suggestion = hinted(match super::diagnostics::nearest(&w, &names) {
                            Some(b) => Hint::did_you_mean(b),
                            None => Hint::choices("known-functions", "functions", &names),
                        });
                        return Err(e);
                    };
                    self.pos += 1;
                    let mut args = Vec::new();
                    if self.peek() != Some(&Tok::RParen) {
                        args.push(self.or()?);
                        while self.eat(&Tok::Comma) {
                            args.push(self.or()?);
                        }
                    }
                    let end = self.expect(&Tok::RParen, Expected::ParenClose)?.end;
                    let want = usize::from(func != Func::Today);
                    if args.len() != want {
                        return Err(err(
                            start,
                            Cause::new(
                                "argument-count",
                                format!(
                                    "{}() takes {want} argument{}, not {}",
                                    func.name(),
                                    if want == 1 { "" } else { "s" },
                                    args.len()
                                ),
                            )
                            .arg("function", func.name())
                            .arg("takes", if want == 1 { "one" } else { "none" })
                            .arg("given", args.len()),
                        ));
                    }
                    return Ok(Expr::Call(func, args, start..end));
                }
                let mut path = w;
                let mut end = self.toks[self.pos - 1].1.end;
                while self.eat(&Tok::Dot) {
                    match self.next() {
                        Some((Tok::Ident(part), span)) => {
                            path.push('.');
                            path.push_str(&part);
                            end = span.end;
                        }
                        _ => {
                            return Err(err(
                                end,
                                Cause::new("dot-field", "a \".\" must be followed by a field id"),
                            ))
                        }
                    }
                }
                Ok(Expr::Path(path, start..end))
            }
            Some(t) => Err(err(
                start,
                found(
                    "expected-operand-found",
                    format!("expected a field, a value or \"(\", found {}", describe(&t)),
                    &t,
                ),
            )),
            None => Err(err(
                self.len,
                Cause::new("ends-early", "the condition ends too early"),
            )),
        }
    }
}

/// Parses a condition.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return Err(err(
            0,
            Cause::new("empty-condition", "the condition is empty"),
        ));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        len: src.len(),
    };
    let e = p.or()?;
    if let Some((t, span)) = p.toks.get(p.pos) {
        let mut e = err(
            span.start,
            found(
                "trailing",
                format!("unexpected {} after a complete condition", describe(t)),
                t,
            ),
        );
        if matches!(t, Tok::Ident(w) if w == "and" || w == "or") {
            e.suggestion = hinted(Hint::new(
                "combine-conditions",
                "combine conditions with \"&&\" or \"||\"",
            ));
        }
        return Err(e);
    }
    Ok(e)
}

/// The type of a value in a condition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ty<'a> {
    Bool,
    Number,
    Text,
    Date,
    Time,
    DateTime,
    /// A choice from a code list; the codes when they are known.
    Code(Option<&'a [String]>),
    /// Several choices from a code list.
    Codes(Option<&'a [String]>),
    /// A group (only for `is_set` and `count`).
    Group {
        repeatable: bool,
    },
    /// A file upload (only for `is_set`).
    File,
    /// From a dependency that was not resolved: not checked.
    Unknown,
}

impl Ty<'_> {
    pub fn describe(&self) -> &'static str {
        match self {
            Ty::Bool => "true/false",
            Ty::Number => "a number",
            Ty::Text => "text",
            Ty::Date => "a date",
            Ty::Time => "a time",
            Ty::DateTime => "a date and time",
            Ty::Code(_) => "a choice from a code list",
            Ty::Codes(_) => "several choices from a code list",
            Ty::Group { .. } => "a group",
            Ty::File => "a file",
            Ty::Unknown => "unknown",
        }
    }

    /// The type as a keyword (the args `found`, `left_type`,
    /// `right_type`), for clients to word in their language.
    pub fn keyword(&self) -> &'static str {
        match self {
            Ty::Bool => "boolean",
            Ty::Number => "number",
            Ty::Text => "text",
            Ty::Date => "date",
            Ty::Time => "time",
            Ty::DateTime => "datetime",
            Ty::Code(_) => "code",
            Ty::Codes(_) => "codes",
            Ty::Group { .. } => "group",
            Ty::File => "file",
            Ty::Unknown => "unknown",
        }
    }
}

/// A problem found when checking a parsed condition against its form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub span: Span,
    pub message: String,
    /// The values `message` interpolates, as in [`crate::Diagnostic::args`].
    pub args: std::collections::BTreeMap<String, String>,
    // Boxed, as in `ParseError`.
    pub suggestion: Option<Box<Hint>>,
}

impl Problem {
    pub fn new(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Problem {
            code,
            span,
            message: message.into(),
            args: Default::default(),
            suggestion: None,
        }
    }

    pub fn arg(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.args.insert(name.to_string(), value.to_string());
        self
    }
}

/// What a condition can see: the fields of its form.
pub trait Env<'a> {
    /// The type of the field or group a path names, or the problem.
    fn lookup(&self, path: &str, span: Span, via_count: bool) -> Result<Ty<'a>, Problem>;
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn is_iso_time(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() == 5 || b.len() == 8)
        && b[2] == b':'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 2 || i == 5 || c.is_ascii_digit())
}

/// Checks the types of a condition; it must be true/false as a whole.
pub fn check<'a>(expr: &Expr, env: &dyn Env<'a>, out: &mut Vec<Problem>) {
    let ty = type_of(expr, env, out);
    if !matches!(ty, Some(Ty::Bool) | Some(Ty::Unknown) | None) {
        out.push(
            Problem::new(
                "expr.not_boolean",
                expr.span(),
                format!(
                    "a condition must be true or false, but this is {}",
                    ty.map(|t| t.describe()).unwrap_or("?")
                ),
            )
            .arg("found", ty.map(|t| t.keyword()).unwrap_or("unknown")),
        );
    }
}

fn want_bool<'a>(e: &Expr, env: &dyn Env<'a>, out: &mut Vec<Problem>) {
    if let Some(t) = type_of(e, env, out) {
        if !matches!(t, Ty::Bool | Ty::Unknown) {
            out.push(
                Problem::new(
                    "expr.type_mismatch",
                    e.span(),
                    format!(
                        "\"&&\", \"||\" and \"!\" need true/false, but \"{e}\" is {}",
                        t.describe()
                    ),
                )
                .arg("variant", "logic")
                .arg("operand", e)
                .arg("found", t.keyword()),
            );
        }
    }
}

/// Checks that a literal fits a value of type `ty`; reports an unknown code.
fn check_literal(ty: Ty, lit: &Literal, span: &Span, out: &mut Vec<Problem>) {
    let ok = match (ty, lit) {
        (Ty::Unknown, _) => true,
        (Ty::Bool, Literal::Bool(_)) | (Ty::Number, Literal::Number(_)) => true,
        (Ty::Text, Literal::Text(_)) => true,
        (Ty::Date, Literal::Text(s)) => {
            if !is_iso_date(s) {
                out.push(
                    Problem::new(
                        "expr.invalid_date",
                        span.clone(),
                        format!("\"{s}\" is not a date"),
                    )
                    .arg("value", s)
                    .with_suggestion(Hint::new(
                        "date-form",
                        "write dates as \"YYYY-MM-DD\", for example \"2025-01-31\"",
                    )),
                );
            }
            true
        }
        (Ty::Time, Literal::Text(s)) => {
            if !is_iso_time(s) {
                out.push(
                    Problem::new(
                        "expr.invalid_time",
                        span.clone(),
                        format!("\"{s}\" is not a time"),
                    )
                    .arg("value", s)
                    .with_suggestion(Hint::new(
                        "time-form",
                        "write times as \"HH:MM\", for example \"08:30\"",
                    )),
                );
            }
            true
        }
        (Ty::DateTime, Literal::Text(_)) => true,
        (Ty::Code(codes) | Ty::Codes(codes), Literal::Text(s)) => {
            if let Some(codes) = codes {
                if !codes.iter().any(|c| c == s) {
                    let names: Vec<&str> = codes.iter().map(String::as_str).collect();
                    let mut p = Problem::new(
                        "expr.unknown_code",
                        span.clone(),
                        format!("\"{s}\" is not a code of the field's code list"),
                    )
                    .arg("code", s);
                    let near = if s.chars().count() >= 3 {
                        super::diagnostics::nearest(s, &names)
                    } else {
                        None
                    };
                    p.suggestion = hinted(match near {
                        Some(b) => Hint::did_you_mean(b),
                        None if names.len() <= 12 => Hint::choices("known-codes", "codes", &names),
                        None => {
                            Hint::new("code-count", format!("the list has {} codes", names.len()))
                                .arg("count", names.len())
                        }
                    });
                    out.push(p);
                }
            }
            true
        }
        _ => false,
    };
    if !ok {
        out.push(
            Problem::new(
                "expr.type_mismatch",
                span.clone(),
                format!("{lit} cannot be compared with {}", ty.describe()),
            )
            .arg("variant", "literal")
            .arg("literal", lit)
            .arg("found", ty.keyword()),
        );
    }
}

impl Problem {
    pub fn with_suggestion(mut self, hint: Hint) -> Self {
        self.suggestion = hinted(hint);
        self
    }
}

/// "write \"&&\"": the operator meant.
fn write_instead(operator: impl fmt::Display) -> Hint {
    Hint::new("write-operator", format!("write \"{operator}\"")).arg("operator", operator)
}

fn type_of<'a>(e: &Expr, env: &dyn Env<'a>, out: &mut Vec<Problem>) -> Option<Ty<'a>> {
    match e {
        Expr::Lit(Literal::Bool(_), _) => Some(Ty::Bool),
        Expr::Lit(Literal::Number(_), _) => Some(Ty::Number),
        Expr::Lit(Literal::Text(_), _) => Some(Ty::Text),
        Expr::Path(p, span) => type_of_path(p, span, env, out),
        Expr::Not(inner, _) => {
            want_bool(inner, env, out);
            Some(Ty::Bool)
        }
        Expr::And(a, b) | Expr::Or(a, b) => {
            want_bool(a, env, out);
            want_bool(b, env, out);
            Some(Ty::Bool)
        }
        Expr::Cmp(op, a, b, span) => {
            check_comparison(*op, a, b, span, env, out);
            Some(Ty::Bool)
        }
        Expr::In { value, list, .. } => {
            check_in(value, list, env, out);
            Some(Ty::Bool)
        }
        Expr::Call(func, args, span) => Some(type_of_call(*func, args, span, env, out)),
    }
}

/// A path names a field; a group is no value.
fn type_of_path<'a>(
    p: &str,
    span: &Span,
    env: &dyn Env<'a>,
    out: &mut Vec<Problem>,
) -> Option<Ty<'a>> {
    match env.lookup(p, span.clone(), false) {
        Ok(Ty::Group { .. }) => {
            out.push(
                Problem::new(
                    "expr.group_as_value",
                    span.clone(),
                    format!("\"{p}\" is a group, not a field"),
                )
                .arg("group", p)
                .with_suggestion(
                    Hint::new("is-set-or-count", format!("use is_set({p}) or count({p})"))
                        .arg("path", p),
                ),
            );
            None
        }
        Ok(t) => Some(t),
        Err(problem) => {
            out.push(problem);
            None
        }
    }
}

/// Both sides of a comparison are of one type (a literal is checked
/// against the other side), ordered comparisons need ordered values, and a
/// multi-select is compared with `in`.
fn check_comparison<'a>(
    op: CmpOp,
    a: &Expr,
    b: &Expr,
    span: &Span,
    env: &dyn Env<'a>,
    out: &mut Vec<Problem>,
) {
    let ta = type_of(a, env, out);
    let tb = type_of(b, env, out);
    let (Some(ta), Some(tb)) = (ta, tb) else {
        return;
    };
    match (a, b) {
        (_, Expr::Lit(l, ls)) if !matches!(a, Expr::Lit(..)) => check_literal(ta, l, ls, out),
        (Expr::Lit(l, ls), _) if !matches!(b, Expr::Lit(..)) => check_literal(tb, l, ls, out),
        _ => {
            let same = std::mem::discriminant(&ta) == std::mem::discriminant(&tb)
                || ta == Ty::Unknown
                || tb == Ty::Unknown;
            if !same {
                out.push(
                    Problem::new(
                        "expr.type_mismatch",
                        span.clone(),
                        format!(
                            "\"{a}\" is {} and \"{b}\" is {}; they cannot be compared",
                            ta.describe(),
                            tb.describe()
                        ),
                    )
                    .arg("variant", "compare")
                    .arg("left", a)
                    .arg("left_type", ta.keyword())
                    .arg("right", b)
                    .arg("right_type", tb.keyword()),
                );
                return;
            }
        }
    }
    let ordered = matches!(op, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge);
    if ordered {
        for (t, side) in [(ta, a), (tb, b)] {
            if !matches!(
                t,
                Ty::Number | Ty::Date | Ty::Time | Ty::DateTime | Ty::Unknown | Ty::Text
            ) || (t == Ty::Text && !matches!(side, Expr::Lit(..)))
            {
                out.push(
                    Problem::new(
                        "expr.not_ordered",
                        side.span(),
                        format!(
                            "\"{}\" only works on numbers, dates and times; \"{side}\" is {}",
                            op.as_str(),
                            t.describe()
                        ),
                    )
                    .arg("operator", op.as_str())
                    .arg("operand", side)
                    .arg("found", t.keyword()),
                );
            }
        }
    }
    if matches!(ta, Ty::Codes(_)) || matches!(tb, Ty::Codes(_)) {
        out.push(
            Problem::new(
                "expr.type_mismatch",
                span.clone(),
                "a multi-select holds several choices; compare it with \"in\"".to_string(),
            )
            .arg("variant", "multi_select")
            .with_suggestion(
                Hint::new("write-in-list", format!("write {a} in [ … ]")).arg("value", a),
            ),
        );
    }
}

/// `value in [ … ]`: a value that can be looked up, and literals of its type.
fn check_in<'a>(value: &Expr, list: &[(Literal, Span)], env: &dyn Env<'a>, out: &mut Vec<Problem>) {
    let Some(t) = type_of(value, env, out) else {
        return;
    };
    if matches!(t, Ty::Bool | Ty::File) {
        out.push(
            Problem::new(
                "expr.type_mismatch",
                value.span(),
                format!(
                    "\"in\" needs a value to look up, but \"{value}\" is {}",
                    t.describe()
                ),
            )
            .arg("variant", "in")
            .arg("operand", value)
            .arg("found", t.keyword()),
        );
    } else {
        for (l, s) in list {
            check_literal(t, l, s, out);
        }
    }
}

fn type_of_call<'a>(
    func: Func,
    args: &[Expr],
    span: &Span,
    env: &dyn Env<'a>,
    out: &mut Vec<Problem>,
) -> Ty<'a> {
    match func {
        Func::Today => Ty::Date,
        Func::IsSet | Func::Count => {
            check_counted(func, &args[0], span, env, out);
            if func == Func::Count {
                Ty::Number
            } else {
                Ty::Bool
            }
        }
        Func::YearsSince => {
            let arg = &args[0];
            if let Some(t) = type_of(arg, env, out) {
                if !matches!(t, Ty::Date | Ty::DateTime | Ty::Unknown) {
                    out.push(
                        Problem::new(
                            "expr.type_mismatch",
                            arg.span(),
                            format!(
                                "years_since() needs a date, but \"{arg}\" is {}",
                                t.describe()
                            ),
                        )
                        .arg("variant", "years_since")
                        .arg("operand", arg)
                        .arg("found", t.keyword()),
                    );
                }
            }
            Ty::Number
        }
    }
}

/// The argument of `is_set()` and `count()`: a field or group id; what
/// `count()` counts has entries or choices.
fn check_counted<'a>(
    func: Func,
    arg: &Expr,
    span: &Span,
    env: &dyn Env<'a>,
    out: &mut Vec<Problem>,
) {
    let Expr::Path(p, ps) = arg else {
        out.push(
            Problem::new(
                "expr.type_mismatch",
                arg.span(),
                format!("{}() takes a field or group id", func.name()),
            )
            .arg("variant", "id_argument")
            .arg("function", func.name()),
        );
        return;
    };
    match env.lookup(p, ps.clone(), true) {
        Err(problem) => out.push(problem),
        Ok(t) => {
            if func == Func::Count
                && !matches!(
                    t,
                    Ty::Group { repeatable: true } | Ty::Codes(_) | Ty::Unknown
                )
            {
                out.push(Problem::new(
                    "expr.type_mismatch",
                    span.clone(),
                    format!(
                        "count() counts the entries of a repeatable group or the choices of a multi-select; \"{p}\" is {}",
                        t.describe()
                    ),
                ).arg("variant", "count").arg("operand", p).arg("found", t.keyword()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_precedence_and_prints_canonically() {
        let e = parse("fahrzeughalter == false && zone in [\"A\", 'B'] || !(a.b)").unwrap();
        assert_eq!(
            e.to_string(),
            "fahrzeughalter == false && zone in [\"A\", \"B\"] || !a.b"
        );
        let e = parse("a && (b || c)").unwrap();
        assert_eq!(e.to_string(), "a && (b || c)");
        let e = parse("years_since(geburtsdatum) >= 18 && count(kinder) > -1").unwrap();
        assert_eq!(
            e.to_string(),
            "years_since(geburtsdatum) >= 18 && count(kinder) > -1"
        );
        assert_eq!(
            e.paths().iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            ["geburtsdatum", "kinder"]
        );
        let e = parse("zone not in ['C']").unwrap();
        assert_eq!(e.to_string(), "zone not in [\"C\"]");
    }

    #[test]
    fn syntax_errors_have_offsets_and_hints() {
        let e = parse("a = 1").unwrap_err();
        assert_eq!(
            (e.offset, e.suggestion.map(|h| h.english).as_deref()),
            (2, Some("compare with \"==\""))
        );
        let e = parse("a & b").unwrap_err();
        assert_eq!(e.suggestion.unwrap().english, "write \"&&\"");
        let e = parse("a == 1 and b").unwrap_err();
        assert_eq!(e.offset, 7);
        let e = parse("(a == 1").unwrap_err();
        assert!(
            e.cause.english.contains("expected \")\""),
            "{}",
            e.cause.english
        );
        let e = parse("zone in []").unwrap_err();
        assert!(e.cause.english.contains("empty"));
        let e = parse("ist_gesetzt(a)").unwrap_err();
        assert!(e.cause.english.contains("unknown function"));
        let e = parse("name == \"x").unwrap_err();
        assert!(e.cause.english.contains("closing quote"));
        let e = parse("straße == 1").unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(parse("").is_err());
        assert!(parse("today(1)").is_err());
    }
}
