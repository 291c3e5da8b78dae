//! The body shared by forms and field groups: its fields and groups and its
//! code lists. Below `form` and `deps` so that both can name it.

use super::codelist::Codelist;
use super::model::Item;

/// The fields, groups and code lists of a form or a field group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Body {
    pub items: Vec<Item>,
    pub codelists: Vec<Codelist>,
}

impl Body {
    pub fn codelist(&self, id: &str) -> Option<&Codelist> {
        self.codelists.iter().find(|c| c.id == id)
    }
}
