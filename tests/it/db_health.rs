//! Issue 19, point 3: tables without planner statistics are reported by
//! `admin fsck` and `/healthz`, and `admin fsck --repair` analyses them.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;

use crate::both_backends;
use crate::common::{self, *};

fn healthz_warnings(reg: &TestRegistry) -> Vec<String> {
    let r = reg.get("/healthz");
    assert_eq!(
        r.status,
        200,
        "a warning does not take the node out: {}",
        r.text()
    );
    assert_eq!(r.json()["status"], "ok");
    r.json()["warnings"]
        .as_array()
        .map(|w| w.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

both_backends! {
    fn tables_never_analysed_are_warned_about(reg) {
        {
            let db = reg.db();
            let mut conn = db.conn().unwrap();
            if reg.backend == Backend::Postgres {
                // Whatever the machine's autovacuum does, this table gets
                // no statistics until the test asks for them.
                conn.batch_execute("ALTER TABLE audit_log SET (autovacuum_enabled = false)").unwrap();
            }
            conn.batch_execute(
                "INSERT INTO audit_log (created_at, action, target, details) \
                 WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 1500) \
                 SELECT '2026-11-01 00:00:00', 'member_add', 'user' || i, '{}' FROM seq",
            )
            .unwrap();
        }
        if reg.backend == Backend::Sqlite {
            assert!(!reg.admin_ok(&["fsck"]).contains("warning:"));
            assert!(healthz_warnings(reg).is_empty());
            return;
        }
        // The loading connection's statistics reach the server when it closes.
        let started = Instant::now();
        let fsck = loop {
            let out = reg.admin_ok(&["fsck"]);
            if out.contains("warning:") || started.elapsed() > Duration::from_secs(15) {
                break out;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        assert!(
            fsck.contains("warning: database: table audit_log has about 1500 rows and has never been analysed"),
            "{fsck}"
        );
        let warnings = healthz_warnings(reg);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("audit_log"), "{warnings:?}");

        let repaired = reg.admin_ok(&["fsck", "--repair"]);
        assert!(repaired.contains("warning: database: analysed table audit_log"), "{repaired}");
        assert!(!reg.admin_ok(&["fsck"]).contains("warning:"));
        assert!(healthz_warnings(reg).is_empty());
    }
}
