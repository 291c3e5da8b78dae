//! The index's fields, and the codes of the closed vocabularies kept in
//! fast fields.

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST,
    INDEXED, STORED, STRING,
};

use super::tokenizer::{FOLDED, PARTS, WORDS};
use gemeinwerk_package::manifest::{PackageKind, THEMENFELDER};

#[derive(Clone)]
pub(super) struct Fields {
    pub(super) id: Field,
    pub(super) namespace: Field,
    pub(super) full_name: Field,
    pub(super) kind: Field,
    pub(super) themenfeld: Field,
    pub(super) vertrauensniveau: Field,
    pub(super) deprecated: Field,
    pub(super) downloads: Field,
    pub(super) forks: Field,
    pub(super) updated: Field,
    pub(super) keys: Field,
    /// Name, title and keywords: what a package is called.
    pub(super) primary: Field,
    /// Description and publisher.
    pub(super) secondary: Field,
    /// Labels and README.
    pub(super) content: Field,
    /// Compound parts of name, title, keywords and description.
    pub(super) parts: Field,
    /// Folded, unstemmed words of name, title and keywords: typo tolerance
    /// and typeahead prefixes work on what people type, not on stems.
    pub(super) folded: Field,
    /// The hit as JSON, and the texts snippets are cut from.
    pub(super) stored: Field,
    pub(super) snippet_text: Field,
}

pub(super) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqs),
        )
    };
    let num = NumericOptions::default().set_fast();
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | FAST | STORED),
        namespace: b.add_text_field("namespace", STRING | FAST),
        full_name: b.add_text_field("full_name", STRING | FAST),
        kind: b.add_u64_field("kind", num.clone()),
        themenfeld: b.add_u64_field("themenfeld", num.clone()),
        vertrauensniveau: b.add_u64_field("vertrauensniveau", num.clone()),
        deprecated: b.add_u64_field("deprecated", num.clone()),
        downloads: b.add_u64_field("downloads", num.clone()),
        forks: b.add_u64_field("forks", num.clone()),
        updated: b.add_i64_field("updated", num),
        keys: b.add_text_field("keys", STRING),
        primary: b.add_text_field("primary", text(WORDS)),
        secondary: b.add_text_field("secondary", text(WORDS)),
        content: b.add_text_field("content", text(WORDS)),
        parts: b.add_text_field("parts", text(PARTS)),
        folded: b.add_text_field("folded", text(FOLDED)),
        stored: b.add_text_field("stored", STORED),
        snippet_text: b.add_text_field("snippet_text", STORED),
    };
    (b.build(), fields)
}

/// Codes for the closed vocabularies, kept in fast fields; 0 is "none".
pub(super) fn code_of(values: &[&str], value: Option<&str>) -> u64 {
    value
        .and_then(|v| values.iter().position(|x| *x == v))
        .map_or(0, |i| i as u64 + 1)
}

pub(super) fn kinds() -> Vec<&'static str> {
    PackageKind::ALL.iter().map(|k| k.as_str()).collect()
}

pub(super) fn themenfelder() -> Vec<&'static str> {
    THEMENFELDER.iter().map(|(s, _)| *s).collect()
}
