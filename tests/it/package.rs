//! Package content against the registry: dependencies resolved on publish
//! and in `validate`, the semver check, `diff` (CLI and API) and `new`.

use crate::both_backends;
use crate::common::{self, *};
use crate::every_blob_store;
use serde_json::Value;

const GROUP_V1: &str = "[fieldgroup]\nlabel = \"Anschrift\"\n\n\
[[field]]\nid = \"strasse\"\ntype = \"text\"\nlabel = \"Straße\"\nrequired = true\n\n\
[[field]]\nid = \"plz\"\ntype = \"postal-code\"\nlabel = \"Postleitzahl\"\nrequired = true\n";

/// GROUP_V1 plus an optional field `ort`: a minor change.
fn group_v2() -> String {
    format!("{GROUP_V1}\n[[field]]\nid = \"ort\"\ntype = \"text\"\nlabel = \"Ort\"\n")
}

/// A field-group package folder.
fn fieldgroup(full_name: &str, version: &str, content: &str) -> PackageDir {
    let p = pkg(full_name, version);
    p.write(
        "gemeinwerk.toml",
        &manifest(full_name, version, "").replace("kind = \"form\"", "kind = \"fieldgroup\""),
    )
    .write("fieldgroup.toml", content);
    std::fs::remove_file(p.path().join("form.toml")).unwrap();
    p
}

/// A form that includes `fim/anschrift` and shows a note when `field` of
/// the included group has a value.
fn form_using_group(version: &str, field: &str) -> PackageDir {
    let p = pkg_with(
        "kassel/antrag",
        version,
        "\n[dependencies]\n\"fim/anschrift\" = \"^1\"\n",
    );
    p.write(
        "form.toml",
        &format!(
            "{FORM}\n[[group]]\nid = \"anschrift\"\nlabel = \"Anschrift\"\ninclude = \"fim/anschrift\"\n\n\
             [[field]]\nid = \"hinweis\"\ntype = \"text\"\nlabel = \"Hinweis\"\n\
             shown-when = \"anschrift.{field} == \\\"Kassel\\\"\"\n"
        ),
    );
    p
}

/// The test form with an optional e-mail field labelled `email_label`
/// (none: without it).
fn form_version(
    full_name: &str,
    version: &str,
    with_name: bool,
    email_label: Option<&str>,
) -> PackageDir {
    let p = pkg(full_name, version);
    let mut form = String::from(
        "[form]\ntitle = \"Testantrag\"\nvertrauensniveau = \"niedrig\"\naccounts = [\"BundID\"]\n",
    );
    if with_name {
        form.push_str(
            "\n[[field]]\nid = \"name\"\ntype = \"text\"\nlabel = \"Name\"\nrequired = true\n",
        );
    }
    if let Some(label) = email_label {
        form.push_str(&format!(
            "\n[[field]]\nid = \"email\"\ntype = \"email\"\nlabel = \"{label}\"\n"
        ));
    }
    p.write("form.toml", &form);
    p
}

fn codes(r: &Response) -> Vec<String> {
    r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect()
}

/// The snapshot with download counters blanked: `validate` and `diff`
/// download archives, and a download is counted, but nothing else may change.
fn snapshot_but_downloads(reg: &TestRegistry) -> String {
    let re = regex::Regex::new(r"downloads: \d+").unwrap();
    re.replace_all(&reg.snapshot(), "downloads: _").into_owned()
}

both_backends! {
    fn publish_checks_content_against_resolved_dependencies(reg) {
        let fim = reg.owner_of("fim");
        let kassel = reg.owner_of("kassel");
        let r = reg.publish_bytes(Some(&fim), &archive_of(&fieldgroup("fim/anschrift", "1.0.0", GROUP_V1)));
        assert_eq!(r.status, 200, "{}", r.text());

        // `ort` is not in the group: only the resolved dependency shows it.
        let before = reg.snapshot();
        let r = reg.publish_bytes(Some(&kassel), &archive_of(&form_using_group("1.0.0", "ort")));
        assert_eq!(r.status, 422, "{}", r.text());
        assert_eq!(codes(&r), ["form.unknown_field_in_condition"]);
        assert!(r.error_detail().contains("\"anschrift.ort\""), "{}", r.error_detail());
        assert_eq!(r.json()["errors"][0]["file"], "form.toml");
        assert_eq!(reg.snapshot(), before);

        // The newest matching version has it.
        let r = reg.publish_bytes(Some(&fim), &archive_of(&fieldgroup("fim/anschrift", "1.1.0", &group_v2())));
        assert_eq!(r.status, 200, "{}", r.text());
        let r = reg.publish_bytes(Some(&kassel), &archive_of(&form_using_group("1.0.0", "ort")));
        assert_eq!(r.status, 200, "{}", r.text());

        // A yanked version does not count: with 1.1.0 yanked, `ort` is unknown again.
        let out = reg.cli(Some(&fim), &["yank", "fim/anschrift@1.1.0"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let before = reg.snapshot();
        let r = reg.publish_bytes(Some(&kassel), &archive_of(&form_using_group("1.0.1", "ort")));
        assert_eq!(r.status, 422, "{}", r.text());
        assert_eq!(codes(&r), ["form.unknown_field_in_condition"]);
        assert_eq!(reg.snapshot(), before);

        // The existing dependency checks stay, and come with the others at once.
        let p = form_using_group("1.0.1", "ort");
        p.write("gemeinwerk.toml", &manifest("kassel/antrag", "1.0.1", "\n[dependencies]\n\"fim/anschrift\" = \"^1\"\n\"fim/gibtsnicht\" = \"^1\"\n"));
        let r = reg.publish_bytes(Some(&kassel), &archive_of(&p));
        assert_eq!(r.status, 422);
        // (A new dependency is a minor change, so 1.0.1 is too small a bump too.)
        assert_eq!(codes(&r), ["dependency.not_found", "form.unknown_field_in_condition", "semver.insufficient_bump"]);
        assert_eq!(reg.snapshot(), before);
    }

    fn insufficient_semver_bump_is_refused(reg) {
        let token = reg.owner_of("kassel");
        let publish = |p: &PackageDir| reg.publish_bytes(Some(&token), &archive_of(p));
        assert_eq!(publish(&form_version("kassel/a", "1.0.0", true, None)).status, 200);

        // A new optional field is minor; 1.0.1 is a patch bump.
        let before = reg.snapshot();
        let r = publish(&form_version("kassel/a", "1.0.1", true, Some("E-Mail")));
        assert_eq!(r.status, 422, "{}", r.text());
        assert_eq!(codes(&r), ["semver.insufficient_bump"]);
        let detail = r.error_detail();
        assert!(detail.contains("version 1.0.1 is a patch bump over 1.0.0, but the changes need a minor bump: at least 1.1.0"), "{detail}");
        assert!(detail.contains("minor field email: added"), "{detail}");
        assert_eq!(r.json()["errors"][0]["suggestion"], "version = \"1.1.0\"");
        assert_eq!(reg.snapshot(), before);

        assert_eq!(publish(&form_version("kassel/a", "1.1.0", true, Some("E-Mail"))).status, 200);
        // Removing a field is major.
        let r = publish(&form_version("kassel/a", "2.0.0", false, Some("E-Mail")));
        assert_eq!(r.status, 200, "{}", r.text());

        // Below 2.0.0 the check runs against the highest version below the
        // new one, yanked or not: here the yanked 1.1.0.
        assert!(reg.cli(Some(&token), &["yank", "kassel/a@1.1.0"]).status.success());
        let before = reg.snapshot();
        let r = publish(&form_version("kassel/a", "1.1.1", true, None));
        assert_eq!(r.status, 422, "{}", r.text());
        let detail = r.error_detail();
        assert!(detail.contains("is a patch bump over 1.1.0, but the changes need a major bump"), "{detail}");
        assert!(detail.contains("major field email: removed"), "{detail}");
        assert_eq!(reg.snapshot(), before);

        // A fix on the 1.x line after 2.0.0 is fine when it is a patch.
        let r = publish(&form_version("kassel/a", "1.1.1", true, Some("E-Mail-Adresse")));
        assert_eq!(r.status, 200, "{}", r.text());
        // And a version below every existing one has nothing to be checked against.
        let r = publish(&form_version("kassel/a", "0.9.0", false, Some("E-Mail")));
        assert_eq!(r.status, 200, "{}", r.text());
    }

}

every_blob_store! {
    fn diff_between_versions_and_folders(reg) {
        let token = reg.owner_of("kassel");
        for p in [form_version("kassel/a", "1.0.0", true, None), form_version("kassel/a", "1.1.0", true, Some("E-Mail"))] {
            assert!(reg.cli(Some(&token), &["publish", p.path_str()]).status.success());
        }
        let out = reg.cli(None, &["diff", "kassel/a@1.0.0", "kassel/a@1.1.0"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stdout(&out).starts_with("minor field email: added ("), "{}", stdout(&out));
        assert_eq!(stdout(&out).lines().count(), 1);
        assert!(stderr(&out).contains("kassel/a@1.0.0 → kassel/a@1.1.0: 1 minor; needs a minor bump"), "{}", stderr(&out));

        let out = reg.cli(None, &["diff", "kassel/a@1.0.0", "kassel/a@1.1.0", "--json"]);
        assert_eq!(out.status.code(), Some(0));
        let changes: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(changes.as_array().unwrap().len(), 1);
        assert_eq!(changes[0]["area"], "field");
        assert_eq!(changes[0]["path"], "email");
        assert_eq!(changes[0]["kind"], "added");
        assert_eq!(changes[0]["level"], "minor");
        assert!(changes[0]["reason"].as_str().unwrap().contains("optional"), "{changes}");

        // A local folder against a published version.
        let local = form_version("kassel/a", "1.1.1", true, Some("E-Mail-Adresse"));
        let out = reg.cli(None, &["diff", "kassel/a@1.1.0", local.path_str(), "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let changes: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(changes[0]["level"], "patch");
        assert_eq!(changes[0]["property"], "label");
        assert_eq!(changes[0]["new"], "E-Mail-Adresse");
        let out = reg.cli(None, &["diff", local.path_str(), local.path_str(), "--json"]);
        assert_eq!(stdout(&out).trim(), "[]");

        // The API gives the web UI the same diff.
        let r = reg.get("/api/v1/packages/kassel/a/diff?from=1.0.0&to=1.1.0");
        assert_eq!(r.status, 200, "{}", r.text());
        let d = r.json();
        assert_eq!(d["name"], "kassel/a");
        assert_eq!((d["from"].as_str(), d["to"].as_str()), (Some("1.0.0"), Some("1.1.0")));
        assert_eq!(d["level"], "minor");
        assert_eq!(d["summary"], "1 minor");
        assert_eq!(d["changes"], changes_of(reg, "kassel/a@1.0.0", "kassel/a@1.1.0"));

        // Refusals: unknown versions and packages, missing parameters, a
        // tampered archive. Nothing is written.
        let before = snapshot_but_downloads(reg);
        let r = reg.get("/api/v1/packages/kassel/a/diff?from=1.0.0");
        assert_eq!((r.status, r.error_code().as_str()), (400, "missing_versions"));
        let r = reg.get("/api/v1/packages/kassel/a/diff?from=1.0.0&to=9.9.9");
        assert_eq!((r.status, r.error_code().as_str()), (404, "version_not_found"));
        let r = reg.get("/api/v1/packages/kassel/nope/diff?from=1.0.0&to=1.1.0");
        assert_eq!((r.status, r.error_code().as_str()), (404, "package_not_found"));
        let out = reg.cli(None, &["diff", "kassel/a@1.0.0", "kassel/a@9.9.9"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("kassel/a has no version 9.9.9"), "{}", stderr(&out));
        let out = reg.cli(None, &["diff", "kassel/a", "kassel/a@1.0.0"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("neither a package folder nor NS/NAME@VERSION"), "{}", stderr(&out));

        let cksum = registry_index::parse_lines(&reg.get("/index/kassel/a").text()).unwrap()[0].cksum.clone();
        // A damaged archive is not served: the server checks what it reads.
        let mut bytes = reg.blob_store().get(&cksum).unwrap().unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        reg.put_blob_raw(&cksum, &bytes);
        let out = reg.cli(None, &["diff", "kassel/a@1.0.0", "kassel/a@1.1.0"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("the registry failed"), "{}", stderr(&out));
        let r = reg.get("/api/v1/packages/kassel/a/1.0.0/download");
        assert_eq!((r.status, r.error_code().as_str()), (500, "internal"));
        assert_eq!(stdout(&out), "");
        assert_eq!(snapshot_but_downloads(reg), before);
    }
}

both_backends! {
    fn new_scaffolds_packages_that_validate_and_publish(reg) {
        let token = reg.owner_of("kassel");
        let work = tempfile::tempdir().unwrap();
        for kind in ["form", "process", "fieldgroup"] {
            let dir = work.path().join(kind);
            let name = format!("kassel/neu-{kind}");
            let out = reg.cli(None, &["new", &name, "--kind", kind, "--dir", dir.to_str().unwrap(), "--json"]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(answer["files"], serde_json::json!(["gemeinwerk.toml", format!("{kind}.toml"), "README.md"]));
            let manifest = std::fs::read_to_string(dir.join("gemeinwerk.toml")).unwrap();
            assert!(manifest.contains("license = \"EUPL-1.2\""), "{manifest}");
            assert!(manifest.contains("version = \"0.1.0\""), "{manifest}");

            // The placeholder title of the template is refused until the
            // author writes a real one.
            let out = reg.cli(None, &["validate", dir.to_str().unwrap(), "--json"]);
            assert_eq!(out.status.code(), Some(1), "{kind}: {}", stderr(&out));
            let said = format!("{}{}", stdout(&out), stderr(&out));
            assert!(said.contains("manifest.placeholder_title"), "{kind}: {said}");
            let titled = manifest.replace("…\"", "Bewohnerparken\"");
            assert_ne!(titled, manifest, "{kind}: the template has a placeholder title");
            std::fs::write(dir.join("gemeinwerk.toml"), titled).unwrap();
            let out = reg.cli(None, &["validate", dir.to_str().unwrap(), "--json"]);
            assert_eq!(out.status.code(), Some(0), "{kind}: {}", stderr(&out));
            let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(answer["diagnostics"], serde_json::json!([]), "{kind}: no warnings either");
            let out = reg.cli(Some(&token), &["publish", dir.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(0), "{kind}: {}", stderr(&out));
        }

        // The default folder is ./NAME.
        let out = std::process::Command::new(common::BIN)
            .args(["new", "kassel/standard", "--kind", "form"])
            .current_dir(work.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(work.path().join("standard/form.toml").is_file());

        // An empty folder is fine; a non-empty one is refused and left alone.
        let empty = work.path().join("leer");
        std::fs::create_dir(&empty).unwrap();
        let out = reg.cli(None, &["new", "kassel/leer", "--kind", "fieldgroup", "--dir", empty.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let form_dir = work.path().join("form");
        let before = std::fs::read_to_string(form_dir.join("gemeinwerk.toml")).unwrap();
        let out = reg.cli(None, &["new", "kassel/x", "--kind", "process", "--dir", form_dir.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("already exists and is not an empty folder"), "{}", stderr(&out));
        assert_eq!(std::fs::read_to_string(form_dir.join("gemeinwerk.toml")).unwrap(), before);
        assert!(!form_dir.join("process.toml").exists());

        // Bad names and kinds are usage errors; nothing is created.
        for (name, kind) in [("Kassel/x", "form"), ("kassel", "form"), ("kassel/x_y", "form"), ("kassel/x", "formular")] {
            let dir = work.path().join("bad");
            let out = reg.cli(None, &["new", name, "--kind", kind, "--dir", dir.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(2), "{name} {kind}: {}", stderr(&out));
            assert!(!dir.exists(), "{name} {kind}");
        }
    }

    fn validate_resolves_dependencies_or_warns_offline(reg) {
        let fim = reg.owner_of("fim");
        reg.publish_bytes(Some(&fim), &archive_of(&fieldgroup("fim/anschrift", "1.0.0", GROUP_V1)));
        let before = snapshot_but_downloads(reg);

        // Online: the same finding as publish would make.
        let bad = form_using_group("1.0.0", "ort");
        let out = reg.cli(None, &["validate", bad.path_str()]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains("error[form.unknown_field_in_condition]"), "{}", stderr(&out));
        assert!(stderr(&out).contains("form.toml:"), "{}", stderr(&out));
        let out = reg.cli(None, &["validate", bad.path_str(), "--json"]);
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["ok"], false);
        assert_eq!(answer["diagnostics"][0]["code"], "form.unknown_field_in_condition");

        let good = form_using_group("1.0.0", "plz");
        let out = reg.cli(None, &["validate", good.path_str(), "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["dependencies_checked"], true);
        assert_eq!(answer["diagnostics"], serde_json::json!([]));

        // A dependency the registry does not have.
        let missing = pkg_with("kassel/b", "1.0.0", "\n[dependencies]\n\"fim/gibtsnicht\" = \"^1\"\n");
        let out = reg.cli(None, &["validate", missing.path_str()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("error[dependency.not_found]: dependency \"fim/gibtsnicht\" does not exist"), "{}", stderr(&out));

        // Offline (the registry unreachable, or --offline): the own checks,
        // and a warning that says what was not checked.
        for args in [vec!["--registry", "http://127.0.0.1:9"], vec!["--offline"]] {
            let mut full = vec!["validate", bad.path_str()];
            full.extend(&args);
            let out = reg.cli(None, &full);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains("warning[dependency.unchecked_offline]: checked without the dependencies"), "{err}");
            assert!(err.contains("is valid (without its dependencies)"), "{err}");
            full.push("--json");
            let answer: Value = serde_json::from_slice(&reg.cli(None, &full).stdout).unwrap();
            assert_eq!(answer["dependencies_checked"], false);
            assert_eq!(answer["diagnostics"][0]["severity"], "warning");
        }
        assert_eq!(snapshot_but_downloads(reg), before);
    }
}

fn changes_of(reg: &TestRegistry, a: &str, b: &str) -> Value {
    let out = reg.cli(None, &["diff", a, b, "--json"]);
    serde_json::from_slice(&out.stdout).unwrap()
}
