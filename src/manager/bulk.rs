//! The primitives of the bulk operations: leak control (src/prune.rs),
//! enumeration (src/enumerate.rs), persistence (src/persist) and counters
//! work shard by shard through them, so that no lock is held while caller
//! code runs and the writer lock is held for one shard's scan or one batch
//! of removals at a time.

use std::sync::atomic::Ordering;

use super::entry::{StoredRef, HEADER};
use super::hash::hash_id;
use super::shard::{add_len, StoreMarks, SHARDS};
use super::RefManager;
use crate::container_id::ContainerIdRef;

/// Keys chosen for removal from one shard: hashes and key bytes copied out
/// of the shard (in a scan) into one arena.
#[derive(Default)]
pub(crate) struct Doomed {
    keys: Vec<u8>,
    /// Hash, type length, ID length, and where the entry's key was at the
    /// scan (only a prefetch hint: never dereferenced).
    items: Vec<(u64, usize, usize, usize)>,
}

impl Doomed {
    /// Notes `id` (whose manager hash is `hash`) for removal.
    pub(crate) fn push(&mut self, hash: u64, id: ContainerIdRef<'_>) {
        self.keys.extend_from_slice(id.typ);
        self.keys.extend_from_slice(id.id);
        self.items
            .push((hash, id.typ.len(), id.id.len(), id.typ.as_ptr() as usize));
    }

    /// Forgets every noted key, keeping the memory.
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.items.clear();
    }

    fn iter(&self) -> impl Iterator<Item = (u64, ContainerIdRef<'_>)> {
        let mut at = 0;
        self.items.iter().map(move |&(hash, t, i, _)| {
            let typ = &self.keys[at..at + t];
            let id = &self.keys[at + t..at + t + i];
            at += t + i;
            (hash, ContainerIdRef { typ, id })
        })
    }
}

/// A prefetch hint for the cache line holding address `addr`, which need not
/// be valid (a prefetch has no effect on memory and never faults).
#[inline(always)]
fn prefetch_addr(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: _mm_prefetch only hints the cache; it dereferences nothing.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(addr as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

/// Asks the CPU to start loading the first 192 bytes of `bytes` (the header,
/// the key and the first fields of an entry) into the cache.
#[inline(always)]
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for off in (0..bytes.len().min(192)).step_by(64) {
        // SAFETY: prefetching is a hint with no effect on memory; the address
        // is inside `bytes`.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                bytes.as_ptr().add(off).cast(),
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// The most removals a bulk removal makes per write-lock hold.
pub(crate) const REMOVE_BATCH: usize = 256;

impl RefManager {
    /// The number of shards (the unit of the bulk operations' consistency).
    pub(crate) const SHARD_COUNT: usize = SHARDS;

    /// Each shard's store count now: every reference stored from now on has
    /// a stamp the marks do not cover (see [`StoreMarks::covers`]).
    pub(crate) fn store_marks(&self) -> StoreMarks {
        StoreMarks(std::array::from_fn(|i| {
            self.shards[i].stored.load(Ordering::Relaxed)
        }))
    }

    /// The manager's hash of a key, as stored in its entry.
    pub(crate) fn key_hash(&self, id: ContainerIdRef<'_>) -> u64 {
        hash_id(self.seed, id)
    }

    /// Calls `f(hash, id, reference)` for every entry of shard `shard`, under
    /// the writer lock (one consistent view of that shard; readers go on,
    /// writers wait, the change counter does not move). `f` must be short
    /// and must not call into this manager.
    pub(crate) fn scan_shard(
        &self,
        shard: usize,
        mut f: impl FnMut(u64, ContainerIdRef<'_>, StoredRef<'_>),
    ) {
        self.writer.read().scan(&self.shards[shard], |e| {
            prefetch(e.bytes());
            f(e.hash(), e.key(), e.stored())
        });
    }

    /// Removes from shard `shard` each key in `doomed` whose entry still
    /// satisfies `still` (checked under the writer lock, so a reference
    /// replaced since the scan is judged afresh); counted as pruned. The lock
    /// is taken for at most [`REMOVE_BATCH`] removals at a time, so writers
    /// wait for one batch at most; each removal is one change, so readers
    /// wait for one removal at most. Returns how many were removed.
    pub(crate) fn remove_doomed(
        &self,
        shard: usize,
        doomed: &Doomed,
        mut still: impl FnMut(StoredRef<'_>) -> bool,
    ) -> usize {
        let s = &self.shards[shard];
        let mut probes = doomed.iter().peekable();
        // Entries are separate allocations: start loading the ones a few
        // removals ahead (their addresses at the scan; a stale one costs
        // nothing, a prefetch never faults).
        let mut hints = doomed.items.iter().map(|it| it.3).skip(8);
        let mut total = 0;
        while probes.peek().is_some() {
            let mut w = self.writer.write();
            let mut n = 0usize;
            // Whether the change in progress has removed an entry.
            let mut changed = false;
            for (hash, id) in probes.by_ref().take(REMOVE_BATCH) {
                if let Some(h) = hints.next() {
                    prefetch_addr(h.wrapping_sub(HEADER));
                    prefetch_addr(h);
                }
                if changed {
                    w.next_change();
                    changed = false;
                }
                if let Some((_, size)) = w.remove(s, hash, id, &mut still) {
                    changed = true;
                    n += 1;
                    // Counted with the removal, each its own change: the
                    // counts and the sum over the shards that `stats`
                    // reads are values they had.
                    add_len(&s.len, 1usize.wrapping_neg());
                    add_len(&self.count, 1usize.wrapping_neg());
                    s.stats.on_prune(size);
                    crate::fault::point(crate::fault::BULK_REMOVED);
                }
            }
            total += n;
        }
        total
    }
}
