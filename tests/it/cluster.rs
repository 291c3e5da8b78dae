//! Three nodes behind Debian's nginx (round robin), on PostgreSQL and the
//! test S3 server, as a state IT provider runs the registry: what is done
//! through the load balancer is the same on every node.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{self, *};
use crate::nginx::{free_port, Nginx};
use crate::web::{signed_in_as, Visitor};

/// What a node answers for search: names, versions and the total.
fn search(node: &TestRegistry) -> Vec<String> {
    let r = node.get("/api/v1/search?q=&sort=name&per_page=100");
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let mut hits: Vec<String> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| format!("{}/{}@{}", h["namespace"], h["name"], h["version"]))
        .collect();
    hits.push(format!("total {}", body["total"]));
    hits
}

/// Waits until `f` gives the same answer on every node, and returns it.
fn same_everywhere<T: PartialEq + std::fmt::Debug>(
    nodes: &[&TestRegistry],
    what: &str,
    f: impl Fn(&TestRegistry) -> T,
) -> T {
    let started = Instant::now();
    loop {
        let answers: Vec<T> = nodes.iter().map(|n| f(n)).collect();
        if answers.windows(2).all(|w| w[0] == w[1]) {
            return answers.into_iter().next().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what} differs between the nodes: {answers:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn three_nodes_behind_nginx_answer_the_same() {
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let mut a = TestRegistry::start_on(
        common::Backend::Postgres,
        Blobs::S3,
        &["--public-url", &public],
    );
    let b = a.second_node();
    let c = a.second_node();
    let nginx = Nginx::start(port, &[&a, &b, &c]);
    let kassel = a.owner_of("kassel");
    let darmstadt = a.owner_of("darmstadt");

    // Everything below goes through nginx: each request to whichever node.
    let direct = std::mem::replace(&mut a.url, nginx.url.clone());
    for version in ["1.0.0", "1.1.0"] {
        let r = a.publish_bytes(Some(&kassel), &archive_of(&pkg("kassel/parken", version)));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = a.request(
        "DELETE",
        "/api/v1/packages/kassel/parken/1.0.0/yank",
        Some(&kassel),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let work = tempfile::tempdir().unwrap();
    let fork_dir = work.path().join("fork");
    let out = a.cli(
        Some(&darmstadt),
        &[
            "fork",
            "kassel/parken@1.1.0",
            "darmstadt/parken",
            "--dir",
            fork_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = a.cli(Some(&darmstadt), &["publish", fork_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A web session made through nginx (the form and the post may reach
    // different nodes).
    let mut visitor = Visitor::new(&a);
    let r = visitor.sign_in(&kassel);
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(signed_in_as(&mut visitor, "kassel-owner"));
    a.url = direct;
    a.wait_for_jobs();

    // Then every node, asked directly, answers the same.
    let nodes = [&a, &b, &c];
    for package in ["kassel/parken", "darmstadt/parken"] {
        let (body, etag) = same_everywhere(&nodes, &format!("the index file of {package}"), |n| {
            let r = n.get(&format!("/index/{package}"));
            (r.body.clone(), r.header("etag").map(String::from))
        });
        assert!(!body.is_empty() && etag.is_some());
    }
    let lines = registry_index::parse_lines(
        &String::from_utf8(a.get("/index/kassel/parken").body).unwrap(),
    )
    .unwrap();
    assert!(lines[0].yanked && !lines[1].yanked);
    let index = same_everywhere(&nodes, "git ls-remote of the git index", |n| {
        ls_remote(&format!("{}/git/index.git", n.url))
    });
    assert!(index.contains("refs/heads/main"));
    for package in ["kassel/parken", "darmstadt/parken"] {
        let refs = same_everywhere(
            &nodes,
            &format!("git ls-remote of {package}'s history"),
            |n| ls_remote(&format!("{}/git/packages/{package}.git", n.url)),
        );
        assert!(refs.contains("refs/tags/v1.1.0"), "{refs}");
    }
    let hits = same_everywhere(&nodes, "search", search);
    assert!(hits.iter().any(|h| h.contains("parken")), "{hits:?}");
    for node in nodes {
        let mut there = Visitor::new(node);
        there.cookies = visitor.cookies.clone();
        assert!(
            signed_in_as(&mut there, "kassel-owner"),
            "the session does not work on {}",
            node.url
        );
    }
    assert!(
        nginx.error_log().lines().all(|l| !l.contains("[emerg]")),
        "{}",
        nginx.error_log()
    );
}

#[test]
fn killing_nodes_under_a_publish_load_through_nginx_loses_nothing() {
    use crate::crash::{publisher, Acknowledged};
    use gemeinwerk_package::archive::sha256_hex;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, RwLock};

    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    // A short lease, so that the dead node's claims come back within the test.
    let args = ["--public-url", public.as_str(), "--job-lease-secs", "5"];
    let a = TestRegistry::start_on(common::Backend::Postgres, Blobs::S3, &args);
    let mut b = a.second_node();
    let mut c = a.second_node();
    let nginx = Nginx::start(port, &[&a, &b, &c]);
    let token = a.owner_of("kassel");

    let url = Arc::new(RwLock::new(nginx.url.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Acknowledged = Arc::default();
    let clients: Vec<_> = (0..4)
        .map(|n| {
            let (url, token, stop, acked) =
                (url.clone(), token.clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || publisher(n, url, token, stop, acked))
        })
        .collect();
    let wait_for = |count: usize| {
        let started = Instant::now();
        while acked.lock().unwrap().len() < count {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "publishes stalled at {}",
                acked.lock().unwrap().len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // Kill the node that writes the git index first, then another one.
    wait_for(60);
    let writer_is_b = b.metric("gemeinwerk_git_index_writer") == 1.0;
    let first: &mut TestRegistry = if writer_is_b { &mut b } else { &mut c };
    first.kill();
    wait_for(150);
    first.relaunch();
    wait_for(200);
    let second: &mut TestRegistry = if writer_is_b { &mut c } else { &mut b };
    second.kill();
    wait_for(260);
    second.relaunch();
    wait_for(320);
    stop.store(true, Ordering::SeqCst);
    let attempts: usize = clients.into_iter().map(|t| t.join().unwrap()).sum();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300, "{} publishes", acked.len());

    // No job is left, claimed by a dead node or otherwise.
    a.wait_for_jobs_within(Duration::from_secs(60));
    let nodes = [&a, &b, &c];
    // Every acknowledged publish, on every node: the archive with its
    // checksum, the sparse index, the git index (a clone from that node),
    // search.
    for node in nodes {
        let clone = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let git_index = loop {
            let dir = clone
                .path()
                .join(format!("i{}", started.elapsed().as_millis()));
            let out = Command::new("git")
                .args([
                    "clone",
                    "-q",
                    &format!("{}/git/index.git", node.url),
                    dir.to_str().unwrap(),
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            if acked.keys().all(|n| dir.join("kassel").join(n).exists()) {
                break dir;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the git index from {} lacks publishes",
                node.url
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        for (name, cksum) in &acked {
            let download = node.get(&format!("/api/v1/packages/kassel/{name}/1.0.0/download"));
            assert_eq!(download.status, 200, "download of {name} from {}", node.url);
            assert_eq!(&sha256_hex(&download.body), cksum, "archive of {name}");
            let sparse = node.get(&format!("/index/kassel/{name}"));
            assert_eq!(sparse.status, 200, "sparse index of {name} on {}", node.url);
            assert_eq!(
                std::fs::read(git_index.join("kassel").join(name)).unwrap(),
                sparse.body,
                "git index of {name}"
            );
        }
        let started = Instant::now();
        loop {
            let (found, _) = searchable_names(node, "kassel");
            if acked.keys().all(|n| found.contains(n)) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "search on {} lacks publishes",
                node.url
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let fsck = a.admin(&["fsck"]);
    assert!(fsck.status.success(), "{}{}", stdout(&fsck), stderr(&fsck));
    eprintln!(
        "{} publishes acknowledged of {attempts} attempts through nginx, 2 nodes killed",
        acked.len()
    );
}
