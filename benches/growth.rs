//! Issue 19, point 4, and issue 12, point 8: how publish, the sparse index
//! and search behave as a registry grows. A real release server is filled
//! to each checkpoint; there the fill pauses and 200 publishes, 1,000
//! index files read twice and 600 searches are timed one at a time, over
//! HTTP. The index files are ones the server has not served before
//! (spread over old and new packages), so that every size times the same
//! thing: a first read (the database) and a repeated one (the server's
//! index cache, revalidated). Each checkpoint also clones the git index
//! and a package history with stock git, and reads the node's RSS, the
//! database's size and the blob store's size. It waits for a quiet machine
//! first, and prints the CPU time the node's threads spent, by name,
//! during the timed publishes and during the searches (`/proc/PID/task`):
//! whether merges or view updates ran beside the requests.
//! Prints Markdown table rows per checkpoint (docs/performance.md has the
//! figures), plus the ratios of the largest size to the first.
//!
//! Two ways to fill (`GEMEINWERK_BENCH_FILL`):
//! - `http` (default): 4 clients publish over HTTP into 40 namespaces;
//! - `process`: the server is stopped and 16 threads publish in this
//!   process through the registry's own publish path
//!   (`registry::publish::publish`: the archive checked and put into the
//!   blob store, then rows, audit entry and jobs in one transaction, as
//!   an HTTP publish does, with the token checked once instead of per
//!   request), 100 packages per namespace; the history jobs of the seeded
//!   packages are dropped (histories are a cache made on request), then
//!   the server starts again and builds the git index and its search
//!   index from what waits. This is how the benchmark reaches a million
//!   packages: 40 minutes of seeding at about 400 a second on PostgreSQL
//!   and a release Garage.
//!
//! On PostgreSQL it also counts the table rows the database read for the
//! timed publishes and the follower and job work they caused
//! (`seq_tup_read + idx_tup_fetch` of `pg_stat_user_tables`, the job
//! queue left out because the benchmark polls it), per publish: unlike a
//! latency, that figure does not depend on what else runs on the machine.
//!
//! `cargo bench --bench growth` (PostgreSQL on 127.0.0.1:5432, as for the
//! tests). `GEMEINWERK_BENCH_SIZES=1000,10000,20000` sets the checkpoints,
//! `GEMEINWERK_BENCH_BACKENDS=postgres` (or `sqlite`) one database,
//! `GEMEINWERK_BENCH_BLOBS=s3` the test S3 server (scripts/s3-server)
//! instead of a folder, `GEMEINWERK_TEST_BIN=path/to/gemeinwerk` another
//! build (an earlier commit's, for a before/after comparison).
//! Issue 12's run: `GEMEINWERK_BENCH_SIZES=10000,100000,1000000
//! GEMEINWERK_BENCH_BACKENDS=postgres GEMEINWERK_BENCH_BLOBS=s3
//! GEMEINWERK_BENCH_FILL=process cargo bench --bench growth`.
//! Every loop is bounded by the sizes given; the server listens on
//! loopback only.

#[allow(unused_macros)]
#[path = "../tests/it/common.rs"]
mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{archive_of, pkg_with, Backend, Blobs, TestRegistry};
use diesel::prelude::*;
use gemeinwerk_server::registry::audit::Origin;
use gemeinwerk_server::registry::auth::{self, Role, Scope};
use gemeinwerk_server::registry::{accounts, jobs, publish};
use gemeinwerk_server::store::schema::jobs as jobs_table;

mod support;
use support::{du, mb, ms, percentile, WORDS};

const CLIENTS: usize = 4;
/// Threads of the in-process fill: a publish mostly waits (for the object
/// store, for the database's commit), so more than the cores.
const SEED_THREADS: usize = 16;
/// Namespaces of the HTTP fill, each with an owner's token.
const NAMESPACES: usize = 40;
/// Packages per namespace of the in-process fill (10,000 namespaces at a
/// million packages: a Land's municipalities and more).
const PER_NAMESPACE: usize = 100;
const TIMED_PUBLISHES: usize = 200;
/// Distinct index files read per checkpoint, each twice.
const TIMED_INDEX_FILES: usize = 1000;
const TIMED_SEARCHES: usize = 600;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fill {
    Http,
    InProcess,
}

static FILL: OnceLock<Fill> = OnceLock::new();

fn fill_mode() -> Fill {
    *FILL.get().expect("the fill mode is set in main")
}

fn namespace(i: usize) -> String {
    match fill_mode() {
        Fill::Http => format!("gemeinde{:02}", i % NAMESPACES),
        Fill::InProcess => format!("kommune{:05}", i / PER_NAMESPACE),
    }
}

fn package(i: usize) -> Vec<u8> {
    let word = WORDS[i % WORDS.len()];
    let extra = format!("keywords = [\"{}\", \"antrag\"]\n", word.to_lowercase());
    archive_of(&pkg_with(
        &format!("{}/formular-{i}", namespace(i)),
        "1.0.0",
        &extra,
    ))
}

/// The HTTP fill's owner token per namespace, or the in-process fill's one
/// token of a user who owns every namespace.
struct Tokens(Vec<String>);

impl Tokens {
    fn for_package(&self, i: usize) -> &str {
        &self.0[i % self.0.len()]
    }
}

/// Publishes packages `from..to` with 4 clients; returns publishes/s.
fn fill(reg: &mut TestRegistry, tokens: &Tokens, from: usize, to: usize) -> f64 {
    if fill_mode() == Fill::InProcess {
        return fill_in_process(reg, tokens, from, to);
    }
    let next = AtomicUsize::new(from);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..CLIENTS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= to {
                    break;
                }
                let r = reg.publish_bytes(Some(tokens.for_package(i)), &package(i));
                assert_eq!(r.status, 200, "{}", r.text());
            });
        }
    });
    (to - from) as f64 / started.elapsed().as_secs_f64()
}

const BENCH_USER: &str = "bench-redaktion";

fn bench_origin() -> Origin {
    Origin {
        actor: None,
        client_addr: Some("bench".into()),
    }
}

/// The in-process fill's user and token (the server may run).
fn in_process_token(reg: &TestRegistry) -> String {
    let registry = reg.open_locally();
    let mut conn = registry.db.conn().unwrap();
    accounts::add_user(&mut conn, &bench_origin(), BENCH_USER).unwrap();
    auth::create_token(
        &mut conn,
        &bench_origin(),
        BENCH_USER,
        "bench",
        &Scope::ALL,
        None,
        None,
    )
    .unwrap()
    .token
}

/// See the module's comment: the server stops, 16 threads publish in this
/// process, the history jobs go, the server starts again and catches up.
/// Returns publishes/s of the seeding alone.
fn fill_in_process(reg: &mut TestRegistry, tokens: &Tokens, from: usize, to: usize) -> f64 {
    reg.stop();
    let registry = reg.open_locally();
    let origin = bench_origin();
    let actor = {
        let mut conn = registry.db.conn().unwrap();
        // Namespaces for these packages and the checkpoint's publishes after them.
        let first = from.div_ceil(PER_NAMESPACE);
        let last = (to + TIMED_PUBLISHES + FETCHED_PUBLISHES).div_ceil(PER_NAMESPACE);
        for n in first..last {
            let slug = namespace(n * PER_NAMESPACE);
            accounts::add_namespace(&mut conn, &origin, &slug, &format!("Kommune {n}"), None)
                .unwrap();
            accounts::set_member_as_operator(&mut conn, &origin, &slug, BENCH_USER, Role::Owner)
                .unwrap();
        }
        auth::authenticate(&mut conn, Some(tokens.for_package(0)).into()).unwrap()
    };
    let next = AtomicUsize::new(from);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..SEED_THREADS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= to {
                    break;
                }
                publish::publish(&registry, &actor, &origin, &package(i))
                    .unwrap_or_else(|e| panic!("seeding package {i}: {e}"));
                if (i + 1).is_multiple_of(50_000) {
                    eprintln!(
                        "  {} seeded ({:.0} s)",
                        i + 1,
                        started.elapsed().as_secs_f64()
                    );
                }
            });
        }
    });
    let rate = (to - from) as f64 / started.elapsed().as_secs_f64();
    {
        let mut conn = registry.db.conn().unwrap();
        diesel::delete(
            jobs_table::table.filter(jobs_table::kind.ne(jobs::Job::SyncIndex.as_str())),
        )
        .execute(&mut *conn)
        .unwrap();
    }
    drop(registry);
    let caught_up = Instant::now();
    reg.relaunch();
    reg.wait_for_jobs_within(Duration::from_secs(3600));
    let git_index = caught_up.elapsed();
    reg.wait_for_search_current_within(Duration::from_secs(3600));
    if reg.backend == Backend::Postgres {
        // The catch-up leaves a dead row in `jobs` for every job done. This
        // machine's PostgreSQL runs with autovacuum off, and the node's
        // claims walking past millions of them kept it busy (session 21);
        // vacuum the queue as autovacuum would have.
        let db = reg.db();
        let mut conn = db.conn().unwrap();
        diesel::sql_query("VACUUM (ANALYZE) jobs")
            .execute(&mut *conn)
            .unwrap();
    }
    eprintln!(
        "seeded {} packages in process at {rate:.0}/s; the restarted server's git index was current after {:.1} s, its search index after {:.1} s",
        to - from,
        git_index.as_secs_f64(),
        caught_up.elapsed().as_secs_f64()
    );
    rate
}

/// How long a checkpoint waits for the machine to settle.
const QUIET_WITHIN: Duration = Duration::from_secs(1800);

/// Waits until the machine's cores were at least 95 % idle over 10 s, or
/// `limit` passed; answers whether they were. After a catch-up the server
/// still merges search segments and consolidates the git index's packs,
/// and PostgreSQL vacuums the rows just written: timings taken meanwhile
/// measure that work, not the registry's size (session 20's million ran
/// twice as slow in everything, the git clone included).
fn wait_for_quiet_machine(limit: Duration) -> bool {
    // (busy, total) jiffies of all cores, from the first line of /proc/stat.
    fn jiffies() -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let values: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal
        let idle = values.get(3)? + values.get(4)?;
        let total: u64 = values.iter().take(8).sum();
        Some((total - idle, total))
    }
    let started = Instant::now();
    while started.elapsed() < limit {
        let Some((busy0, total0)) = jiffies() else {
            return false;
        };
        std::thread::sleep(Duration::from_secs(10));
        let Some((busy1, total1)) = jiffies() else {
            return false;
        };
        if (busy1 - busy0) * 20 <= (total1 - total0) {
            return true;
        }
    }
    false
}

/// Table rows PostgreSQL has read in this database so far, by table (all
/// but the job queue), once the statistics of finished statements arrived.
fn rows_read(reg: &TestRegistry) -> Option<Vec<(String, i64, i64)>> {
    #[derive(QueryableByName)]
    struct Read {
        #[diesel(sql_type = diesel::sql_types::Text)]
        relname: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        idx: i64,
    }
    if reg.backend != Backend::Postgres {
        return None;
    }
    // A backend reports its counts when idle, at most once a second.
    std::thread::sleep(Duration::from_millis(2500));
    let db = reg.db();
    let mut conn = db.conn().unwrap();
    let read: Vec<Read> = diesel::sql_query(
        "SELECT relname::text AS relname, COALESCE(seq_tup_read, 0)::bigint AS seq, \
         COALESCE(idx_tup_fetch, 0)::bigint AS idx \
         FROM pg_stat_user_tables WHERE relname <> 'jobs' ORDER BY relname",
    )
    .load(&mut *conn)
    .unwrap();
    Some(
        read.into_iter()
            .map(|r| (r.relname, r.seq, r.idx))
            .collect(),
    )
}

/// Rows read between two readings, in total and by the tables that read
/// the most (sequential / by index), per timed publish.
fn rows_between(before: &[(String, i64, i64)], after: &[(String, i64, i64)]) -> (f64, String) {
    let per = |n: i64| n as f64 / TIMED_PUBLISHES as f64;
    let mut by_table: Vec<(String, i64, i64)> = after
        .iter()
        .map(|(name, seq, idx)| {
            let (s0, i0) = before
                .iter()
                .find(|(n, _, _)| n == name)
                .map_or((0, 0), |(_, s, i)| (*s, *i));
            (name.clone(), seq - s0, idx - i0)
        })
        .filter(|(_, s, i)| s + i > 0)
        .collect();
    by_table.sort_by_key(|(_, s, i)| -(s + i));
    let total = by_table.iter().map(|(_, s, i)| s + i).sum();
    let top = by_table
        .iter()
        .take(5)
        .map(|(n, s, i)| format!("{n} {:.0}/{:.0}", per(*s), per(*i)))
        .collect::<Vec<_>>()
        .join(", ");
    (per(total), top)
}

struct Row {
    size: usize,
    fill_rate: f64,
    rows_per_publish: Option<f64>,
    publish: (Duration, Duration),
    /// The first read of a file since the server started.
    index: (Duration, Duration),
    /// The second read of the same file.
    index_again: (Duration, Duration),
    search: (Duration, Duration),
    footprint: Footprint,
}

/// What the registry costs on disk and in memory at a checkpoint, and what
/// a client's clones take.
struct Footprint {
    /// `git clone --no-checkout` of the git index: seconds and `.git` bytes.
    index_clone: (f64, u64),
    /// `git fetch` into that clone after 100 more publishes: seconds and
    /// the growth of its `.git`.
    index_fetch: (f64, u64),
    /// The git index on the server's disk (the writing node's repository).
    index_on_server: u64,
    /// A package history's first clone (made on request) and a second one.
    history_clone: (f64, f64),
    /// The node's resident memory now, of it the heap and other anonymous
    /// memory (the rest is mapped files: the search index, pages the
    /// kernel may drop), and the peak (`VmRSS`, `RssAnon`, `VmHWM`).
    rss: (u64, u64, u64),
    database: u64,
    /// The blob store's bytes on disk (for S3, the growth of the object
    /// store's own data and metadata folders since the run started) and the
    /// archives' own size (the database's sum).
    blobs: (u64, u64),
}

fn timed_clone(url: &str, into: &Path) -> f64 {
    let t = Instant::now();
    let out = Command::new("git")
        .args(["clone", "-q", "--no-checkout", url])
        .arg(into)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git clone {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    t.elapsed().as_secs_f64()
}

/// The object store's own folders (scripts/s3-server keeps them there).
fn object_store_disk() -> u64 {
    let state =
        std::env::var("GEMEINWERK_S3_STATE").unwrap_or_else(|_| "/var/tmp/gemeinwerk-s3".into());
    du(&Path::new(&state).join("data")) + du(&Path::new(&state).join("meta"))
}

fn proc_status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The node's resident memory by what is mapped, largest first: its data
/// folder's files by their first two path parts (the search index, the
/// git index's packs), other files by name, anonymous memory as one.
/// Says what the RSS is made of (`/proc/PID/smaps`).
fn resident_by_mapping(pid: u32, data: &Path) -> String {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut by: std::collections::BTreeMap<String, u64> = Default::default();
    let mut current = String::new();
    for line in smaps.lines() {
        if let Some(kb) = line.strip_prefix("Rss:") {
            let kb: u64 = kb.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
            *by.entry(current.clone()).or_default() += kb;
        } else if line
            .split_whitespace()
            .next()
            .is_some_and(|a| a.contains('-'))
        {
            // A mapping's header: address range, perms, offset, device,
            // inode, then the path if it maps a file.
            let path = line.split_whitespace().nth(5).unwrap_or("");
            current = match Path::new(path).strip_prefix(data) {
                Ok(inside) => inside
                    .components()
                    .take(2)
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
                Err(_) if path.starts_with('/') => Path::new(path)
                    .file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into()),
                Err(_) => "anonymous".into(),
            };
        }
    }
    let mut by: Vec<_> = by.into_iter().filter(|(_, kb)| *kb >= 1024).collect();
    by.sort_by_key(|(_, kb)| std::cmp::Reverse(*kb));
    by.iter()
        .map(|(what, kb)| format!("{what} {} MB", kb / 1024))
        .collect::<Vec<_>>()
        .join(", ")
}

/// CPU time (user and system, in clock ticks of 10 ms) of the node's
/// threads by name, numbered threads as one (`merge_thread_0` and `_1`
/// are tantivy's merges, `actix-rt|system` the HTTP workers).
fn cpu_by_thread(pid: u32) -> std::collections::BTreeMap<String, u64> {
    let mut by = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return by;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // pid (comm) state … : comm may hold spaces, the fields after the
        // last ')' are numbered from 3; utime and stime are 14 and 15.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].trim_end_matches(|c: char| c.is_ascii_digit());
        let fields: Vec<u64> = stat[close + 1..]
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|v| v.parse().ok())
            .collect();
        *by.entry(name.to_string()).or_default() += fields.iter().sum::<u64>();
    }
    by
}

/// What the node's threads spent during a timed phase, most first: shows
/// whether work the phase did not ask for (merges, view updates) ran
/// beside it and took the cores its requests wanted.
fn cpu_during(
    before: &std::collections::BTreeMap<String, u64>,
    after: &std::collections::BTreeMap<String, u64>,
) -> String {
    let mut spent: Vec<(&String, u64)> = after
        .iter()
        .map(|(name, t)| (name, t.saturating_sub(*before.get(name).unwrap_or(&0))))
        .filter(|(_, t)| *t > 0)
        .collect();
    spent.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
    spent
        .iter()
        .take(6)
        .map(|(name, t)| format!("{name} {:.2} s", *t as f64 / 100.0))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Packages published after the clone, before the fetch.
const FETCHED_PUBLISHES: usize = 100;

/// Also publishes packages `size..size + FETCHED_PUBLISHES`.
fn footprint(
    reg: &TestRegistry,
    tokens: &Tokens,
    size: usize,
    object_store_before: u64,
) -> Footprint {
    let work = tempfile::tempdir().unwrap();
    let index_dir = work.path().join("index");
    let index_secs = timed_clone(&format!("{}/git/index.git", reg.url), &index_dir);
    let index_bytes = du(&index_dir.join(".git"));
    let next = AtomicUsize::new(size);
    std::thread::scope(|s| {
        for _ in 0..CLIENTS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= size + FETCHED_PUBLISHES {
                    break;
                }
                let r = reg.publish_bytes(Some(tokens.for_package(i)), &package(i));
                assert_eq!(r.status, 200, "{}", r.text());
            });
        }
    });
    reg.wait_for_jobs_within(Duration::from_secs(600));
    let t = Instant::now();
    let out = Command::new("git")
        .args(["fetch", "-q", "origin"])
        .current_dir(&index_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git fetch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index_fetch = (
        t.elapsed().as_secs_f64(),
        du(&index_dir.join(".git")).saturating_sub(index_bytes),
    );
    // A package the node has no history of yet (seeded in process, or
    // published over HTTP before the last restart).
    let i = size / 2 + 1;
    let history = format!("{}/git/packages/{}/formular-{i}.git", reg.url, namespace(i));
    let first = timed_clone(&history, &work.path().join("h1"));
    let again = timed_clone(&history, &work.path().join("h2"));
    let pid = reg.pid();
    eprintln!(
        "resident at {size}: {}",
        resident_by_mapping(pid, reg.data())
    );
    let rss = (
        proc_status_kb(pid, "VmRSS:") * 1024,
        proc_status_kb(pid, "RssAnon:") * 1024,
        proc_status_kb(pid, "VmHWM:") * 1024,
    );
    let db = reg.db();
    let mut conn = db.conn().unwrap();
    #[derive(QueryableByName)]
    struct Bytes {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let database = match reg.backend {
        Backend::Postgres => {
            diesel::sql_query("SELECT pg_database_size(current_database())::bigint AS n")
                .get_result::<Bytes>(&mut *conn)
                .unwrap()
                .n as u64
        }
        Backend::Sqlite => ["gemeinwerk.db", "gemeinwerk.db-wal"]
            .iter()
            .map(|f| std::fs::metadata(reg.data().join(f)).map_or(0, |m| m.len()))
            .sum(),
    };
    let archives = diesel::sql_query("SELECT COALESCE(SUM(size), 0)::bigint AS n FROM versions")
        .get_result::<Bytes>(&mut *conn)
        .unwrap()
        .n as u64;
    let on_disk = match reg.blobs_in {
        Blobs::Folder => du(&reg.data().join("blobs")),
        Blobs::S3 => object_store_disk().saturating_sub(object_store_before),
    };
    Footprint {
        index_clone: (index_secs, index_bytes),
        index_fetch,
        index_on_server: du(&reg.data().join("git/index.git")),
        history_clone: (first, again),
        rss,
        database,
        blobs: (on_disk, archives),
    }
}

fn p50_p99(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

/// The timed part at one size: `next` is the next package number.
fn checkpoint(
    reg: &TestRegistry,
    tokens: &Tokens,
    next: usize,
    read_before_now: &mut std::collections::HashSet<usize>,
    object_store_before: u64,
) -> Row {
    reg.wait_for_jobs_within(Duration::from_secs(600));
    let waited = Instant::now();
    let quiet = wait_for_quiet_machine(QUIET_WITHIN);
    eprintln!(
        "checkpoint at {}: the machine {} after {:.0} s",
        next + TIMED_PUBLISHES,
        if quiet { "was quiet" } else { "was still busy" },
        waited.elapsed().as_secs_f64()
    );
    let read_before = rows_read(reg);
    let cpu_before = cpu_by_thread(reg.pid());
    let phase = Instant::now();
    let publish = (next..next + TIMED_PUBLISHES)
        .map(|i| {
            let archive = package(i);
            let t = Instant::now();
            let r = reg.publish_bytes(Some(tokens.for_package(i)), &archive);
            let took = t.elapsed();
            assert_eq!(r.status, 200, "{}", r.text());
            took
        })
        .collect();
    let size = next + TIMED_PUBLISHES;
    reg.wait_for_jobs_within(Duration::from_secs(600));
    eprintln!(
        "node CPU during the {TIMED_PUBLISHES} publishes at {size} and their jobs ({:.1} s): {}",
        phase.elapsed().as_secs_f64(),
        cpu_during(&cpu_before, &cpu_by_thread(reg.pid()))
    );
    let rows_per_publish = read_before.zip(rows_read(reg)).map(|(before, after)| {
        let (total, top) = rows_between(&before, &after);
        eprintln!("rows read per publish at {size}, by table (sequential/index): {top}");
        total
    });
    // Spread over the registry with a fixed stride, old and new packages,
    // skipping those read at an earlier checkpoint.
    let mut files = Vec::with_capacity(TIMED_INDEX_FILES);
    let mut k = 0;
    while files.len() < TIMED_INDEX_FILES {
        let i = (k * 7919) % size;
        k += 1;
        if k > size {
            panic!("fewer than {TIMED_INDEX_FILES} index files not read before at {size}");
        }
        if read_before_now.insert(i) {
            files.push(format!("/index/{}/formular-{i}", namespace(i)));
        }
    }
    let get = |path: &String| {
        let t = Instant::now();
        let r = reg.get(path);
        let took = t.elapsed();
        assert_eq!(r.status, 200, "{path}");
        took
    };
    let index = files.iter().map(get).collect();
    let index_again = files.iter().map(get).collect();
    let mut by_kind: [Vec<Duration>; 3] = Default::default();
    let cpu_before = cpu_by_thread(reg.pid());
    let phase = Instant::now();
    let search = (0..TIMED_SEARCHES)
        .map(|k| {
            let q = match k % 3 {
                0 => WORDS[k % WORDS.len()].to_lowercase(),
                1 => "antrag".to_string(),
                _ => format!("formular-{}", (k * 104_729) % size),
            };
            let t = Instant::now();
            let r = reg.get(&format!("/api/v1/search?q={q}"));
            let took = t.elapsed();
            assert_eq!(r.status, 200, "{}", r.text());
            // Every query has matches: an empty page would time a search
            // that skipped ranking.
            assert!(
                r.json()["hits"].as_array().is_some_and(|h| !h.is_empty()),
                "{q}: no hits"
            );
            by_kind[k % 3].push(took);
            took
        })
        .collect();
    eprintln!(
        "node CPU during the {TIMED_SEARCHES} searches at {size} ({:.1} s): {}",
        phase.elapsed().as_secs_f64(),
        cpu_during(&cpu_before, &cpu_by_thread(reg.pid()))
    );
    let kinds = ["a Leistung", "antrag", "a package name"];
    for (kind, times) in kinds.iter().zip(by_kind) {
        let (p50, p99) = p50_p99(times);
        eprintln!(
            "search at {size}, {kind}: p50 {:.1} ms, p99 {:.1} ms",
            ms(p50),
            ms(p99)
        );
    }
    reg.wait_for_jobs_within(Duration::from_secs(600));
    let footprint = footprint(reg, tokens, size, object_store_before);
    Row {
        size,
        fill_rate: 0.0,
        footprint,
        rows_per_publish,
        publish: p50_p99(publish),
        index: p50_p99(index),
        index_again: p50_p99(index_again),
        search: p50_p99(search),
    }
}

fn run(backend: Backend, blobs: Blobs, sizes: &[usize]) {
    let object_store_before = if blobs == Blobs::S3 {
        object_store_disk()
    } else {
        0
    };
    let mut reg = TestRegistry::start_on(backend, blobs, &[]);
    if let Ok(bin) = std::env::var("GEMEINWERK_TEST_BIN") {
        println!("\nbinary under test: {bin}");
    }
    let tokens = match fill_mode() {
        Fill::Http => Tokens(
            (0..NAMESPACES)
                .map(|n| reg.owner_of(&namespace(n)))
                .collect(),
        ),
        Fill::InProcess => Tokens(vec![in_process_token(&reg)]),
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut next = 0;
    let mut read = std::collections::HashSet::new();
    for &size in sizes {
        // The timed publishes count towards the size.
        let fill_to = size.saturating_sub(TIMED_PUBLISHES).max(next);
        let rate = fill(&mut reg, &tokens, next, fill_to);
        let mut row = checkpoint(&reg, &tokens, fill_to, &mut read, object_store_before);
        row.fill_rate = rate;
        next = row.size + FETCHED_PUBLISHES;
        let f = &row.footprint;
        eprintln!(
            "checkpoint {}: fill {:.0}/s, publish p50 {:.1} ms, index GET p50 {:.2} ms, search p99 {:.1} ms; \
             git index clone {:.2} s, {}; node RSS {}",
            row.size,
            row.fill_rate,
            ms(row.publish.0),
            ms(row.index.0),
            ms(row.search.1),
            f.index_clone.0,
            mb(f.index_clone.1),
            mb(f.rss.0),
        );
        rows.push(row);
    }
    println!(
        "\n{backend:?}, blobs in {blobs:?}, filled {}:\n",
        match fill_mode() {
            Fill::Http => format!("over HTTP by {CLIENTS} clients"),
            Fill::InProcess => format!("in process by {SEED_THREADS} threads"),
        }
    );
    println!("| packages | fill publishes/s | publish p50 / p99 | index GET p50 / p99, first read | again | search p50 / p99 | rows read per publish |");
    println!("|---|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {:.0} | {:.1} / {:.1} ms | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:.1} / {:.1} ms | {} |",
            row.size,
            row.fill_rate,
            ms(row.publish.0),
            ms(row.publish.1),
            ms(row.index.0),
            ms(row.index.1),
            ms(row.index_again.0),
            ms(row.index_again.1),
            ms(row.search.0),
            ms(row.search.1),
            row.rows_per_publish
                .map_or("–".to_string(), |r| format!("{r:.0}")),
        );
    }
    println!("\n| packages | git index clone (no checkout) | fetch after 100 publishes | git index on the server | history clone, first / again | node RSS (anonymous) / peak | database | blob store on disk / archives |");
    println!("|---|---|---|---|---|---|---|---|");
    for row in &rows {
        let f = &row.footprint;
        println!(
            "| {} | {:.2} s, {} | {:.2} s, {} | {} | {:.2} / {:.2} s | {} ({}) / {} | {} | {} / {} |",
            row.size,
            f.index_clone.0,
            mb(f.index_clone.1),
            f.index_fetch.0,
            mb(f.index_fetch.1),
            mb(f.index_on_server),
            f.history_clone.0,
            f.history_clone.1,
            mb(f.rss.0),
            mb(f.rss.1),
            mb(f.rss.2),
            mb(f.database),
            mb(f.blobs.0),
            mb(f.blobs.1),
        );
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        println!(
            "\n{backend:?} at {} against {}: publish p50 {:.2}x, index GET p50 {:.2}x (again {:.2}x), search p99 {:.2}x, fill rate {:.2}x",
            last.size,
            first.size,
            ms(last.publish.0) / ms(first.publish.0),
            ms(last.index.0) / ms(first.index.0),
            ms(last.index_again.0) / ms(first.index_again.0),
            ms(last.search.1) / ms(first.search.1),
            last.fill_rate / first.fill_rate,
        );
    }
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test` run lists no tests.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let sizes: Vec<usize> = std::env::var("GEMEINWERK_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000,20000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("GEMEINWERK_BENCH_SIZES: numbers"))
        .collect();
    let fill = match std::env::var("GEMEINWERK_BENCH_FILL").as_deref() {
        Ok("process") => Fill::InProcess,
        Ok("http") | Err(_) => Fill::Http,
        Ok(other) => panic!("GEMEINWERK_BENCH_FILL: http or process, not {other}"),
    };
    FILL.set(fill).unwrap();
    let blobs = match std::env::var("GEMEINWERK_BENCH_BLOBS").as_deref() {
        Ok("s3") => Blobs::S3,
        Ok("folder") | Err(_) => Blobs::Folder,
        Ok(other) => panic!("GEMEINWERK_BENCH_BLOBS: folder or s3, not {other}"),
    };
    let backends =
        std::env::var("GEMEINWERK_BENCH_BACKENDS").unwrap_or_else(|_| "postgres,sqlite".into());
    for b in backends.split(',') {
        match b.trim() {
            "postgres" => run(Backend::Postgres, blobs, &sizes),
            "sqlite" => run(Backend::Sqlite, blobs, &sizes),
            other => panic!("GEMEINWERK_BENCH_BACKENDS: unknown backend {other}"),
        }
    }
}
