//! schemathesis (property-based API testing, from PyPI) generates requests
//! from the served `/api/openapi.json` and sends them to a real server on
//! each database, with a token that owns every demo namespace and the demo
//! packages published, so that generated requests reach real data. It
//! fails on any 5xx answer and on any answer the document does not allow.
//! `scripts/schemathesis.toml` lists the refusals the document states in
//! words but cannot express in JSON Schema. The time per database is
//! `GEMEINWERK_SCHEMATHESIS_SECONDS` (default 45); `scripts/schemathesis`
//! runs the same longer by hand.

use std::process::Command;

use crate::common::{self, Backend, TestRegistry};

fn seconds() -> String {
    std::env::var("GEMEINWERK_SCHEMATHESIS_SECONDS").unwrap_or_else(|_| "45".into())
}

fn schemathesis_against(backend: Backend) {
    let available = Command::new("python3")
        .args(["-c", "import schemathesis"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        available,
        "schemathesis is missing: `python3 -m pip install schemathesis` (scripts/setup-test-env does)"
    );
    let reg = TestRegistry::start_with(backend, &["--demo"]);
    let token = reg.demo_token("kassel");
    for namespace in ["darmstadt", "fim"] {
        reg.admin_ok(&[
            "member",
            "add",
            namespace,
            "kassel-redaktion",
            "--role",
            "owner",
        ]);
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'st'; schemathesis()",
        ])
        .args(["--config-file", &format!("{root}/scripts/schemathesis.toml")])
        .args(["run", &format!("{}/api/openapi.json", reg.url)])
        .args(["--url", &reg.url])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["--workers", "1", "--max-time", &seconds()])
        .args(["--seed", "20261130", "--no-color"])
        .current_dir(reg.home.path())
        .output()
        .unwrap();
    let report = format!("{}{}", common::stdout(&out), common::stderr(&out));
    assert!(
        out.status.success(),
        "schemathesis on {backend:?} found failures:\n{report}"
    );
    // A run that reached nothing proves nothing.
    assert!(
        report.contains("passed") || report.contains("Operations"),
        "schemathesis ran no operation on {backend:?}:\n{report}"
    );
}

#[test]
fn schemathesis_finds_no_failure_on_sqlite() {
    schemathesis_against(Backend::Sqlite);
}

#[test]
fn schemathesis_finds_no_failure_on_postgres() {
    schemathesis_against(Backend::Postgres);
}
