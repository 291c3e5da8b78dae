//! What is read from a version's archive, kept by the archive's checksum.
//!
//! An archive may unpack to 50 MiB; a page that shows a form with its
//! field groups, the schema export or the semver check would otherwise
//! unpack every archive involved on every request, and thirty requests at
//! once would unpack it thirty times side by side. The checksum names the
//! bytes, so an entry can never go stale. Concurrent requests for one
//! version compute it once: the others wait on its slot.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

type Slot<V> = Arc<Mutex<Option<Arc<V>>>>;

pub struct VersionCache<V> {
    capacity: usize,
    inner: Mutex<Inner<V>>,
}

struct Inner<V> {
    slots: HashMap<String, Slot<V>>,
    /// Insertion order, for eviction (first in, first out).
    order: VecDeque<String>,
}

impl<V> VersionCache<V> {
    pub fn new(capacity: usize) -> Self {
        VersionCache {
            capacity,
            inner: Mutex::new(Inner {
                slots: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    /// The value for `cksum`, computed by `compute` if no request did so
    /// yet. An error is not kept: the next request tries again.
    pub fn get_or_compute<E>(
        &self,
        cksum: &str,
        compute: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        let slot = {
            let mut inner = self.inner.lock().expect("version cache lock");
            match inner.slots.get(cksum) {
                Some(slot) => slot.clone(),
                None => {
                    if inner.order.len() >= self.capacity {
                        if let Some(old) = inner.order.pop_front() {
                            inner.slots.remove(&old);
                        }
                    }
                    let slot = Slot::default();
                    inner.slots.insert(cksum.to_string(), slot.clone());
                    inner.order.push_back(cksum.to_string());
                    slot
                }
            }
        };
        let mut value = slot.lock().expect("version cache slot");
        if let Some(done) = value.as_ref() {
            return Ok(done.clone());
        }
        let done = Arc::new(compute()?);
        *value = Some(done.clone());
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn computes_once_per_key_and_forgets_the_oldest() {
        let cache = VersionCache::new(2);
        let runs = AtomicUsize::new(0);
        let get = |k: &str| {
            *cache
                .get_or_compute(k, || {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, ()>(k.len())
                })
                .unwrap()
        };
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| assert_eq!(get("aa"), 2));
            }
        });
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        get("b");
        get("ccc");
        get("aa");
        assert_eq!(
            runs.load(Ordering::SeqCst),
            4,
            "aa was evicted by the third key"
        );
        assert!(cache
            .get_or_compute("x", || Err::<usize, _>("broken"))
            .is_err());
        assert_eq!(*cache.get_or_compute("x", || Ok::<_, ()>(7)).unwrap(), 7);
    }
}
