//! Shards: the manager's references are split in 32 by bits of the key's
//! hash, each shard with its own table on its own cache lines, so that a
//! rehash touches one thirty-second of the references and each table stays
//! small. Readers take no lock: they pin the epoch domain and read the
//! shard's current table (see [`super::table`]). Writers change a shard
//! while holding the manager's writer lock ([`super::writer`]).

use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use super::entry::{Entry, EntryRef};
use super::sync;
use super::table::Table;
use crate::container_id::ContainerIdRef;
use crate::stats::ShardStats;

/// 32 shards (2 in a Shuttle build, so that its few keys share tables that
/// grow and rehash).
#[cfg(not(feature = "shuttle"))]
pub(super) const SHARD_BITS: u32 = 5;
#[cfg(feature = "shuttle")]
pub(super) const SHARD_BITS: u32 = 1;
pub(super) const SHARDS: usize = 1 << SHARD_BITS;
/// Shard selection uses bits 32..37 of the hash: the table inside a shard
/// uses the low bits for the slot and the top 4 bits as the slot's tag.
const SHARD_SHIFT: u32 = 32;

/// `c += d` for a count that changes only under the writer lock: a load
/// and a store, not a locked read-modify-write.
#[inline(always)]
pub(super) fn add_len(c: &AtomicUsize, d: usize) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(d), Ordering::Relaxed);
}

#[repr(align(128))]
pub(super) struct Shard {
    /// The current table's word ([`Table::word`]; the shard owns the
    /// table): readers load it while pinned, writers replace it under the
    /// writer lock.
    table: sync::AtomicU64,
    /// The current table's address as a plain pointer (writers keep it with
    /// the word): what leak checkers see, which do not read the word.
    table_alloc: AtomicPtr<u8>,
    /// Entries in the table; changes only under the writer lock.
    pub(super) len: AtomicUsize,
    /// Tombstones in the table; changes only under the writer lock.
    tombstones: AtomicUsize,
    /// How many entries this shard has stored (the source of stamps);
    /// changes only under the writer lock.
    pub(super) stored: AtomicU64,
    /// Counters of writers (src/stats.rs), on the shard's own cache lines.
    pub(super) stats: ShardStats,
}

impl Shard {
    pub(super) fn new() -> Shard {
        let t = Table::with_slots(0);
        Shard {
            table: sync::AtomicU64::new(t.word()),
            table_alloc: AtomicPtr::new(t.address()),
            len: AtomicUsize::new(0),
            tombstones: AtomicUsize::new(0),
            stored: AtomicU64::new(0),
            stats: ShardStats::default(),
        }
    }

    /// The shard of a key whose hash is `hash`.
    #[inline(always)]
    pub(super) fn index(hash: u64) -> usize {
        ((hash >> SHARD_SHIFT) as usize) & (SHARDS - 1)
    }

    /// The entry stored for `id` (whose hash is `hash`), for a reader.
    ///
    /// # Safety
    /// The caller is pinned for `'a`.
    #[inline(always)]
    pub(super) unsafe fn find<'a>(
        &self,
        hash: u64,
        id: ContainerIdRef<'_>,
    ) -> Option<EntryRef<'a>> {
        // SAFETY: the current table, or one retired after the caller pinned:
        // alive while it is pinned.
        unsafe { Table::from_word(self.table.load(Ordering::SeqCst)).find(hash, id) }
    }

    /// The current table, for a writer.
    ///
    /// # Safety
    /// The caller holds the writer lock (the table is not replaced or freed
    /// meanwhile).
    #[inline(always)]
    pub(super) unsafe fn table(&self) -> Table {
        // SAFETY: forwarded.
        unsafe { Table::from_word(self.table.load(Ordering::Relaxed)) }
    }

    /// Publishes `new` as the table and returns the old one (for the
    /// caller to retire).
    ///
    /// # Safety
    /// The caller holds the writer lock.
    pub(super) unsafe fn replace_table(&self, new: Table, order: Ordering) -> Table {
        let old = self.table.swap(new.word(), order);
        self.table_alloc.store(new.address(), Ordering::Relaxed);
        // SAFETY: the old table's word, no longer the current one.
        unsafe { Table::from_word(old) }
    }

    /// The bytes of the current table (for the counters' byte count).
    pub(super) fn table_bytes(&self) -> usize {
        let _pin = super::epoch::domain().pin();
        // SAFETY: pinned: the table stays alive.
        unsafe { Table::from_word(self.table.load(Ordering::SeqCst)) }.bytes()
    }

    pub(super) fn tombstones(&self) -> usize {
        self.tombstones.load(Ordering::Relaxed)
    }

    pub(super) fn set_tombstones(&self, n: usize) {
        self.tombstones.store(n, Ordering::Relaxed);
    }
}

impl Drop for Shard {
    fn drop(&mut self) {
        // No reader or writer is left (the manager is being dropped).
        // SAFETY: the shard's own table, no longer shared.
        let t = unsafe { Table::from_word(self.table.load(Ordering::Relaxed)) };
        for p in t.entries() {
            // SAFETY: every entry of the table came from `Entry::into_raw`.
            drop(unsafe { Entry::from_raw(p) });
        }
        // SAFETY: as above; freed once, here.
        unsafe { t.free() };
    }
}

/// Each shard's store count at one moment (see
/// [`RefManager::store_marks`](super::RefManager::store_marks)).
pub(crate) struct StoreMarks(pub(super) [u64; SHARDS]);

impl StoreMarks {
    /// Whether the reference with `stamp`, in shard `shard`, was stored
    /// before these marks were taken.
    pub(crate) fn covers(&self, shard: usize, stamp: u64) -> bool {
        stamp >> SHARD_BITS <= self.0[shard]
    }
}
