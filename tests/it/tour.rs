//! The README's five-minute tour, run from README.md itself: its shell
//! blocks, with `gemeinwerk` the binary under test and the demo registry a
//! test server, so that the tour cannot drift from what the tool does.

use std::process::Command;

use crate::common::*;

/// The shell blocks of the tour section, in order.
fn tour_blocks(readme: &str) -> Vec<String> {
    let start = readme
        .find("## A five-minute tour")
        .expect("the README has a tour");
    let rest = &readme[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in rest[..end].lines() {
        match (&mut current, line.trim_start()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

/// The tour as one script against `reg`: the setup block's build and
/// server lines are the test's own; every `gemeinwerk` call is announced
/// with a marker and stops the script when it fails.
fn script(reg: &TestRegistry, readme: &str) -> String {
    let repo = env!("CARGO_MANIFEST_DIR");
    let tokens = reg.data().join("demo-tokens.toml");
    let mut script = format!(
        "set -u\n\
         gemeinwerk() {{\n\
           echo \"=== gemeinwerk $*\"\n\
           {bin:?} \"$@\" || {{ rc=$?; echo \"=== FAILED ($rc): gemeinwerk $*\"; exit 1; }}\n\
         }}\n\
         export GEMEINWERK_REGISTRY={url:?}\n",
        bin = bin(),
        url = reg.url,
    );
    for block in tour_blocks(readme) {
        for line in block.lines() {
            let skip = [
                "cargo build",
                "alias gemeinwerk",
                "gemeinwerk serve",
                "until curl",
            ];
            if skip.iter().any(|s| line.starts_with(s)) {
                continue;
            }
            let line = if line.starts_with("TOKENS=") {
                format!("TOKENS={tokens:?}")
            } else if line.starts_with("REPO=") {
                format!("REPO={repo:?}")
            } else {
                line.replace("http://127.0.0.1:8080", &reg.url)
            };
            script.push_str(&line);
            script.push('\n');
        }
    }
    script.push_str("echo '=== END'\n");
    script
}

/// What the calls of `gemeinwerk ARGS` printed (stdout and stderr).
fn output_of<'a>(log: &'a str, args: &str) -> &'a str {
    let marker = format!("=== gemeinwerk {args}\n");
    let start = log
        .find(&marker)
        .unwrap_or_else(|| panic!("no `{args}` in:\n{log}"));
    let rest = &log[start + marker.len()..];
    &rest[..rest.find("=== ").unwrap_or(rest.len())]
}

#[test]
fn readme_tour_runs_as_written() {
    let readme =
        std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let reg = TestRegistry::start_with(Backend::Sqlite, &["--demo"]);
    // The README's reader takes longer to reach `search` than the demo's
    // first search index takes to build; the script does not.
    let started = std::time::Instant::now();
    while reg.get("/api/v1/search?q=Parkausweis").status != 200 {
        assert!(
            started.elapsed().as_secs() < 30,
            "no search index after 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let scratch = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(script(&reg, &readme))
        .current_dir(scratch.path())
        .env("HOME", home.path())
        .env("LC_ALL", "C")
        .env_remove("GEMEINWERK_TOKEN")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    let log = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success() && log.contains("=== END"), "{log}");
    assert!(!log.contains("=== FAILED"), "{log}");
    // Read-your-writes: search right after a publish finds the package.
    assert!(
        output_of(&log, "search S99000001").contains("kassel/parkausweis-fim 1.3.0"),
        "{log}"
    );
    assert!(
        output_of(&log, "search Hunde Steuer").contains("kassel/hundesteuer-anmeldung"),
        "{log}"
    );
    assert!(
        output_of(&log, "info kassel/hundesteuer-anmeldung").contains("1.0.0"),
        "{log}"
    );
}
