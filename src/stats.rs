//! Counters a kubelet can export as metrics: sets, gets (hits and misses),
//! clears, bulk removals, the current count and the approximate bytes held.
//!
//! Each manager shard carries one [`ShardStats`], which writers update with
//! a plain load and store while they hold the manager's writer lock. Lookups,
//! which take no lock, count in [`LookupStripes`]: one stripe per reader slot
//! of the epoch domain, each written by one thread only (so also with a load
//! and a store), and one shared stripe with atomic adds for the threads that
//! borrow a slot. [`Stats`] sums them when read. The sum is not a snapshot:
//! with concurrent writers, `count` (one manager-wide word) and each counter
//! that only grows (each grows by one at a time) is a value it had during
//! the read; `bytes`, summed over the shards one after another, may be off
//! by what writers changed meanwhile; and the counters may disagree with
//! each other slightly.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::manager::epoch::DEDICATED;

/// One shard's counters (relaxed atomics; only their sums mean anything).
#[derive(Default, Debug)]
pub(crate) struct ShardStats {
    sets: AtomicU64,
    clears: AtomicU64,
    pruned: AtomicU64,
    /// Bytes of the stored entries' own allocations.
    entry_bytes: AtomicU64,
}

/// `c += d` for a counter that only one thread changes at a time (the writer
/// counters below change only under the manager's writer lock): a load and a
/// store, not a locked read-modify-write. Readers still see whole values.
#[inline(always)]
fn add(c: &AtomicU64, d: u64) {
    c.store(c.load(Relaxed).wrapping_add(d), Relaxed);
}

impl ShardStats {
    /// A reference of `new` bytes was stored, replacing one of `old` bytes.
    /// Called with the writer lock held.
    #[inline]
    pub(crate) fn on_set(&self, new: usize, old: Option<usize>) {
        add(&self.sets, 1);
        add(
            &self.entry_bytes,
            (new as u64).wrapping_sub(old.unwrap_or(0) as u64),
        );
    }

    /// A reference of `bytes` bytes was removed by `clear` (one key).
    /// Called with the writer lock held.
    #[inline]
    pub(crate) fn on_clear(&self, bytes: usize) {
        add(&self.clears, 1);
        add(&self.entry_bytes, (bytes as u64).wrapping_neg());
    }

    /// A reference of `bytes` bytes was removed by a bulk removal
    /// (clear_pod, retain, a replacing load). Called with the writer lock
    /// held.
    #[inline]
    pub(crate) fn on_prune(&self, bytes: usize) {
        add(&self.pruned, 1);
        add(&self.entry_bytes, (bytes as u64).wrapping_neg());
    }
}

/// One stripe of lookup counters, on a cache line of its own.
#[derive(Default)]
#[repr(align(64))]
struct LookupStripe {
    hits: AtomicU64,
    misses: AtomicU64,
}

/// A manager's lookup counters: stripe `k` for the thread pinned with the
/// epoch domain's dedicated slot `k`, the last one for every thread that
/// borrows a slot.
pub(crate) struct LookupStripes(Box<[LookupStripe]>);

impl Default for LookupStripes {
    fn default() -> Self {
        LookupStripes((0..=DEDICATED).map(|_| LookupStripe::default()).collect())
    }
}

impl LookupStripes {
    /// A lookup by the thread pinned with epoch slot `slot` found (`hit`) or
    /// did not find a reference.
    #[inline(always)]
    pub(crate) fn on_get(&self, slot: usize, hit: bool) {
        let (s, shared) = match self.0.get(slot) {
            Some(s) if slot < DEDICATED => (s, false),
            _ => (&self.0[DEDICATED], true),
        };
        let c = if hit { &s.hits } else { &s.misses };
        if shared {
            c.fetch_add(1, Relaxed);
        } else {
            // Only this thread writes this stripe: a dedicated slot has one
            // live owner at a time (one taken back from an exited thread
            // passes to the next once the kernel reports that thread gone,
            // when its last stores have long been visible: the reaper does
            // not synchronize with it otherwise).
            add(c, 1);
        }
    }

    /// Hits and misses, summed.
    pub(crate) fn sums(&self) -> (u64, u64) {
        self.0.iter().fold((0, 0), |(h, m), s| {
            (h + s.hits.load(Relaxed), m + s.misses.load(Relaxed))
        })
    }
}

/// A manager's counters, summed over its shards (see [`crate::RefManager::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Calls that stored a reference (`set`, and each reference a load stored).
    pub sets: u64,
    /// Lookups (`get`, `with_ref`, `contains`, `stamp`): `hits + misses`.
    pub gets: u64,
    /// Lookups that found a reference.
    pub hits: u64,
    /// Lookups that found none.
    pub misses: u64,
    /// References removed one at a time by `clear` (calls that found nothing
    /// are not counted).
    pub clears: u64,
    /// References removed in bulk by `clear_pod`, `retain` and replacing loads.
    pub pruned: u64,
    /// References stored now.
    pub count: u64,
    /// Approximate bytes the stored references hold: each entry's allocation
    /// plus the hash tables (16 bytes per slot: the slot and its key hash;
    /// allocator overhead not included).
    pub bytes: u64,
}

impl Stats {
    /// Adds the lookup counters.
    pub(crate) fn add_lookups(&mut self, l: &LookupStripes) {
        let (hits, misses) = l.sums();
        self.hits += hits;
        self.misses += misses;
        self.gets += hits + misses;
    }

    /// Adds one shard's counters; `count` and `table_bytes` are the shard's
    /// current length and the size of its table.
    pub(crate) fn add_shard(&mut self, s: &ShardStats, table_bytes: usize) {
        self.sets += s.sets.load(Relaxed);
        self.clears += s.clears.load(Relaxed);
        self.pruned += s.pruned.load(Relaxed);
        // Relaxed adds and subtracts from different threads can be seen out of
        // order for a moment; never report a wrapped-around value.
        let entry = s.entry_bytes.load(Relaxed);
        let entry = if entry > u64::MAX / 2 { 0 } else { entry };
        self.bytes += entry + table_bytes as u64;
    }
}

#[cfg(test)]
mod tests {
    use crate::container_id::ContainerIdRef;
    use crate::reference::ObjectReference;
    use crate::RefManager;

    #[test]
    fn counters_follow_operations() {
        let m = RefManager::new();
        let r = ObjectReference {
            name: b"n".to_vec(),
            uid: b"pod".to_vec(),
            ..Default::default()
        };
        let empty = m.stats();
        assert_eq!((empty.sets, empty.gets, empty.count), (0, 0, 0));
        for i in 0..100u32 {
            m.set(ContainerIdRef::new(b"t", &i.to_le_bytes()), r.as_ref())
                .unwrap();
        }
        m.set(ContainerIdRef::new(b"t", &0u32.to_le_bytes()), r.as_ref())
            .unwrap();
        for i in 0..150u32 {
            m.get(ContainerIdRef::new(b"t", &i.to_le_bytes()));
        }
        assert!(m.clear(ContainerIdRef::new(b"t", &1u32.to_le_bytes())));
        assert!(!m.clear(ContainerIdRef::new(b"t", &1u32.to_le_bytes())));
        assert_eq!(m.clear_pod(b"pod"), 99);
        let s = m.stats();
        assert_eq!(s.sets, 101);
        assert_eq!((s.gets, s.hits, s.misses), (150, 100, 50));
        assert_eq!((s.clears, s.pruned, s.count), (1, 99, 0));
        let full = {
            m.set(ContainerIdRef::new(b"t", b"x"), r.as_ref()).unwrap();
            m.stats()
        };
        assert_eq!(full.count, 1);
        // At least the entry's 2 key bytes and 4 field bytes (whatever the
        // entry layout), and gone again when it is removed.
        assert!(full.bytes >= s.bytes + 6, "{} vs {}", full.bytes, s.bytes);
        assert_eq!(m.clear_pod(b"pod"), 1);
        let after = m.stats().bytes;
        assert!(after + 6 <= full.bytes && after >= s.bytes);
    }

    #[test]
    fn overwriting_a_reference_leaves_bytes_unchanged() {
        // `bytes` counts the stored references: replacing one with one of
        // the same size changes nothing, whatever the number of overwrites.
        let m = RefManager::new();
        let r = ObjectReference {
            name: b"n".to_vec(),
            ..Default::default()
        };
        let id = ContainerIdRef::new(b"t", b"x");
        m.set(id, r.as_ref()).unwrap();
        let once = m.stats().bytes;
        for _ in 0..100 {
            m.set(id, r.as_ref()).unwrap();
        }
        let s = m.stats();
        assert_eq!((s.sets, s.count, s.bytes), (101, 1, once));
    }

    #[test]
    fn bytes_include_sixteen_per_table_slot() {
        // With every reference removed, what remains is the tables: at
        // least one 16-byte slot for each reference they held at once.
        let m = RefManager::new();
        let r = ObjectReference::default();
        for i in 0..1000u32 {
            m.set(ContainerIdRef::new(b"t", &i.to_le_bytes()), r.as_ref())
                .unwrap();
        }
        assert!(m.stats().bytes >= 1000 * 16);
        assert_eq!(m.retain([]), 1000);
        let s = m.stats();
        assert_eq!(s.count, 0);
        assert!(s.bytes >= 1000 * 16, "{} bytes", s.bytes);
    }

    /// A writer sets a new key and clears it, again and again: the manager
    /// holds 0 or 1 reference at every moment, and `len` and `count` never
    /// say more. Summed shard by shard they could (2 or 3: a set counted in
    /// one shard, the clear before it not yet in another).
    #[test]
    fn the_count_is_one_the_manager_had() {
        let m = RefManager::new();
        let r = ObjectReference::default();
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0u64.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let id = i.to_le_bytes();
                    m.set(ContainerIdRef::new(b"t", &id), r.as_ref()).unwrap();
                    m.clear(ContainerIdRef::new(b"t", &id));
                }
            });
            let (mut len, mut count) = (0, 0);
            for _ in 0..200_000 {
                len = len.max(m.len());
                count = count.max(m.stats().count);
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            assert!(len <= 1 && count <= 1, "largest len {len}, count {count}");
        });
    }
}
