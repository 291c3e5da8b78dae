//! Rules (Regeln) to conditions: rules are collected where they hang, and
//! those that are plain dependencies ("F… ist nur zu befüllen, wenn F…
//! bejaht wurde") become `shown-when`/`required-when` conditions on the
//! element they name; all others stay text in the README.

use super::*;

impl Importer<'_> {
    pub(super) fn collect_rules(&mut self, owner: &Element, owner_fim: &str, path: &str) {
        let on = if path.is_empty() {
            owner_fim.to_string()
        } else {
            format!("{owner_fim} ({path})")
        };
        for r in owner.children_named("regel") {
            let (id, version) = self.ident(r);
            let fim = fim_label(id.as_deref(), version.as_deref());
            if let Some(existing) = self.rules.iter_mut().find(|x| x.fim == fim && id.is_some()) {
                existing.on.push(on.clone());
                continue;
            }
            let (text_from, textual) = ["freitextRegel", "definition", "beschreibung"]
                .iter()
                .find_map(|n| Some((*n, normalize_space(text(r, n)?))))
                .unzip();
            for c in &r.children {
                let n = c.name.as_str();
                // Of the texts, the one the rule is read from.
                let used = Some(n) == text_from
                    || matches!(
                        n,
                        "identifikation" | "id" | "version" | "name" | "script" | "skript"
                    );
                if !used && !c.is_blank() {
                    self.not_carried
                        .entry(n.to_string())
                        .or_default()
                        .push(fim.clone());
                }
            }
            self.rules.push(Rule {
                fim,
                name: text(r, "name").map(str::to_string),
                text: textual,
                script: text(r, "script")
                    .or_else(|| text(r, "skript"))
                    .map(str::to_string),
                line: r.line,
                on: vec![on.clone()],
                conditions: Vec::new(),
            });
        }
    }

    /// Turns rules that are plain dependencies into conditions; the others
    /// stay text. Returns how many conditions were set.
    pub(super) fn apply_rules(&mut self, items: &mut [Item]) -> usize {
        let mut all_paths: HashSet<String> = HashSet::new();
        for v in self.landed.values() {
            for l in v {
                all_paths.insert(l.path.clone());
            }
        }
        let mut set = 0;
        let mut notes = Vec::new();
        for rule in &mut self.rules {
            let fake = Element {
                name: "regel".into(),
                line: rule.line,
                ..Element::default()
            };
            let Some(dep) = rule.text.as_deref().and_then(dependency) else {
                notes.push((
                    NoteKind::RuleAsText,
                    rule.fim.clone(),
                    None,
                    fake,
                    NoteReason::RuleAsText(RuleGap::NotADependency),
                ));
                continue;
            };
            // One rule may name several dependent elements: each gets the
            // condition, or a note saying why not.
            for target in &dep.targets {
                let outcome = match condition_for(&self.landed, &all_paths, target, &dep.source) {
                    Err(gap) => Err((None, gap)),
                    Ok((path, name, is_group)) => {
                        let expr_text = if dep.negated {
                            format!("!{name}")
                        } else {
                            name
                        };
                        match set_condition(items, &path, &expr_text, is_group) {
                            Ok(keys) => Ok((path, keys, expr_text)),
                            Err(gap) => Err((Some(path), gap)),
                        }
                    }
                };
                match outcome {
                    Ok((path, keys, expr_text)) => {
                        set += 1;
                        notes.push((
                            NoteKind::RuleAsCondition,
                            rule.fim.clone(),
                            Some(path.clone()),
                            fake.clone(),
                            NoteReason::RuleAsCondition {
                                keys,
                                expr: expr_text.clone(),
                            },
                        ));
                        rule.conditions.push((path, keys, expr_text));
                    }
                    Err((path, gap)) => notes.push((
                        NoteKind::RuleAsText,
                        rule.fim.clone(),
                        path,
                        fake.clone(),
                        NoteReason::RuleAsText(gap),
                    )),
                }
            }
        }
        for (kind, fim, path, e, reason) in notes {
            self.note(kind, Some(&fim), path.as_deref(), &e, reason);
        }
        set
    }
}

/// A rule that is a plain dependency: the elements it names are to be
/// filled in only when a yes/no field is answered yes (or no).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dependency {
    /// The FIM ids of the dependent fields and groups.
    pub targets: Vec<String>,
    /// The FIM id of the yes/no field.
    pub source: String,
    /// Filled in when the answer is no.
    pub negated: bool,
}

/// Reads a rule that is a plain dependency: "F… ist nur zu befüllen, wenn
/// F… bejaht wurde" and its usual wordings, with one or several dependent
/// elements ("Die Felder F… und F… sind nur …"), each id possibly followed
/// by its version and its name („…“, "…" or in brackets), and the answer
/// yes or no ("verneint", "mit „Nein“ beantwortet", "nicht angekreuzt").
/// `None` for anything else: a rule that says more than that is not
/// guessed at.
pub(crate) fn dependency(text: &str) -> Option<Dependency> {
    static RE: OnceLock<(regex::Regex, regex::Regex)> = OnceLock::new();
    let (re, ids) = RE.get_or_init(|| {
        let id = r"[FG]\d{8}(?:\d{3})?(?:\s+V?\d+(?:\.\d+)*)?";
        let quoted = r#"(?:\s+(?:„[^“”"]*[“”"]|"[^"]*"|\([^)]*\)))?"#;
        let subject = r"(?:(?:das|die|der)\s+)?(?:(?:daten)?feld(?:er|gruppen?)?\s+|gruppen?\s+)?";
        // An id with its name after it, or both inside the quotes
        // ("F00001028 Krankenversicherungsträger").
        let one = format!(
            r#"{subject}(?:{id}{quoted}|„{id}\s+[^“”"]*[“”"]|"{id}\s+[^"]*")"#
        );
        let targets = format!(r"{one}(?:\s*(?:,|und|sowie)\s+{one})*");
        let fill = r"(?:zu\s+befüllen|auszufüllen|zu\s+füllen|anzugeben|einzublenden|anzuzeigen)";
        let yes = r#"(?:bejaht|mit\s+(?:„ja“|"ja"|ja)\s+beantwortet|angekreuzt|ausgewählt|gesetzt)"#;
        let no = r#"(?:verneint|mit\s+(?:„nein“|"nein"|nein)\s+beantwortet|nicht\s+angekreuzt|nicht\s+ausgewählt|nicht\s+gesetzt)"#;
        let re = regex::Regex::new(&format!(
            r"(?i)^(?P<targets>{targets})\s+(?:ist|sind)\s+nur\s+(?:dann\s+)?{fill}\s*,?\s*(?:wenn|falls)\s+(?P<source>{one})\s+(?:(?P<yes>{yes})|(?P<no>{no}))\s+(?:wurde|worden\s+ist|ist)\.?$"
        ))
        .expect("the dependency pattern compiles");
        // The ids inside the matched parts; a name in quotes may hold
        // anything but an id's shape is all that is taken.
        let ids = regex::Regex::new(
            r#"(?:^|[\s,])([FG]\d{8}(?:\d{3})?)\b|[„"]([FG]\d{8}(?:\d{3})?)\b[^“”"]*[“”"]|„[^“”"]*[“”"]|"[^"]*"|\([^)]*\)"#,
        )
        .expect("the id pattern compiles");
        (re, ids)
    });
    let t = normalize_space(text);
    let c = re.captures(&t)?;
    let found = |part: &str| -> Vec<String> {
        ids.captures_iter(part)
            .filter_map(|m| m.get(1).or(m.get(2)).map(|g| g.as_str().to_string()))
            .collect()
    };
    let targets = found(c.name("targets")?.as_str());
    let source = found(c.name("source")?.as_str());
    match source.as_slice() {
        [s] if s.starts_with('F') && !targets.is_empty() => Some(Dependency {
            targets,
            source: s.clone(),
            negated: c.name("no").is_some(),
        }),
        _ => None,
    }
}

/// The path that gets the condition and its expression text, if the two
/// FIM ids name one element each and the expression reaches the source.
fn condition_for(
    landed: &HashMap<String, Vec<Landed>>,
    all_paths: &HashSet<String>,
    a: &str,
    b: &str,
) -> Result<(String, String, bool), RuleGap> {
    let one = |id: &str| -> Result<&Landed, RuleGap> {
        match landed.get(id).map(Vec::as_slice) {
            Some([l]) => Ok(l),
            Some([]) | None => Err(RuleGap::NotImported { id: id.to_string() }),
            Some(many) => Err(RuleGap::Ambiguous {
                id: id.to_string(),
                times: many.len(),
            }),
        }
    };
    let target = one(a)?;
    let source = one(b)?;
    if source.ty != Some(FieldType::Boolean) {
        return Err(RuleGap::NotBoolean { id: b.to_string() });
    }
    let scope = target.path.rsplit_once('.').map(|(s, _)| s).unwrap_or("");
    let inside = |g: &String| scope == g || scope.starts_with(&format!("{g}."));
    if let Some(g) = source.repeat.iter().find(|g| !inside(g)) {
        return Err(RuleGap::InRepeatableGroup {
            id: b.to_string(),
            group: g.clone(),
        });
    }
    // The shortest name that reaches the source from the target's scope,
    // by the same outward lookup the condition language uses.
    let resolve = |name: &str| -> Option<String> {
        let mut s = scope;
        loop {
            let p = join(s, name);
            if all_paths.contains(&p) {
                return Some(p);
            }
            if s.is_empty() {
                return None;
            }
            s = s.rsplit_once('.').map(|(a, _)| a).unwrap_or("");
        }
    };
    let short = source.path.rsplit('.').next().unwrap_or(&source.path);
    let name = if resolve(short).as_deref() == Some(source.path.as_str()) {
        short.to_string()
    } else if resolve(&source.path).as_deref() == Some(source.path.as_str()) {
        source.path.clone()
    } else {
        return Err(RuleGap::NotNameable {
            id: b.to_string(),
            from: target.path.clone(),
        });
    };
    Ok((target.path.clone(), name, target.ty.is_none()))
}

fn item_mut<'a>(items: &'a mut [Item], path: &str) -> Option<&'a mut Item> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let item = items.iter_mut().find(|i| i.id() == head)?;
    match rest {
        None => Some(item),
        Some(r) => match item {
            Item::Group(g) => item_mut(&mut g.items, r),
            Item::Field(_) => None,
        },
    }
}

fn set_condition(
    items: &mut [Item],
    path: &str,
    expr_text: &str,
    is_group: bool,
) -> Result<ConditionKeys, RuleGap> {
    let cond = || Condition {
        source: expr_text.to_string(),
        expr: expr::parse(expr_text).ok(),
        at: 0,
    };
    match item_mut(items, path) {
        Some(Item::Group(g)) if is_group => {
            if g.shown_when.is_some() {
                return Err(RuleGap::AlreadyConditioned {
                    path: path.to_string(),
                });
            }
            g.shown_when = Some(cond());
            Ok(ConditionKeys::ShownWhen)
        }
        Some(Item::Field(f)) if !is_group => {
            if f.shown_when.is_some() || f.required_when.is_some() {
                return Err(RuleGap::AlreadyConditioned {
                    path: path.to_string(),
                });
            }
            f.shown_when = Some(cond());
            if f.required {
                f.required = false;
                f.required_when = Some(cond());
                Ok(ConditionKeys::ShownAndRequiredWhen)
            } else {
                Ok(ConditionKeys::ShownWhen)
            }
        }
        _ => Err(RuleGap::NotFound {
            path: path.to_string(),
        }),
    }
}
