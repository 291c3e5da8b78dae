//! Hard kills during publishing: four clients publish while the server is
//! killed with SIGKILL five times and started again. Every publish that was
//! answered 2xx must be complete afterwards in every view (download with its
//! checksum, sparse index, git index, search), and `fsck` must be clean.
//! Bounded to well under a minute per database.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use gemeinwerk_package::archive::sha256_hex;

use crate::common::{self, archive_of, pkg, searchable_names, Backend, TestRegistry};

const PUBLISHERS: usize = 4;
const KILLS: usize = 5;

/// What a publisher was told: package name → checksum, for 2xx answers only.
pub(crate) type Acknowledged = Arc<Mutex<BTreeMap<String, String>>>;

pub(crate) fn publisher(
    n: usize,
    url: Arc<RwLock<String>>,
    token: String,
    stop: Arc<AtomicBool>,
    acked: Acknowledged,
) -> usize {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let mut attempts = 0;
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        let name = format!("crash-p{n}-n{i}");
        let archive = archive_of(&pkg(&format!("kassel/{name}"), "1.0.0"));
        // Retry the same package until an answer comes: a connection cut
        // by the kill says nothing about whether the publish committed.
        loop {
            if stop.load(Ordering::SeqCst) {
                return attempts;
            }
            attempts += 1;
            let base = url.read().unwrap().clone();
            let answer = agent
                .put(&format!("{base}/api/v1/packages/new"))
                .set("Authorization", &format!("Bearer {token}"))
                .send_bytes(&archive);
            match answer {
                Ok(r) => {
                    let body: serde_json::Value = r.into_json().unwrap();
                    let cksum = body["cksum"].as_str().unwrap().to_string();
                    acked.lock().unwrap().insert(name.clone(), cksum);
                    break;
                }
                // The first try committed before the kill cut its answer.
                Err(ureq::Error::Status(409, _)) => break,
                // 502 and 504: a load balancer whose node died mid-request.
                Err(ureq::Error::Status(502..=504, _)) | Err(ureq::Error::Transport(_)) => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(ureq::Error::Status(code, r)) => {
                    panic!(
                        "publish {name}: {code} {}",
                        r.into_string().unwrap_or_default()
                    )
                }
            }
        }
        i += 1;
    }
    attempts
}

fn kill_during_publishes(backend: Backend) {
    let started = Instant::now();
    let mut reg = TestRegistry::start(backend);
    let token = reg.owner_of("kassel");
    let url = Arc::new(RwLock::new(reg.url.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Acknowledged = Arc::default();
    let clients: Vec<_> = (0..PUBLISHERS)
        .map(|n| {
            let (url, token, stop, acked) =
                (url.clone(), token.clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || publisher(n, url, token, stop, acked))
        })
        .collect();

    let mut acked_before_kill = Vec::new();
    for kill in 0..KILLS {
        // Vary the moment, so that kills land in different phases of a
        // publish (upload, check, blob write, commit, views).
        std::thread::sleep(Duration::from_millis(900 + 350 * kill as u64));
        acked_before_kill.push(acked.lock().unwrap().len());
        reg.kill();
        reg.launch();
        *url.write().unwrap() = reg.url.clone();
    }
    std::thread::sleep(Duration::from_millis(800));
    stop.store(true, Ordering::SeqCst);
    let attempts: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked_before_kill.windows(2).all(|w| w[1] > w[0]) && acked_before_kill[0] > 0,
        "publishes must go on between the kills: {acked_before_kill:?}"
    );

    reg.wait_for_jobs_within(Duration::from_secs(60));
    verify_every_view(&reg, &acked);
    let fsck = reg.admin(&["fsck"]);
    assert!(
        fsck.status.success(),
        "fsck after {KILLS} kills: {}{}",
        common::stdout(&fsck),
        common::stderr(&fsck)
    );
    eprintln!(
        "{backend:?}: {} publishes acknowledged of {attempts} attempts, {KILLS} kills, {:.1} s",
        acked.len(),
        started.elapsed().as_secs_f64()
    );
}

fn verify_every_view(reg: &TestRegistry, acked: &BTreeMap<String, String>) {
    let git = registry_index::GitIndex::open_or_init(&reg.data().join("git/index.git")).unwrap();
    for (name, cksum) in acked {
        let download = reg.get(&format!("/api/v1/packages/kassel/{name}/1.0.0/download"));
        assert_eq!(download.status, 200, "download of {name}");
        assert_eq!(&sha256_hex(&download.body), cksum, "archive of {name}");

        let sparse = reg.get(&format!("/index/kassel/{name}"));
        assert_eq!(sparse.status, 200, "sparse index of {name}");
        assert!(
            sparse.text().contains(cksum.as_str()),
            "sparse index of {name}"
        );
        let in_git = git.read_file(&format!("kassel/{name}")).unwrap();
        assert_eq!(
            in_git.as_deref(),
            Some(&sparse.body[..]),
            "git index of {name}"
        );
    }
    // Search: every acknowledged package is found, all pages of the
    // namespace. After the last restart the follower may first rebuild its
    // index (503 meanwhile) and then catch up on the whole feed, which in a
    // debug build beside the rest of the suite takes a while.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (found, last_status) = searchable_names(reg, "kassel");
        let missing: Vec<_> = acked.keys().filter(|n| !found.contains(*n)).collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} acknowledged packages not searchable after 60 s (last search answer {last_status}; /healthz: {}): {:?}",
            missing.len(),
            acked.len(),
            reg.get("/healthz").text(),
            &missing[..missing.len().min(10)]
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn sqlite_survives_hard_kills_during_publishes() {
    kill_during_publishes(Backend::Sqlite);
}

#[test]
fn postgres_survives_hard_kills_during_publishes() {
    kill_during_publishes(Backend::Postgres);
}
