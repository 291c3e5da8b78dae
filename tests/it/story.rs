//! The story that defines gemeinwerk, through the CLI against a real
//! server: Kassel publishes, Darmstadt forks and adapts, Kassel moves on,
//! Darmstadt sees it, merges, settles the one conflict and publishes.

use std::path::Path;

use crate::both_backends;
use crate::common::{self, *};

fn demo(name: &str) -> String {
    format!("{}/demo/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(path, text.replace(from, to)).unwrap();
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} / {}", stdout(out), stderr(out)))
}

both_backends! {
    fn kassel_darmstadt_fork_and_merge(reg) {
        let fim = reg.owner_of("fim");
        let kassel = reg.owner_of("kassel");
        let darmstadt = reg.owner_of("darmstadt");
        for p in ["fim-anschrift-inland", "fim-natuerliche-person"] {
            let out = reg.cli(Some(&fim), &["publish", &demo(p)]);
            assert!(out.status.success(), "{p}: {}", stderr(&out));
        }
        let out = reg.cli(Some(&kassel), &["publish", &demo("kassel-bewohnerparkausweis")]);
        assert!(out.status.success(), "{}", stderr(&out));

        // Darmstadt forks and adapts zones, fee and a label.
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("darmstadt");
        let ds = d.to_str().unwrap();
        let out = reg.cli(Some(&darmstadt), &["fork", "kassel/bewohnerparkausweis@1.0.0", "darmstadt/bewohnerparkausweis", "--dir", ds]);
        assert!(out.status.success(), "{}", stderr(&out));
        edit(&d, "form.toml", "Bewohnerparkzonen in Kassel", "Bewohnerparkzonen in Darmstadt");
        edit(&d, "form.toml", "Zone A – Innenstadt / Friedrich-Ebert-Straße", "Zone A – Martinsviertel");
        edit(&d, "form.toml", "ein Jahr (30,70 €)", "ein Jahr (25,00 €)");
        edit(&d, "form.toml", "zwei Jahre (61,40 €)", "zwei Jahre (50,00 €)");
        edit(&d, "form.toml", "label = \"Parkzone\"", "label = \"Parkzone in Darmstadt\"");
        edit(&d, "gemeinwerk.toml", "der Stadt Kassel", "der Wissenschaftsstadt Darmstadt");
        let out = reg.cli(Some(&darmstadt), &["publish", ds]);
        assert!(out.status.success(), "{}", stderr(&out));

        // Not a fork: a usage error, not a refusal.
        let out = reg.cli(None, &["upstream", "status", &demo("kassel-bewohnerparkausweis")]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let status = json(&reg.cli(None, &["upstream", "status", ds, "--json"]));
        assert_eq!(status["newer"].as_array().unwrap().len(), 0);

        // Kassel publishes 1.1.0; Darmstadt sees it and what changed.
        let out = reg.cli(Some(&kassel), &["publish", &demo("kassel-bewohnerparkausweis-1.1.0")]);
        assert!(out.status.success(), "{}", stderr(&out));
        let status = json(&reg.cli(None, &["upstream", "status", ds, "--json"]));
        assert_eq!(status["newer"][0]["version"], "1.1.0");
        assert_eq!(status["newer"][0]["level"], "minor");
        let changes = json(&reg.cli(None, &["upstream", "diff", ds, "--json"]));
        assert!(changes.as_array().unwrap().len() >= 3, "{changes}");

        // The merge takes the disjoint changes and stops at the one conflict.
        let out = reg.cli(None, &["upstream", "merge", ds, "--json"]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let merged = json(&out);
        let conflicts = merged["conflicts"].as_array().unwrap();
        assert_eq!(conflicts.len(), 1, "{merged}");
        assert_eq!(conflicts[0]["path"], "field:parkzone/label");
        assert!(!merged["taken"].as_array().unwrap().is_empty());
        assert!(d.join("gemeinwerk-merge.toml").is_file());
        let out = reg.cli(None, &["validate", ds, "--offline"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("merge.open_conflict"), "{}", stderr(&out));
        let out = reg.cli(None, &["upstream", "merge", ds]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("a merge is in progress"), "{}", stderr(&out));

        let out = reg.cli(None, &["upstream", "resolve", "field:nope/label", "--ours", "--dir", ds]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let out = reg.cli(None, &["upstream", "resolve", "field:parkzone/label", "--ours", "--dir", ds]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(!d.join("gemeinwerk-merge.toml").exists());
        let form = std::fs::read_to_string(d.join("form.toml")).unwrap();
        assert!(form.contains("Parkzone in Darmstadt") && form.contains("Zone A – Martinsviertel"));
        assert!(form.contains("25,00 €"), "Darmstadt's fee stays");
        let manifest = std::fs::read_to_string(d.join("gemeinwerk.toml")).unwrap();
        assert!(manifest.contains("[forked-from]\npackage = \"kassel/bewohnerparkausweis\"\nversion = \"1.1.0\""), "{manifest}");

        // Darmstadt publishes 1.1.0 and is up to date; its history merges
        // Kassel's 1.1.0.
        edit(&d, "gemeinwerk.toml", "version = \"1.0.0\"", "version = \"1.1.0\"");
        let out = reg.cli(Some(&darmstadt), &["publish", ds]);
        assert!(out.status.success(), "{}", stderr(&out));
        let network = reg.get("/api/v1/packages/kassel/bewohnerparkausweis/forks").json();
        assert_eq!(network["forks"][0]["base"], "kassel/bewohnerparkausweis@1.1.0");
        assert_eq!(network["forks"][0]["behind"], 0);
        reg.wait_for_jobs();
        let clones = tempfile::tempdir().unwrap();
        git(clones.path(), &["clone", "-q", &format!("{}/git/packages/darmstadt/bewohnerparkausweis.git", reg.url), "d"]);
        git(clones.path(), &["clone", "-q", &format!("{}/git/packages/kassel/bewohnerparkausweis.git", reg.url), "k"]);
        let kassel_110 = git(&clones.path().join("k"), &["rev-parse", "v1.1.0"]);
        let d_repo = clones.path().join("d");
        assert_eq!(git(&d_repo, &["merge-base", "v1.1.0", &kassel_110]), kassel_110);
        assert_eq!(git(&d_repo, &["rev-list", "--parents", "-n", "1", "v1.1.0"]).split(' ').count(), 3, "a merge commit");
    }
}

both_backends! {
    fn a_merge_in_a_fork_of_a_fork(reg) {
        let kassel = reg.owner_of("kassel");
        let darmstadt = reg.owner_of("darmstadt");
        let fulda = reg.owner_of("fulda");
        assert_eq!(reg.publish_bytes(Some(&kassel), &archive_of(&pkg("kassel/a", "1.0.0"))).status, 200);
        let tmp = tempfile::tempdir().unwrap();
        let (d, f) = (tmp.path().join("d"), tmp.path().join("f"));
        let (ds, fs) = (d.to_str().unwrap(), f.to_str().unwrap());
        assert!(reg.cli(Some(&darmstadt), &["fork", "kassel/a@1.0.0", "darmstadt/a", "--dir", ds]).status.success());
        assert!(reg.cli(Some(&darmstadt), &["publish", ds]).status.success());
        assert!(reg.cli(Some(&fulda), &["fork", "darmstadt/a@1.0.0", "fulda/a", "--dir", fs]).status.success());
        edit(&f, "form.toml", "label = \"Name\"", "label = \"Name (Fulda)\"");
        assert!(reg.cli(Some(&fulda), &["publish", fs]).status.success());

        // Darmstadt, itself a fork, moves on with a new optional field.
        let form = std::fs::read_to_string(d.join("form.toml")).unwrap();
        std::fs::write(d.join("form.toml"), format!("{form}\n[[field]]\nid = \"telefon\"\ntype = \"phone\"\nlabel = \"Telefon\"\n")).unwrap();
        edit(&d, "gemeinwerk.toml", "version = \"1.0.0\"\nkind", "version = \"1.1.0\"\nkind");
        let out = reg.cli(Some(&darmstadt), &["publish", ds]);
        assert!(out.status.success(), "{}", stderr(&out));

        let status = json(&reg.cli(None, &["upstream", "status", fs, "--json"]));
        assert_eq!(status["upstream"], "darmstadt/a");
        assert_eq!(status["newer"][0]["version"], "1.1.0");
        let out = reg.cli(None, &["upstream", "merge", fs]);
        assert!(out.status.success(), "a disjoint change merges cleanly: {}", stderr(&out));
        let form = std::fs::read_to_string(f.join("form.toml")).unwrap();
        assert!(form.contains("Name (Fulda)") && form.contains("id = \"telefon\""), "{form}");
        edit(&f, "gemeinwerk.toml", "version = \"1.0.0\"\nkind", "version = \"1.1.0\"\nkind");
        let out = reg.cli(Some(&fulda), &["publish", fs]);
        assert!(out.status.success(), "{}", stderr(&out));

        let network = reg.get("/api/v1/packages/kassel/a/forks").json();
        let fulda_entry = network["forks"].as_array().unwrap().iter().find(|e| e["package"] == "fulda/a").unwrap().clone();
        assert_eq!(fulda_entry["base"], "darmstadt/a@1.1.0");
        assert_eq!(fulda_entry["behind"], 0);
        assert_eq!(fulda_entry["depth"], 2);
    }
}
