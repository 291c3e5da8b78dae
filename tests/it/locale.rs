//! The CLI speaks German under a German locale and English otherwise;
//! the registry's error codes read the same in both.

use crate::common::*;

const DE: &str = "de_DE.UTF-8";

#[test]
fn german_and_english_output() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let owner = reg.owner_of("kassel");
    let p = pkg("kassel/hunde", "1.0.0");

    let out = reg.cli_in(DE, None, &["validate", p.path_str()]);
    assert!(
        stderr(&out).contains("kassel/hunde@1.0.0 ist gültig"),
        "{}",
        stderr(&out)
    );
    let out = reg.cli_in("C", None, &["validate", p.path_str()]);
    assert!(
        stderr(&out).contains("kassel/hunde@1.0.0 is valid"),
        "{}",
        stderr(&out)
    );

    let out = reg.cli_in(DE, None, &["publish", p.path_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("Fehler: kein API-Token"),
        "{}",
        stderr(&out)
    );

    let out = reg.cli_in(DE, Some(&owner), &["publish", p.path_str()]);
    assert!(
        stderr(&out).contains("kassel/hunde@1.0.0 veröffentlicht"),
        "{}",
        stderr(&out)
    );

    // A refusal: German frame, the registry's code as it is.
    let out = reg.cli_in(DE, Some(&owner), &["publish", p.path_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("Fehler: "), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[version_exists]"),
        "{}",
        stderr(&out)
    );
    let out = reg.cli_in("C", Some(&owner), &["publish", p.path_str()]);
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[version_exists]"),
        "{}",
        stderr(&out)
    );

    let out = reg.cli_in(DE, None, &["info", "kassel/hunde"]);
    assert!(stdout(&out).contains("0 Downloads"), "{}", stdout(&out));
    let out = reg.cli_in("en_US.UTF-8", None, &["info", "kassel/hunde"]);
    assert!(stdout(&out).contains("0 downloads"), "{}", stdout(&out));

    let out = reg.cli_in(DE, None, &["search", "hunde"]);
    assert!(stderr(&out).contains("1 von 1 Paket"), "{}", stderr(&out));
    let out = reg.cli_in("C", None, &["search", "hunde"]);
    assert!(stderr(&out).contains("1 of 1 package"), "{}", stderr(&out));
}

#[test]
fn lc_all_wins_over_lang() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let p = pkg("kassel/hunde", "1.0.0");
    let out = std::process::Command::new(bin())
        .args(["validate", p.path_str()])
        .env("LC_ALL", "en_GB.UTF-8")
        .env("LANG", DE)
        .env("GEMEINWERK_REGISTRY", &reg.url)
        .output()
        .unwrap();
    assert!(stderr(&out).contains("is valid"), "{}", stderr(&out));
}
