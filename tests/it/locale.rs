//! The CLI speaks German under a German locale and English otherwise;
//! the registry's error codes and the package checks' diagnostic codes
//! read the same in both. For every command family one human-readable
//! output and one error are checked in both languages.

use std::process::{Command, Output, Stdio};

use crate::common::*;

const DE: &str = "de_DE.UTF-8";
const EN: &str = "C";

/// Fails unless `text` is in the output (stdout or stderr).
#[track_caller]
fn says(out: &Output, text: &str) {
    let all = format!("{}{}", stdout(out), stderr(out));
    assert!(all.contains(text), "{text:?} is not in:\n{all}");
}

#[track_caller]
fn fails(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        stdout(out),
        stderr(out)
    );
}

/// The binary with no registry at hand, under `lang`.
fn run_in(lang: &str, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", lang)
        .env_remove("GEMEINWERK_REGISTRY")
        .env_remove("GEMEINWERK_TOKEN")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// An operator command under `lang`.
fn admin_in(reg: &TestRegistry, lang: &str, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("admin")
        .args(["--data-dir", reg.data().to_str().unwrap()])
        .args(["--database-url", &reg.database_url])
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", lang)
        .output()
        .unwrap()
}

#[test]
fn help_in_both_languages() {
    let out = run_in(DE, &["--help"]);
    fails(&out, 0);
    for text in [
        "Aufruf: gemeinwerk <BEFEHL>",
        "\nBefehle:\n",
        "\nOptionen:\n",
        "  -h, --help",
        "Hilfe anzeigen",
        "Version anzeigen",
        "Einen Paketordner veröffentlichen",
        "Diese Hilfe oder die Hilfe der genannten Befehle anzeigen",
    ] {
        says(&out, text);
    }
    let out = run_in(EN, &["--help"]);
    fails(&out, 0);
    for text in [
        "Usage: gemeinwerk <COMMAND>",
        "\nCommands:\n",
        "\nOptions:\n",
        "Print help",
        "Print version",
        "Publish a package folder",
    ] {
        says(&out, text);
    }

    let out = run_in(DE, &["publish", "--help"]);
    for text in [
        "Aufruf: gemeinwerk publish [OPTIONS] [DIR]",
        "\nArgumente:\n",
        "Prüfen und packen, aber nicht hochladen",
        "[Umgebungsvariable: GEMEINWERK_REGISTRY]",
        "[Standard: http://127.0.0.1:8080]",
    ] {
        says(&out, text);
    }
    let out = run_in(EN, &["publish", "--help"]);
    for text in [
        "Usage: gemeinwerk publish [OPTIONS] [DIR]",
        "\nArguments:\n",
        "Check and pack, but do not upload",
        "[env: GEMEINWERK_REGISTRY]",
        "[default: http://127.0.0.1:8080]",
    ] {
        says(&out, text);
    }
    says(
        &run_in(DE, &["owner", "add", "--help"]),
        "[mögliche Werte: owner, publisher]",
    );
    says(
        &run_in(EN, &["owner", "add", "--help"]),
        "[possible values: owner, publisher]",
    );
    // The `help` command shows the same German help.
    says(
        &run_in(DE, &["help", "publish"]),
        "Prüfen und packen, aber nicht hochladen",
    );
    let out = run_in(DE, &["admin", "token", "create", "--help"]);
    says(&out, "Ein Token erstellen");
    says(&out, "[Standard: publish,yank]");
}

#[test]
fn usage_errors_in_both_languages() {
    let out = run_in(DE, &["publish", "--dry-rn"]);
    fails(&out, 2);
    says(&out, "Fehler: unerwartetes Argument „--dry-rn“");
    says(&out, "Tipp: es gibt ein ähnliches Argument: „--dry-run“");
    says(&out, "\n\nAufruf: gemeinwerk publish ");
    says(&out, "Mehr dazu mit „--help“.");
    let out = run_in(EN, &["publish", "--dry-rn"]);
    fails(&out, 2);
    says(&out, "error: unexpected argument '--dry-rn' found");
    says(&out, "tip: a similar argument exists: '--dry-run'");
    says(&out, "\n\nUsage: gemeinwerk publish ");
    says(&out, "For more information, try '--help'.");

    let role = ["owner", "add", "kassel", "anna", "--role", "king"];
    let out = run_in(DE, &role);
    fails(&out, 2);
    says(&out, "Fehler: ungültiger Wert „king“ für „--role <ROLE>“");
    says(&out, "[mögliche Werte: owner, publisher]");
    let out = run_in(EN, &role);
    fails(&out, 2);
    says(&out, "error: invalid value 'king' for '--role <ROLE>'");
    says(&out, "[possible values: owner, publisher]");

    let out = run_in(DE, &["yank"]);
    fails(&out, 2);
    says(&out, "Fehler: diese nötigen Argumente fehlen:\n  <SPEC>");
    says(
        &run_in(EN, &["yank"]),
        "error: the following required arguments were not provided:\n  <SPEC>",
    );

    let resolve = ["upstream", "resolve", "x", "--ours", "--theirs"];
    says(
        &run_in(DE, &resolve),
        "Fehler: das Argument „--ours“ geht nicht zusammen mit „--theirs“",
    );
    says(
        &run_in(EN, &resolve),
        "error: the argument '--ours' cannot be used with '--theirs'",
    );

    says(
        &run_in(DE, &["hilfe"]),
        "Fehler: unbekannter Befehl „hilfe“",
    );
    says(
        &run_in(EN, &["hilfe"]),
        "error: unrecognized subcommand 'hilfe'",
    );
}

#[test]
fn package_commands_in_both_languages() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let owner = reg.owner_of("kassel");
    let p = pkg("kassel/hunde", "1.0.0");
    let tmp = tempfile::tempdir().unwrap();

    // new
    let dir = tmp.path().join("neu");
    let out = reg.cli_in(
        DE,
        None,
        &[
            "new",
            "kassel/neu",
            "--kind",
            "form",
            "--dir",
            dir.to_str().unwrap(),
        ],
    );
    fails(&out, 0);
    says(
        &out,
        &format!(
            "Paket kassel/neu (Formular) in {} angelegt\nweiter: die Platzhalter (…) ausfüllen",
            dir.display()
        ),
    );
    let out = reg.cli_in(
        DE,
        None,
        &[
            "new",
            "kassel/neu",
            "--kind",
            "form",
            "--dir",
            dir.to_str().unwrap(),
        ],
    );
    fails(&out, 1);
    says(
        &out,
        &format!(
            "Fehler: {} gibt es schon und ist kein leerer Ordner; mit --dir einen anderen wählen",
            dir.display()
        ),
    );
    let out = reg.cli_in(
        EN,
        None,
        &[
            "new",
            "kassel/neu",
            "--kind",
            "form",
            "--dir",
            dir.to_str().unwrap(),
        ],
    );
    fails(&out, 1);
    says(
        &out,
        &format!(
            "error: {} already exists and is not an empty folder",
            dir.display()
        ),
    );
    let other = tmp.path().join("other");
    let out = reg.cli_in(
        EN,
        None,
        &[
            "new",
            "kassel/other",
            "--kind",
            "process",
            "--dir",
            other.to_str().unwrap(),
        ],
    );
    says(
        &out,
        &format!(
            "created the process package kassel/other in {}",
            other.display()
        ),
    );

    // validate: the diagnostics in the language, from their codes and
    // values; the codes as they are, for scripts.
    let broken = pkg_with(
        "kassel/kaputt",
        "1.0.0",
        "[dependencies]\n\"kassel/x\" = \"nicht-semver\"\n\"kassel/kaputt\" = \"^1\"\n",
    );
    let out = reg.cli_in(DE, None, &["validate", broken.path_str(), "--offline"]);
    fails(&out, 1);
    says(&out, "Fehler: die Prüfung hat 2 Fehler gefunden");
    says(
        &out,
        ": Fehler[manifest.invalid_version_req]: \"nicht-semver\" ist keine Versionsanforderung: ",
    );
    says(
        &out,
        ": Fehler[manifest.self_dependency]: das Paket hängt von sich selbst ab (\"kassel/kaputt\")",
    );
    assert!(
        !stderr(&out).contains("is not a version requirement"),
        "{}",
        stderr(&out)
    );
    let out = reg.cli_in(EN, None, &["validate", broken.path_str(), "--offline"]);
    fails(&out, 1);
    says(&out, "error: the check found 2 errors");
    says(
        &out,
        ": error[manifest.invalid_version_req]: \"nicht-semver\" is not a version requirement: ",
    );
    says(
        &out,
        ": error[manifest.self_dependency]: the package depends on itself (\"kassel/kaputt\")",
    );

    // What a message is about comes as a kind and a name, so the German
    // line says "Feld" where the English one says "field": no English
    // phrase inside the German sentence.
    let odd_key = pkg("kassel/schluessel", "1.0.0");
    odd_key.write("form.toml", &format!("{FORM}farbe = \"rot\"\n"));
    let out = reg.cli_in(DE, None, &["validate", odd_key.path_str(), "--offline"]);
    fails(&out, 1);
    says(
        &out,
        "form.toml:11:1: Fehler[toml.unknown_key]: unbekannter Schlüssel \"farbe\" in dem Feld \"name\"",
    );
    let line = stderr(&out)
        .lines()
        .find(|l| l.contains("[toml.unknown_key]"))
        .unwrap()
        .to_string();
    let message = line
        .split("]: ")
        .nth(1)
        .unwrap()
        .split(" — ")
        .next()
        .unwrap();
    assert!(!message.contains("field"), "{line}");
    let out = reg.cli_in(EN, None, &["validate", odd_key.path_str(), "--offline"]);
    fails(&out, 1);
    says(
        &out,
        "form.toml:11:1: error[toml.unknown_key]: unknown key \"farbe\" in field \"name\"",
    );

    // A publish the registry refuses (422): its diagnostic said in the
    // language from the code and values it sent.
    let orphan = pkg_with(
        "kassel/waise",
        "1.0.0",
        "[dependencies]\n\"kassel/gibt-es-nicht\" = \"^1\"\n",
    );
    let out = reg.cli_in(
        DE,
        Some(&owner),
        &["publish", orphan.path_str(), "--no-wait"],
    );
    fails(&out, 1);
    says(
        &out,
        "gemeinwerk.toml: Fehler[dependency.not_found]: die Abhängigkeit \"kassel/gibt-es-nicht\" gibt es in dieser Registry nicht",
    );
    let out = reg.cli_in(
        EN,
        Some(&owner),
        &["publish", orphan.path_str(), "--no-wait"],
    );
    fails(&out, 1);
    says(
        &out,
        "gemeinwerk.toml: error[dependency.not_found]: dependency \"kassel/gibt-es-nicht\" does not exist in this registry [dependency.not_found]",
    );
    says(
        &reg.cli_in(DE, None, &["validate", p.path_str()]),
        "kassel/hunde@1.0.0 ist gültig",
    );
    says(
        &reg.cli_in(EN, None, &["validate", p.path_str()]),
        "kassel/hunde@1.0.0 is valid",
    );

    // package: sizes with the decimal comma or point.
    let sized = regex::Regex::new(r" gepackt \((\d+ Bytes|\d+,\d kB)\)\nsha256 ").unwrap();
    let out = reg.cli_in(DE, None, &["package", p.path_str()]);
    assert!(sized.is_match(&stderr(&out)), "{}", stderr(&out));
    let sized = regex::Regex::new(r"^packed .* \((\d+ bytes|\d+\.\d kB)\)\nsha256 ").unwrap();
    let out = reg.cli_in(EN, None, &["package", p.path_str()]);
    assert!(sized.is_match(&stderr(&out)), "{}", stderr(&out));

    // publish
    let out = reg.cli_in(DE, None, &["publish", p.path_str()]);
    fails(&out, 2);
    assert!(
        stderr(&out).starts_with("Fehler: kein API-Token"),
        "{}",
        stderr(&out)
    );
    let out = reg.cli_in(DE, Some(&owner), &["publish", p.path_str()]);
    says(&out, "kassel/hunde@1.0.0 veröffentlicht");
    // A refusal: German frame, the registry's code as it is.
    let out = reg.cli_in(DE, Some(&owner), &["publish", p.path_str()]);
    fails(&out, 1);
    assert!(stderr(&out).starts_with("Fehler: "), "{}", stderr(&out));
    says(&out, "[version_exists]");
    let out = reg.cli_in(EN, Some(&owner), &["publish", p.path_str()]);
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    says(&out, "[version_exists]");
    // A bump too small for the changes: each change and the suggestion
    // in the language, from the records and the hint the check sent.
    let renamed = pkg("kassel/hunde", "1.0.1");
    renamed.write("form.toml", &FORM.replace("\"name\"", "\"vorname\""));
    let out = reg.cli_in(
        DE,
        Some(&owner),
        &["publish", renamed.path_str(), "--no-wait"],
    );
    fails(&out, 1);
    says(
        &out,
        "Fehler[semver.insufficient_bump]: Version 1.0.1 ist ein Patch-Sprung",
    );
    says(&out, "\n  größer Feld name: entfernt (");
    says(&out, "— version = \"2.0.0\"");
    assert!(!stderr(&out).contains("removed"), "{}", stderr(&out));
    let out = reg.cli_in(
        EN,
        Some(&owner),
        &["publish", renamed.path_str(), "--no-wait"],
    );
    fails(&out, 1);
    says(&out, "\n  major field name: removed (");
    // A token the registry does not know: 401, its code in both.
    let unknown = format!("gw_{}", "0".repeat(64));
    for lang in [DE, EN] {
        let out = reg.cli_in(lang, Some(&unknown), &["yank", "kassel/hunde@1.0.0"]);
        fails(&out, 1);
        says(&out, "[unknown_token]");
    }

    // yank, unyank
    says(
        &reg.cli_in(DE, Some(&owner), &["yank", "kassel/hunde@1.0.0"]),
        "kassel/hunde@1.0.0 zurückgezogen",
    );
    says(
        &reg.cli_in(DE, None, &["info", "kassel/hunde"]),
        "(zurückgezogen: ohne Begründung)",
    );
    says(
        &reg.cli_in(EN, Some(&owner), &["unyank", "kassel/hunde@1.0.0"]),
        "unyanked kassel/hunde@1.0.0",
    );
    let out = reg.cli_in(DE, Some(&owner), &["yank", "kassel/hunde"]);
    fails(&out, 2);
    says(
        &out,
        "Fehler: „kassel/hunde“ nennt keine Version; so schreiben: kassel/hunde@1.0.0",
    );
    says(
        &reg.cli_in(EN, Some(&owner), &["yank", "kassel/hunde"]),
        "error: \"kassel/hunde\" names no version; write it as kassel/hunde@1.0.0",
    );

    // deprecate
    let deprecate = [
        "deprecate",
        "kassel/hunde",
        "--message",
        "bitte kassel/katzen",
    ];
    says(
        &reg.cli_in(DE, Some(&owner), &deprecate),
        "kassel/hunde ist als veraltet markiert",
    );
    says(
        &reg.cli_in(DE, None, &["info", "kassel/hunde"]),
        "VERALTET: bitte kassel/katzen",
    );
    says(
        &reg.cli_in(EN, Some(&owner), &["deprecate", "kassel/hunde", "--undo"]),
        "kassel/hunde is no longer deprecated",
    );

    // info: the kind, plural forms; a package the registry does not know
    // (404) with its code; a version it does not have; no registry.
    let out = reg.cli_in(DE, None, &["info", "kassel/hunde"]);
    says(&out, "kassel/hunde  (Formular)");
    says(&out, "0 Downloads");
    let out = reg.cli_in(EN, None, &["info", "kassel/hunde"]);
    says(&out, "kassel/hunde  (form)");
    says(&out, "0 downloads");
    for lang in [DE, EN] {
        let out = reg.cli_in(lang, None, &["info", "kassel/nichts"]);
        fails(&out, 1);
        says(&out, "[package_not_found]");
    }
    says(
        &reg.cli_in(DE, None, &["info", "kassel/hunde@9.9.9"]),
        "Fehler: kassel/hunde hat keine Version 9.9.9",
    );
    says(
        &reg.cli_in(EN, None, &["info", "kassel/hunde@9.9.9"]),
        "error: kassel/hunde has no version 9.9.9",
    );
    let nowhere = ["info", "kassel/hunde", "--registry", "http://127.0.0.1:9"];
    let out = reg.cli_in(DE, None, &nowhere);
    fails(&out, 2);
    says(
        &out,
        "Fehler: die Registry unter http://127.0.0.1:9 ist nicht erreichbar",
    );
    let out = reg.cli_in(EN, None, &nowhere);
    fails(&out, 2);
    says(
        &out,
        "error: cannot reach the registry at http://127.0.0.1:9",
    );

    // search
    // The index may still be applying the deprecation and its undoing;
    // wait until it has every change, not only until it finds the package
    // (it did before the deprecation too).
    reg.wait_for_search_current();
    let out = reg.cli_in(DE, None, &["search", "hunde"]);
    says(&out, "(Formular)");
    says(&out, "1 von 1 Paket");
    let out = reg.cli_in(EN, None, &["search", "hunde"]);
    says(&out, "(form)");
    says(&out, "1 of 1 package");
    for lang in [DE, EN] {
        let out = reg.cli_in(lang, None, &["search", "hunde", "--sort", "beliebt"]);
        fails(&out, 1);
        says(&out, "[bad_search]");
    }

    // diff: two folders, one optional field more (a minor change).
    let newer = pkg("kassel/hunde", "1.1.0");
    let form = std::fs::read_to_string(newer.path().join("form.toml")).unwrap();
    newer.write(
        "form.toml",
        &format!("{form}\n[[field]]\nid = \"telefon\"\ntype = \"phone\"\nlabel = \"Telefon\"\n"),
    );
    let diff = ["diff", p.path_str(), newer.path_str()];
    says(
        &reg.cli_in(DE, None, &diff),
        "1 mittlere Änderung; nötig ist eine neue Nebenversion (minor)",
    );
    says(&reg.cli_in(EN, None, &diff), "1 minor; needs a minor bump");
    // Each change in the user's language too.
    says(
        &reg.cli_in(DE, None, &diff),
        "mittel Feld telefon: hinzugefügt (ein neues freiwilliges Feld)",
    );
    says(
        &reg.cli_in(EN, None, &diff),
        "minor field telefon: added (a new optional field)",
    );
    says(
        &reg.cli_in(DE, None, &["diff", p.path_str(), p.path_str()]),
        ": keine Änderungen",
    );
    says(
        &reg.cli_in(DE, None, &["diff", "kaputt", p.path_str()]),
        "Fehler: „kaputt“ ist weder ein Paketordner noch NS/NAME@VERSION",
    );
    says(
        &reg.cli_in(EN, None, &["diff", "kaputt", p.path_str()]),
        "error: \"kaputt\" is neither a package folder nor NS/NAME@VERSION",
    );
}

#[test]
fn namespace_fork_and_upstream_commands_in_both_languages() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let kassel = reg.owner_of("kassel");
    let darmstadt = reg.owner_of("darmstadt");
    reg.admin_ok(&["user", "add", "anna"]);

    // owner
    let add = ["owner", "add", "kassel", "anna"];
    says(
        &reg.cli_in(DE, Some(&kassel), &add),
        "anna ist jetzt Veröffentlicher/in von kassel",
    );
    says(
        &reg.cli_in(EN, Some(&kassel), &add),
        "anna is now publisher of kassel",
    );
    says(
        &reg.cli_in(DE, Some(&kassel), &["owner", "list", "kassel"]),
        "anna\tVeröffentlicher/in",
    );
    says(
        &reg.cli_in(EN, Some(&kassel), &["owner", "list", "kassel"]),
        "anna\tpublisher",
    );
    says(
        &reg.cli_in(DE, Some(&kassel), &["owner", "remove", "kassel", "anna"]),
        "anna aus kassel entfernt",
    );
    for lang in [DE, EN] {
        let out = reg.cli_in(lang, Some(&kassel), &["owner", "add", "kassel", "niemand"]);
        fails(&out, 1);
        says(&out, "[user_not_found]");
    }

    // audit
    says(
        &reg.cli_in(DE, Some(&kassel), &["audit", "kassel"]),
        "von 127.0.0.1",
    );
    says(
        &reg.cli_in(EN, Some(&kassel), &["audit", "kassel"]),
        "from 127.0.0.1",
    );
    says(
        &reg.cli_in(DE, None, &["audit", "kassel"]),
        "Fehler: kein API-Token",
    );
    says(
        &reg.cli_in(EN, None, &["audit", "kassel"]),
        "error: no API token",
    );

    // fork, and the fork network in info
    let up = pkg("kassel/a", "1.0.0");
    assert!(reg
        .cli(Some(&kassel), &["publish", up.path_str()])
        .status
        .success());
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    let out = reg.cli_in(
        DE,
        Some(&darmstadt),
        &[
            "fork",
            "kassel/a",
            "darmstadt/a",
            "--dir",
            d.to_str().unwrap(),
        ],
    );
    fails(&out, 0);
    says(
        &out,
        &format!(
            "kassel/a@1.0.0 als darmstadt/a in {} abgeleitet (",
            d.display()
        ),
    );
    says(
        &out,
        "anpassen, dann in diesem Ordner `gemeinwerk validate`",
    );
    let out = reg.cli_in(
        DE,
        Some(&darmstadt),
        &[
            "fork",
            "kassel/a",
            "darmstadt/b",
            "--dir",
            d.to_str().unwrap(),
        ],
    );
    fails(&out, 1);
    says(
        &out,
        &format!(
            "Fehler: {} gibt es schon und ist nicht leer; mit --dir einen anderen Ordner nennen",
            d.display()
        ),
    );
    let out = reg.cli_in(
        EN,
        Some(&darmstadt),
        &[
            "fork",
            "kassel/a",
            "darmstadt/b",
            "--dir",
            d.to_str().unwrap(),
        ],
    );
    fails(&out, 1);
    says(
        &out,
        &format!(
            "error: {} exists and is not empty; name another folder with --dir",
            d.display()
        ),
    );
    assert!(reg
        .cli(Some(&darmstadt), &["publish", d.to_str().unwrap()])
        .status
        .success());
    let mut newer = std::fs::read_to_string(up.path().join("gemeinwerk.toml")).unwrap();
    newer = newer.replace("version = \"1.0.0\"", "version = \"1.1.0\"");
    up.write("gemeinwerk.toml", &newer);
    assert!(reg
        .cli(Some(&kassel), &["publish", up.path_str()])
        .status
        .success());
    let out = reg.cli_in(DE, None, &["info", "darmstadt/a"]);
    says(
        &out,
        "abgeleitet von kassel/a@1.0.0 (das Original hat 1 neuere Version)",
    );
    let out = reg.cli_in(EN, None, &["info", "darmstadt/a"]);
    says(
        &out,
        "forked from kassel/a@1.0.0 (1 upstream release behind)",
    );
    let out = reg.cli_in(DE, None, &["info", "kassel/a"]);
    says(
        &out,
        "Ableitungen:\n  darmstadt/a  von kassel/a@1.0.0  (1 Version zurück)",
    );
    let out = reg.cli_in(EN, None, &["info", "kassel/a"]);
    says(
        &out,
        "forks:\n  darmstadt/a  from kassel/a@1.0.0  (1 behind)",
    );

    // upstream
    let out = reg.cli_in(DE, None, &["upstream", "status", d.to_str().unwrap()]);
    says(&out, "baut auf kassel/a@1.0.0 auf");
    says(&out, "  1.1.0  keine Änderungen");
    let out = reg.cli_in(EN, None, &["upstream", "status", d.to_str().unwrap()]);
    says(&out, "builds on kassel/a@1.0.0");
    says(&out, "  1.1.0  no changes");
    let out = reg.cli_in(DE, None, &["upstream", "status", up.path_str()]);
    fails(&out, 2);
    says(
        &out,
        &format!(
            "Fehler: {} ist keine Ableitung: seine gemeinwerk.toml hat kein [forked-from]",
            up.path().display()
        ),
    );
    let out = reg.cli_in(EN, None, &["upstream", "status", up.path_str()]);
    says(
        &out,
        &format!(
            "error: {} is not a fork: its gemeinwerk.toml has no [forked-from]",
            up.path().display()
        ),
    );
    let out = reg.cli_in(DE, None, &["upstream", "merge", d.to_str().unwrap()]);
    fails(&out, 0);
    says(
        &out,
        "kassel/a 1.0.0 → 1.1.0 zusammengeführt; der Ordner ist gültig",
    );
    let out = reg.cli_in(DE, None, &["upstream", "merge", d.to_str().unwrap()]);
    fails(&out, 1);
    says(
        &out,
        "Fehler: kassel/a hat keine neuere Version als 1.1.0; nichts zu tun",
    );
    let out = reg.cli_in(EN, None, &["upstream", "merge", d.to_str().unwrap()]);
    says(
        &out,
        "error: kassel/a has no release newer than 1.1.0; nothing to do",
    );
}

#[test]
fn project_commands_in_both_languages() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let owner = reg.owner_of("kassel");
    assert!(reg
        .cli(
            Some(&owner),
            &["publish", pkg("kassel/antrag", "1.0.0").path_str()]
        )
        .status
        .success());
    let project = tempfile::tempdir().unwrap();
    let dir = project.path().to_str().unwrap();

    let out = reg.cli_in(DE, None, &["add", "kassel/antrag", "--project", dir]);
    fails(&out, 0);
    says(&out, "kassel/antrag = \"^1.0.0\" zu ");
    says(&out, " hinzugefügt");
    let out = reg.cli_in(DE, None, &["add", "kassel/nichts", "--project", dir]);
    fails(&out, 1);
    says(
        &out,
        &format!(
            "Fehler: kassel/nichts gibt es in der Registry unter {} nicht",
            reg.url
        ),
    );
    let out = reg.cli_in(EN, None, &["add", "kassel/nichts", "--project", dir]);
    says(
        &out,
        &format!(
            "error: kassel/nichts does not exist in the registry at {}",
            reg.url
        ),
    );
    let out = reg.cli_in(DE, None, &["add", "kassel/antrag@^^1", "--project", dir]);
    fails(&out, 2);
    says(&out, "Fehler: „kassel/antrag@^^1“ lässt sich nicht hinzufügen: „^^1“ ist keine Versionsanforderung");
    let out = reg.cli_in(EN, None, &["add", "kassel/antrag@^^1", "--project", dir]);
    says(
        &out,
        "error: cannot add \"kassel/antrag@^^1\": \"^^1\" is not a version requirement",
    );

    let out = reg.cli_in(DE, None, &["fetch", "--locked", "--project", dir]);
    fails(&out, 2);
    says(
        &out,
        &format!("Fehler: {dir} hat keine gemeinwerk.lock; `gemeinwerk lock` aufrufen"),
    );
    let out = reg.cli_in(EN, None, &["fetch", "--locked", "--project", dir]);
    says(
        &out,
        &format!("error: {dir} has no gemeinwerk.lock; run `gemeinwerk lock`"),
    );

    let out = reg.cli_in(DE, None, &["lock", "--project", dir]);
    fails(&out, 0);
    says(&out, "festgelegt kassel/antrag 1.0.0");
    says(&out, "1 Paket in ");
    let out = reg.cli_in(EN, None, &["lock", "--project", dir]);
    says(&out, "1 package in ");

    let fetched = regex::Regex::new(
        r"1 Paket nach .* geholt: 1 heruntergeladen \((\d+ Bytes|\d+,\d kB)\), 0 aus dem Cache",
    )
    .unwrap();
    let out = reg.cli_in(DE, None, &["fetch", "--project", dir]);
    fails(&out, 0);
    assert!(fetched.is_match(&stderr(&out)), "{}", stderr(&out));
    says(&out, "kassel/antrag@1.0.0 heruntergeladen (");
    let out = reg.cli_in(
        EN,
        None,
        &[
            "fetch",
            "--project",
            dir,
            "--dest",
            project.path().join("en").to_str().unwrap(),
        ],
    );
    says(&out, "fetched 1 package into ");

    let vendor = project.path().join("vendor");
    let out = reg.cli_in(
        DE,
        None,
        &["vendor", vendor.to_str().unwrap(), "--project", dir],
    );
    fails(&out, 0);
    says(
        &out,
        &format!("1 Paket nach {} gelegt; ohne Netz:", vendor.display()),
    );
}

#[test]
fn operator_and_interop_commands_in_both_languages() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let owner = reg.owner_of("kassel");
    assert!(reg
        .cli(
            Some(&owner),
            &["publish", pkg("kassel/a", "1.0.0").path_str()]
        )
        .status
        .success());

    let out = admin_in(&reg, DE, &["user", "add", "berta"]);
    fails(&out, 0);
    says(&out, "Benutzer/in berta angelegt");
    says(
        &admin_in(&reg, EN, &["user", "add", "carla"]),
        "user carla added",
    );
    let out = admin_in(
        &reg,
        DE,
        &["member", "add", "kassel", "berta", "--role", "owner"],
    );
    says(&out, "berta ist Eigentümer/in von kassel");
    let out = admin_in(
        &reg,
        DE,
        &["token", "create", "berta", "--expires-in", "bald"],
    );
    fails(&out, 2);
    says(&out, "Fehler: „bald“ ist keine Dauer wie 90d, 12h oder 4w");
    let out = admin_in(
        &reg,
        EN,
        &["token", "create", "berta", "--expires-in", "bald"],
    );
    says(
        &out,
        "error: \"bald\" is not a duration like 90d, 12h or 4w",
    );
    let out = admin_in(&reg, DE, &["token", "create", "berta", "--scope", "alles"]);
    fails(&out, 2);
    says(&out, "Fehler: unbekannte Berechtigung „alles“");
    let out = admin_in(&reg, DE, &["token", "list", "berta"]);
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    admin_in(&reg, EN, &["token", "create", "berta"]);
    let out = admin_in(&reg, DE, &["token", "list", "berta"]);
    says(&out, "\taktiv\tläuft nie ab\tnie benutzt");
    let out = admin_in(&reg, EN, &["token", "list", "berta"]);
    says(&out, "\tactive\texpires never\tlast used never");

    let out = admin_in(&reg, DE, &["reindex"]);
    fails(&out, 0);
    says(&out, "Suchindex aus der Datenbank neu aufgebaut (1 Paket)");
    let out = admin_in(&reg, DE, &["fsck"]);
    fails(&out, 0);
    says(&out, "1 Paket und 1 Archiv geprüft: 0 Probleme");
    says(
        &admin_in(&reg, EN, &["fsck"]),
        "checked 1 package and 1 archive: 0 problems",
    );

    // import, export
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("fehlt.xml");
    let out = reg.cli_in(
        DE,
        None,
        &["import", "xdatenfelder", missing.to_str().unwrap()],
    );
    fails(&out, 2);
    says(
        &out,
        &format!("Fehler: {} lässt sich nicht lesen", missing.display()),
    );
    let out = reg.cli_in(
        EN,
        None,
        &["import", "xdatenfelder", missing.to_str().unwrap()],
    );
    says(&out, &format!("error: cannot read {}", missing.display()));
    let xml = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fim/xdf2_S99000001_bewohnerparkausweis.xml");
    let into = tmp.path().join("import");
    let out = reg.cli_in(
        DE,
        None,
        &[
            "import",
            "xdatenfelder",
            xml.to_str().unwrap(),
            "--dir",
            into.to_str().unwrap(),
        ],
    );
    fails(&out, 0);
    says(
        &out,
        &format!(
            "{} geschrieben; bitte durchsehen, dann `gemeinwerk validate",
            into.display()
        ),
    );
    let out = reg.cli_in(
        DE,
        None,
        &[
            "import",
            "xdatenfelder",
            xml.to_str().unwrap(),
            "--dir",
            into.to_str().unwrap(),
        ],
    );
    fails(&out, 1);
    says(&out, &format!("Fehler: {} gibt es schon; mit --dir einen neuen Ordner nennen; nichts wurde geschrieben", into.display()));
    let out = reg.cli_in(
        EN,
        None,
        &[
            "import",
            "xdatenfelder",
            xml.to_str().unwrap(),
            "--dir",
            into.to_str().unwrap(),
        ],
    );
    says(
        &out,
        &format!(
            "error: {} already exists; name a new folder with --dir; nothing was written",
            into.display()
        ),
    );
    let empty = tmp.path().join("leer");
    std::fs::create_dir(&empty).unwrap();
    let out = reg.cli_in(DE, None, &["export", "bpmn", empty.to_str().unwrap()]);
    fails(&out, 2);
    says(
        &out,
        &format!(
            "Fehler: {} hat keine gemeinwerk.toml; im Paketordner aufrufen",
            empty.display()
        ),
    );
    let out = reg.cli_in(EN, None, &["export", "bpmn", empty.to_str().unwrap()]);
    says(
        &out,
        &format!(
            "error: {} has no gemeinwerk.toml; run this in a package folder",
            empty.display()
        ),
    );
}

#[test]
fn lc_all_wins_over_lang() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let p = pkg("kassel/hunde", "1.0.0");
    let out = Command::new(bin())
        .args(["validate", p.path_str()])
        .env("LC_ALL", "en_GB.UTF-8")
        .env("LANG", DE)
        .env("GEMEINWERK_REGISTRY", &reg.url)
        .output()
        .unwrap();
    says(&out, "is valid");
    let out = Command::new(bin())
        .args(["validate", p.path_str()])
        .env_remove("LC_ALL")
        .env("LC_MESSAGES", "de_AT.UTF-8")
        .env("LANG", "en_US.UTF-8")
        .env("GEMEINWERK_REGISTRY", &reg.url)
        .output()
        .unwrap();
    says(&out, "ist gültig");
}
