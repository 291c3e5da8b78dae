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
use super::model::{read_fim, read_text, FimRef, Text};
use super::spanned::{Sink, Suggest, Table};

#[derive(Debug, Clone, PartialEq)]
pub struct Fieldgroup {
    pub label: Option<Text>,
    pub help: Option<Text>,
    pub fim: Option<FimRef>,
    pub body: Body,
}

const FILE_KEYS: [&str; 4] = ["fieldgroup", "field", "group", "codelist"];
const KEYS: [&str; 6] = [
    "label",
    "label-en",
    "help",
    "help-en",
    "fim-id",
    "fim-version",
];

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
                fg.fim = read_fim(&mut t, 'G', sink);
                t.finish(&KEYS, sink);
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
