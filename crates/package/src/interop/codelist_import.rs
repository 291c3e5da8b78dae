//! A genericode code list as a code list package: what `gemeinwerk import
//! genericode` writes. Nothing of the list is dropped: its identity, every
//! column (with names, data types, languages) and every value.
//!
//! The package version is semver; the list's own version stays as
//! `source-version`. The mapping, when no version is given:
//! - a version of one to three numbers (`2`, `2.1`, `1.2.3`) is padded to
//!   semver (`2.0.0`, `2.1.0`, `1.2.3`);
//! - a date (`2024-02-01`, XRepository's usual version) becomes the major
//!   version `20240201.0.0`: every new edition of a list may remove codes,
//!   so every edition is a new major version, and a form's dependency
//!   (`^20240201`) never moves to another edition by itself;
//! - anything else needs `--version`.

use super::genericode::CodeList;
use super::xdatenfelder::slug;
use crate::codelist_package::{CodelistPackage, ListCode, ListColumn};
use crate::content::Content;
use crate::manifest::{Manifest, PackageKind, MAX_DESCRIPTION_CHARS};
use crate::write;
use crate::PackageFiles;

#[derive(Debug, Clone)]
pub struct CodelistImportOptions {
    pub namespace: String,
    /// Default: made from the list's short name.
    pub name: Option<String>,
    /// Default: from the list's version (see the module).
    pub version: Option<semver::Version>,
    pub license: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodelistImportError {
    #[error("the list's version \"{version}\" is neither a number nor a date (YYYY-MM-DD); give the package version with --version")]
    VersionNotMapped { version: String },
    #[error(
        "no package name can be made from the list's name \"{short_name}\"; give one with --name"
    )]
    NoName { short_name: String },
}

pub struct ImportedCodelist {
    pub manifest: Manifest,
    pub content: CodelistPackage,
    pub readme: String,
}

impl ImportedCodelist {
    pub fn files(&self) -> PackageFiles {
        write::package_files(
            &self.manifest,
            &Content::Codelist(self.content.clone()),
            &self.readme,
        )
    }
}

/// The semver version a list's own version maps to (see the module).
pub fn semver_of(source: &str) -> Option<semver::Version> {
    let s = source.trim();
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let digits: String = s.chars().filter(|c| *c != '-').collect();
        if digits.len() == 8 && digits.bytes().all(|c| c.is_ascii_digit()) {
            return Some(semver::Version::new(digits.parse().ok()?, 0, 0));
        }
        return None;
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) || p.len() > 9)
    {
        return None;
    }
    let n = |i: usize| parts.get(i).map_or(Some(0), |p| p.parse().ok());
    Some(semver::Version::new(n(0)?, n(1)?, n(2)?))
}

pub fn import(
    list: &CodeList,
    opts: &CodelistImportOptions,
) -> Result<ImportedCodelist, CodelistImportError> {
    let version = match &opts.version {
        Some(v) => v.clone(),
        None => semver_of(&list.version).ok_or_else(|| CodelistImportError::VersionNotMapped {
            version: list.version.clone(),
        })?,
    };
    let name = match &opts.name {
        Some(n) => n.clone(),
        None => {
            let s = slug(&list.short_name, '-', 64);
            if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                return Err(CodelistImportError::NoName {
                    short_name: list.short_name.clone(),
                });
            }
            s
        }
    };
    let label = list
        .long_name
        .clone()
        .unwrap_or_else(|| list.short_name.clone());
    let columns: Vec<ListColumn> = list
        .columns
        .iter()
        .map(|c| ListColumn {
            id: c.id.clone(),
            name: c.short_name.clone(),
            long_name: c.long_name.clone(),
            data_type: c.data_type.clone(),
            lang: c.lang.clone(),
            required: c.required,
        })
        .collect();
    let codes = list
        .rows
        .iter()
        .map(|row| ListCode {
            code: list.code(row).to_string(),
            label: list.label_of(row).map(str::to_string),
            values: row
                .values
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != list.key && Some(*i) != list.label)
                .filter_map(|(i, v)| Some((list.columns[i].id.clone(), v.clone()?)))
                .collect(),
            at: 0,
        })
        .collect();
    let content = CodelistPackage {
        label: label.clone(),
        short_name: Some(list.short_name.clone()).filter(|s| *s != label),
        description: list.description.clone(),
        canonical_uri: Some(list.canonical_uri.clone()),
        source_version: Some(list.version.clone()),
        canonical_version_uri: list.canonical_version_uri.clone(),
        agency: list.agency.clone(),
        valid_from: list.valid_from.clone(),
        key: list.columns[list.key].id.clone(),
        label_column: list.label.map(|i| list.columns[i].id.clone()),
        columns,
        keys: list.rows.iter().map(|r| list.code(r).to_string()).collect(),
        codes,
    };
    let description = list
        .description
        .as_deref()
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| {
            format!(
                "Codeliste „{label}“ ({}, Version {})",
                list.canonical_uri, list.version
            )
        });
    let manifest = Manifest {
        namespace: opts.namespace.clone(),
        name,
        version,
        kind: PackageKind::Codelist,
        title: Some(label.clone()),
        description: description.chars().take(MAX_DESCRIPTION_CHARS).collect(),
        license: opts.license.clone(),
        keywords: vec!["codeliste".into()],
        // Code lists serve every Themenfeld.
        themenfeld: Some("querschnitt".into()),
        leika: None,
        readme: None,
        repository: None,
        homepage: None,
        dependencies: Vec::new(),
        forked_from: None,
        lowers_vertrauensniveau: false,
        fim: None,
    };
    let readme = format!(
        "# {label}\n\n\
         Codeliste aus einer genericode-Datei übernommen.\n\n\
         - Kennung: `{uri}`\n\
         - Version der Codeliste: {source}\n\
         {canonical}{agency}{valid}\
         - Codes: {n}, Schlüsselspalte `{key}`{label_col}\n\n\
         Formulare verwenden die Liste mit `codelist = \"{full}\"` an einem Auswahlfeld\n\
         und der Abhängigkeit `\"{full}\" = \"^{version}\"`.\n",
        uri = list.canonical_uri,
        source = list.version,
        canonical = list
            .canonical_version_uri
            .as_deref()
            .map(|u| format!("- Kennung dieser Version: `{u}`\n"))
            .unwrap_or_default(),
        agency = list
            .agency
            .as_deref()
            .map(|a| format!("- Herausgeber: {a}\n"))
            .unwrap_or_default(),
        valid = list
            .valid_from
            .as_deref()
            .map(|d| format!("- Gültig ab: {d}\n"))
            .unwrap_or_default(),
        n = list.rows.len(),
        key = content.key,
        label_col = content
            .label_column
            .as_deref()
            .map(|l| format!(", Bezeichnung aus `{l}`"))
            .unwrap_or_default(),
        full = manifest.full_name(),
        version = manifest.version,
    );
    Ok(ImportedCodelist {
        manifest,
        content,
        readme,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_versions_map_to_semver() {
        let v = |s: &str| semver_of(s).map(|v| v.to_string());
        assert_eq!(v("2").as_deref(), Some("2.0.0"));
        assert_eq!(v("2.1").as_deref(), Some("2.1.0"));
        assert_eq!(v("1.2.3").as_deref(), Some("1.2.3"));
        assert_eq!(v("2010-04-01").as_deref(), Some("20100401.0.0"));
        assert_eq!(v(" 2024-02-01 ").as_deref(), Some("20240201.0.0"));
        for bad in ["", "v2", "1.2.3.4", "2010-4-1", "2010-04-0x", "1..2", "abc"] {
            assert_eq!(v(bad), None, "{bad}");
        }
    }

    fn opts() -> CodelistImportOptions {
        CodelistImportOptions {
            namespace: "xrepository".into(),
            name: None,
            version: None,
            license: "CC0-1.0".into(),
        }
    }

    /// Every fixture: the written package passes the checks and reads back
    /// to the same list, every column and value included.
    #[test]
    fn every_fixture_becomes_a_valid_package_that_reads_back_the_same() {
        let dir = format!(
            "{}/../../tests/fixtures/genericode",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "xml") {
                continue;
            }
            seen += 1;
            let list = super::super::genericode::read(&std::fs::read(&path).unwrap()).unwrap();
            let imported = import(&list, &opts()).unwrap();
            let files = imported.files();
            let (manifest, warnings) = crate::check_package(&files)
                .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            assert!(warnings.is_empty(), "{}: {warnings:?}", path.display());
            assert_eq!(manifest.kind, PackageKind::Codelist);
            let (_, content) = crate::content::read_content(&files).unwrap();
            assert_eq!(
                write::without_positions(&content),
                Content::Codelist(imported.content.clone()),
                "{}",
                path.display()
            );
            let Content::Codelist(back) = content else {
                unreachable!()
            };
            assert_eq!(back.codes.len(), list.rows.len());
            for (row, code) in list.rows.iter().zip(&back.codes) {
                assert_eq!(code.code, list.code(row));
                assert_eq!(code.label.as_deref(), list.label_of(row));
                let kept = 1 + usize::from(code.label.is_some()) + code.values.len();
                assert_eq!(kept, row.values.iter().flatten().count(), "no value lost");
            }
        }
        assert!(seen >= 3, "the fixtures are there");
    }

    #[test]
    fn the_bundesland_list_keeps_its_identity() {
        let dir = format!(
            "{}/../../tests/fixtures/genericode",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(format!("{dir}/bundesland_2010-04-01.xml")).unwrap();
        let list = super::super::genericode::read(&bytes).unwrap();
        let imported = import(&list, &opts()).unwrap();
        let m = &imported.manifest;
        assert_eq!(m.full_name(), "xrepository/bundesland");
        assert_eq!(m.version.to_string(), "20100401.0.0");
        let l = &imported.content;
        assert_eq!(l.source_version.as_deref(), Some("2010-04-01"));
        assert_eq!(
            l.canonical_uri.as_deref(),
            Some("urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:bundesland")
        );
        assert_eq!(l.key, "SCHLUESSEL");
        assert_eq!(l.label_column.as_deref(), Some("Bezeichnung"));
        assert_eq!(
            l.code("06").and_then(|c| c.label.as_deref()),
            Some("Hessen")
        );
        let text = String::from_utf8(imported.files()["codelist.toml"].clone()).unwrap();
        assert!(text.contains("valid-from = \"2010-04-01\""), "{text}");
        let mut o = opts();
        o.version = Some(semver::Version::new(1, 0, 0));
        o.name = Some("laender".into());
        let m = import(&list, &o).unwrap().manifest;
        assert_eq!(
            (m.name.as_str(), m.version.to_string()),
            ("laender", "1.0.0".into())
        );
    }

    #[test]
    fn a_version_that_maps_to_nothing_is_refused() {
        let dir = format!(
            "{}/../../tests/fixtures/genericode",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(format!("{dir}/anschrifttyp_2.0.xml")).unwrap();
        let mut list = super::super::genericode::read(&bytes).unwrap();
        list.version = "Fassung 3".into();
        let err = import(&list, &opts()).err().unwrap();
        assert_eq!(
            err,
            CodelistImportError::VersionNotMapped {
                version: "Fassung 3".into()
            }
        );
        assert!(err.to_string().contains("--version"));
    }
}
