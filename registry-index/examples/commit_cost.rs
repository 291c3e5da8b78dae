//! Where a git index commit's time goes on a large index: builds an index
//! of N packages in M namespaces in one commit, then times small commits
//! (as the git index lane writes them under load) and the maintenance
//! between them. `cargo run --release --features git --example
//! commit_cost -- 100000 1000 200 25`.

use std::time::Instant;

use registry_index::{CommitInfo, GitIndex};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let (packages, namespaces, commits, per_commit) = match args[..] {
        [p, n, c, k] => (p, n, c, k),
        _ => (100_000, 1_000, 200, 25),
    };
    let dir = tempfile_dir();
    let index = GitIndex::open_or_init(&dir).unwrap();
    let file = |i: usize, v: usize| {
        (
            format!("gemeinde{}/formular-{i}", i % namespaces),
            Some(format!(
                "{{\"name\":\"gemeinde{}/formular-{i}\",\"vers\":\"1.{v}.0\",\"deps\":[],\"cksum\":\"{:064x}\",\"kind\":\"form\"}}\n",
                i % namespaces,
                i * 7919 + v
            )),
        )
    };
    let t = Instant::now();
    let all: Vec<_> = (0..packages).map(|i| file(i, 0)).collect();
    index
        .commit_files(
            &all,
            &CommitInfo {
                time: 1,
                message: "seed".into(),
            },
        )
        .unwrap();
    index.maintain().unwrap();
    println!(
        "seeded {packages} packages in {namespaces} namespaces: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let (mut commit_total, mut maintain_total) = (0.0, 0.0);
    for c in 0..commits {
        let changes: Vec<_> = (0..per_commit)
            .map(|k| file(packages + c * per_commit + k, 0))
            .collect();
        let t = Instant::now();
        index
            .commit_files(
                &changes,
                &CommitInfo {
                    time: 2 + c as i64,
                    message: "batch".into(),
                },
            )
            .unwrap();
        commit_total += t.elapsed().as_secs_f64();
        if c % 16 == 15 {
            let t = Instant::now();
            index.maintain().unwrap();
            maintain_total += t.elapsed().as_secs_f64();
        }
    }
    println!(
        "{commits} commits of {per_commit} new packages: commit {:.1} ms each ({:.2} ms per package), maintenance {:.1} ms per commit",
        commit_total * 1000.0 / commits as f64,
        commit_total * 1000.0 / (commits * per_commit) as f64,
        maintain_total * 1000.0 / commits as f64
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("commit-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
