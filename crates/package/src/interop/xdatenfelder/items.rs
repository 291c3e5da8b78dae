//! The items of the imported package: the `struktur` of a schema or group
//! walked in order, each Datenfeldgruppe becoming a group and each
//! Datenfeld a field (its type, label, and a repeatable group around a
//! field that occurs more than once), with unique ids and the record of
//! where each FIM element landed, which the rules need later.

use super::*;

/// One Datenfeld being read: who it is and where it goes.
struct FieldAt<'x> {
    e: &'x Element,
    fid: Option<String>,
    version: Option<String>,
    fim: String,
    scope: &'x str,
    /// Paths of the repeatable groups around it.
    repeat: &'x [String],
}

impl Importer<'_> {
    /// The items of a group or schema: its `struktur` entries, in order.
    pub(super) fn items(
        &mut self,
        parent: &Element,
        scope: &str,
        repeat: &[String],
        parent_fim: &str,
    ) -> Vec<Item> {
        let mut out = Vec::new();
        let mut used: HashSet<String> = HashSet::new();
        for s in parent.children_named("struktur") {
            for c in &s.children {
                if !matches!(c.name.as_str(), "anzahl" | "enthaelt" | "bezug") && !c.is_blank() {
                    self.not_carried
                        .entry(format!("struktur/{}", c.name))
                        .or_default()
                        .push(parent_fim.to_string());
                }
            }
            let occurs = match s.text_of("anzahl") {
                None => {
                    self.note(
                        NoteKind::Approximated,
                        Some(parent_fim),
                        None,
                        s,
                        NoteReason::NoAnzahl,
                    );
                    Occurs::ONCE
                }
                Some(a) => match Occurs::parse(a) {
                    Ok(o) => o,
                    Err(e) if a.trim_end().ends_with(":0") => {
                        self.note(
                            NoteKind::Dropped,
                            Some(parent_fim),
                            None,
                            s,
                            NoteReason::AnzahlNever {
                                anzahl: a.to_string(),
                                error: e.english,
                            },
                        );
                        continue;
                    }
                    Err(e) => {
                        self.note(
                            NoteKind::Approximated,
                            Some(parent_fim),
                            None,
                            s,
                            NoteReason::BadAnzahl {
                                anzahl: a.to_string(),
                                error: e.english,
                            },
                        );
                        Occurs {
                            min: 0,
                            max: Some(1),
                        }
                    }
                },
            };
            let Some(enthaelt) = s.child("enthaelt") else {
                self.note(
                    NoteKind::Dropped,
                    Some(parent_fim),
                    None,
                    s,
                    NoteReason::StrukturWithoutEnthaelt,
                );
                continue;
            };
            // The legal basis of the element where it is used: one list
            // with the element's own in the package.
            let here = self.legal_basis(s, parent_fim);
            for c in &enthaelt.children {
                let item = match c.name.as_str() {
                    "datenfeld" => self.field(c, occurs, scope, repeat, &mut used),
                    "datenfeldgruppe" => self.group(c, occurs, scope, repeat, &mut used),
                    _ => {
                        self.note(
                            NoteKind::Dropped,
                            Some(parent_fim),
                            None,
                            c,
                            NoteReason::NeitherFieldNorGroup,
                        );
                        None
                    }
                };
                let mut item = item;
                if let Some(item) = item.as_mut().filter(|_| !here.is_empty()) {
                    self.join_legal_basis(item, &here, s);
                }
                out.extend(item);
            }
        }
        out
    }

    /// Adds the `bezug` of a `struktur` to the legal basis of the element
    /// it holds (of the field, for a repeated one), and says so when it
    /// adds something the element does not cite itself.
    fn join_legal_basis(&mut self, item: &mut Item, here: &[LegalBasis], s: &Element) {
        let (list, fim) = match item {
            Item::Group(g) => match g.items.as_mut_slice() {
                [Item::Field(f)] if g.fim.is_none() && f.id == "wert" => {
                    (&mut f.legal_basis, f.fim.as_ref().map(ToString::to_string))
                }
                _ => (&mut g.legal_basis, g.fim.as_ref().map(ToString::to_string)),
            },
            Item::Field(f) => (&mut f.legal_basis, f.fim.as_ref().map(ToString::to_string)),
        };
        let mut added = false;
        for b in here {
            if !list.contains(b) {
                list.push(b.clone());
                added = true;
            }
        }
        if added {
            let id = item.id().to_string();
            self.note(
                NoteKind::Approximated,
                fim.as_deref(),
                Some(&id),
                s,
                NoteReason::StrukturBezugJoined,
            );
        }
    }

    /// A unique id within one group.
    pub(super) fn id_for(&self, name: &str, fallback: &str, used: &mut HashSet<String>) -> String {
        let mut base = slug(name, '_', 48);
        if base.is_empty() {
            base = slug(fallback, '_', 48);
        }
        if !base.starts_with(|c: char| c.is_ascii_lowercase()) {
            base = format!("f_{base}");
        }
        let mut id = base.clone();
        let mut n = 2;
        while !used.insert(id.clone()) {
            id = format!("{base}_{n}");
            n += 1;
        }
        id
    }

    /// The label of an element without `bezeichnungEingabe`: its FIM name
    /// (reported), else its id.
    pub(super) fn label_from_name(
        &mut self,
        e: &Element,
        name: &str,
        id: &str,
        fim: &str,
        path: &str,
    ) -> String {
        if name.is_empty() {
            return id.to_string();
        }
        self.note(
            NoteKind::Approximated,
            Some(fim),
            Some(path),
            e,
            NoteReason::LabelFromName,
        );
        name.to_string()
    }

    pub(super) fn land(&mut self, id: Option<&str>, landed: Landed) {
        if let Some(id) = id {
            self.landed.entry(id.to_string()).or_default().push(landed);
        }
    }

    pub(super) fn group(
        &mut self,
        e: &Element,
        occurs: Occurs,
        scope: &str,
        repeat: &[String],
        used: &mut HashSet<String>,
    ) -> Option<Item> {
        let (fid, version) = self.ident(e);
        let fim = fim_label(fid.as_deref(), version.as_deref());
        let name = text(e, "name").unwrap_or("");
        let id = self.id_for(name, fid.as_deref().unwrap_or("gruppe"), used);
        let path = join(scope, &id);
        let label = match text(e, "bezeichnungEingabe") {
            Some(l) => l.to_string(),
            None => self.label_from_name(e, name, &id, &fim, &path),
        };
        let mut inner = repeat.to_vec();
        if occurs.is_repeatable() {
            inner.push(path.clone());
        }
        // A harmonised group the registry holds as a field group package
        // is included, not copied: its fields and rules are the package's.
        let shared = fid
            .clone()
            .zip(version.clone())
            .and_then(|key| self.opts.fieldgroup_packages.get(&key));
        if let Some(found) = shared {
            self.package_deps
                .insert(found.package.clone(), found.version.clone());
            let fim_ref = self.fim_ref(e, fid.as_deref(), version.as_deref(), &fim);
            self.groups += 1;
            return Some(Item::Group(Group {
                id,
                at: 0,
                label: Some(de(&label)),
                help: text(e, "hilfetextEingabe").map(de),
                occurs,
                include: Some(Spanned::new(0..0, found.package.clone())),
                shown_when: None,
                legal_basis: self.legal_basis(e, &fim),
                fim: fim_ref,
                items: Vec::new(),
            }));
        }
        self.collect_rules(e, &fim, &path);
        let items = self.items(e, &path, &inner, &fim);
        self.scan_rest(e, &fim, &["struktur"]);
        if items.is_empty() {
            self.note(
                NoteKind::Dropped,
                Some(&fim),
                Some(&path),
                e,
                NoteReason::EmptyGroup,
            );
            used.remove(&id);
            return None;
        }
        let fim_ref = self.fim_ref(e, fid.as_deref(), version.as_deref(), &fim);
        self.land(
            fid.as_deref(),
            Landed {
                path: path.clone(),
                ty: None,
                repeat: inner,
            },
        );
        self.groups += 1;
        Some(Item::Group(Group {
            id,
            at: 0,
            label: Some(de(&label)),
            help: text(e, "hilfetextEingabe").map(de),
            occurs,
            include: None,
            shown_when: None,
            legal_basis: self.legal_basis(e, &fim),
            fim: fim_ref,
            items,
        }))
    }

    pub(super) fn field(
        &mut self,
        e: &Element,
        occurs: Occurs,
        scope: &str,
        repeat: &[String],
        used: &mut HashSet<String>,
    ) -> Option<Item> {
        let (fid, version) = self.ident(e);
        let fim = fim_label(fid.as_deref(), version.as_deref());
        let name = text(e, "name").unwrap_or("");
        let id = self.id_for(name, fid.as_deref().unwrap_or("feld"), used);
        // A repeated field becomes a repeatable group around it.
        let wrapped = occurs.is_repeatable();
        let path = if wrapped {
            join(&join(scope, &id), "wert")
        } else {
            join(scope, &id)
        };
        let feldart = e
            .child("feldart")
            .and_then(code_of)
            .unwrap_or("input")
            .to_string();
        let datentyp = e
            .child("datentyp")
            .and_then(code_of)
            .unwrap_or("text")
            .to_string();
        let label_text = text(e, "bezeichnungEingabe").map(str::to_string);
        self.collect_rules(e, &fim, &path);
        self.scan_rest(e, &fim, &FIELD_MAPPED);
        let at = FieldAt {
            e,
            fid,
            version,
            fim,
            scope,
            repeat,
        };

        if feldart == "hidden" {
            self.note(
                NoteKind::Dropped,
                Some(&at.fim),
                None,
                e,
                NoteReason::HiddenField,
            );
            used.remove(&id);
            return None;
        }
        if feldart == "label" {
            let shown = text(e, "inhalt")
                .map(str::to_string)
                .or(label_text.clone())
                .unwrap_or_else(|| name.to_string());
            if shown.is_empty() {
                self.note(
                    NoteKind::Dropped,
                    Some(&at.fim),
                    None,
                    e,
                    NoteReason::EmptyLabel,
                );
                used.remove(&id);
                return None;
            }
            return Some(self.static_text(&at, id, &shown));
        }
        let locked = feldart == "locked";
        if !locked && !matches!(feldart.as_str(), "input" | "select") {
            self.note(
                NoteKind::Approximated,
                Some(&at.fim),
                Some(&path),
                e,
                NoteReason::UnknownFeldart {
                    feldart: feldart.clone(),
                },
            );
        }

        let ty = self.field_type(&at, &datentyp, &path);
        let (ty, codelist) = if feldart == "select" {
            self.select(&at, &datentyp, &id, &path)
        } else {
            let lists = ["codelisteReferenz", "werte"]
                .iter()
                .filter_map(|n| e.child(n).filter(|c| !c.is_blank()));
            for list in lists {
                self.note(
                    NoteKind::Dropped,
                    Some(&at.fim),
                    Some(&path),
                    list,
                    NoteReason::CodelistOnInput,
                );
            }
            (ty, None)
        };
        let constraints = self.constraints(e, ty, &at.fim, &path);
        let label =
            label_text.unwrap_or_else(|| self.label_from_name(e, name, &id, &at.fim, &path));
        let fim_ref = self.fim_ref(e, at.fid.as_deref(), at.version.as_deref(), &at.fim);
        // A locked field with content that fits it: that value, filled in
        // and read-only; any other an ordinary input, as reported.
        let fixed = text(e, "inhalt")
            .filter(|v| !wrapped && crate::model::fixed_fits(ty, &constraints, v) == Some(true))
            .map(str::to_string)
            .filter(|_| locked);
        if let Some(inhalt) = e.child("inhalt").filter(|_| !locked) {
            if let Some(v) = text(e, "inhalt") {
                self.note(
                    NoteKind::Dropped,
                    Some(&at.fim),
                    Some(&path),
                    inhalt,
                    NoteReason::InhaltNotKept {
                        value: v.to_string(),
                    },
                );
            }
        }
        if locked && fixed.is_none() {
            self.note(
                NoteKind::Approximated,
                Some(&at.fim),
                Some(&path),
                e,
                NoteReason::LockedField,
            );
        }
        self.fields += 1;
        let field = Field {
            id: if wrapped { "wert".into() } else { id.clone() },
            at: 0,
            ty,
            label: Some(de(&label)),
            help: text(e, "hilfetextEingabe").map(de),
            text: None,
            required: wrapped || occurs.min >= 1,
            shown_when: None,
            required_when: None,
            constraints,
            codelist,
            examples: Vec::new(),
            fixed,
            legal_basis: self.legal_basis(e, &at.fim),
            fim: fim_ref,
        };
        if !wrapped {
            self.land(
                at.fid.as_deref(),
                Landed {
                    path,
                    ty: Some(ty),
                    repeat: repeat.to_vec(),
                },
            );
            return Some(Item::Field(field));
        }
        Some(self.repeatable(&at, field, occurs, id, &label))
    }

    /// A label (feldart label): static text, no input.
    fn static_text(&mut self, at: &FieldAt, id: String, shown: &str) -> Item {
        let path = join(at.scope, &id);
        self.fields += 1;
        let fim_ref = self.fim_ref(at.e, at.fid.as_deref(), at.version.as_deref(), &at.fim);
        self.land(
            at.fid.as_deref(),
            Landed {
                path,
                ty: Some(FieldType::StaticText),
                repeat: at.repeat.to_vec(),
            },
        );
        Item::Field(Field {
            id,
            at: 0,
            ty: FieldType::StaticText,
            label: None,
            help: None,
            text: Some(de(shown)),
            required: false,
            shown_when: None,
            required_when: None,
            constraints: Constraints::default(),
            codelist: None,
            examples: Vec::new(),
            fixed: None,
            legal_basis: self.legal_basis(at.e, &at.fim),
            fim: fim_ref,
        })
    }

    /// Our field type for a `datentyp`; what has no exact match is reported.
    fn field_type(&mut self, at: &FieldAt, datentyp: &str, path: &str) -> FieldType {
        let (e, fim) = (at.e, at.fim.as_str());
        match datentyp {
            "text" => FieldType::Text,
            "text_latin" => {
                self.note(
                    NoteKind::Approximated,
                    Some(fim),
                    Some(path),
                    e,
                    NoteReason::TextLatin,
                );
                FieldType::Text
            }
            "date" => FieldType::Date,
            "time" => FieldType::Time,
            "datetime" => FieldType::DateTime,
            "bool" => FieldType::Boolean,
            "num" => FieldType::Decimal,
            "num_int" => FieldType::Integer,
            "num_currency" => FieldType::Money,
            "file" => FieldType::File,
            "obj" => {
                self.note(
                    NoteKind::Approximated,
                    Some(fim),
                    Some(path),
                    e,
                    NoteReason::ObjAsFile,
                );
                FieldType::File
            }
            other => {
                self.note(
                    NoteKind::Approximated,
                    Some(fim),
                    Some(path),
                    e,
                    NoteReason::UnknownDatentyp {
                        datentyp: other.to_string(),
                    },
                );
                FieldType::Text
            }
        }
    }

    /// A select: its code list, or a text field when there is none to
    /// read.
    fn select(
        &mut self,
        at: &FieldAt,
        datentyp: &str,
        id: &str,
        path: &str,
    ) -> (FieldType, Option<Spanned<String>>) {
        let (e, fim) = (at.e, at.fim.as_str());
        match self.codelist_for(e, id, fim) {
            Ok(cl) => {
                if datentyp != "text" {
                    self.note(
                        NoteKind::Approximated,
                        Some(fim),
                        Some(path),
                        e,
                        NoteReason::SelectDatentyp {
                            datentyp: datentyp.to_string(),
                        },
                    );
                }
                (FieldType::Select, Some(Spanned::new(0..0, cl)))
            }
            Err(gap) => {
                self.note(
                    NoteKind::Approximated,
                    Some(fim),
                    Some(path),
                    e,
                    NoteReason::SelectAsText(gap),
                );
                (FieldType::Text, None)
            }
        }
    }

    /// A field that occurs more than once, inside the repeatable group that
    /// stands in for it.
    fn repeatable(
        &mut self,
        at: &FieldAt,
        field: Field,
        occurs: Occurs,
        id: String,
        label: &str,
    ) -> Item {
        let group_path = join(at.scope, &id);
        let mut inner = at.repeat.to_vec();
        inner.push(group_path.clone());
        self.note(
            NoteKind::Approximated,
            Some(&at.fim),
            Some(&group_path),
            at.e,
            NoteReason::RepeatedField {
                occurs,
                group: id.clone(),
            },
        );
        // Rules name the FIM field; for conditions the group stands in.
        self.land(
            at.fid.as_deref(),
            Landed {
                path: group_path,
                ty: None,
                repeat: inner,
            },
        );
        self.groups += 1;
        Item::Group(Group {
            id,
            at: 0,
            label: Some(de(label)),
            help: None,
            occurs,
            include: None,
            shown_when: None,
            legal_basis: Vec::new(),
            fim: None,
            items: vec![Item::Field(field)],
        })
    }
}
