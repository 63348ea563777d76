//! The container reference manager: upstream `RefManager`, a thread-safe map
//! from container ID to object reference.
//!
//! Design (for speed and a small footprint; see docs/performance.md):
//!
//! * Readers take no lock: they pin an epoch (one exchange on a cache line
//!   of their own, [`epoch`]) and probe the shard's current table, whose slots
//!   hold entry addresses tagged with 4 bits of the key's hash
//!   (`table.rs`). Writers take the manager's writer lock (one
//!   compare-and-swap; the change counter is beside it, `writer.rs`),
//!   replace slots whole, and free what they unlinked once no reader can
//!   still see it.
//! * 32 shards, picked by bits of the key's hash, each with its own table
//!   on its own cache lines (`shard.rs`).
//! * Each entry is **one allocation** holding its stamp, the key (its hash
//!   first) and the seven reference strings, each already followed by a NUL
//!   (`entry.rs`). A lookup hashes the caller's key bytes once with a seeded
//!   folded-multiply hash (no allocation, no per-byte loop; `hash.rs`), and
//!   compares them in place with an entry's (stored hash first); a get to a
//!   C buffer is one `memcpy` of the strings.
//! * New entries are written front to back into one uninitialized
//!   allocation before the lock is taken, and what writers unlink is freed
//!   after it is released (at once when no reader is pinned, else from the
//!   limbo, a few items per change), so writers hold it only for the table
//!   operation itself.

mod bulk;
mod entry;
pub(crate) mod epoch;
mod hash;
mod shard;
mod sync;
mod table;
mod threads;
mod writer;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::container_id::ContainerIdRef;
use crate::reference::{ObjectReference, ObjectReferenceRef, Pieces, FIELD_COUNT};
use crate::stats::{LookupStripes, Stats};
pub(crate) use bulk::Doomed;
#[cfg(test)]
pub(crate) use bulk::REMOVE_BATCH;
pub use entry::StoredRef;
use entry::{Cursor, Entry, EntryRef};
#[doc(hidden)]
pub use hash::bench_hash;
use hash::hash_id;
pub(crate) use shard::StoreMarks;
use shard::{add_len, Shard, SHARDS, SHARD_BITS};
use writer::WriterLock;

/// The largest string (each key part and each reference field) a manager
/// stores, in bytes: 64 MiB.
pub const MAX_STR_LEN: usize = 64 << 20;

/// A string longer than [`MAX_STR_LEN`] was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong;

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "string longer than {MAX_STR_LEN} bytes")
    }
}

impl std::error::Error for TooLong {}

/// The container reference manager (upstream `RefManager`). All methods take
/// `&self` and are safe to call from any number of threads.
pub struct RefManager {
    seed: [u64; 2],
    shards: [Shard; SHARDS],
    /// Lookup counters, striped by the readers' epoch slots.
    lookups: LookupStripes,
    /// The writers' lock, the change counter beside it (see
    /// [`changes`](Self::changes)), and what writers retired.
    writer: WriterLock,
    /// References stored, in all shards: changed only under the writer
    /// lock, each time with the shard's own count, so that one load is a
    /// count the manager had (a sum of the shards' counts, read one after
    /// another, may be one it never had).
    count: AtomicUsize,
}

impl Default for RefManager {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for RefManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefManager")
            .field("len", &self.len())
            .finish()
    }
}

fn check_len(parts: &[usize]) -> Result<(), TooLong> {
    if parts.iter().any(|&l| l > MAX_STR_LEN) {
        Err(TooLong)
    } else {
        Ok(())
    }
}

impl RefManager {
    /// An empty manager (upstream `NewRefManager`). Each manager has its own
    /// random hash seed (see `random.rs`: never fails, even where the
    /// operating system gives no random bytes).
    pub fn new() -> Self {
        let [a, b] = crate::random::seed();
        let seed = [a | 1, b];
        let shards = std::array::from_fn(|_| Shard::new());
        RefManager {
            seed,
            shards,
            lookups: LookupStripes::default(),
            writer: WriterLock::default(),
            count: AtomicUsize::new(0),
        }
    }

    fn shard(&self, hash: u64) -> &Shard {
        &self.shards[Shard::index(hash)]
    }

    /// The change counter: a number that grows with every change to the
    /// stored references (by two: to an odd value before the change can be
    /// seen by any reader, to the next even one once it is whole; each set
    /// (a load's too), each clear, and each removal of a bulk removal
    /// (`clear_pod`, `retain`, a replacing load) is one change; a clear of an
    /// absent key, or a bulk removal finding a key replaced since its scan,
    /// may count too). Reads never change it. A lookup
    /// never returns while the counter still shows a change it may have seen
    /// in progress, so if two loads return the same value, no change that a
    /// lookup between them could have seen was made between them: a caller
    /// that copied a reference after seeing value `v` may keep using its copy
    /// for as long as the counter is still `v` (a cache that skips the
    /// lookup).
    pub fn changes(&self) -> u64 {
        self.writer.changes()
    }

    /// The change counter's address (see [`changes`](Self::changes)), for
    /// the C ABI, whose callers load it without a call.
    pub(crate) fn changes_counter(&self) -> *const u64 {
        self.writer.counter_ptr()
    }

    /// Stores a copy of `reference` under `id`, replacing any earlier one
    /// (upstream `SetRef`). Fails only if a string exceeds [`MAX_STR_LEN`].
    pub fn set(
        &self,
        id: ContainerIdRef<'_>,
        reference: ObjectReferenceRef<'_>,
    ) -> Result<(), TooLong> {
        self.set_stamped(id, reference).map(drop)
    }

    /// [`set`](Self::set), returning the new entry's stamp: a nonzero number
    /// that no other reference stored in this manager has had or will have.
    /// [`stamp`](Self::stamp) returns it as long as this reference stays
    /// stored, so a caller can cache what it built from a stored reference
    /// and know, without copying it again, whether it is still current.
    pub fn set_stamped(
        &self,
        id: ContainerIdRef<'_>,
        reference: ObjectReferenceRef<'_>,
    ) -> Result<u64, TooLong> {
        let f = reference.fields();
        self.insert(id, f.map(<[u8]>::len), |k, b| b.put(f[k]))
    }

    /// Like [`set`](Self::set), with fields given as pieces (for example a
    /// [`GeneratedRef`](crate::generate::GeneratedRef)'s, without building
    /// an owned reference first).
    pub fn set_pieces(
        &self,
        id: ContainerIdRef<'_>,
        fields: [&dyn Pieces; FIELD_COUNT],
    ) -> Result<(), TooLong> {
        self.insert(id, fields.map(|f| f.byte_len()), |k, b| {
            fields[k].pieces(&mut |p| b.put(p))
        })
        .map(drop)
    }

    #[inline(always)]
    fn insert(
        &self,
        id: ContainerIdRef<'_>,
        lens: [usize; FIELD_COUNT],
        write: impl FnMut(usize, &mut Cursor),
    ) -> Result<u64, TooLong> {
        check_len(&[id.typ.len(), id.id.len()])?;
        check_len(&lens)?;
        // No stack copy of the key: the entry is built from the caller's bytes.
        let hash = hash_id(self.seed, id);
        let mut entry = Entry::new(hash, id, lens, write);
        debug_assert!(entry.as_ref().key() == id);
        let size = entry.len();
        let index = Shard::index(hash);
        let shard = &self.shards[index];
        let stamp = {
            let mut w = self.writer.write();
            // Unique in the manager: the shard's store count, tagged with
            // the shard (a load and a store: the count changes only here,
            // under the writer lock).
            let n = shard.stored.load(Ordering::Relaxed) + 1;
            shard.stored.store(n, Ordering::Relaxed);
            let stamp = (n << SHARD_BITS) | index as u64;
            entry.set_stamp(stamp);
            // Test builds can panic here, with the lock held, to show that
            // the manager keeps working (tests/panic_injection.rs).
            crate::fault::point(crate::fault::SET_LOCKED);
            let old = w.put(shard, hash, id, entry);
            if old.is_none() {
                add_len(&shard.len, 1);
                add_len(&self.count, 1);
            }
            shard.stats.on_set(size, old);
            stamp
        };
        Ok(stamp)
    }

    /// Calls `f` with the reference stored under `id`, and returns what `f`
    /// returns; `None` if there is none. No lock is taken: the reference
    /// stays alive while `f` runs, however writers change the manager
    /// meanwhile (see [`epoch`]); `f` may call into this manager too.
    #[inline]
    pub fn with_ref<R>(
        &self,
        id: ContainerIdRef<'_>,
        f: impl FnOnce(StoredRef<'_>) -> R,
    ) -> Option<R> {
        let hash = hash_id(self.seed, id);
        let shard = self.shard(hash);
        let guard = epoch::domain().pin();
        // SAFETY: pinned until `guard` is dropped, after `f`.
        let found: Option<EntryRef<'_>> = unsafe { shard.find(hash, id) };
        // Never return a change before it is counted as finished.
        self.writer.settle();
        self.lookups.on_get(guard.slot(), found.is_some());
        let r = found.map(|e| f(e.stored()));
        drop(guard);
        r
    }

    /// A copy of the reference stored under `id` (upstream `GetRef`).
    pub fn get(&self, id: ContainerIdRef<'_>) -> Option<ObjectReference> {
        self.with_ref(id, |s| s.as_ref().to_owned())
    }

    /// The stamp of the reference stored under `id` (see
    /// [`set_stamped`](Self::set_stamped)), without copying it; `None` if
    /// there is none.
    pub fn stamp(&self, id: ContainerIdRef<'_>) -> Option<u64> {
        self.with_ref(id, |s| s.stamp())
    }

    /// Whether a reference is stored under `id`.
    pub fn contains(&self, id: ContainerIdRef<'_>) -> bool {
        self.with_ref(id, |_| ()).is_some()
    }

    /// Forgets the reference stored under `id` (upstream `ClearRef`);
    /// returns whether there was one.
    pub fn clear(&self, id: ContainerIdRef<'_>) -> bool {
        self.clear_stamped(id).is_some()
    }

    /// [`clear`](Self::clear), returning the stamp of the reference it
    /// removed (see [`set_stamped`](Self::set_stamped)), so that a caller
    /// can drop what it cached for it; `None` if there was none.
    pub fn clear_stamped(&self, id: ContainerIdRef<'_>) -> Option<u64> {
        let hash = hash_id(self.seed, id);
        let shard = self.shard(hash);
        let mut w = self.writer.write();
        crate::fault::point(crate::fault::CLEAR_LOCKED);
        let (stamp, bytes) = w.remove(shard, hash, id, |_| true)?;
        add_len(&shard.len, 1usize.wrapping_neg());
        add_len(&self.count, 1usize.wrapping_neg());
        shard.stats.on_clear(bytes);
        Some(stamp)
    }

    /// The number of stored references. Exact when no writer runs
    /// concurrently; otherwise a value the count had during the call.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Whether no reference is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The counters, summed over the shards (no lock is taken).
    pub fn stats(&self) -> Stats {
        let mut total = Stats::default();
        for s in self.shards.iter() {
            total.add_shard(&s.stats, s.table_bytes());
        }
        total.count = self.len() as u64;
        total.add_lookups(&self.lookups);
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container_id::ContainerId;
    use std::sync::Arc;

    fn r(name: &str) -> ObjectReference {
        ObjectReference {
            kind: b"Pod".to_vec(),
            namespace: b"ns".to_vec(),
            name: name.as_bytes().to_vec(),
            uid: b"uid-1".to_vec(),
            api_version: b"v1".to_vec(),
            resource_version: b"7".to_vec(),
            field_path: b"spec.containers{c}".to_vec(),
        }
    }

    #[test]
    fn set_get_clear_len() {
        let m = RefManager::new();
        let id = ContainerId::new("containerd", "abc");
        assert_eq!(m.get(id.as_ref()), None);
        m.set(id.as_ref(), r("a").as_ref()).unwrap();
        assert_eq!(m.get(id.as_ref()), Some(r("a")));
        assert_eq!(m.len(), 1);
        m.set(id.as_ref(), r("b").as_ref()).unwrap();
        assert_eq!(m.get(id.as_ref()), Some(r("b")), "overwrites silently");
        assert_eq!(m.len(), 1);
        assert!(m.clear(id.as_ref()));
        assert!(!m.clear(id.as_ref()), "clearing an absent key is a no-op");
        assert_eq!(m.get(id.as_ref()), None);
        assert!(m.is_empty());
    }

    #[test]
    fn stamps_identify_stored_references() {
        let m = RefManager::new();
        let a = ContainerId::new("containerd", "a");
        let b = ContainerId::new("containerd", "b");
        assert_eq!(m.stamp(a.as_ref()), None);
        let sa = m.set_stamped(a.as_ref(), r("x").as_ref()).unwrap();
        let sb = m.set_stamped(b.as_ref(), r("x").as_ref()).unwrap();
        assert_ne!(sa, 0);
        assert_ne!(sa, sb, "unique across keys, even for equal references");
        assert_eq!(m.stamp(a.as_ref()), Some(sa));
        assert_eq!(m.with_ref(a.as_ref(), |s| s.stamp()), Some(sa));
        // Every store is a new stamp, even of the same reference.
        let sa2 = m.set_stamped(a.as_ref(), r("x").as_ref()).unwrap();
        assert_ne!(sa2, sa);
        assert_eq!(m.stamp(a.as_ref()), Some(sa2));
        assert!(m.clear(a.as_ref()));
        assert_eq!(m.stamp(a.as_ref()), None);
        let sa3 = m.set_stamped(a.as_ref(), r("x").as_ref()).unwrap();
        assert!(![sa, sb, sa2].contains(&sa3), "never reused");
        assert_eq!(m.stamp(b.as_ref()), Some(sb), "others unchanged");
        // Many keys across every shard: all distinct.
        let mut seen = std::collections::HashSet::new();
        for i in 0..5000 {
            let id = ContainerId::new("docker", format!("{i}"));
            assert!(seen.insert(m.set_stamped(id.as_ref(), r("y").as_ref()).unwrap()));
        }
        assert!(seen.insert(sa3) && seen.insert(sb) && seen.insert(sa2));
    }

    #[test]
    fn the_change_counter_grows_with_every_change_and_only_then() {
        let m = RefManager::new();
        let a = ContainerId::new("containerd", "a");
        let b = ContainerId::new("containerd", "b");
        let c0 = m.changes();
        m.set(a.as_ref(), r("x").as_ref()).unwrap();
        let c1 = m.changes();
        assert!(c1 > c0, "a set counts");
        // Lookups, hits and misses, change nothing.
        for _ in 0..3 {
            assert!(m.get(a.as_ref()).is_some());
            assert!(m.stamp(b.as_ref()).is_none());
            assert!(m.contains(a.as_ref()));
        }
        let _ = (m.len(), m.stats(), m.snapshot());
        assert_eq!(m.changes(), c1, "reads do not count");
        m.set(a.as_ref(), r("x").as_ref()).unwrap();
        let c2 = m.changes();
        assert!(c2 > c1, "replacing with an equal reference counts");
        assert!(m.clear(a.as_ref()));
        let c3 = m.changes();
        assert!(c3 > c2, "a clear counts");
        // Bulk removals count too.
        m.set(a.as_ref(), r("x").as_ref()).unwrap();
        m.set(b.as_ref(), r("y").as_ref()).unwrap();
        let c4 = m.changes();
        assert_eq!(m.clear_pod(b"uid-1"), 2);
        let c5 = m.changes();
        assert!(c5 > c4, "clear_pod counts");
        m.set(a.as_ref(), r("x").as_ref()).unwrap();
        let c6 = m.changes();
        assert_eq!(m.retain([b.as_ref()]), 1);
        assert!(m.changes() > c6, "retain counts");
    }

    #[test]
    fn the_change_counter_is_seen_by_readers_that_see_a_change() {
        // A reader that finds a writer's reference and then loads the
        // counter never sees the value from before that write.
        let m = RefManager::new();
        let id = ContainerId::new("containerd", "k");
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..20_000u32 {
                    m.set(id.as_ref(), r(&i.to_string()).as_ref()).unwrap();
                }
            });
            let mut last_seen: Option<(Vec<u8>, u64)> = None;
            for _ in 0..200_000 {
                let before = m.changes();
                let got = m.get(id.as_ref()).map(|g| g.name);
                let after = m.changes();
                assert!(after >= before);
                if let (Some(name), Some((prev, at))) = (&got, &last_seen) {
                    // Same counter as an earlier read: same reference.
                    if *at == before && before == after {
                        assert_eq!(name, prev);
                    }
                }
                if let Some(name) = got {
                    if before == after {
                        last_seen = Some((name, after));
                    }
                }
            }
        });
    }

    #[test]
    fn keys_compare_both_fields_byte_for_byte() {
        let m = RefManager::new();
        let ids = [
            ContainerId::new("a", "bc"),
            ContainerId::new("ab", "c"),
            ContainerId::new("", "abc"),
            ContainerId::new("abc", ""),
            ContainerId::new("", ""),
            ContainerId::new("a\0", "bc"),
            ContainerId::new("a", "\0bc"),
            ContainerId::new("docker", "abc"),
            ContainerId::new("containerd", "abc"),
        ];
        for (i, id) in ids.iter().enumerate() {
            m.set(id.as_ref(), r(&i.to_string()).as_ref()).unwrap();
        }
        assert_eq!(m.len(), ids.len());
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(m.get(id.as_ref()).unwrap().name, i.to_string().as_bytes());
        }
    }

    #[test]
    fn empty_fields_and_embedded_nuls_round_trip() {
        let m = RefManager::new();
        let id = ContainerId::new("x", "y");
        let weird = ObjectReference {
            kind: vec![],
            namespace: b"a\0b".to_vec(),
            name: vec![0xff, 0xfe],
            ..Default::default()
        };
        m.set(id.as_ref(), weird.as_ref()).unwrap();
        assert_eq!(m.get(id.as_ref()), Some(weird.clone()));
        let blob = m
            .with_ref(id.as_ref(), |s| s.nul_terminated_fields().to_vec())
            .unwrap();
        assert_eq!(blob, b"\0a\0b\0\xff\xfe\0\0\0\0\0");
    }

    #[test]
    fn keys_of_every_length_up_to_and_past_the_inline_probe() {
        // Every tail shape of the hash (0..3, 4..7, 8..16, blocks) and both
        // probe kinds (stack up to 128 key bytes, heap beyond).
        let m = RefManager::new();
        let ids: Vec<ContainerId> = (0..300)
            .map(|n| ContainerId::new(vec![b't'; n % 7], vec![b'x'; n]))
            .collect();
        for (i, id) in ids.iter().enumerate() {
            m.set(id.as_ref(), r(&i.to_string()).as_ref()).unwrap();
        }
        assert_eq!(m.len(), ids.len());
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(m.get(id.as_ref()).unwrap().name, i.to_string().as_bytes());
        }
        for id in ids.iter().step_by(3) {
            assert!(m.clear(id.as_ref()));
            assert!(!m.contains(id.as_ref()));
        }
        assert_eq!(m.len(), 200);
    }

    #[test]
    fn field_lengths_either_side_of_the_narrow_header() {
        let m = RefManager::new();
        for (i, n) in [0usize, 1, 254, 255, 256, 257, 70_000]
            .into_iter()
            .enumerate()
        {
            let id = ContainerId::new("containerd", i.to_string());
            let mut want = r("a");
            want.field_path = vec![b'p'; n];
            want.kind = vec![b'k'; 255usize.saturating_sub(n)];
            m.set(id.as_ref(), want.as_ref()).unwrap();
            assert_eq!(m.get(id.as_ref()), Some(want.clone()), "field of {n} bytes");
            let blob = m
                .with_ref(id.as_ref(), |s| s.nul_terminated_fields().len())
                .unwrap();
            assert_eq!(
                blob,
                want.as_ref().fields().iter().map(|f| f.len() + 1).sum()
            );
        }
    }

    #[test]
    fn managers_are_independent() {
        let a = RefManager::new();
        let b = RefManager::new();
        let id = ContainerId::new("t", "i");
        a.set(id.as_ref(), r("a").as_ref()).unwrap();
        assert_eq!(b.get(id.as_ref()), None);
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn too_long_is_rejected_without_change() {
        let m = RefManager::new();
        let big = vec![b'x'; MAX_STR_LEN + 1];
        let id = ContainerId::new("t", "i");
        let mut bad = r("a");
        bad.uid = big.clone();
        assert_eq!(m.set(id.as_ref(), bad.as_ref()), Err(TooLong));
        assert_eq!(
            m.set(ContainerIdRef::new(&big, b"i"), r("a").as_ref()),
            Err(TooLong)
        );
        assert!(m.is_empty());
        let mut ok = r("a");
        ok.uid = vec![b'x'; MAX_STR_LEN];
        m.set(id.as_ref(), ok.as_ref()).unwrap();
        assert_eq!(m.get(id.as_ref()).unwrap().uid.len(), MAX_STR_LEN);
    }

    #[test]
    fn many_keys_spread_over_shards() {
        let m = RefManager::new();
        for i in 0..10_000 {
            let id = ContainerId::new("containerd", format!("{i:064x}"));
            m.set(id.as_ref(), r(&i.to_string()).as_ref()).unwrap();
        }
        assert_eq!(m.len(), 10_000);
        let used = m
            .shards
            .iter()
            .filter(|s| s.len.load(Ordering::Relaxed) > 0)
            .count();
        assert_eq!(used, SHARDS);
        for i in (0..10_000).step_by(7) {
            let id = ContainerId::new("containerd", format!("{i:064x}"));
            assert!(m.clear(id.as_ref()));
        }
        assert_eq!(m.len(), 10_000 - (0..10_000).step_by(7).count());
    }

    #[test]
    fn concurrent_readers_see_whole_references() {
        let m = Arc::new(RefManager::new());
        let id = ContainerId::new("containerd", "shared");
        m.set(id.as_ref(), r("a").as_ref()).unwrap();
        let writer = {
            let (m, id) = (m.clone(), id.clone());
            std::thread::spawn(move || {
                for i in 0..20_000 {
                    let name = if i % 2 == 0 { "bbbbbbbb" } else { "a" };
                    m.set(id.as_ref(), r(name).as_ref()).unwrap();
                    if i % 100 == 0 {
                        m.clear(id.as_ref());
                    }
                }
            })
        };
        for _ in 0..20_000 {
            if let Some(got) = m.get(id.as_ref()) {
                assert!(got == r("a") || got == r("bbbbbbbb"), "torn read: {got:?}");
            }
        }
        writer.join().unwrap();
    }
}
