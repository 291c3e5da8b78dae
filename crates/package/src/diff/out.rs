//! The list of changes as it is written: one change at a time, with the
//! shorthands every part of the diff uses.

use super::{Area, Change, ChangeKind, Level};
use crate::model::{FimRef, LegalBasis, Text};

pub(super) struct Out {
    pub(super) changes: Vec<Change>,
}

impl Out {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn push(
        &mut self,
        area: Area,
        path: &str,
        kind: ChangeKind,
        property: Option<&str>,
        old: Option<String>,
        new: Option<String>,
        level: Level,
        reason: impl Into<String>,
    ) {
        self.changes.push(Change {
            area,
            path: path.to_string(),
            kind,
            property: property.map(str::to_string),
            old,
            new,
            level,
            reason: reason.into(),
        });
    }
    pub(super) fn added(
        &mut self,
        area: Area,
        path: &str,
        level: Level,
        reason: impl Into<String>,
    ) {
        self.push(
            area,
            path,
            ChangeKind::Added,
            None,
            None,
            None,
            level,
            reason,
        );
    }
    pub(super) fn removed(
        &mut self,
        area: Area,
        path: &str,
        level: Level,
        reason: impl Into<String>,
    ) {
        self.push(
            area,
            path,
            ChangeKind::Removed,
            None,
            None,
            None,
            level,
            reason,
        );
    }
    /// A property that changed, if it did.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn prop<T: PartialEq>(
        &mut self,
        area: Area,
        path: &str,
        property: &str,
        old: &T,
        new: &T,
        show: impl Fn(&T) -> Option<String>,
        level: Level,
        reason: &str,
    ) {
        if old != new {
            self.push(
                area,
                path,
                ChangeKind::Changed,
                Some(property),
                show(old),
                show(new),
                level,
                reason,
            );
        }
    }
    /// Label, help and other wording: a patch.
    pub(super) fn text(
        &mut self,
        area: Area,
        path: &str,
        property: &str,
        old: &Option<Text>,
        new: &Option<Text>,
    ) {
        let de = |t: &Option<Text>| t.as_ref().map(|t| t.de.clone());
        let en = |t: &Option<Text>| t.as_ref().and_then(|t| t.en.clone());
        self.prop(
            area,
            path,
            property,
            &de(old),
            &de(new),
            |v| v.clone(),
            Level::Patch,
            "wording only",
        );
        self.prop(
            area,
            path,
            &format!("{property}-en"),
            &en(old),
            &en(new),
            |v| v.clone(),
            Level::Patch,
            "wording only",
        );
    }
    pub(super) fn fim(
        &mut self,
        area: Area,
        path: &str,
        old: &Option<FimRef>,
        new: &Option<FimRef>,
    ) {
        let id = |f: &Option<FimRef>| f.as_ref().map(|f| f.id.clone());
        let ver = |f: &Option<FimRef>| f.as_ref().and_then(|f| f.version.clone());
        match (id(old), id(new)) {
            (Some(a), Some(b)) if a != b => self.push(
                area,
                path,
                ChangeKind::Changed,
                Some("fim-id"),
                Some(a),
                Some(b),
                Level::Major,
                "it now stands for a different FIM element, so receivers map it differently",
            ),
            (a, b) if a != b => self.push(
                area,
                path,
                ChangeKind::Changed,
                Some("fim-id"),
                a,
                b,
                Level::Minor,
                "FIM reference added or removed",
            ),
            _ => self.prop(
                area,
                path,
                "fim-version",
                &ver(old),
                &ver(new),
                |v| v.clone(),
                Level::Minor,
                "follows a newer FIM version",
            ),
        }
        type Get = fn(&FimRef) -> &Option<String>;
        let described: [(&str, Get); 4] = [
            ("fim-status", |f| &f.status),
            ("fim-schemaelementart", |f| &f.schemaelementart),
            ("fim-definition", |f| &f.definition),
            ("fim-help-output", |f| &f.help_output),
        ];
        for (property, get) in described {
            let value = |f: &Option<FimRef>| f.as_ref().and_then(|f| get(f).clone());
            self.prop(
                area,
                path,
                property,
                &value(old),
                &value(new),
                |v| v.clone(),
                Level::Patch,
                "what FIM says of the element; submissions are the same",
            );
        }
    }
    /// The norms cited: documentation, a patch.
    pub(super) fn legal_basis(
        &mut self,
        area: Area,
        path: &str,
        old: &[LegalBasis],
        new: &[LegalBasis],
    ) {
        self.prop(
            area,
            path,
            "legal-basis",
            &old,
            &new,
            |v| {
                Some(
                    v.iter()
                        .map(|b| b.text.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            },
            Level::Patch,
            "documentation only",
        );
    }
}
