//! Comparing TOML values as the package model compares them: a condition
//! by its canonical text, an amount in cents, a size in bytes, not as text.

use std::cell::RefCell;
use std::collections::HashMap;

use toml_edit::{DocumentMut, Item, Table, Value};

use crate::expr;
use crate::model::Occurs;

/// Compares values as the model does. It keeps the canonical texts of the
/// conditions it met: each of them is compared several times in one merge
/// (whole element, property, three sides), and parsing is the costly part.
#[derive(Default)]
pub(crate) struct Canon {
    conditions: RefCell<HashMap<String, String>>,
}

impl Canon {
    fn canon_condition(&self, s: &str) -> String {
        if let Some(found) = self.conditions.borrow().get(s) {
            return found.clone();
        }
        let canon = expr::parse(s)
            .map(|e| e.to_string())
            .unwrap_or_else(|_| s.trim().to_string());
        self.conditions
            .borrow_mut()
            .insert(s.to_string(), canon.clone());
        canon
    }

    pub(super) fn canon_value(&self, key: &str, v: &Value, out: &mut String) {
        use std::fmt::Write as _;
        match v {
            Value::String(s) => {
                let s = s.value();
                let norm = match key {
                    "shown-when" | "required-when" => Some(self.canon_condition(s)),
                    "amount" => crate::process::parse_amount(s).ok().map(|c| c.to_string()),
                    "max-size" => crate::model::parse_size(s).ok().map(|n| n.to_string()),
                    "occurs" => Occurs::parse(s).ok().map(|o| o.to_string()),
                    "vertrauensniveau" => Some(s.to_lowercase()),
                    _ => None,
                };
                match norm {
                    Some(n) => out.push_str(&n),
                    None => {
                        // Delimited, so that "a" and a string "\"a\"" differ.
                        out.push('\u{1}');
                        out.push_str(s);
                        out.push('\u{1}');
                    }
                }
            }
            Value::Integer(i) => {
                let i = *i.value();
                let _ = if key == "amount" {
                    write!(out, "{}", i * 100)
                } else {
                    write!(out, "{i}")
                };
            }
            Value::Float(f) => {
                let f = *f.value();
                let _ = if key == "amount" {
                    write!(out, "{}", (f * 100.0).round() as i64)
                } else if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    write!(out, "{}", f as i64)
                } else {
                    write!(out, "{f}")
                };
            }
            Value::Boolean(b) => {
                let _ = write!(out, "{}", b.value());
            }
            Value::Datetime(d) => {
                let _ = write!(out, "{}", d.value());
            }
            Value::Array(a) => {
                out.push('[');
                for v in a.iter() {
                    self.canon_value(key, v, out);
                    out.push(',');
                }
                out.push(']');
            }
            Value::InlineTable(t) => {
                let mut entries: Vec<(&str, &Value)> = t.iter().collect();
                entries.sort_by_key(|(k, _)| *k);
                out.push('{');
                for (k, v) in entries {
                    out.push_str(k);
                    out.push('=');
                    self.canon_value(k, v, out);
                    out.push(';');
                }
                out.push('}');
            }
        }
    }

    fn canon_table(&self, t: &Table, out: &mut String) {
        let mut entries: Vec<(&str, &Item)> = t.iter().collect();
        entries.sort_by_key(|(k, _)| *k);
        out.push('{');
        for (k, v) in entries {
            out.push_str(k);
            out.push('=');
            self.canon_item(k, v, out);
            out.push(';');
        }
        out.push('}');
    }

    fn canon_item(&self, key: &str, item: &Item, out: &mut String) {
        match item {
            Item::None => {}
            Item::Value(v) => self.canon_value(key, v, out),
            Item::Table(t) => self.canon_table(t, out),
            Item::ArrayOfTables(a) => {
                out.push('[');
                for t in a.iter() {
                    self.canon_table(t, out);
                    out.push(',');
                }
                out.push(']');
            }
        }
    }

    pub(super) fn canon_of(&self, key: &str, item: &Item) -> String {
        let mut s = String::new();
        self.canon_item(key, item, &mut s);
        s
    }

    // The `same*` functions answer "equal canonical texts?" without building
    // the texts: comparing is most of a merge, and most values are equal.

    /// Absent (or `Item::None`) is equal only to absent.
    pub(super) fn same(&self, key: &str, a: Option<&Item>, b: Option<&Item>) -> bool {
        match (a.filter(|i| !i.is_none()), b.filter(|i| !i.is_none())) {
            (None, None) => true,
            (Some(a), Some(b)) => self.same_item(key, a, b),
            _ => false,
        }
    }

    pub(super) fn same_t(&self, a: Option<&Table>, b: Option<&Table>) -> bool {
        match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => self.same_table(a, b),
            _ => false,
        }
    }

    pub(super) fn same_item(&self, key: &str, a: &Item, b: &Item) -> bool {
        match (a, b) {
            (Item::Value(x), Item::Value(y)) => self.same_value(key, x, y),
            (Item::Table(x), Item::Table(y)) => self.same_table(x, y),
            (Item::ArrayOfTables(x), Item::ArrayOfTables(y)) => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(x, y)| self.same_table(x, y))
            }
            // An inline table and a table (or their arrays) may mean the same.
            _ => self.canon_of(key, a) == self.canon_of(key, b),
        }
    }

    fn same_table(&self, a: &Table, b: &Table) -> bool {
        a.len() == b.len()
            && a.iter()
                .all(|(k, v)| b.get(k).is_some_and(|w| self.same_item(k, v, w)))
    }

    fn same_value(&self, key: &str, a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::String(x), Value::String(y)) if !normalised(key) => x.value() == y.value(),
            (Value::Integer(x), Value::Integer(y)) => x.value() == y.value(),
            (Value::Boolean(x), Value::Boolean(y)) => x.value() == y.value(),
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|(x, y)| self.same_value(key, x, y))
            }
            (Value::InlineTable(x), Value::InlineTable(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| self.same_value(k, v, w)))
            }
            _ => {
                let (mut s, mut t) = (String::new(), String::new());
                self.canon_value(key, a, &mut s);
                self.canon_value(key, b, &mut t);
                s == t
            }
        }
    }
}

/// Keys whose string values are compared by their meaning, not their text.
fn normalised(key: &str) -> bool {
    matches!(
        key,
        "shown-when" | "required-when" | "amount" | "max-size" | "occurs" | "vertrauensniveau"
    )
}

// Texts shown in conflicts.

pub(super) fn value_text(v: &Value) -> String {
    let mut v = v.clone();
    v.decor_mut().clear();
    v.to_string()
}

pub(super) fn item_text(item: &Item) -> String {
    match item {
        Item::Value(v) => value_text(v),
        Item::Table(t) => table_text(t),
        other => other.to_string(),
    }
}

pub(super) fn table_text(t: &Table) -> String {
    let mut t = t.clone();
    t.decor_mut().clear();
    t.set_implicit(false);
    DocumentMut::from(t).to_string().trim().to_string()
}
