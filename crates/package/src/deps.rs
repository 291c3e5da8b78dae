//! What the checks of a package may ask about its dependencies. A trait
//! below `form`, `process` and `fieldgroup`, so that their checks need not
//! know `content::Content` (the sum of all three kinds), which sits above
//! them; `content::DependencyContent` implements it.

use super::body::Body;
use super::codelist_package::CodelistPackage;
use super::manifest::PackageKind;

pub trait Dependencies {
    /// The kind of the dependency `ns/name`, when its content is known.
    fn kind(&self, name: &str) -> Option<PackageKind>;

    /// The fields and code lists of the dependency `ns/name`, when it is a
    /// form or field group whose content is known.
    fn body(&self, name: &str) -> Option<&Body>;

    /// The dependency `ns/name` when it is a known code list package.
    fn codelist_package(&self, name: &str) -> Option<&CodelistPackage>;

    /// The body of the dependency `ns/name` when it is a known field group.
    fn fieldgroup(&self, name: &str) -> Option<&Body> {
        match self.kind(name) {
            Some(PackageKind::Fieldgroup) => self.body(name),
            _ => None,
        }
    }
}
