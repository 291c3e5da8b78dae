//! Issue 19: the search follower finds an entry that committed after one
//! with a higher id (PostgreSQL hands out ids at insert, not at commit) by
//! looking up the id it read past, not by scanning the log.

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use gemeinwerk_package::archive::ArchiveLimits;
use gemeinwerk_server::registry::search::{self, RawSearchParams, SearchParams};
use gemeinwerk_server::registry::{Registry, RegistryConfig};

use crate::common;

fn found(reg: &Registry, q: &str) -> u64 {
    let params = SearchParams::parse(&RawSearchParams {
        q: Some(q.into()),
        ..Default::default()
    })
    .unwrap();
    reg.search(&params).unwrap().total
}

#[test]
fn a_late_commit_reaches_the_search_index_on_postgres() {
    let name = format!("gw_follower_{}", std::process::id());
    let base = common::postgres_base();
    let mut admin = PgConnection::establish(&format!("{base}/postgres")).unwrap();
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    let url = format!("{base}/{name}");
    let dir = tempfile::tempdir().unwrap();
    let reg = Arc::new(
        Registry::open(
            dir.path(),
            Some(&url),
            RegistryConfig {
                limits: ArchiveLimits::default(),
                base_url: "http://127.0.0.1:1".into(),
            },
        )
        .unwrap(),
    );
    let mut follower = search::Follower::start(reg.clone()).unwrap();
    follower.step().unwrap();

    // A publish takes its audit id first and commits last.
    let mut slow = PgConnection::establish(&url).unwrap();
    slow.batch_execute(
        "BEGIN; \
         INSERT INTO namespaces (slug, display_name, created_at) VALUES ('kassel', 'Stadt Kassel', now()); \
         INSERT INTO packages (namespace_id, name, kind, title, description, created_at, updated_at) \
           SELECT id, 'laternenfest', 'form', 'Laternenfest anmelden', 'Anmeldung', now(), now() FROM namespaces; \
         INSERT INTO versions (package_id, num, canonical_num, cksum, size, manifest, created_at) \
           SELECT id, '1.0.0', '1.0.0', 'missing', 1, '', now() FROM packages; \
         INSERT INTO audit_log (created_at, action, namespace, target, details) \
           VALUES (now(), 'publish', 'kassel', 'kassel/laternenfest@1.0.0', '{}');",
    )
    .unwrap();
    // Meanwhile another change commits with a higher id, and the follower
    // reads past the missing one.
    let mut fast = PgConnection::establish(&url).unwrap();
    fast.batch_execute(
        "INSERT INTO audit_log (created_at, action, target, details) VALUES (now(), 'user_add', 'anna', '{}')",
    )
    .unwrap();
    follower.step().unwrap();
    assert_eq!(found(&reg, "laternenfest"), 0, "not committed yet");

    slow.batch_execute("COMMIT").unwrap();
    follower.step().unwrap();
    assert_eq!(found(&reg, "laternenfest"), 1, "the late commit was missed");
    follower.finish().unwrap();
    drop((slow, fast));
    drop(reg);
    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin);
}
