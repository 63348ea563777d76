//! The manager's writers: one lock for every shard, the manager's change
//! counter next to it, and the limbo of what writers unlinked.
//!
//! A writer takes the lock (one compare-and-swap, the only atomic
//! read-modify-write of a set or a clear that neither rehashes nor
//! collects the epoch domain), moves the counter from even `c`
//! to `c + 1` before its first store into a table (a plain store: only the
//! holder of the lock writes the counter), and to `c + 2` once the change is
//! whole, then releases the lock. So every change moves the counter before
//! anything of it is visible, and again once it is whole. A reader that
//! finds a change in progress after its lookup waits until it is whole
//! before returning ([`WriterLock::settle`]), so a caller that loads the
//! same counter value before and after a lookup knows that the lookup saw no
//! change made in between (the contract of `kuberef_change_counter`). A
//! bulk read (a scan of a shard) takes the lock without touching the
//! counter: reads never change it.
//!
//! What writers unlink (entries, tables replaced by a rehash) is freed after
//! the lock is released: at once when no reader is pinned, else retired into
//! the limbo, tagged with the epoch, and freed once no reader pinned before
//! the unlink can still hold it (see [`super::epoch`]).

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

use super::entry::{Entry, EntryRef, StoredRef};
use super::epoch::{self, Domain};
use super::shard::Shard;
use super::sync::{self, AtomicU64};
use super::table::{Probe, Table};
use crate::container_id::ContainerIdRef;

/// How much one change moves the counter (odd while it is in progress).
pub(super) const STEP: u64 = 2;

/// Retired objects (or bytes of them) the limbo takes before a writer
/// looks for what may be freed (two scans of the readers' slots).
#[cfg(not(feature = "shuttle"))]
const COLLECT_ITEMS: usize = 64;
#[cfg(feature = "shuttle")]
const COLLECT_ITEMS: usize = 2;
const COLLECT_BYTES: usize = 1 << 20;

/// Something a writer unlinked, which readers pinned before the unlink may
/// still be reading.
pub(super) enum Retired {
    /// An entry and its length (so that freeing it reads none of it).
    Entry(NonNull<u8>, usize),
    Table(Table),
}

impl Retired {
    /// Frees it.
    ///
    /// # Safety
    /// No reader can still reach it.
    unsafe fn free(self) {
        match self {
            // SAFETY: forwarded; the pointer and length are an entry's.
            Retired::Entry(p, len) => drop(unsafe { Entry::from_raw_parts(p, len) }),
            // SAFETY: forwarded; retired tables are freed once, here.
            Retired::Table(t) => unsafe { t.free() },
        }
    }
}

/// What the lock protects.
#[derive(Default)]
struct Limbo {
    /// What was unlinked, with the epoch it was retired at, oldest first
    /// (tags never decrease: the epoch only grows, and items are pushed
    /// under the lock).
    items: VecDeque<(u64, Retired)>,
    /// How many items at the front may be freed (found at the last
    /// collection): writers free them a few at a time, so that each set's
    /// allocation finds a block just freed in the allocator's thread cache.
    ready: usize,
    /// The size of those `ready` items.
    ready_bytes: usize,
    /// Their approximate size.
    bytes: usize,
}

/// The writers' lock and the change counter, on cache lines of their own
/// (readers load the counter; writers of every shard take the lock).
#[repr(align(128))]
pub(super) struct WriterLock {
    /// 1 while held, else 0.
    lock: AtomicU64,
    counter: AtomicU64,
    limbo: UnsafeCell<Limbo>,
}

// SAFETY: `limbo` is touched only by the holder of the lock (or by `drop`,
// with `&mut self`); what it holds is owned by it and is plain bytes.
unsafe impl Sync for WriterLock {}
// SAFETY: as above.
unsafe impl Send for WriterLock {}

impl Default for WriterLock {
    fn default() -> Self {
        WriterLock {
            lock: AtomicU64::new(0),
            counter: AtomicU64::new(0),
            limbo: UnsafeCell::new(Limbo::default()),
        }
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // The manager is being dropped: no reader or writer is left.
        for (_, r) in self.limbo.get_mut().items.drain(..) {
            // SAFETY: nothing can reach it any more.
            unsafe { r.free() };
        }
    }
}

impl WriterLock {
    /// The change counter (see the module docs).
    #[inline(always)]
    pub(super) fn changes(&self) -> u64 {
        self.counter.load(Ordering::Acquire)
    }

    /// The counter's address, for the C ABI (whose callers load it).
    #[cfg(not(feature = "shuttle"))]
    pub(super) fn counter_ptr(&self) -> *const u64 {
        self.counter.as_ptr().cast_const()
    }

    /// Shuttle's atomics have no address to give out (its tests never ask).
    #[cfg(feature = "shuttle")]
    pub(super) fn counter_ptr(&self) -> *const u64 {
        std::ptr::null()
    }

    /// Called by a reader after its lookup: returns once no writer that was
    /// making a change when the lookup ended is still at it, so that
    /// whatever the lookup found of a change is counted as finished.
    #[inline(always)]
    pub(super) fn settle(&self) {
        let c = self.counter.load(Ordering::Acquire);
        if c & 1 != 0 {
            self.wait_while(c);
        }
    }

    #[cold]
    fn wait_while(&self, c: u64) {
        let mut spins = 0u32;
        while self.counter.load(Ordering::Acquire) == c {
            backoff(&mut spins);
        }
    }

    /// Takes the lock.
    fn lock(&self) {
        let mut spins = 0u32;
        while self.lock.load(Ordering::Relaxed) != 0
            || self
                .lock
                .compare_exchange_weak(0, 1, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            backoff(&mut spins);
        }
    }

    /// Takes the lock for one change (or one batch of a bulk removal), and
    /// shows it in progress.
    pub(super) fn write(&self) -> Writing<'_> {
        self.lock();
        // Only the holder of the lock writes the counter: a load and a
        // store. Ordered before the change's table stores (release stores).
        let taken = self.counter.load(Ordering::Relaxed);
        self.counter.store(taken + 1, Ordering::Relaxed);
        Writing {
            lock: self,
            taken,
            free_now: FreeNow::default(),
            stored: false,
        }
    }

    /// Takes the lock to read shards whole, changing nothing: writers wait,
    /// readers go on, the counter stays.
    pub(super) fn read(&self) -> Reading<'_> {
        self.lock();
        Reading { lock: self }
    }
}

/// A bulk read, holding the lock.
pub(super) struct Reading<'a> {
    lock: &'a WriterLock,
}

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        self.lock.lock.store(0, Ordering::Release);
    }
}

impl Reading<'_> {
    /// Calls `f` with every entry of `shard` (one consistent view).
    pub(super) fn scan(&self, shard: &Shard, mut f: impl FnMut(EntryRef<'_>)) {
        // SAFETY: the lock is held: the table and its entries stay.
        let t = unsafe { shard.table() };
        for p in t.entries() {
            // SAFETY: as above.
            f(unsafe { EntryRef::from_raw(p.as_ptr()) });
        }
    }
}

/// Waits a little: spins first, then gives the CPU away.
#[inline]
fn backoff(spins: &mut u32) {
    if *spins < 64 {
        std::hint::spin_loop();
        *spins += 1;
    } else {
        sync::yield_now();
    }
}

/// A writer, holding the lock. Dropping it releases the lock (also when the
/// holder unwinds: each change to a table is one store, so a panic never
/// leaves one half-made), then frees what no reader can reach any more.
pub(super) struct Writing<'a> {
    lock: &'a WriterLock,
    /// The counter's value before this change (even).
    taken: u64,
    /// What may be freed once the lock is released.
    free_now: FreeNow,
    /// Whether this change stored an entry (see `tend`).
    stored: bool,
}

impl Writing<'_> {
    /// Ends this change and begins the next, keeping the lock: each removal
    /// of a bulk removal is a change of its own, so a reader that waits for
    /// the change in progress (see [`WriterLock::settle`]) waits for one
    /// removal, not for a whole batch.
    pub(super) fn next_change(&mut self) {
        let counter = &self.lock.counter;
        // Ordered after this change's table stores (release), and, as in
        // `write`, before the next change's (release stores).
        counter.store(self.taken + STEP, Ordering::Release);
        self.taken += STEP;
        counter.store(self.taken + 1, Ordering::Relaxed);
    }
}

impl Drop for Writing<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the lock is held.
        let limbo = unsafe { &mut *self.lock.limbo.get() };
        if !limbo.items.is_empty() {
            tend(limbo, &mut self.free_now, self.stored);
        }
        self.lock
            .counter
            .store(self.taken + STEP, Ordering::Release);
        self.lock.lock.store(0, Ordering::Release);
        // SAFETY: unlinked while no reader was pinned, or retired two
        // epochs ago or more (see `retire` and `collect`).
        unsafe { self.free_now.free_all() };
    }
}

/// Collects the limbo when it has grown, and moves what may be freed into
/// `free_now`: one item for a change that stored an entry (a set), so that
/// frees keep pace with allocations and each set's allocation finds the
/// block the previous set freed in the allocator's thread cache (neither
/// overflowing it nor leaving it empty); two for any change while more than
/// a batch is ready, to catch up with clears; and a backlog (a bulk removal,
/// large entries) all at once.
fn tend(limbo: &mut Limbo, free_now: &mut FreeNow, stored: bool) {
    if limbo.items.len() - limbo.ready >= COLLECT_ITEMS
        || limbo.bytes - limbo.ready_bytes >= COLLECT_BYTES
    {
        collect(limbo);
    }
    let n = if limbo.ready > 2 * COLLECT_ITEMS || limbo.ready_bytes >= COLLECT_BYTES {
        limbo.ready
    } else if limbo.ready > COLLECT_ITEMS {
        2
    } else {
        limbo.ready.min(usize::from(stored))
    };
    for _ in 0..n {
        let (_, r) = limbo
            .items
            .pop_front()
            .expect("ready items are in the limbo");
        let size = r.size();
        limbo.bytes -= size;
        limbo.ready_bytes -= size;
        free_now.push(r);
    }
    limbo.ready -= n;
}

/// What a writer frees once it has released the lock: usually one entry,
/// kept without an allocation.
#[derive(Default)]
struct FreeNow {
    entry: Option<(NonNull<u8>, usize)>,
    more: Vec<Retired>,
}

impl FreeNow {
    #[inline(always)]
    fn push(&mut self, r: Retired) {
        match r {
            Retired::Entry(p, len) if self.entry.is_none() => self.entry = Some((p, len)),
            r => self.more.push(r),
        }
    }

    /// # Safety
    /// No reader can reach anything pushed.
    #[inline(always)]
    unsafe fn free_all(&mut self) {
        if let Some((p, len)) = self.entry.take() {
            // SAFETY: forwarded; an entry's pointer and length.
            drop(unsafe { Entry::from_raw_parts(p, len) });
        }
        if !self.more.is_empty() {
            for r in self.more.drain(..) {
                // SAFETY: forwarded.
                unsafe { r.free() };
            }
        }
    }
}

/// Finds how many items at the front of the limbo may be freed now.
fn collect(limbo: &mut Limbo) {
    let d = epoch::domain();
    d.reap_now();
    d.try_advance();
    let now = d.try_advance();
    limbo.ready = limbo
        .items
        .partition_point(|&(at, _)| Domain::freeable(at, now));
    limbo.ready_bytes = limbo
        .items
        .range(..limbo.ready)
        .map(|(_, r)| r.size())
        .sum();
}

impl Retired {
    /// Its approximate size in bytes.
    fn size(&self) -> usize {
        match self {
            Retired::Entry(_, len) => *len,
            Retired::Table(t) => t.bytes(),
        }
    }
}

impl Writing<'_> {
    /// Takes `r`, just unlinked (with a SeqCst store): freed once the lock
    /// is released if no reader is pinned now (when few threads ever read;
    /// see `Domain::quiescent`), else once the epoch has moved on.
    #[inline(always)]
    fn retire(&mut self, r: Retired) {
        let d = epoch::domain();
        if d.quiescent() == Some(true) {
            self.free_now.push(r);
            return;
        }
        let at = d.retire_epoch();
        // SAFETY: the lock is held.
        let limbo = unsafe { &mut *self.lock.limbo.get() };
        limbo.bytes += r.size();
        limbo.items.push_back((at, r));
    }

    /// Stores `entry` under `id` (whose hash is `hash`) in `shard`; returns
    /// the size of the entry it replaced, if any (retired, not freed).
    pub(super) fn put(
        &mut self,
        shard: &Shard,
        hash: u64,
        id: ContainerIdRef<'_>,
        entry: Entry,
    ) -> Option<usize> {
        let p = entry.into_raw();
        self.stored = true;
        // SAFETY (every `table` below): the lock is held.
        let t = unsafe { shard.table() };
        match t.probe(hash, id) {
            Probe::Found(i) => {
                let old = t.entry_at(i);
                // SAFETY: the entry in the current table is alive.
                let old_len = unsafe { EntryRef::from_raw(old.as_ptr()) }.bytes().len();
                t.put(i, p, hash, Ordering::SeqCst);
                self.retire(Retired::Entry(old, old_len));
                Some(old_len)
            }
            Probe::Absent(mut i) => {
                let reuse = t.is_tombstone(i);
                let live = shard.len.load(Ordering::Relaxed);
                let used = live + shard.tombstones() + usize::from(!reuse);
                let mut t = t;
                if t.overfull(used) {
                    self.rehash(shard, live + 1);
                    // SAFETY: as above.
                    t = unsafe { shard.table() };
                    match t.probe(hash, id) {
                        Probe::Absent(j) => i = j,
                        Probe::Found(_) => unreachable!("the key was absent before the rehash"),
                    }
                }
                if t.is_tombstone(i) {
                    shard.set_tombstones(shard.tombstones() - 1);
                }
                t.put(i, p, hash, Ordering::Release);
                None
            }
        }
    }

    /// Removes the entry of `id` (whose hash is `hash`) from `shard` if
    /// there is one and `still` says so; returns its stamp and size
    /// (retired, not freed).
    pub(super) fn remove(
        &mut self,
        shard: &Shard,
        hash: u64,
        id: ContainerIdRef<'_>,
        still: impl FnOnce(StoredRef<'_>) -> bool,
    ) -> Option<(u64, usize)> {
        // SAFETY: the lock is held.
        let t = unsafe { shard.table() };
        let Probe::Found(i) = t.probe(hash, id) else {
            return None;
        };
        let p = t.entry_at(i);
        // SAFETY: the entry in the current table is alive.
        let e = unsafe { EntryRef::from_raw(p.as_ptr()) };
        if !still(e.stored()) {
            return None;
        }
        let found = (e.stamp(), e.bytes().len());
        let d = t.vacate(i, Ordering::SeqCst);
        shard.set_tombstones(shard.tombstones().wrapping_add_signed(d));
        self.retire(Retired::Entry(p, found.1));
        Some(found)
    }

    /// Replaces `shard`'s table with one sized for `live` entries and no
    /// tombstones; readers of the old one finish on it.
    fn rehash(&mut self, shard: &Shard, live: usize) {
        // SAFETY: the lock is held.
        let new = unsafe { shard.table() }.rehashed(live);
        // SAFETY: the lock is held.
        let old = unsafe { shard.replace_table(new, Ordering::SeqCst) };
        shard.set_tombstones(0);
        self.retire(Retired::Table(old));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A limbo holding `ready` items that may be freed and `waiting` that
    /// may not yet (fewer than a batch, so that `tend` does not collect).
    fn limbo(ready: usize, waiting: usize) -> Limbo {
        assert!(waiting < COLLECT_ITEMS);
        let mut l = Limbo::default();
        for i in 0..ready + waiting {
            let id = ContainerIdRef {
                typ: b"containerd",
                id: b"c",
            };
            let e = Entry::new(0, id, [0; crate::reference::FIELD_COUNT], |_, _| {});
            let len = e.len();
            l.items
                .push_back((u64::from(i >= ready), Retired::Entry(e.into_raw(), len)));
            l.bytes += len;
            if i < ready {
                l.ready += 1;
                l.ready_bytes += len;
            }
        }
        l
    }

    /// Runs `tend` for one change; returns how many items it let go.
    fn tend_once(l: &mut Limbo, stored: bool) -> usize {
        let before = l.items.len();
        let mut free_now = FreeNow::default();
        tend(l, &mut free_now, stored);
        // SAFETY: test entries that no table ever held.
        unsafe { free_now.free_all() };
        assert_eq!(l.ready, l.items.iter().filter(|(at, _)| *at == 0).count());
        before - l.items.len()
    }

    fn free(l: Limbo) {
        for (_, r) in l.items {
            // SAFETY: as above.
            unsafe { r.free() };
        }
    }

    #[test]
    fn a_set_frees_one_ready_item_and_a_clear_none() {
        let mut l = limbo(COLLECT_ITEMS, 3);
        assert_eq!(tend_once(&mut l, true), 1);
        assert_eq!(tend_once(&mut l, false), 0);
        assert_eq!(tend_once(&mut l, true), 1);
        assert_eq!(l.ready, COLLECT_ITEMS - 2);
        free(l);
    }

    #[test]
    fn nothing_ready_frees_nothing() {
        let mut l = limbo(0, 3);
        assert_eq!(tend_once(&mut l, true), 0);
        assert_eq!(tend_once(&mut l, false), 0);
        assert_eq!(l.items.len(), 3);
        free(l);
    }

    #[test]
    fn more_than_a_batch_ready_frees_two_per_change_down_to_a_batch() {
        let mut l = limbo(COLLECT_ITEMS + 3, 0);
        assert_eq!(tend_once(&mut l, false), 2);
        assert_eq!(tend_once(&mut l, true), 2);
        assert_eq!(l.ready, COLLECT_ITEMS - 1);
        assert_eq!(tend_once(&mut l, false), 0);
        free(l);
    }

    #[test]
    fn a_backlog_is_freed_at_once() {
        let mut l = limbo(2 * COLLECT_ITEMS + 1, 5);
        assert_eq!(tend_once(&mut l, false), 2 * COLLECT_ITEMS + 1);
        assert_eq!(l.items.len(), 5);
        assert_eq!(l.ready, 0);
        free(l);
    }
}
