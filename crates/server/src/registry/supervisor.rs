//! Background threads that must not die quietly: the job runner and the
//! search follower. A panic in one of them is logged, counted for
//! `/metrics`, and the thread's work starts again after a pause, so that a
//! bad row or a bug in one view does not stop every view until a restart.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Panics per thread name since the process started. Per process on
/// purpose: `/metrics` reports this node's threads.
static PANICS: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());

/// The longest pause between restarts: long enough not to spin on a
/// panic that repeats, short enough that a view recovers soon.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Runs `work` on a thread named `name` until it returns. When it panics,
/// the panic is logged and counted and `work` runs again after a pause
/// that doubles with each panic in a row (from 1 s up to 30 s), unless
/// `stop` is set by then. `work` must itself return once `stop` is set.
pub fn spawn<F>(name: &'static str, stop: Arc<AtomicBool>, work: F) -> JoinHandle<()>
where
    F: Fn() + Send + 'static,
{
    std::thread::Builder::new()
        // Linux keeps 15 bytes of a thread's name: in `top -H`, perf and
        // /proc the three job lanes would all read `gemeinwerk-jobs`. Logs
        // and metrics keep the full name.
        .name(name.replacen("gemeinwerk-", "gw-", 1))
        .spawn(move || {
            let mut backoff = Duration::from_secs(1);
            loop {
                match catch_unwind(AssertUnwindSafe(&work)) {
                    Ok(()) => return,
                    Err(panic) => {
                        let count = record_panic(name);
                        tracing::error!(
                            thread = name,
                            panics = count,
                            panic = %panic_message(&panic),
                            restart_in_ms = backoff.as_millis() as u64,
                            "background thread panicked; restarting it"
                        );
                    }
                }
                // Sleep in small steps so that a stop is not held up.
                let mut slept = Duration::ZERO;
                while slept < backoff {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                    slept += Duration::from_millis(100);
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        })
        .unwrap_or_else(|e| panic!("spawning the {name} thread: {e}"))
}

fn record_panic(name: &'static str) -> u64 {
    let mut panics = PANICS.lock().unwrap_or_else(|p| p.into_inner());
    let count = panics.entry(name).or_insert(0);
    *count += 1;
    *count
}

/// Panics per background thread, for `/metrics`.
pub fn panic_counts() -> BTreeMap<&'static str, u64> {
    PANICS.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn a_panicking_thread_is_counted_and_restarted() {
        let runs = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let seen = runs.clone();
        let handle = spawn("test-supervised", stop, move || {
            // The first run panics, the second returns.
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("the first run fails");
            }
        });
        handle.join().expect("the supervisor itself does not panic");
        assert_eq!(runs.load(Ordering::SeqCst), 2, "restarted once");
        assert_eq!(panic_counts().get("test-supervised"), Some(&1));
    }

    #[test]
    fn a_stop_during_the_pause_ends_the_thread() {
        let stop = Arc::new(AtomicBool::new(false));
        let handle = spawn("test-stopped", stop.clone(), || panic!("always"));
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::SeqCst);
        handle.join().expect("the supervisor itself does not panic");
        assert!(panic_counts().get("test-stopped").copied().unwrap_or(0) >= 1);
    }
}
