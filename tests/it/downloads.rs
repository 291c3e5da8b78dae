//! Issue 16 point 9, issue 15 point 5: downloads are counted in memory and
//! written in batches, never lost on a clean stop; only downloads for use
//! count; the package page shows the last 90 days.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use diesel::prelude::*;
use gemeinwerk_server::store::schema::{packages, version_downloads};

use crate::both_backends;
use crate::common::{self, *};

fn info(reg: &TestRegistry, name: &str) -> serde_json::Value {
    let r = reg.get(&format!("/api/v1/packages/{name}"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The CLI in a consuming project's folder with its own cache.
fn in_project(reg: &TestRegistry, dir: &Path, cache: &Path, args: &[&str]) -> Output {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("GEMEINWERK_REGISTRY", &reg.url)
        .env("HOME", reg.home.path())
        .env("XDG_CACHE_HOME", cache)
        .env_remove("GEMEINWERK_TOKEN")
        .env_remove("GEMEINWERK_VENDORED")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    out
}

both_backends! {
    fn counted_downloads_survive_a_clean_stop(outer) {
        outer.halt();
        // A flush interval no test waits for: only the stop writes them.
        let mut reg = TestRegistry::start_with(outer.backend, &["--downloads-flush-secs", "3600"]);
        let token = reg.owner_of("kassel");
        let r = reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.0")));
        assert_eq!(r.status, 200, "{}", r.text());
        for _ in 0..7 {
            assert_eq!(reg.get("/api/v1/packages/kassel/a/1.0.0/download").status, 200);
        }
        // This node shows what it counted before writing it.
        let v = info(&reg, "kassel/a");
        assert_eq!((v["downloads"].as_i64(), v["recent_downloads"].as_i64()), (Some(7), Some(7)));
        assert_eq!(v["versions"][0]["downloads"], 7);
        let written: i64 = packages::table.select(packages::downloads).first(&mut *reg.db().conn().unwrap()).unwrap();
        assert_eq!(written, 0, "a download takes no write: the counts wait in memory");

        reg.stop();
        let db = reg.db();
        let mut conn = db.conn().unwrap();
        let (total, recent): (i64, i64) = packages::table
            .select((packages::downloads, packages::recent_downloads))
            .first(&mut *conn)
            .unwrap();
        assert_eq!((total, recent), (7, 7));
        let days: Vec<(chrono::NaiveDate, i64)> = version_downloads::table
            .select((version_downloads::day, version_downloads::count))
            .load(&mut *conn)
            .unwrap();
        assert_eq!(days, vec![(chrono::Utc::now().date_naive(), 7)]);
        drop(conn);

        reg.launch();
        let v = info(&reg, "kassel/a");
        assert_eq!((v["downloads"].as_i64(), v["recent_downloads"].as_i64()), (Some(7), Some(7)));
        let page = reg.request_with("GET", "/pakete/kassel/a", None, None, &[("Accept", "text/html")]).text();
        assert!(page.contains("7 insgesamt, 7 Downloads in den letzten 90 Tagen"), "{page}");
        assert!(page.contains("<title id=\"downloads-titel\">Downloads je Tag in den letzten 90 Tagen</title>"), "{page}");
        assert_eq!(page.matches("<rect ").count(), 1, "one day with downloads, one bar");
        // A second stop with nothing counted writes nothing and loses nothing.
        reg.stop();
        reg.launch();
        assert_eq!(info(&reg, "kassel/a")["downloads"], 7);
    }

    fn only_downloads_for_use_are_counted(outer) {
        outer.halt();
        let reg = &TestRegistry::start_with(outer.backend, &["--downloads-flush-secs", "1"]);
        let token = reg.owner_of("kassel");
        for version in ["1.0.0", "1.1.0"] {
            let r = reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", version)));
            assert_eq!(r.status, 200, "{}", r.text());
        }
        let out = reg.cli(None, &["diff", "kassel/a@1.0.0", "kassel/a@1.1.0"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = reg.cli(None, &["info", "kassel/a"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(info(reg, "kassel/a")["downloads"], 0, "diff and info download nothing for use");

        // A pipeline fetches one version for use.
        let project = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        std::fs::write(project.path().join("gemeinwerk.toml"), "[dependencies]\n\"kassel/a\" = \"=1.0.0\"\n").unwrap();
        in_project(reg, project.path(), cache.path(), &["lock"]);
        in_project(reg, project.path(), cache.path(), &["fetch", "--locked"]);
        let v = info(reg, "kassel/a");
        assert_eq!(v["downloads"], 1, "{v}");
        assert_eq!(v["versions"][1]["num"], "1.0.0");
        assert_eq!(v["versions"][1]["downloads"], 1);

        // The marker by hand; a wrong one is refused and counts nothing.
        let r = reg.get("/api/v1/packages/kassel/a/1.1.0/download?purpose=inspect");
        assert_eq!(r.status, 200);
        let r = reg.get("/api/v1/packages/kassel/a/1.1.0/download?purpose=look");
        assert_eq!(r.status, 400);
        assert_eq!(r.error_code(), "bad_download_purpose");
        let r = reg.get("/api/v1/packages/kassel/a/1.1.0/download?zweck=x");
        assert_eq!(r.status, 400);
        assert_eq!(info(reg, "kassel/a")["downloads"], 1);
        // A browser's download is for use.
        assert_eq!(reg.get("/api/v1/packages/kassel/a/1.1.0/download?purpose=use").status, 200);
        assert_eq!(info(reg, "kassel/a")["downloads"], 2);

        // The flusher writes within seconds, and the search ranking follows.
        let started = std::time::Instant::now();
        loop {
            let written: i64 = packages::table.select(packages::downloads).first(&mut *reg.db().conn().unwrap()).unwrap();
            if written == 2 {
                break;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(10), "the counts were not written");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    fn most_used_ranks_by_the_last_90_days(outer) {
        outer.halt();
        let reg = &TestRegistry::start_with(outer.backend, &["--downloads-flush-secs", "1"]);
        let token = reg.owner_of("kassel");
        for name in ["alt", "neu"] {
            let r = reg.publish_bytes(Some(&token), &archive_of(&pkg(&format!("kassel/{name}"), "1.0.0")));
            assert_eq!(r.status, 200, "{}", r.text());
        }
        // "alt" was used a lot, but long ago: 500 downloads 200 days back.
        {
            let db = reg.db();
            let mut conn = db.conn().unwrap();
            let long_ago = chrono::Utc::now().date_naive() - chrono::Duration::days(200);
            let (id, version): (i64, i64) = packages::table
                .inner_join(gemeinwerk_server::store::schema::versions::table)
                .filter(packages::name.eq("alt"))
                .select((packages::id, gemeinwerk_server::store::schema::versions::id))
                .first(&mut *conn)
                .unwrap();
            diesel::insert_into(version_downloads::table)
                .values((version_downloads::version_id.eq(version), version_downloads::day.eq(long_ago), version_downloads::count.eq(500i64)))
                .execute(&mut *conn)
                .unwrap();
            diesel::update(packages::table.find(id)).set(packages::downloads.eq(500i64)).execute(&mut *conn).unwrap();
        }
        for _ in 0..2 {
            assert_eq!(reg.get("/api/v1/packages/kassel/neu/1.0.0/download").status, 200);
        }
        let started = std::time::Instant::now();
        loop {
            let page = reg.request_with("GET", "/", None, None, &[("Accept", "text/html")]).text();
            let used = page.split("Am häufigsten genutzt").nth(1).unwrap_or_default().to_string();
            let (neu, alt) = (used.find("kassel/neu"), used.find("kassel/alt"));
            // Until the flush both have 0 in 90 days; then "neu" must lead,
            // though "alt" has 500 downloads in all.
            if used.contains("2 Downloads in 90 Tagen") {
                assert!(neu.is_some() && alt.is_some() && neu < alt, "{used}");
                break;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(10), "the start page did not rank by 90 days: {used}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let v = info(reg, "kassel/alt");
        assert_eq!((v["downloads"].as_i64(), v["recent_downloads"].as_i64()), (Some(500), Some(0)));
    }
}
