//! Field groups (`fieldgroup.toml`): reusable groups of fields such as
//! "Anschrift Inland" or "Natürliche Person" that forms include by
//! reference (`include = "fim/anschrift-inland"` on a `[[group]]`).
//!
//! ```toml
//! [fieldgroup]
//! label = "Anschrift Inland"
//! fim-id = "G60000000086"
//! fim-version = "1.3"
//!
//! [[field]]
//! id = "postleitzahl"
//! type = "postal-code"
//! label = "Postleitzahl"
//! required = true
//! fim-id = "F60000000263"
//! ```

use super::body::Body;
use super::deps::Dependencies;
use super::diagnostics::{Hint, Subject, SubjectKind};
use super::form::{check_body, read_body};
use super::manifest::Manifest;
use super::model::{
    finish_described, read_fim, read_legal_basis, read_text, FimRef, LegalBasis, Text,
};
use super::spanned::{Sink, Suggest, Table};

#[derive(Debug, Clone, PartialEq)]
pub struct Fieldgroup {
    pub label: Option<Text>,
    pub help: Option<Text>,
    pub legal_basis: Vec<LegalBasis>,
    pub fim: Option<FimRef>,
    pub body: Body,
}

const FILE_KEYS: [&str; 4] = ["fieldgroup", "field", "group", "codelist"];
const KEYS: [&str; 4] = ["label", "label-en", "help", "help-en"];

pub fn read(sink: &mut Sink) -> Option<Fieldgroup> {
    let root = match sink.parse_root() {
        Ok(r) => r,
        Err(d) => {
            sink.found.push(d);
            return None;
        }
    };
    let mut top = Table::new(&root, Subject::new(SubjectKind::File, "fieldgroup.toml"))
        .expect("the root is a table");
    let mut fg = Fieldgroup {
        label: None,
        help: None,
        legal_basis: Vec::new(),
        fim: None,
        body: Body::default(),
    };
    match top.take("fieldgroup") {
        None => {
            sink.error(
                "fieldgroup.missing_table",
                0,
                "fieldgroup.toml has no [fieldgroup] table",
            )
            .suggest(Hint::new(
                "start-fieldgroup",
                "start with [fieldgroup] and label = \"…\"",
            ));
        }
        Some(node) => {
            if let Some(mut t) =
                Table::expect(node, Subject::new(SubjectKind::Table, "fieldgroup"), sink)
            {
                fg.label = read_text(&mut t, "label", sink);
                if fg.label.is_none() {
                    sink.error(
                        "fieldgroup.missing_label",
                        t.at,
                        "[fieldgroup] has no label",
                    );
                }
                fg.help = read_text(&mut t, "help", sink);
                fg.legal_basis = read_legal_basis(&mut t, sink);
                fg.fim = read_fim(&mut t, 'G', sink);
                finish_described(t, &KEYS, sink);
            }
        }
    }
    fg.body = read_body(&mut top, sink);
    top.finish(&FILE_KEYS, sink);
    if fg.body.items.is_empty() && !sink.has_errors() {
        sink.error("fieldgroup.empty", 0, "the field group has no fields");
    }
    Some(fg)
}

pub fn check(fg: &Fieldgroup, manifest: &Manifest, deps: &dyn Dependencies, sink: &mut Sink) {
    check_body(&fg.body, manifest, deps, sink);
}

#[cfg(test)]
mod tests {
    use super::super::content::tests::{check_src, codes};
    use super::super::content::DependencyContent;

    /// The legal basis and FIM's description of an element: read, written
    /// back the same, and refused with a code when malformed.
    #[test]
    fn legal_basis_and_fim_status() {
        let src = r#"[fieldgroup]
label = "Anschrift"
legal-basis = ["§ 1 ProbeG", { text = "§ 2 ProbeG", link = "https://example.org/p2" }]
fim-id = "G60000000086"
fim-status = "3"
fim-schemaelementart = "HAR"
fim-definition = "Wo jemand wohnt."
fim-help-output = "Für den Druck"

[[field]]
id = "plz"
type = "postal-code"
label = "PLZ"
legal-basis = ["§ 3 ProbeG"]
fim-id = "F60000000263"
fim-status = "6"
"#;
        let d = check_src("fieldgroup", src, &[], &DependencyContent::default());
        assert!(d.is_empty(), "{d:?}");
        let Some(crate::content::Content::Fieldgroup(fg)) =
            crate::content::parse_content(crate::manifest::PackageKind::Fieldgroup, src).ok()
        else {
            panic!("does not parse")
        };
        assert_eq!(fg.legal_basis.len(), 2);
        assert_eq!(
            fg.legal_basis[1].link.as_deref(),
            Some("https://example.org/p2")
        );
        let fim = fg.fim.as_ref().unwrap();
        assert_eq!(fim.status_label().as_deref(), Some("3 Entwurf"));
        assert!(fim.is_unreleased());
        assert_eq!(fim.definition.as_deref(), Some("Wo jemand wohnt."));
        let content = crate::content::Content::Fieldgroup(fg.clone());
        let unreleased: Vec<String> = content.unreleased().into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            unreleased,
            [""],
            "the field (6) is released, the group (3) not"
        );
        // Written back, it reads the same.
        let written = crate::write::write_content(&content);
        let again =
            crate::content::parse_content(crate::manifest::PackageKind::Fieldgroup, &written)
                .unwrap();
        assert_eq!(
            crate::write::without_positions(&again),
            crate::write::without_positions(&content)
        );

        for (bad, code) in [
            ("legal-basis = \"§ 1\"", "model.invalid_legal_basis"),
            ("legal-basis = [1]", "model.invalid_legal_basis"),
            (
                "legal-basis = [{ text = \"§ 1\", link = \"javascript:alert(1)\" }]",
                "model.invalid_legal_basis",
            ),
            (
                "legal-basis = [{ link = \"https://example.org\" }]",
                "model.invalid_legal_basis",
            ),
            (
                "legal-basis = [{ text = \"§ 1\", seite = 3 }]",
                "model.invalid_legal_basis",
            ),
            ("fim-status = \"9\"", "fim.invalid_code"),
            ("fim-status = \"aktiv\"", "fim.invalid_code"),
            ("fim-schemaelementart = \"XYZ\"", "fim.invalid_code"),
        ] {
            let src = format!("[fieldgroup]\nlabel = \"A\"\nfim-id = \"G60000000086\"\n{bad}\n[[field]]\nid = \"a\"\ntype = \"text\"\nlabel = \"A\"\n");
            let d = check_src("fieldgroup", &src, &[], &DependencyContent::default());
            assert_eq!(codes(&d), [code], "{bad}");
        }
        let src = "[fieldgroup]\nlabel = \"A\"\n[[field]]\nid = \"a\"\ntype = \"text\"\nlabel = \"A\"\nfim-status = \"6\"\nfim-definition = \"x\"\n";
        let d = check_src("fieldgroup", src, &[], &DependencyContent::default());
        assert_eq!(codes(&d), ["fim.meta_without_id", "fim.meta_without_id"]);
        assert!(
            d[0].message.contains("\"fim-status\" but no \"fim-id\""),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn fieldgroup_rules() {
        let src = "[fieldgroup]\nlabel = \"Anschrift\"\nfim-id = \"F60000000086\"\n[[field]]\nid = \"plz\"\ntype = \"postal-code\"\nlabel = \"PLZ\"\nfim-id = \"F6000\"\n";
        let d = check_src("fieldgroup", src, &[], &DependencyContent::default());
        assert_eq!(codes(&d), ["fim.wrong_kind", "fim.invalid_id"]);
        let d = check_src(
            "fieldgroup",
            "[fieldgroup]\n",
            &[],
            &DependencyContent::default(),
        );
        assert_eq!(codes(&d), ["fieldgroup.missing_label"]);
        let d = check_src(
            "fieldgroup",
            "[[field]]\nid = \"a\"\ntype = \"text\"\nlabel = \"A\"\n",
            &[],
            &DependencyContent::default(),
        );
        assert_eq!(codes(&d), ["fieldgroup.missing_table"]);
        let d = check_src(
            "fieldgroup",
            "[fieldgroup]\nlabel = \"X\"\n",
            &[],
            &DependencyContent::default(),
        );
        assert_eq!(codes(&d), ["fieldgroup.empty"]);
    }
}
