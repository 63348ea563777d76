//! Leak control: removing the references of a pod, or of every container
//! that is no longer alive, in bulk.
//!
//! Upstream only clears a reference when the kubelet kills a container or
//! prunes an init container, so references of containers that exit on their
//! own or are garbage-collected stay for the kubelet's lifetime. These two
//! calls let a caller drop them: by pod (when a pod is removed) or by the
//! set of live containers (what container GC already knows).
//!
//! Both work shard by shard: the shard is scanned under the manager's
//! writer lock (readers go on; writers wait for the scan, which changes
//! nothing), the keys to remove are copied out, then the lock is taken again
//! for batches of removals, each key judged afresh, and the removed entries
//! are freed after it is released. Each shard is judged on its own
//! consistent view; references set concurrently in a shard already scanned
//! are not looked at.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::container_id::ContainerIdRef;
use crate::manager::{Doomed, RefManager, StoreMarks};

/// A set of live container IDs keyed by the manager's own key hash, so that
/// checking a stored entry costs one probe with the hash it already stores.
struct LiveSet<'a> {
    set: HashSet<LiveKey<'a>, BuildHasherDefault<StoredHash>>,
}

#[derive(PartialEq, Eq)]
struct LiveKey<'a> {
    hash: u64,
    id: ContainerIdRef<'a>,
}

impl Hash for LiveKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash)
    }
}

/// Uses the precomputed key hash as is.
#[derive(Default)]
struct StoredHash(u64);

impl Hasher for StoredHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only write_u64 is used; fold anything else in for completeness.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n
    }
}

impl RefManager {
    /// Removes every reference whose `uid` is `pod_uid` (byte for byte) and
    /// returns how many were removed. O(stored references) scanning; the
    /// writer lock is held for one shard's scan or one batch of removals at
    /// a time, and each removal is one change: a lookup waits for one
    /// removal at most (see [`changes`](Self::changes)), as for a clear.
    pub fn clear_pod(&self, pod_uid: &[u8]) -> usize {
        let mut doomed = Doomed::default();
        let mut removed = 0;
        for shard in 0..Self::SHARD_COUNT {
            doomed.clear();
            self.scan_shard(shard, |hash, id, r| {
                if r.as_ref().uid == pod_uid {
                    doomed.push(hash, id);
                }
            });
            removed += self.remove_doomed(shard, &doomed, |r| r.as_ref().uid == pod_uid);
        }
        removed
    }

    /// Keeps only the references stored under the IDs in `live` and returns
    /// how many others were removed. O(stored + live): the live IDs are
    /// hashed once, and each stored entry is checked with one probe.
    pub fn retain<'a>(&self, live: impl IntoIterator<Item = ContainerIdRef<'a>>) -> usize {
        let live = LiveSet {
            set: live
                .into_iter()
                .map(|id| LiveKey {
                    hash: self.key_hash(id),
                    id,
                })
                .collect(),
        };
        self.retain_set(&live)
    }

    /// Removes every reference stored before `marks` were taken (counted as
    /// pruned) and returns how many: what a replacing load removes after it
    /// has set the file's references. A reference stored or replaced since
    /// is kept.
    pub(crate) fn remove_stored_before(&self, marks: &StoreMarks) -> usize {
        let mut doomed = Doomed::default();
        let mut removed = 0;
        for shard in 0..Self::SHARD_COUNT {
            doomed.clear();
            self.scan_shard(shard, |hash, id, r| {
                if marks.covers(shard, r.stamp()) {
                    doomed.push(hash, id);
                }
            });
            removed += self.remove_doomed(shard, &doomed, |r| marks.covers(shard, r.stamp()));
        }
        removed
    }

    fn retain_set(&self, live: &LiveSet<'_>) -> usize {
        let mut doomed = Doomed::default();
        let mut removed = 0;
        for shard in 0..Self::SHARD_COUNT {
            doomed.clear();
            self.scan_shard(shard, |hash, id, _| {
                if !live.set.contains(&LiveKey { hash, id }) {
                    doomed.push(hash, id);
                }
            });
            // A key is a key: one that was not live at the scan is still not.
            removed += self.remove_doomed(shard, &doomed, |_| true);
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use crate::container_id::ContainerId;
    use crate::reference::ObjectReference;
    use crate::RefManager;

    fn r(uid: &str, name: &str) -> ObjectReference {
        ObjectReference {
            kind: b"Pod".to_vec(),
            name: name.into(),
            uid: uid.into(),
            field_path: b"spec.containers{c}".to_vec(),
            ..Default::default()
        }
    }

    fn id(i: usize) -> ContainerId {
        ContainerId::new("containerd", format!("{i:064x}"))
    }

    #[test]
    fn each_removal_is_one_change() {
        // A reader that ends its lookup during a bulk removal waits for the
        // change in progress (RefManager::changes): one removal, not a batch
        // of them. 20,000 references in 32 shards: batches of up to 256.
        let m = RefManager::new();
        for i in 0..20_000 {
            m.set(id(i).as_ref(), r("doomed", "x").as_ref()).unwrap();
        }
        m.set(id(20_000).as_ref(), r("kept", "x").as_ref()).unwrap();
        let before = m.changes();
        assert_eq!(m.clear_pod(b"doomed"), 20_000);
        assert_eq!(m.changes() - before, 2 * 20_000);
        let before = m.changes();
        assert_eq!(m.retain([]), 1);
        assert_eq!(m.changes() - before, 2);
    }

    #[test]
    fn clear_pod_removes_exactly_that_pods_refs() {
        let m = RefManager::new();
        for i in 0..3000 {
            let uid = format!("pod-{}", i % 3);
            m.set(id(i).as_ref(), r(&uid, &i.to_string()).as_ref())
                .unwrap();
        }
        assert_eq!(m.clear_pod(b"pod-1"), 1000);
        assert_eq!(m.len(), 2000);
        for i in 0..3000 {
            assert_eq!(m.contains(id(i).as_ref()), i % 3 != 1, "{i}");
        }
        assert_eq!(m.clear_pod(b"pod-1"), 0, "nothing left to remove");
        assert_eq!(m.clear_pod(b"pod"), 0, "whole-uid match only");
        assert_eq!(m.clear_pod(b""), 0);
        let s = m.stats();
        assert_eq!((s.pruned, s.count), (1000, 2000));
    }

    #[test]
    fn clear_pod_matches_empty_and_binary_uids() {
        let m = RefManager::new();
        m.set(id(1).as_ref(), r("", "a").as_ref()).unwrap();
        m.set(id(2).as_ref(), r("\0\u{ff}", "b").as_ref()).unwrap();
        assert_eq!(m.clear_pod("\0\u{ff}".as_bytes()), 1);
        assert_eq!(m.clear_pod(b""), 1);
        assert!(m.is_empty());
    }

    #[test]
    fn retain_keeps_only_live_ids() {
        let m = RefManager::new();
        for i in 0..5000 {
            m.set(id(i).as_ref(), r("u", "n").as_ref()).unwrap();
        }
        let live: Vec<ContainerId> = (0..5000).step_by(5).map(id).collect();
        // IDs that are live but have no reference are fine.
        let extra = [id(999_999), ContainerId::new("docker", id(5).id)];
        let ids = live.iter().chain(extra.iter()).map(ContainerId::as_ref);
        assert_eq!(m.retain(ids), 4000);
        assert_eq!(m.len(), 1000);
        for i in 0..5000 {
            assert_eq!(m.contains(id(i).as_ref()), i % 5 == 0);
        }
        assert_eq!(m.retain(live.iter().map(ContainerId::as_ref)), 0);
        assert_eq!(m.retain(std::iter::empty()), 1000);
        assert!(m.is_empty());
    }

    #[test]
    fn removals_span_several_lock_batches() {
        // More than REMOVE_BATCH removals per shard, in both calls.
        let m = RefManager::new();
        let n = 40_000;
        assert!(n / 4 / RefManager::SHARD_COUNT > crate::manager::REMOVE_BATCH);
        for i in 0..n {
            m.set(
                id(i).as_ref(),
                r(if i % 2 == 0 { "keep" } else { "go" }, "n").as_ref(),
            )
            .unwrap();
        }
        assert_eq!(m.clear_pod(b"go"), n / 2);
        assert_eq!(m.len(), n / 2);
        let live: Vec<ContainerId> = (0..n).step_by(4).map(id).collect();
        assert_eq!(m.retain(live.iter().map(ContainerId::as_ref)), n / 4);
        assert_eq!(m.len(), n / 4);
        assert_eq!(m.stats().pruned as usize, n - n / 4);
        assert!((0..n).all(|i| m.contains(id(i).as_ref()) == (i % 4 == 0)));
    }

    #[test]
    fn tables_do_not_grow_over_fill_and_bulk_removal_cycles() {
        // A bulk removal frees its slots for reuse as a clear does: the
        // same 2,000 references stored and removed again and again hold as
        // many bytes on the last round as on the first.
        let m = RefManager::new();
        let mut full = Vec::new();
        for round in 0..20 {
            for i in 0..2000 {
                m.set(id(i).as_ref(), r("p", "x").as_ref()).unwrap();
            }
            full.push(m.stats().bytes);
            if round % 2 == 0 {
                assert_eq!(m.clear_pod(b"p"), 2000);
            } else {
                assert_eq!(m.retain([]), 2000);
            }
        }
        assert!(full[19] <= full[1], "bytes held when full: {full:?}");
    }

    #[test]
    fn retain_compares_both_key_fields() {
        let m = RefManager::new();
        let a = ContainerId::new("a", "bc");
        let b = ContainerId::new("ab", "c");
        m.set(a.as_ref(), r("u", "a").as_ref()).unwrap();
        m.set(b.as_ref(), r("u", "b").as_ref()).unwrap();
        assert_eq!(m.retain([b.as_ref()]), 1);
        assert!(m.contains(b.as_ref()) && !m.contains(a.as_ref()));
    }

    #[test]
    fn bulk_removal_races_with_writers_without_losing_new_refs() {
        use std::sync::Arc;
        let m = Arc::new(RefManager::new());
        for i in 0..2000 {
            m.set(id(i).as_ref(), r("old", "x").as_ref()).unwrap();
        }
        let w = {
            let m = m.clone();
            std::thread::spawn(move || {
                for i in 2000..4000 {
                    m.set(id(i).as_ref(), r("new", "x").as_ref()).unwrap();
                }
            })
        };
        let removed = m.clear_pod(b"old");
        w.join().unwrap();
        assert_eq!(removed, 2000);
        assert_eq!(m.len(), 2000);
        assert!((2000..4000).all(|i| m.contains(id(i).as_ref())));
    }
}
