//! Fetching a lock: every archive verified against the lockfile's SHA-256
//! before anything is unpacked, downloads in parallel into the
//! content-addressed cache (a second run downloads nothing), and the
//! destination replaced as a whole only when everything is verified and
//! written beside it. Also `vendor`: archives and index files in a folder
//! that a CI without network fetches from.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::cache::{self, write_atomic, Cache, IndexFetcher, IndexMode};
use super::lockfile::{LockedPackage, Lockfile};
use super::{ClientError, ClientResult};
use gemeinwerk_package::archive::{self, sha256_hex, ArchiveLimits};

/// How progress is shown on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A progress bar: stderr is a terminal and `CI` is not set.
    Bar,
    /// One plain line per download (CI logs, pipes).
    Lines,
    /// Nothing (`--json`).
    Quiet,
}

impl Progress {
    /// A bar only on a terminal outside CI, plain lines otherwise.
    pub fn detect(quiet: bool) -> Progress {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() && !ci {
            Progress::Bar
        } else {
            Progress::Lines
        }
    }
}

/// The words of the progress report. They are the caller's: the command
/// line prints them in its user's language, and the client has none.
#[derive(Debug, Clone, Copy)]
pub struct ProgressWords {
    /// The bar's heading.
    pub heading: fn() -> String,
    /// The line for one download: its label and size in bytes.
    pub downloaded: fn(&str, u64) -> String,
}

impl Default for ProgressWords {
    fn default() -> Self {
        ProgressWords {
            heading: || "Downloading".to_string(),
            downloaded: |label, bytes| format!("downloaded {label} ({bytes} bytes)"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Use only the cache and the vendored folder.
    pub offline: bool,
    /// A folder written by `gemeinwerk vendor`, read before the cache.
    pub vendored: Option<PathBuf>,
    /// Parallel downloads.
    pub jobs: usize,
    pub progress: Progress,
    pub words: ProgressWords,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            offline: false,
            vendored: None,
            jobs: 8,
            progress: Progress::Quiet,
            words: ProgressWords::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FetchReport {
    pub packages: usize,
    pub downloaded: usize,
    pub from_cache: usize,
    pub bytes_downloaded: u64,
}

/// The download URL of a locked version, from its registry's `config.json`.
fn download_url(template: &str, p: &LockedPackage) -> String {
    let (ns, name) = p.namespace_and_name();
    template
        .replace("{ns}", ns)
        .replace("{name}", name)
        .replace("{version}", &p.version)
}

/// Every archive of the lock, verified, in the order of `lock.packages`:
/// from the vendored folder or the cache where they are, downloaded in
/// parallel (and cached) where not. The first failed download or
/// verification stops the others and is the error.
pub fn ensure_archives(
    lock: &Lockfile,
    cache: &Cache,
    opts: &FetchOptions,
) -> ClientResult<(Vec<Vec<u8>>, FetchReport)> {
    let vendored = opts.vendored.as_ref().map(Cache::at);
    let mut archives: Vec<Option<Vec<u8>>> = lock
        .packages
        .iter()
        .map(|p| {
            vendored
                .as_ref()
                .and_then(|v| v.read_archive(&p.cksum))
                .or_else(|| cache.read_archive(&p.cksum))
        })
        .collect();
    let missing: Vec<usize> = (0..archives.len())
        .filter(|i| archives[*i].is_none())
        .collect();
    let mut report = FetchReport {
        packages: lock.packages.len(),
        from_cache: lock.packages.len() - missing.len(),
        ..FetchReport::default()
    };
    if missing.is_empty() {
        return Ok((archives.into_iter().map(Option::unwrap).collect(), report));
    }
    if opts.offline {
        let labels: Vec<String> = missing.iter().map(|i| lock.packages[*i].label()).collect();
        return Err(ClientError::ArchivesNotCached {
            cache: cache.root().to_path_buf(),
            labels,
        });
    }
    // One config.json per registry, revalidated with If-None-Match.
    let mut templates = BTreeMap::new();
    for i in &missing {
        let reg = &lock.packages[*i].registry;
        if !templates.contains_key(reg) {
            let config = IndexFetcher::new(cache, reg, IndexMode::Online).config()?;
            templates.insert(reg.clone(), config.dl);
        }
    }

    let bar = match opts.progress {
        Progress::Bar => {
            let bar = indicatif::ProgressBar::new(missing.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix:>12} [{bar:30}] {pos}/{len} {wide_msg}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_prefix((opts.words.heading)());
            Some(bar)
        }
        _ => None,
    };
    let agent = cache::agent();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let bytes_total = AtomicU64::new(0);
    let results: Mutex<Vec<(usize, Vec<u8>)>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<ClientError>> = Mutex::new(None);
    let workers = opts.jobs.clamp(1, 32).min(missing.len());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(&i) = missing.get(k) else { return };
                let p = &lock.packages[i];
                let url = download_url(&templates[&p.registry], p);
                match download_verified(&agent, &url, p).and_then(|bytes| {
                    cache.store_archive(&p.cksum, &bytes)?;
                    Ok(bytes)
                }) {
                    Ok(bytes) => {
                        bytes_total.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                        match (&bar, opts.progress) {
                            (Some(bar), _) => {
                                bar.set_message(p.label());
                                bar.inc(1);
                            }
                            (None, Progress::Lines) => {
                                let label = p.label();
                                let line = (opts.words.downloaded)(&label, bytes.len() as u64);
                                eprintln!("{line}")
                            }
                            _ => {}
                        }
                        results.lock().expect("not poisoned").push((i, bytes));
                    }
                    Err(e) => {
                        stop.store(true, Ordering::SeqCst);
                        failure.lock().expect("not poisoned").get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(e) = failure.into_inner().expect("not poisoned") {
        return Err(e);
    }
    let results = results.into_inner().expect("not poisoned");
    report.downloaded = results.len();
    report.bytes_downloaded = bytes_total.into_inner();
    for (i, bytes) in results {
        archives[i] = Some(bytes);
    }
    Ok((
        archives
            .into_iter()
            .map(|a| a.expect("every missing archive was downloaded"))
            .collect(),
        report,
    ))
}

/// Downloads one archive and checks it against the lockfile's SHA-256.
fn download_verified(agent: &ureq::Agent, url: &str, p: &LockedPackage) -> ClientResult<Vec<u8>> {
    let response = match agent.get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(status, _)) if status < 500 => {
            return Err(ClientError::DownloadRefused {
                label: p.label(),
                url: url.to_string(),
                status,
            })
        }
        Err(e) => {
            return Err(ClientError::DownloadFailed {
                label: p.label(),
                url: url.to_string(),
                source: Box::new(e),
            })
        }
    };
    let expected_len: Option<u64> = response
        .header("Content-Length")
        .and_then(|v| v.parse().ok());
    let mut bytes = Vec::new();
    let read = response.into_reader().read_to_end(&mut bytes);
    let truncated = match (&read, expected_len) {
        (Err(e), _) => Some(format!(
            "the download broke off after {} bytes ({e})",
            bytes.len()
        )),
        (Ok(_), Some(len)) if len != bytes.len() as u64 => Some(format!(
            "the download is truncated: {} of {len} bytes",
            bytes.len()
        )),
        _ => None,
    };
    if let Some(why) = truncated {
        return Err(ClientError::Truncated {
            label: p.label(),
            url: url.to_string(),
            why,
        });
    }
    let got = sha256_hex(&bytes);
    if got != p.cksum {
        return Err(ClientError::ChecksumMismatch {
            label: p.label(),
            expected_by: "gemeinwerk.lock",
            expected: p.cksum.clone(),
            got,
            url: url.to_string(),
        });
    }
    Ok(bytes)
}

/// Unpacks every (verified) archive into `dest/NS/NAME/`, replacing
/// `dest` as a whole: the new tree is written beside it and renamed into
/// place, so a failure leaves `dest` as it was.
pub fn install(lock: &Lockfile, archives: &[Vec<u8>], dest: &Path) -> ClientResult<()> {
    // Unpack everything in memory first: an unsafe archive stops the
    // fetch before anything is written.
    let mut unpacked = Vec::with_capacity(archives.len());
    for (p, bytes) in lock.packages.iter().zip(archives) {
        let (prefix, files) = archive::unpack(bytes, &ArchiveLimits::default()).map_err(|e| {
            ClientError::UnusableArchive {
                label: p.label(),
                source: e,
            }
        })?;
        let (_, name) = p.namespace_and_name();
        let expected = format!("{name}-{}", p.version);
        if prefix != expected {
            return Err(ClientError::WrongPrefix {
                label: p.label(),
                prefix,
                expected,
            });
        }
        unpacked.push((p, files));
    }
    let file_name = dest
        .file_name()
        .ok_or_else(|| ClientError::DestNotAFolder {
            dest: dest.to_path_buf(),
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let env = |what: &Path, e: std::io::Error| ClientError::write(what)(e);
    std::fs::create_dir_all(&parent).map_err(|e| env(&parent, e))?;
    let staging = parent.join(format!(".{file_name}.partial-{}", std::process::id()));
    let old = parent.join(format!(".{file_name}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let write_all = || -> ClientResult<()> {
        std::fs::create_dir_all(&staging).map_err(|e| env(&staging, e))?;
        for (p, files) in &unpacked {
            let (ns, name) = p.namespace_and_name();
            let base = staging.join(ns).join(name);
            for (path, content) in files {
                let target = base.join(path);
                std::fs::create_dir_all(target.parent().expect("below base"))
                    .map_err(|e| env(&target, e))?;
                std::fs::write(&target, content).map_err(|e| env(&target, e))?;
            }
        }
        Ok(())
    };
    if let Err(e) = write_all() {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    let had_dest = dest.exists();
    if had_dest {
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(dest, &old).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staging);
            env(dest, e)
        })?;
    }
    if let Err(e) = std::fs::rename(&staging, dest) {
        if had_dest {
            let _ = std::fs::rename(&old, dest);
        }
        let _ = std::fs::remove_dir_all(&staging);
        return Err(env(dest, e));
    }
    if had_dest {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(())
}

/// Fetches a lock into `dest`: archives verified (and cached), then
/// unpacked as a whole.
pub fn fetch(
    lock: &Lockfile,
    cache: &Cache,
    dest: &Path,
    opts: &FetchOptions,
) -> ClientResult<FetchReport> {
    let (archives, report) =
        ensure_archives(lock, cache, opts).map_err(|e| nothing_written(e, dest))?;
    install(lock, &archives, dest).map_err(|e| nothing_written(e, dest))?;
    Ok(report)
}

fn nothing_written(e: ClientError, dest: &Path) -> ClientError {
    ClientError::Untouched {
        dest: dest.to_path_buf(),
        error: Box::new(e),
    }
}

/// Writes what `fetch --locked --offline --vendored DIR` needs into `dir`:
/// `archives/{sha256}.tar.gz` for every locked version, and `index/` with
/// `config.json` and the index file of every locked package (so that
/// `lock --offline --vendored DIR` works too).
pub fn vendor(
    lock: &Lockfile,
    cache: &Cache,
    dir: &Path,
    opts: &FetchOptions,
) -> ClientResult<FetchReport> {
    let (archives, report) = ensure_archives(lock, cache, opts)?;
    let env = |what: &Path, e: std::io::Error| ClientError::write(what)(e);
    let target = Cache::at(dir);
    for (p, bytes) in lock.packages.iter().zip(&archives) {
        if target.read_archive(&p.cksum).is_none() {
            target.store_archive(&p.cksum, bytes)?;
        }
    }
    let mode = if opts.offline {
        IndexMode::Offline {
            vendored: opts.vendored.clone(),
        }
    } else {
        IndexMode::Online
    };
    let mut fetchers: BTreeMap<&str, IndexFetcher> = BTreeMap::new();
    for p in &lock.packages {
        let f = fetchers
            .entry(p.registry.as_str())
            .or_insert_with(|| IndexFetcher::new(cache, &p.registry, mode.clone()));
        for rel in ["config.json", p.name.as_str()] {
            if let Some(text) = f.file(rel)? {
                let path = dir.join("index").join(rel);
                write_atomic(&path, text.as_bytes()).map_err(|e| env(&path, e))?;
            }
        }
    }
    let readme = dir.join("README.txt");
    write_atomic(
        &readme,
        b"Vendored by `gemeinwerk vendor`: archives/ holds the locked archives by SHA-256,\n\
          index/ the registry's index files. Without network:\n\n\
          \x20   gemeinwerk fetch --locked --offline --vendored THIS_FOLDER\n",
    )
    .map_err(|e| env(&readme, e))?;
    Ok(report)
}
