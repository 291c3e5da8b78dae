//! What a field may hold: the code list of a select (inline values or an
//! XRepository reference, shared between fields) and the constraints read
//! from `praezisierung`, `maxSize` and `mediaType`; whatever does not fit
//! the field's type is reported and left out.

use super::*;

impl Importer<'_> {
    /// The code list of a select field: inline values (3.0.0 `werte`) or a
    /// reference to the XRepository by URN and version.
    pub(super) fn codelist_for(
        &mut self,
        e: &Element,
        field_id: &str,
        fim: &str,
    ) -> Result<String, CodelistGap> {
        if let Some(werte) = e.child("werte").filter(|w| !w.is_blank()) {
            let mut codes: Vec<Code> = Vec::new();
            for w in werte.children_named("wert") {
                // A code's help text has no place in a code list of ours.
                if text(w, "hilfe").is_some() {
                    self.not_carried
                        .entry("wert/hilfe".into())
                        .or_default()
                        .push(fim.to_string());
                }
                let Some(code) = w.text_of("code") else {
                    continue;
                };
                if codes.iter().any(|c| c.code == code) {
                    self.note(
                        NoteKind::Dropped,
                        Some(fim),
                        None,
                        w,
                        NoteReason::DuplicateCode {
                            code: code.to_string(),
                        },
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
                return Err(CodelistGap::NoCodes);
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
        // The list is labelled by the field, as an inline one is: the
        // list's own name and XDatenfelder 2.0 id have no place in 3.0.0,
        // and the export must read back the same.
        let label = text(e, "bezeichnungEingabe")
            .or_else(|| text(e, "name"))
            .map(str::to_string);
        let (urn, version, own_name) = if let Some(r) = e.child("codelisteReferenz") {
            let g = r.child("genericodeIdentification").unwrap_or(r);
            (
                g.text_of("canonicalIdentification").map(str::to_string),
                g.text_of("version").map(str::to_string),
                r.child("identifikation")
                    .filter(|i| i.text_of("id").is_some())
                    .map(|_| "codelisteReferenz/identifikation"),
            )
        } else if let Some(c) = e.child("codeliste") {
            (
                c.text_of("kennung").map(str::to_string),
                c.text_of("version").map(str::to_string),
                ["name", "id"]
                    .iter()
                    .any(|n| c.text_of(n).is_some())
                    .then_some("codeliste/name"),
            )
        } else {
            return Err(CodelistGap::NoCodelist);
        };
        let derived = e
            .child("codelisteReferenz")
            .map(|r| r.child("genericodeIdentification").unwrap_or(r))
            .and_then(|g| g.text_of("canonicalVersionUri"));
        if derived.is_some() {
            // Named by URN and version, as XRepository does; its own
            // version URI is not kept.
            self.not_carried
                .entry("canonicalVersionUri".into())
                .or_default()
                .push(fim.to_string());
        }
        if let Some(element) = own_name {
            self.not_carried
                .entry(element.to_string())
                .or_default()
                .push(fim.to_string());
        }
        let Some(urn) = urn.filter(|u| u.starts_with("urn:") && !u.contains(char::is_whitespace))
        else {
            return Err(CodelistGap::NoUrn { list: label });
        };
        let Some(version) = version else {
            return Err(CodelistGap::NoVersion { urn });
        };
        if let Some(id) = self.xrepo_lists.get(&(urn.clone(), version.clone())) {
            return Ok(id.clone());
        }
        if let Some(known) = &self.opts.codelist_packages {
            if let Some(found) = known.get(&(urn.clone(), version.clone())) {
                self.package_deps
                    .insert(found.package.clone(), found.version.clone());
                return Ok(found.package.clone());
            }
            self.note(
                NoteKind::Approximated,
                Some(fim),
                None,
                e,
                NoteReason::CodelistNotInRegistry {
                    urn: urn.clone(),
                    version: version.clone(),
                },
            );
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
    pub(super) fn constraints(
        &mut self,
        e: &Element,
        ty: FieldType,
        fim: &str,
        path: &str,
    ) -> Constraints {
        let mut c = Constraints::default();
        for m in e.children_named("mediaType") {
            let Some(t) = m.trimmed() else { continue };
            if ty == FieldType::File {
                c.media_types.push(t.to_ascii_lowercase());
            } else {
                let why = NoteReason::FileOnlyForType {
                    key: "mediaType".into(),
                    value: t.to_string(),
                    ty,
                };
                self.note(NoteKind::Dropped, Some(fim), Some(path), m, why);
            }
        }
        if let Some(m) = e.child("maxSize") {
            let v = m.trimmed().unwrap_or_default();
            match v.parse::<u64>().ok().filter(|n| *n > 0) {
                _ if v.is_empty() => {}
                Some(n) if ty == FieldType::File => c.max_size = Some(n),
                Some(_) => {
                    let why = NoteReason::FileOnlyForType {
                        key: "maxSize".into(),
                        value: v.to_string(),
                        ty,
                    };
                    self.note(NoteKind::Dropped, Some(fim), Some(path), m, why);
                }
                None => {
                    let why = NoteReason::NotANumber {
                        key: "maxSize".into(),
                        value: v.to_string(),
                    };
                    self.note(NoteKind::Dropped, Some(fim), Some(path), m, why);
                }
            }
        }
        let Some(p) = e.child("praezisierung") else {
            return c;
        };
        let given = self.given_constraints(p, fim, path);
        for (k, v) in given {
            let v = v.trim().to_string();
            if v.is_empty() {
                continue;
            }
            let refuse = |why: NoteReason, this: &mut Self| {
                this.note(NoteKind::Dropped, Some(fim), Some(path), p, why);
            };
            match k.as_str() {
                "minLength" | "maxLength" => {
                    if !ty.is_textual() {
                        refuse(
                            NoteReason::LengthForType {
                                key: k.clone(),
                                value: v.clone(),
                                ty,
                            },
                            self,
                        );
                        continue;
                    }
                    match v.parse::<u64>() {
                        Ok(n) if k == "minLength" => c.min_length = Some(n),
                        Ok(n) => c.max_length = Some(n),
                        Err(_) => refuse(
                            NoteReason::NotANumber {
                                key: k.clone(),
                                value: v.clone(),
                            },
                            self,
                        ),
                    }
                }
                "minValue" | "maxValue" => {
                    let bound = if ty.is_numeric() {
                        match v.replace(',', ".").parse::<f64>() {
                            Ok(n) if ty == FieldType::Integer && n.fract() != 0.0 => {
                                refuse(
                                    NoteReason::NotWhole {
                                        key: k.clone(),
                                        value: v.clone(),
                                    },
                                    self,
                                );
                                None
                            }
                            Ok(n) if n.is_finite() => Some(Bound::Number(n)),
                            _ => {
                                refuse(
                                    NoteReason::NotANumber {
                                        key: k.clone(),
                                        value: v.clone(),
                                    },
                                    self,
                                );
                                None
                            }
                        }
                    } else if matches!(ty, FieldType::Date | FieldType::DateTime) && is_date(&v) {
                        Some(Bound::Date(v.clone()))
                    } else {
                        refuse(
                            NoteReason::BoundForType {
                                key: k.clone(),
                                value: v.clone(),
                                ty,
                            },
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
                        refuse(NoteReason::PatternForType { ty }, self);
                    } else if regex_syntax::ParserBuilder::new()
                        .build()
                        .parse(&v)
                        .is_err()
                    {
                        refuse(NoteReason::UnsupportedPattern { pattern: v }, self);
                    } else {
                        c.pattern = Some(v);
                    }
                }
                other => refuse(
                    NoteReason::UnknownConstraint {
                        name: other.to_string(),
                    },
                    self,
                ),
            }
        }
        self.drop_contradictions(&mut c, p, fim, path);
        c
    }

    /// The constraints of a `praezisierung`: its attributes and the JSON
    /// object in its text.
    fn given_constraints(&mut self, p: &Element, fim: &str, path: &str) -> Vec<(String, String)> {
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
                    NoteReason::PraezisierungNotJson {
                        text: t.to_string(),
                    },
                ),
            }
        }
        given
    }

    /// Bounds that contradict each other are both dropped, not guessed at;
    /// a maxLength below the pattern's shortest match is dropped (the
    /// pattern says the shape exactly).
    fn drop_contradictions(&mut self, c: &mut Constraints, p: &Element, fim: &str, path: &str) {
        let shortest = c.pattern.as_deref().and_then(shortest_match);
        if let (Some(pattern), Some(shortest), Some(max)) = (&c.pattern, shortest, c.max_length) {
            if shortest as u64 > max {
                self.note(
                    NoteKind::Dropped,
                    Some(fim),
                    Some(path),
                    p,
                    NoteReason::PatternLongerThanMax {
                        pattern: pattern.clone(),
                        shortest,
                        max,
                    },
                );
                c.max_length = None;
            }
        }
        if let (Some(a), Some(b)) = (c.min_length, c.max_length) {
            if a > b {
                self.note(
                    NoteKind::Dropped,
                    Some(fim),
                    Some(path),
                    p,
                    NoteReason::LengthContradiction { min: a, max: b },
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
                    NoteReason::BoundContradiction {
                        min: a.to_string(),
                        max: b.to_string(),
                    },
                );
                c.min = None;
                c.max = None;
            }
        }
    }
}

/// The fewest characters a pattern matches, when it parses.
fn shortest_match(pattern: &str) -> Option<usize> {
    use regex_syntax::hir::{Hir, HirKind};
    fn walk(h: &Hir) -> usize {
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => 0,
            HirKind::Literal(l) => String::from_utf8_lossy(&l.0).chars().count(),
            HirKind::Class(_) => 1,
            HirKind::Repetition(r) => (r.min as usize).saturating_mul(walk(&r.sub)),
            HirKind::Capture(c) => walk(&c.sub),
            HirKind::Concat(parts) => parts.iter().map(walk).fold(0, usize::saturating_add),
            HirKind::Alternation(parts) => parts.iter().map(walk).min().unwrap_or(0),
        }
    }
    regex_syntax::Parser::new()
        .parse(pattern)
        .ok()
        .map(|h| walk(&h))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shortest_match_of_a_pattern_in_characters() {
        for (p, n) in [
            ("[0-9]{5}", Some(5)),
            ("ä{3}", Some(3)),
            ("(ab|c)d?", Some(1)),
            ("[A-Z]{1,2}-[0-9]+", Some(3)),
            ("x*", Some(0)),
            ("^KS$", Some(2)),
            ("(", None),
        ] {
            assert_eq!(super::shortest_match(p), n, "{p}");
        }
    }
}
