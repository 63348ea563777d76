//! Shards: the manager's table is split in 32, each behind its own
//! read-write lock on its own cache lines, picked by bits of the key's hash,
//! so that readers and writers of different keys rarely touch the same lock.
//! A shard's write lock also counts the manager's changes (see [`Writing`]).

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::entry::Entry;
use crate::stats::ShardStats;

pub(super) const SHARD_BITS: u32 = 5;
pub(super) const SHARDS: usize = 1 << SHARD_BITS;
/// Shard selection uses bits 32..37 of the hash: the table inside a shard
/// uses the low bits for the bucket and the top 7 bits for its tag byte.
const SHARD_SHIFT: u32 = 32;

/// A shard's entries. `HashTable` takes the hash and the equality test at
/// each call, so a lookup compares the caller's key bytes with an entry's
/// in place (no key is built) and the stored hash is never recomputed.
pub(super) type Table = hashbrown::HashTable<Entry>;

/// `len += d` for a shard's count, which changes only under the shard's
/// write lock: a load and a store, not a locked read-modify-write.
#[inline(always)]
pub(super) fn add_len(len: &AtomicUsize, d: usize) {
    len.store(
        len.load(Ordering::Relaxed).wrapping_add(d),
        Ordering::Relaxed,
    );
}

#[repr(align(128))]
pub(super) struct Shard {
    table: RwLock<Table>,
    pub(super) len: AtomicUsize,
    /// How many entries this shard has stored (the source of stamps);
    /// changes only under the write lock.
    pub(super) stored: AtomicU64,
    /// Counters (src/stats.rs), on the shard's own cache lines.
    pub(super) stats: ShardStats,
}

impl Shard {
    pub(super) fn new() -> Shard {
        Shard {
            table: RwLock::new(Table::default()),
            len: AtomicUsize::new(0),
            stored: AtomicU64::new(0),
            stats: ShardStats::default(),
        }
    }

    /// The shard of a key whose hash is `hash`.
    #[inline(always)]
    pub(super) fn index(hash: u64) -> usize {
        ((hash >> SHARD_SHIFT) as usize) & (SHARDS - 1)
    }

    /// The table, read-locked. A panic cannot leave a table half-updated
    /// (each operation is one std call), so a poisoned lock is safe to keep
    /// using.
    pub(super) fn read(&self) -> RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The table, write-locked; the guard counts one change in `changes`
    /// when it is released.
    pub(super) fn write<'a>(&'a self, changes: &'a AtomicU64) -> Writing<'a> {
        Writing {
            table: self.table.write().unwrap_or_else(PoisonError::into_inner),
            changes,
        }
    }
}

/// The manager's change counter, on its own cache lines: readers load it,
/// writers of every shard add to it.
#[repr(align(128))]
pub(super) struct Changes(pub(super) AtomicU64);

/// A shard's write lock. Dropping it counts one change in the manager's
/// change counter, while the lock is still held: after whatever the holder
/// changed, and before any reader can see that change (also when the holder
/// unwinds).
pub(super) struct Writing<'a> {
    table: RwLockWriteGuard<'a, Table>,
    changes: &'a AtomicU64,
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.changes.fetch_add(1, Ordering::Release);
    }
}

impl Deref for Writing<'_> {
    type Target = Table;
    fn deref(&self) -> &Table {
        &self.table
    }
}

impl DerefMut for Writing<'_> {
    fn deref_mut(&mut self) -> &mut Table {
        &mut self.table
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
