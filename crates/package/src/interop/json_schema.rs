//! JSON Schema (draft 2020-12) of the data a submission of a form carries:
//! what FIT-Connect takes as the `submissionSchema` of a service. One
//! property per field (by its id), an object per group, an array per
//! repeatable group; conditions become `if`/`then`/`else` where the
//! condition language maps onto JSON Schema, and are listed in `$comment`
//! where it does not (see `docs/interop.md`).

use serde_json::{json, Map, Value};

use crate::codelist::{CodelistRef, CodelistSource};
use crate::content::{Content, DependencyContent};
use crate::expr::{CmpOp, Expr, Func, Literal};
use crate::form::Body;
use crate::model::{Bound, Condition, Field, FieldType, Item};
use crate::Manifest;

pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    #[error(
        "{name} is a {kind} package; a JSON Schema describes the data of a form or a field group"
    )]
    NotAForm { name: String, kind: String },
    #[error("{name} is a {kind} package; BPMN describes a process")]
    NotAProcess { name: String, kind: String },
}

/// The stable address of a version's schema, under the registry.
pub fn schema_id(registry: &str, m: &Manifest) -> String {
    format!(
        "{}/api/v1/packages/{}/{}/{}/schema.json",
        registry.trim_end_matches('/'),
        m.namespace,
        m.name,
        m.version
    )
}

/// The schema of a form's or field group's submission data. Included field
/// groups are taken from `deps`; one that is missing there is an open
/// object (its `$comment` says so).
pub fn json_schema(
    m: &Manifest,
    content: &Content,
    deps: &DependencyContent,
    registry: &str,
) -> Result<Value, ExportError> {
    let (title, body) = match content {
        Content::Form(f) => (f.title.as_ref().map(|t| t.de.clone()), &f.body),
        Content::Fieldgroup(g) => (g.label.as_ref().map(|t| t.de.clone()), &g.body),
        Content::Process(_) | Content::Codelist(_) => {
            return Err(ExportError::NotAForm {
                name: m.full_name(),
                kind: m.kind.as_str().into(),
            })
        }
    };
    let mut b = Builder {
        deps,
        unexpressed: Vec::new(),
    };
    let mut root = b.object(&body.items, body, "", 0);
    let obj = root.as_object_mut().expect("an object schema");
    obj.insert("$schema".into(), DIALECT.into());
    obj.insert("$id".into(), schema_id(registry, m).into());
    obj.insert(
        "title".into(),
        title.unwrap_or_else(|| m.full_name()).into(),
    );
    obj.insert("description".into(), m.description.clone().into());
    if !b.unexpressed.is_empty() {
        obj.insert(
            "$comment".into(),
            format!(
                "conditions the form checks that JSON Schema cannot express: {}",
                b.unexpressed.join("; ")
            )
            .into(),
        );
    }
    Ok(root)
}

struct Builder<'a> {
    deps: &'a DependencyContent,
    unexpressed: Vec<String>,
}

/// How deep included field groups may nest; the publish check refuses
/// cycles, this guards against a broken dependency.
const MAX_DEPTH: usize = 16;

impl Builder<'_> {
    fn object(&mut self, items: &[Item], body: &Body, scope: &str, depth: usize) -> Value {
        let mut properties = Map::new();
        let mut required: Vec<Value> = Vec::new();
        let mut all_of: Vec<Value> = Vec::new();
        for item in items {
            let id = item.id();
            let path = if scope.is_empty() {
                id.to_string()
            } else {
                format!("{scope}.{id}")
            };
            let (schema, always, shown_when, required_when) = match item {
                Item::Field(f) if f.ty == FieldType::StaticText => continue,
                Item::Field(f) => (
                    self.field(f, body),
                    f.required,
                    &f.shown_when,
                    &f.required_when,
                ),
                Item::Group(g) => {
                    let inner = match &g.include {
                        Some(inc) => match self.deps.body(inc.get_ref()) {
                            Some(dep) if depth < MAX_DEPTH => {
                                self.object(&dep.items, dep, &path, depth + 1)
                            }
                            _ => json!({
                                "type": "object",
                                "$comment": format!("the fields of the field group {}, which was not resolved", inc.get_ref()),
                            }),
                        },
                        None => self.object(&g.items, body, &path, depth),
                    };
                    let mut s = if g.occurs.is_repeatable() {
                        let mut a = json!({ "type": "array", "items": inner });
                        if g.occurs.min > 0 {
                            a["minItems"] = g.occurs.min.into();
                        }
                        if let Some(max) = g.occurs.max {
                            a["maxItems"] = max.into();
                        }
                        a
                    } else {
                        inner
                    };
                    annotate(
                        &mut s,
                        g.label.as_ref().map(|t| t.de.as_str()),
                        g.help.as_ref().map(|t| t.de.as_str()),
                    );
                    (s, g.occurs.min > 0, &g.shown_when, &None)
                }
            };
            properties.insert(id.to_string(), schema);
            let shown = match shown_when {
                None => None,
                Some(c) => match self.condition(c, items) {
                    Some(s) => Some(s),
                    None => {
                        self.unexpressed
                            .push(format!("{path} shown when {}", c.canonical()));
                        None
                    }
                },
            };
            match (shown, always) {
                (None, true) if shown_when.is_none() => required.push(id.into()),
                (None, _) => {}
                // Hidden data is not submitted; shown and required data is.
                (Some(s), always) => {
                    let mut rule = json!({ "if": s, "else": { "properties": { id: false } } });
                    if always {
                        rule["then"] = json!({ "required": [id] });
                    }
                    all_of.push(rule);
                }
            }
            if let Some(c) = required_when {
                match self.condition(c, items) {
                    Some(s) => all_of.push(json!({ "if": s, "then": { "required": [id] } })),
                    None => self
                        .unexpressed
                        .push(format!("{path} required when {}", c.canonical())),
                }
            }
        }
        let mut o = json!({
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        });
        if !required.is_empty() {
            o["required"] = required.into();
        }
        if !all_of.is_empty() {
            o["allOf"] = all_of.into();
        }
        o
    }

    fn field(&mut self, f: &Field, body: &Body) -> Value {
        let c = &f.constraints;
        let mut s = match f.ty {
            FieldType::Text | FieldType::MultilineText | FieldType::Phone => {
                json!({ "type": "string" })
            }
            FieldType::Email => json!({ "type": "string", "format": "email" }),
            FieldType::Iban => {
                json!({ "type": "string", "pattern": "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$" })
            }
            FieldType::PostalCode => json!({ "type": "string", "pattern": "^[0-9]{5}$" }),
            FieldType::Integer => json!({ "type": "integer" }),
            FieldType::Decimal => json!({ "type": "number" }),
            FieldType::Money => json!({
                "type": "number",
                "multipleOf": 0.01,
                "$comment": "an amount in EUR, at most two decimal places",
            }),
            // `format` is an annotation unless a validator opts in to
            // checking it; the pattern holds the shape either way.
            FieldType::Date => {
                json!({ "type": "string", "format": "date", "pattern": DATE_PATTERN })
            }
            FieldType::Time => {
                json!({ "type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$" })
            }
            FieldType::DateTime => {
                json!({ "type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN })
            }
            FieldType::Boolean => json!({ "type": "boolean" }),
            FieldType::Select => self.codes(f, body),
            FieldType::MultiSelect => {
                let item = self.codes(f, body);
                json!({ "type": "array", "items": item, "uniqueItems": true })
            }
            FieldType::File => {
                let mut media = json!({ "type": "string" });
                if !c.media_types.is_empty() {
                    let exact: Vec<&String> = c
                        .media_types
                        .iter()
                        .filter(|m| !m.ends_with("/*"))
                        .collect();
                    if exact.len() == c.media_types.len() {
                        media["enum"] = json!(exact);
                    } else {
                        media["$comment"] = format!("one of {}", c.media_types.join(", ")).into();
                    }
                }
                let mut size = json!({ "type": "integer", "minimum": 0 });
                if let Some(max) = c.max_size {
                    size["maximum"] = max.into();
                }
                json!({
                    "type": "object",
                    "$comment": "a file sent as a FIT-Connect attachment, named by its attachment id",
                    "properties": {
                        "attachmentId": { "type": "string", "format": "uuid" },
                        "filename": { "type": "string" },
                        "mimeType": media,
                        "size": size,
                    },
                    "required": ["attachmentId"],
                    "additionalProperties": false,
                })
            }
            FieldType::StaticText => json!(true),
        };
        if f.ty.is_textual() || f.ty == FieldType::PostalCode {
            if let Some(n) = c.min_length {
                s["minLength"] = n.into();
            }
            if let Some(n) = c.max_length {
                s["maxLength"] = n.into();
            }
            if let Some(p) = &c.pattern {
                // Our patterns match the whole value; JSON Schema's match anywhere.
                let anchored = format!("^(?:{p})$");
                match s.get("pattern").cloned() {
                    Some(existing) => {
                        s["allOf"] = json!([{ "pattern": existing }, { "pattern": anchored }]);
                    }
                    None => s["pattern"] = anchored.into(),
                }
            }
        }
        let mut dates = Vec::new();
        for (bound, key) in [(&c.min, "minimum"), (&c.max, "maximum")] {
            match bound {
                Some(Bound::Number(n)) => s[key] = number(*n),
                Some(other) => dates.push(format!("{key} {other}")),
                None => {}
            }
        }
        if !dates.is_empty() {
            s["$comment"] = format!("the form also checks {}", dates.join(", ")).into();
        }
        annotate(
            &mut s,
            f.label.as_ref().map(|t| t.de.as_str()),
            f.help.as_ref().map(|t| t.de.as_str()),
        );
        if !f.examples.is_empty() {
            s["examples"] = json!(f.examples);
        }
        if let Some(v) = &f.fixed {
            // The value the form fills in: the only one a submission carries.
            s["const"] = match f.ty {
                FieldType::Integer => v
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| json!(v)),
                FieldType::Decimal | FieldType::Money => {
                    v.parse::<f64>().map(number).unwrap_or_else(|_| json!(v))
                }
                FieldType::Boolean => json!(v == "true"),
                _ => json!(v),
            };
            s["readOnly"] = json!(true);
        }
        s
    }

    /// The codes of a select field: an enum when the list is inline.
    fn codes(&self, f: &Field, body: &Body) -> Value {
        let Some(name) = f.codelist.as_ref().map(|c| c.get_ref().as_str()) else {
            return json!({ "type": "string" });
        };
        let list = match CodelistRef::parse(name) {
            CodelistRef::Package(pkg) => {
                return match self.deps.codelist_package(pkg) {
                    Some(l) => package_codes(pkg, l),
                    None => json!({
                        "type": "string",
                        "$comment": format!("a code of the code list package {pkg}, which was not resolved"),
                    }),
                };
            }
            CodelistRef::Own(id) => body.codelist(id),
            CodelistRef::InDependency { package, id } => {
                self.deps.body(package).and_then(|b| b.codelist(id))
            }
        };
        match list.map(|l| &l.source) {
            Some(CodelistSource::Inline(codes)) => json!({
                "type": "string",
                "enum": codes.iter().map(|c| c.code.clone()).collect::<Vec<_>>(),
            }),
            Some(CodelistSource::XRepository { urn, version }) => json!({
                "type": "string",
                "$comment": format!("a code of the XRepository code list {urn}, version {version}"),
            }),
            None => json!({
                "type": "string",
                "$comment": format!("a code of the list {name}, which was not resolved"),
            }),
        }
    }

    /// A condition as the `if` of a rule, when every name in it is an item
    /// of this object (or of groups inside it that do not repeat).
    fn condition(&self, c: &Condition, items: &[Item]) -> Option<Value> {
        cond(c.expr.as_ref()?, items)
    }
}

/// The codes of a code list package as an `enum`; the labels and the
/// list's identity in the annotation `x-gemeinwerk-codelist`, which
/// validators ignore and a form renderer may show.
fn package_codes(name: &str, l: &crate::codelist_package::CodelistPackage) -> Value {
    let labels: serde_json::Map<String, Value> = l
        .codes
        .iter()
        .filter_map(|c| Some((c.code.clone(), Value::from(c.label.clone()?))))
        .collect();
    let mut about = json!({ "package": name, "labels": labels });
    for (k, v) in [
        ("canonical-uri", &l.canonical_uri),
        ("source-version", &l.source_version),
    ] {
        if let Some(v) = v {
            about[k] = json!(v);
        }
    }
    json!({
        "type": "string",
        "enum": l.keys,
        "x-gemeinwerk-codelist": about,
    })
}

/// A date of RFC 3339 (`full-date`), months and days in range.
const DATE_PATTERN: &str = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
/// A date and time of RFC 3339 (`date-time`), with a zone.
const DATE_TIME_PATTERN: &str = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";

fn annotate(s: &mut Value, title: Option<&str>, description: Option<&str>) {
    if let Some(o) = s.as_object_mut() {
        if let Some(t) = title {
            o.insert("title".into(), t.into());
        }
        if let Some(d) = description {
            o.insert("description".into(), d.into());
        }
    }
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

fn literal(l: &Literal) -> Value {
    match l {
        Literal::Bool(b) => json!(b),
        Literal::Number(n) => number(*n),
        Literal::Text(t) => json!(t),
    }
}

/// `leaf` applied to the item at `path`, with every object on the way
/// required: `{"properties":{"a":{"properties":{"b":leaf},"required":["b"]}},"required":["a"]}`.
/// `None` when the path leaves this object or crosses a repeatable group.
fn at_path(items: &[Item], path: &str, leaf: Value, want: fn(&Item) -> bool) -> Option<Value> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let item = items.iter().find(|i| i.id() == head)?;
    let inner = match (rest, item) {
        (None, item) if want(item) => leaf,
        (Some(r), Item::Group(g)) if !g.occurs.is_repeatable() && g.include.is_none() => {
            at_path(&g.items, r, leaf, want)?
        }
        _ => return None,
    };
    Some(json!({ "properties": { head: inner }, "required": [head] }))
}

fn is_field_of(ty: fn(FieldType) -> bool) -> impl Fn(&Item) -> bool {
    move |i| matches!(i, Item::Field(f) if ty(f.ty))
}

fn cond(e: &Expr, items: &[Item]) -> Option<Value> {
    Some(match e {
        Expr::Path(p, _) => at_path(items, p, json!({ "const": true }), |i| {
            is_field_of(|t| t == FieldType::Boolean)(i)
        })?,
        Expr::Lit(Literal::Bool(b), _) => json!(b),
        Expr::Not(inner, _) => json!({ "not": cond(inner, items)? }),
        Expr::And(a, b) => json!({ "allOf": [cond(a, items)?, cond(b, items)?] }),
        Expr::Or(a, b) => json!({ "anyOf": [cond(a, items)?, cond(b, items)?] }),
        Expr::Cmp(op, a, b, _) => {
            let (path, lit, op) = match (a.as_ref(), b.as_ref()) {
                (Expr::Path(p, _), Expr::Lit(l, _)) => (p, l, *op),
                (Expr::Lit(l, _), Expr::Path(p, _)) => (p, l, flip(*op)),
                _ => return None,
            };
            let leaf = match (op, lit) {
                (CmpOp::Eq, l) => json!({ "const": literal(l) }),
                (CmpOp::Ne, l) => {
                    let eq = at_path(items, path, json!({ "const": literal(l) }), any_field)?;
                    return Some(json!({ "not": eq }));
                }
                (CmpOp::Lt, Literal::Number(n)) => json!({ "exclusiveMaximum": number(*n) }),
                (CmpOp::Le, Literal::Number(n)) => json!({ "maximum": number(*n) }),
                (CmpOp::Gt, Literal::Number(n)) => json!({ "exclusiveMinimum": number(*n) }),
                (CmpOp::Ge, Literal::Number(n)) => json!({ "minimum": number(*n) }),
                // Dates compare as text, which JSON Schema cannot order.
                _ => return None,
            };
            at_path(items, path, leaf, any_field)?
        }
        Expr::In {
            value,
            list,
            negated,
            ..
        } => {
            let Expr::Path(p, _) = value.as_ref() else {
                return None;
            };
            let values: Vec<Value> = list.iter().map(|(l, _)| literal(l)).collect();
            let s = at_path(items, p, json!({ "enum": values }), any_field)?;
            if *negated {
                json!({ "not": s })
            } else {
                s
            }
        }
        Expr::Call(Func::IsSet, args, _) => match args.as_slice() {
            [Expr::Path(p, _)] => at_path(items, p, json!(true), |_| true)?,
            _ => return None,
        },
        _ => return None,
    })
}

fn any_field(i: &Item) -> bool {
    matches!(i, Item::Field(_))
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::parse_content;
    use crate::manifest::parse_manifest;
    use crate::PackageKind;

    fn manifest(kind: &str) -> Manifest {
        parse_manifest(&format!(
            "[package]\nname = \"kassel/test\"\nversion = \"1.2.3\"\nkind = \"{kind}\"\ndescription = \"Test\"\nlicense = \"EUPL-1.2\"\n"
        ))
        .unwrap()
        .0
    }

    const FORM: &str = r#"[form]
title = "Test"
vertrauensniveau = "niedrig"

[codelist.zone]
codes = [{ code = "A", label = "Zone A" }, { code = "B", label = "Zone B" }]

[[field]]
id = "hinweis"
type = "static-text"
text = "Bitte ausfüllen"

[[field]]
id = "name"
type = "text"
label = "Name"
required = true
min-length = 2
max-length = 20
pattern = "[A-Z][a-z]+"

[[field]]
id = "alter"
type = "integer"
label = "Alter"
min = 0
max = 130

[[field]]
id = "zone"
type = "select"
label = "Zone"
codelist = "zone"
required = true

[[field]]
id = "halter"
type = "boolean"
label = "Halter?"

[[field]]
id = "grund"
type = "text"
label = "Grund"
shown-when = "!halter"
required-when = "!halter"

[[field]]
id = "zusatz"
type = "text"
label = "Zusatz"
required = true
shown-when = "zone in [\"B\"] && alter >= 18"

[[field]]
id = "geburt"
type = "date"
label = "Geburt"
required-when = "years_since(geburt) > 3"

[[group]]
id = "kinder"
label = "Kinder"
occurs = "1:4"

[[group.field]]
id = "vorname"
type = "text"
label = "Vorname"
required = true
"#;

    #[test]
    fn maps_types_constraints_repeats_and_conditions() {
        let c = parse_content(PackageKind::Form, FORM).unwrap();
        let s = json_schema(
            &manifest("form"),
            &c,
            &DependencyContent::default(),
            "http://reg.example/",
        )
        .unwrap();
        assert_eq!(s["$schema"], DIALECT);
        assert_eq!(
            s["$id"],
            "http://reg.example/api/v1/packages/kassel/test/1.2.3/schema.json"
        );
        assert_eq!(s["additionalProperties"], false);
        assert!(s["properties"].get("hinweis").is_none());
        assert_eq!(s["properties"]["name"]["pattern"], "^(?:[A-Z][a-z]+)$");
        assert_eq!(s["properties"]["name"]["maxLength"], 20);
        assert_eq!(
            s["properties"]["alter"],
            json!({"type":"integer","minimum":0,"maximum":130,"title":"Alter"})
        );
        assert_eq!(s["properties"]["zone"]["enum"], json!(["A", "B"]));
        assert_eq!(s["required"], json!(["name", "zone", "kinder"]));
        let kinder = &s["properties"]["kinder"];
        assert_eq!(
            (
                kinder["type"].as_str(),
                kinder["minItems"].as_u64(),
                kinder["maxItems"].as_u64()
            ),
            (Some("array"), Some(1), Some(4))
        );
        assert_eq!(kinder["items"]["required"], json!(["vorname"]));
        let rules = s["allOf"].as_array().unwrap();
        assert_eq!(rules.len(), 3, "{rules:#?}");
        assert_eq!(
            rules[0]["if"],
            json!({"not": {"properties": {"halter": {"const": true}}, "required": ["halter"]}})
        );
        assert_eq!(rules[0]["else"], json!({"properties": {"grund": false}}));
        assert_eq!(rules[1]["then"], json!({"required": ["grund"]}));
        assert_eq!(rules[2]["then"], json!({"required": ["zusatz"]}));
        assert!(s["$comment"]
            .as_str()
            .unwrap()
            .contains("geburt required when years_since(geburt) > 3"));
    }

    #[test]
    fn a_process_has_no_schema() {
        let c = parse_content(PackageKind::Process, "[process]\ntitle = \"P\"\n")
            .unwrap_or_else(|_| Content::Process(Default::default()));
        let e = json_schema(
            &manifest("process"),
            &c,
            &DependencyContent::default(),
            "http://x",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("kassel/test is a process package"),
            "{e}"
        );
    }
}
