//! A shard's table: open addressing with linear probing over slots that
//! readers load without a lock, while writers change them under the manager's
//! writer lock.
//!
//! A slot is one 64-bit word: 0 (empty), 1 (a tombstone: something was
//! removed here), or a stored entry's address (aligned to 16) with 4 bits of
//! its key's hash in the low bits, so that a probe compares most keys
//! without touching their entries (and the word still points into the
//! entry). Entries are immutable once stored: a
//! writer replaces or removes one by storing a new word, and retires the old
//! entry; a reader pinned in the epoch domain (see [`super::epoch`]) may still
//! read it until it unpins.
//!
//! The table keeps every probe chain whole for readers: a removal leaves a
//! tombstone (or an empty slot, when the next slot is empty already, so that
//! no chain ran through it), and a rehash builds a new table and publishes
//! it whole, retiring the old one.

use std::ptr::NonNull;
use std::sync::atomic::Ordering;

use super::entry::{EntryRef, ENTRY_ALIGN};
use super::sync::AtomicU64;
use crate::container_id::ContainerIdRef;

const EMPTY: u64 = 0;
const TOMBSTONE: u64 = 1;
/// The bits of a slot below an entry's address: the tag.
const TAG: u64 = ENTRY_ALIGN as u64 - 1;

/// The fullest a table gets, live entries and tombstones together, as a
/// fraction of its slots: 5/8 (probes that miss, as every insert's does,
/// stay short with linear probing).
const fn max_used(slots: usize) -> usize {
    slots / 8 * 5
}

/// The smallest table (4 in a Shuttle build, so that its schedules reach
/// rehashes with a few keys).
#[cfg(not(feature = "shuttle"))]
const MIN_SLOTS: usize = 16;
#[cfg(feature = "shuttle")]
const MIN_SLOTS: usize = 4;

/// The tag of a key whose hash is `hash`: its top 4 bits (the slot index
/// uses the low bits, the shard bits 32..37).
#[inline(always)]
fn tag(hash: u64) -> u64 {
    hash >> 60
}

#[inline(always)]
fn word(p: NonNull<u8>, hash: u64) -> u64 {
    let a = p.as_ptr() as u64;
    debug_assert!(a & TAG == 0, "an entry is aligned to ENTRY_ALIGN");
    a | tag(hash)
}

#[inline(always)]
fn address(w: u64) -> *const u8 {
    (w & !TAG) as *const u8
}

/// Whether a stored word `w` may be the entry of a key whose hash is `hash`.
#[inline(always)]
fn tag_matches(w: u64, hash: u64) -> bool {
    w & TAG == tag(hash)
}

/// A table: its slots, a power of two of them, followed by as many key
/// hashes (one per slot, for writers; see `hash_at`), in one allocation owned by
/// whoever holds the table's [`word`](Table::word) (the shard, or the limbo
/// once retired). `Table` itself is a copyable view of that allocation.
#[derive(Clone, Copy)]
pub(super) struct Table {
    slots: NonNull<AtomicU64>,
    mask: usize,
}

/// The bits of a table word above the address: log2 of the slot count.
const SIZE_SHIFT: u32 = 56;
/// Where a writer's probe for a key ended.
pub(super) enum Probe {
    /// The key's entry is in this slot.
    Found(usize),
    /// The key is absent; this slot (the first tombstone or empty slot of its
    /// chain) is where it goes.
    Absent(usize),
}

impl Table {
    /// A new, empty table of at least `n` slots (owned by the caller, who
    /// keeps its word and frees it with [`free`](Self::free)).
    pub(super) fn with_slots(n: usize) -> Table {
        let n = n.max(MIN_SLOTS).next_power_of_two();
        // The slots, then each slot's key hash (see `hash_at`).
        let slots: Box<[AtomicU64]> = (0..2 * n).map(|_| AtomicU64::new(EMPTY)).collect();
        let p = Box::into_raw(slots).cast::<AtomicU64>();
        Table {
            // SAFETY: a Box is never null.
            slots: unsafe { NonNull::new_unchecked(p) },
            mask: n - 1,
        }
    }

    /// The table as one word: its address, and its size above it, so that a
    /// reader finds both with one load.
    pub(super) fn word(self) -> u64 {
        let a = self.slots.as_ptr() as u64;
        assert!(a >> SIZE_SHIFT == 0, "table address beyond 56 bits");
        a | u64::from((self.mask + 1).trailing_zeros()) << SIZE_SHIFT
    }

    /// The table's allocation.
    pub(super) fn address(self) -> *mut u8 {
        self.slots.as_ptr().cast()
    }

    /// The table whose [`word`](Self::word) is `w`.
    ///
    /// # Safety
    /// `w` came from `word` and the table is not freed while the view is used.
    #[inline(always)]
    pub(super) unsafe fn from_word(w: u64) -> Table {
        let p = (w & ((1 << SIZE_SHIFT) - 1)) as *mut AtomicU64;
        Table {
            // SAFETY: a table's address is not null.
            slots: unsafe { NonNull::new_unchecked(p) },
            mask: (1usize << (w >> SIZE_SHIFT)) - 1,
        }
    }

    /// Frees the slots (not the entries they point to).
    ///
    /// # Safety
    /// No one uses the table any more, and it is freed once.
    pub(super) unsafe fn free(self) {
        let s = std::ptr::slice_from_raw_parts_mut(self.slots.as_ptr(), 2 * (self.mask + 1));
        // SAFETY: the allocation of `with_slots`, with its length.
        drop(unsafe { Box::from_raw(s) });
    }

    /// Slot `i`, which is below the slot count (callers mask their index).
    #[inline(always)]
    fn slot(&self, i: usize) -> &AtomicU64 {
        debug_assert!(i <= self.mask);
        // SAFETY: `i & mask == i` for every caller: inside the allocation,
        // which is alive while the view is used (`from_word`'s contract).
        unsafe { &*self.slots.as_ptr().add(i) }
    }

    /// The key hash of the entry in slot `i`, kept beside the slots for
    /// writers only (readers never load it), so that a rehash places every
    /// entry without reading the entries themselves.
    #[inline(always)]
    fn hash_at(&self, i: usize) -> &AtomicU64 {
        debug_assert!(i <= self.mask);
        // SAFETY: as for `slot`: the second half of the allocation.
        unsafe { &*self.slots.as_ptr().add(self.mask + 1 + i) }
    }

    /// How many slots the table has.
    pub(super) fn slots(&self) -> usize {
        self.mask + 1
    }

    /// The bytes of the table's allocation.
    pub(super) fn bytes(&self) -> usize {
        2 * self.slots() * std::mem::size_of::<u64>()
    }

    /// The entry stored for `id` (whose hash is `hash`), for a reader.
    ///
    /// # Safety
    /// The caller is pinned (or holds the writer lock) for `'a`, and the
    /// table is the shard's current one or was when the caller pinned.
    #[inline(always)]
    pub(super) unsafe fn find<'a>(
        &self,
        hash: u64,
        id: ContainerIdRef<'_>,
    ) -> Option<EntryRef<'a>> {
        let mut i = hash as usize & self.mask;
        loop {
            // SeqCst (a plain load on x86): ordered after the reader's pin,
            // so a reader pinned after an unlink sees it (see epoch.rs).
            let w = self.slot(i).load(Ordering::SeqCst);
            if w == EMPTY {
                return None;
            }
            if w != TOMBSTONE && tag_matches(w, hash) {
                // SAFETY: a stored word holds an entry's address; the entry
                // is alive while the caller is pinned (the caller's contract).
                if unsafe { EntryRef::at_is(address(w), hash, id) } {
                    // SAFETY: as above.
                    return Some(unsafe { EntryRef::from_raw(address(w)) });
                }
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Where `id` is, or would go (writers only: the writer lock is held).
    #[inline(always)]
    pub(super) fn probe(&self, hash: u64, id: ContainerIdRef<'_>) -> Probe {
        let mut i = hash as usize & self.mask;
        let mut free = None;
        loop {
            let w = self.slot(i).load(Ordering::Relaxed);
            if w == EMPTY {
                return Probe::Absent(free.unwrap_or(i));
            }
            if w == TOMBSTONE {
                free.get_or_insert(i);
            } else if tag_matches(w, hash) {
                // SAFETY: the writer's own table: its entries are alive.
                if unsafe { EntryRef::at_is(address(w), hash, id) } {
                    return Probe::Found(i);
                }
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The entry in slot `i` (which holds one).
    pub(super) fn entry_at(&self, i: usize) -> NonNull<u8> {
        let w = self.slot(i).load(Ordering::Relaxed);
        debug_assert!(w > TOMBSTONE);
        // SAFETY: a stored word holds a non-null address.
        unsafe { NonNull::new_unchecked(address(w) as *mut u8) }
    }

    /// Whether slot `i` was a tombstone (before a store into it).
    pub(super) fn is_tombstone(&self, i: usize) -> bool {
        self.slot(i).load(Ordering::Relaxed) == TOMBSTONE
    }

    /// Stores entry `p`, whose key's hash is `hash`, in slot `i`, with a
    /// release store at least (publishing the entry's bytes to readers);
    /// `order` is SeqCst for a store that unlinks an entry (replaces it), so
    /// that the writer's look at the readers' pins that follows cannot miss
    /// a reader that could still find it (see epoch.rs).
    pub(super) fn put(&self, i: usize, p: NonNull<u8>, hash: u64, order: Ordering) {
        self.hash_at(i).store(hash, Ordering::Relaxed);
        self.slot(i).store(word(p, hash), order);
    }

    /// Empties slot `i` (a store with `order`, as for [`put`](Self::put)): a
    /// tombstone, unless the next slot is empty. Then no probe chain runs
    /// through `i` (every stored key has no empty slot between its home
    /// slot and itself), so `i` becomes empty, and so do the tombstones
    /// right before it, for the same reason. Returns the change in the
    /// table's tombstones.
    pub(super) fn vacate(&self, i: usize, order: Ordering) -> isize {
        let next = self.slot((i + 1) & self.mask).load(Ordering::Relaxed);
        if next != EMPTY {
            self.slot(i).store(TOMBSTONE, order);
            return 1;
        }
        self.slot(i).store(EMPTY, order);
        let mut freed = 0;
        let mut j = i.wrapping_sub(1) & self.mask;
        // Ends: a table is never all tombstones (see `overfull`).
        while self.slot(j).load(Ordering::Relaxed) == TOMBSTONE {
            self.slot(j).store(EMPTY, Ordering::Relaxed);
            freed += 1;
            j = j.wrapping_sub(1) & self.mask;
        }
        -freed
    }

    /// Whether `used` slots (live and tombstones) are more than this table
    /// holds.
    pub(super) fn overfull(&self, used: usize) -> bool {
        used > max_used(self.slots())
    }

    /// A new table holding this one's entries, sized for `live` of them: at
    /// most 3/4 of [`max_used`] full, so that it takes a third as many
    /// inserts again before the next rehash.
    pub(super) fn rehashed(&self, live: usize) -> Table {
        let mut n = MIN_SLOTS;
        while max_used(n) < live + live / 3 + 1 {
            n *= 2;
        }
        let t = Table::with_slots(n);
        for j in 0..=self.mask {
            let w = self.slot(j).load(Ordering::Relaxed);
            if w <= TOMBSTONE {
                continue;
            }
            let h = self.hash_at(j).load(Ordering::Relaxed);
            let mut i = h as usize & t.mask;
            while t.slot(i).load(Ordering::Relaxed) != EMPTY {
                i = (i + 1) & t.mask;
            }
            t.hash_at(i).store(h, Ordering::Relaxed);
            t.slot(i).store(w, Ordering::Relaxed);
        }
        t
    }

    /// Every stored entry (writers, or a reader that tolerates a changing
    /// table).
    pub(super) fn entries(self) -> impl Iterator<Item = NonNull<u8>> {
        (0..=self.mask).filter_map(move |i| {
            let w = self.slot(i).load(Ordering::Acquire);
            // SAFETY: a stored word holds a non-null address.
            (w > TOMBSTONE).then(|| unsafe { NonNull::new_unchecked(address(w) as *mut u8) })
        })
    }
}
