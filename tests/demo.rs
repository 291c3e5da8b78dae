//! Every demo package parses and passes every check, with its dependencies
//! resolved from the other demo packages; the two versions of Kassel's
//! Bewohnerparkausweis diff as issue 5 describes.

use std::collections::BTreeMap;
use std::path::Path;

use gemeinwerk_package::content::{check_with, parse_content, Content, DependencyContent};
use gemeinwerk_package::diff::{diff, Level};
use gemeinwerk_package::manifest::{parse_manifest, Manifest};
use gemeinwerk_package::semver_check;
use gemeinwerk_package::PackageFiles;

fn read_folder(dir: &Path) -> PackageFiles {
    let mut files = PackageFiles::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        files.insert(name, std::fs::read(entry.path()).unwrap());
    }
    files
}

fn demos() -> Vec<(String, PackageFiles, Manifest)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let files = read_folder(&dir);
        let text = std::str::from_utf8(&files["gemeinwerk.toml"])
            .unwrap()
            .to_string();
        let (manifest, warnings) =
            parse_manifest(&text).unwrap_or_else(|e| panic!("{}: {e:?}", dir.display()));
        assert!(warnings.is_empty(), "{}: {warnings:?}", dir.display());
        out.push((
            dir.file_name().unwrap().to_string_lossy().into_owned(),
            files,
            manifest,
        ));
    }
    out
}

fn content_of(m: &Manifest, files: &PackageFiles) -> Content {
    let text = std::str::from_utf8(&files[m.kind.content_file()]).unwrap();
    parse_content(m.kind, text).unwrap_or_else(|e| panic!("{}: {e:?}", m.full_name()))
}

#[test]
fn every_demo_package_passes_every_check() {
    let demos = demos();
    assert!(demos.len() >= 9);
    // Dependencies resolved from the demo packages themselves (the first
    // version of each name wins, as the folders sort 1.0.0 before 1.1.0).
    let mut packages = BTreeMap::new();
    for (_, files, m) in &demos {
        packages
            .entry(m.full_name())
            .or_insert_with(|| content_of(m, files));
    }
    let deps = DependencyContent::resolved(packages);
    for (dir, files, m) in &demos {
        let (content, found) = check_with(m, files, &deps);
        assert!(content.is_some(), "{dir}");
        let shown: Vec<String> = found.iter().map(|d| d.to_string()).collect();
        assert!(found.is_empty(), "{dir}:\n{}", shown.join("\n"));
    }
}

#[test]
fn bewohnerparkausweis_1_1_0_is_a_minor_release() {
    let demos = demos();
    let get = |dir: &str| demos.iter().find(|(d, _, _)| d == dir).expect(dir);
    let (_, fa, ma) = get("kassel-bewohnerparkausweis");
    let (_, fb, mb) = get("kassel-bewohnerparkausweis-1.1.0");
    let d = diff(ma, &content_of(ma, fa), mb, &content_of(mb, fb));
    let lines: Vec<String> = d.changes.iter().map(|c| c.to_string()).collect();
    let text = lines.join("\n");
    assert_eq!(d.changes.len(), 5, "{text}");
    let find = |path: &str, prop: Option<&str>| {
        d.changes
            .iter()
            .find(|c| c.path == path && c.property.as_deref() == prop)
            .unwrap_or_else(|| panic!("{path} {prop:?} in\n{text}"))
    };
    assert_eq!(find("fahrzeug.zweitfahrzeug", None).level, Level::Minor);
    assert_eq!(
        find("fahrzeug.kennzeichen", Some("help")).level,
        Level::Patch
    );
    assert_eq!(
        find("fahrzeug.kennzeichen", Some("examples")).level,
        Level::Patch
    );
    let pattern = find("fahrzeug.kennzeichen", Some("pattern"));
    assert_eq!(pattern.level, Level::Minor, "{}", pattern.reason);
    assert_eq!(find("parkzone", Some("label")).level, Level::Patch);
    assert_eq!(d.level(), Some(Level::Minor));
    assert_eq!(d.summary(), "2 minor, 3 patch");

    assert_eq!(
        semver_check::check(&ma.version, &mb.version, &d),
        Ok(Some(Level::Minor))
    );
    let patch = semver::Version::new(1, 0, 1);
    let err = semver_check::check(&ma.version, &patch, &d).unwrap_err();
    let diag = err.to_diagnostic();
    assert_eq!(diag.code, "semver.insufficient_bump");
    assert_eq!(diag.suggestion.as_deref(), Some("version = \"1.1.0\""));
    assert!(
        diag.message.contains("fahrzeug.zweitfahrzeug"),
        "{}",
        diag.message
    );
}

#[test]
fn the_reverse_diff_is_major() {
    let demos = demos();
    let get = |dir: &str| demos.iter().find(|(d, _, _)| d == dir).expect(dir);
    let (_, fa, ma) = get("kassel-bewohnerparkausweis");
    let (_, fb, mb) = get("kassel-bewohnerparkausweis-1.1.0");
    // Going back: the field is removed and an E-Kennzeichen no longer matches.
    let d = diff(mb, &content_of(mb, fb), ma, &content_of(ma, fa));
    let majors: Vec<String> = d
        .changes
        .iter()
        .filter(|c| c.level == Level::Major)
        .map(|c| c.to_string())
        .collect();
    assert_eq!(majors.len(), 2, "{majors:?}");
    assert!(majors[0].contains("kennzeichen pattern") || majors[1].contains("kennzeichen pattern"));
}
