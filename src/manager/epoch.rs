//! Epoch-based reclamation: how readers find references without taking a
//! lock, and writers free what they removed only when no reader can still be
//! looking at it.
//!
//! A reader *pins* the domain for the duration of a lookup: it announces the
//! domain's current epoch in a slot of its own (a SeqCst exchange, which on
//! x86 is also the full barrier the scheme needs), and clears the slot when
//! done; its loads of the table slots are SeqCst. A writer unlinks an entry
//! (or a table it replaced) with a SeqCst store and *retires* it: at once,
//! if no slot shows a pin (then no reader holds it, and every later reader
//! sees the unlink; looked at only while few threads have read), else tagged
//! with the epoch current after the unlink, for a later collection.
//! The epoch advances only when every pinned slot shows the current epoch,
//! so once it is two past a retired object's tag, every reader pinned when
//! the object was unlinked has unpinned, and readers pinned since cannot
//! reach it: the object may be freed.
//!
//! Slots: a thread that reads gets a slot of its own (a thread-local index
//! with no destructor, so that a copy of the library in a plugin can be
//! unloaded), which pins with one exchange on a cache line no other thread
//! writes. A thread that exits cannot give its slot back, so the slots of
//! exited threads are taken back by others (see [`super::threads`]): by a
//! thread claiming a slot once [`REAP_FROM`] have been claimed, and by a
//! writer's collection, at most once a second, while more than
//! [`QUICK_SCAN`] are. A claim takes the lowest free slot, so the slots to
//! scan stay about as many as the threads that read at once. When all
//! [`DEDICATED`] are taken by live threads, later threads borrow one of the
//! [`BORROWED`] shared slots for each pin (a compare-and-swap), so slots
//! never run out, whatever the threads do. Once any thread has borrowed,
//! writers look at the borrowed slots for the life of the process, which is
//! more than [`Domain::quiescent`] looks at: what they unlink then always
//! goes through a collection.
//!
//! After `fork`, the child's one thread keeps its slot under the child's
//! IDs and every other slot is freed: the parent's other threads are not in
//! the child (see [`after_fork_in_child`]).
//!
//! Pins nest: a thread that pins while pinned (a `with_ref` callback that
//! reads another manager) keeps its first announcement until the outermost
//! guard is dropped.

use std::cell::Cell;
use std::sync::atomic::Ordering;

use super::sync::{fence, yield_now, AtomicBool, AtomicU64, AtomicUsize};
use super::threads::{self, Owner};

/// Threads that get a slot of their own (2 in a Shuttle build, so that its
/// schedules reach the borrowed slots with a few threads).
#[cfg(not(feature = "shuttle"))]
pub(crate) const DEDICATED: usize = 64;
#[cfg(feature = "shuttle")]
pub(crate) const DEDICATED: usize = 2;
/// Slots shared by the threads beyond the first [`DEDICATED`], one per pin.
#[cfg(not(feature = "shuttle"))]
const BORROWED: usize = 64;
#[cfg(feature = "shuttle")]
const BORROWED: usize = 2;
/// The most slots [`Domain::quiescent`] looks at (one cache line each).
const QUICK_SCAN: usize = 16;
/// How many dedicated slots are claimed before a claim first takes back
/// the slots of exited threads (one system call per claimed slot).
const REAP_FROM: usize = 4;
/// A slot nobody has claimed, or a borrowed slot nobody is using.
const FREE: u64 = 0;
/// A dedicated slot whose thread is not pinned.
const IDLE: u64 = 1;

/// A slot's word, on a cache line of its own: [`FREE`], [`IDLE`], or the
/// epoch its thread is pinned at, shifted left by one (so never 0 or 1).
#[repr(align(64))]
struct Slot(AtomicU64);

/// The domain: the epoch and the readers' slots. One per process (per copy
/// of the library), shared by every manager; see [`domain`].
pub(crate) struct Domain {
    epoch: AtomicU64,
    /// One past the highest dedicated slot ever claimed (the ones to scan).
    claimed: AtomicUsize,
    /// Whether a borrowed slot was ever used (then they are scanned too).
    borrowing: AtomicBool,
    slots: [Slot; DEDICATED + BORROWED],
    /// The owner of each dedicated slot (an [`Owner`] word): written when a
    /// thread claims the slot, released when the slot is taken back.
    owners: [AtomicU64; DEDICATED],
    /// When a collection last took back slots (see `reap_now`).
    #[cfg(not(feature = "shuttle"))]
    reaped: std::sync::Mutex<Option<std::time::Instant>>,
}

#[cfg(not(feature = "shuttle"))]
impl Domain {
    /// A domain at epoch 1 with every slot free.
    const fn new() -> Domain {
        Domain {
            epoch: AtomicU64::new(1),
            claimed: AtomicUsize::new(0),
            borrowing: AtomicBool::new(false),
            slots: [const { Slot(AtomicU64::new(FREE)) }; DEDICATED + BORROWED],
            owners: [const { AtomicU64::new(0) }; DEDICATED],
            reaped: std::sync::Mutex::new(None),
        }
    }
}

#[cfg(not(feature = "shuttle"))]
static DOMAIN: Domain = Domain::new();

// One per Shuttle execution (made anew for each).
#[cfg(feature = "shuttle")]
shuttle::lazy_static! {
    static ref DOMAIN: Domain = Domain {
        epoch: AtomicU64::new(1),
        claimed: AtomicUsize::new(0),
        borrowing: AtomicBool::new(false),
        slots: std::array::from_fn(|_| Slot(AtomicU64::new(FREE))),
        owners: std::array::from_fn(|_| AtomicU64::new(0)),
    };
}

/// The process's domain.
#[inline(always)]
pub(crate) fn domain() -> &'static Domain {
    &DOMAIN
}

/// A thread's dedicated slot before it asked for one.
const NO_SLOT: usize = usize::MAX;
/// The dedicated slot of a thread that found none left: it borrows.
const BORROWS: usize = usize::MAX - 1;

/// This thread's state: its dedicated slot (or `NO_SLOT`, `BORROWS`), the
/// slot it pins with while pinned, and how deeply it is pinned. Plain cells
/// with no destructor, read through one thread-local access per pin.
struct Local {
    own: Cell<usize>,
    pinned_at: Cell<usize>,
    depth: Cell<u32>,
}

#[cfg(feature = "shuttle")]
use shuttle::thread_local;

thread_local! {
    static LOCAL: Local = const {
        Local {
            own: Cell::new(NO_SLOT),
            pinned_at: Cell::new(0),
            depth: Cell::new(0),
        }
    };
}

/// A pin: while it lives, nothing retired after it was taken is freed, and
/// nothing it can reach through the tables was freed. Not `Send`: it belongs
/// to the thread that pinned (and points at that thread's state).
pub(crate) struct Guard {
    slot: usize,
    local: *const Local,
}

impl Guard {
    /// The slot this thread pins with: below [`DEDICATED`] for a thread with
    /// a slot of its own (a stripe only this thread writes), else a borrowed
    /// one.
    #[inline(always)]
    pub(crate) fn slot(&self) -> usize {
        self.slot
    }
}

impl Drop for Guard {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: this thread's state, which outlives the guard (the guard
        // cannot leave the thread).
        let local = unsafe { &*self.local };
        let depth = local.depth.get() - 1;
        local.depth.set(depth);
        if depth == 0 {
            let idle = if self.slot < DEDICATED { IDLE } else { FREE };
            domain().slots[self.slot].0.store(idle, Ordering::Release);
        }
    }
}

/// Writes `word` to `slot` with a full barrier after it: later loads of the
/// tables are not done before the announcement is visible to writers.
#[inline(always)]
fn announce(slot: &AtomicU64, word: u64) {
    // On x86 an exchange is a full barrier; elsewhere add one.
    slot.swap(word, Ordering::SeqCst);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
    fence(Ordering::SeqCst);
}

/// Registers, once, what a child process does right after `fork` (see
/// [`after_fork_in_child`]); called before the first claim of a slot, so
/// before any owner word names a thread.
#[cfg(all(target_os = "linux", not(feature = "shuttle")))]
fn watch_forks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a function of this library to run in the child
        // after a fork; glibc drops a library's handlers when it is unloaded.
        unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
    });
}

/// Runs in a child process right after `fork`, in its one thread (the one
/// that forked). That thread's dedicated slot gets an owner word with the
/// child's IDs: left with the parent's, a descendant that the kernel gives
/// the parent's process ID would judge it a slot of its own exited thread
/// and free it while the thread uses it. Every other slot is a parent
/// thread's, which the child does not have: each is freed (a borrowed one
/// the forking thread is pinned with stays), so it no longer holds the
/// epoch back. Only atomics, the thread's own state and two system calls.
#[cfg(all(target_os = "linux", not(feature = "shuttle")))]
extern "C" fn after_fork_in_child() {
    let d = domain();
    let (own, depth, pinned_at) = LOCAL.with(|l| (l.own.get(), l.depth.get(), l.pinned_at.get()));
    for (i, owner) in d.owners.iter().enumerate() {
        let o = Owner(owner.load(Ordering::Relaxed));
        if i == own {
            owner.store(Owner::me_after(o).0, Ordering::SeqCst);
        } else if d.slots[i].0.load(Ordering::Relaxed) != FREE {
            owner.store(o.released().0, Ordering::SeqCst);
            d.slots[i].0.store(FREE, Ordering::SeqCst);
        }
    }
    for i in DEDICATED..DEDICATED + BORROWED {
        if depth == 0 || pinned_at != i {
            d.slots[i].0.store(FREE, Ordering::SeqCst);
        }
    }
}

impl Domain {
    /// Pins the calling thread (see the module docs).
    #[inline(always)]
    pub(crate) fn pin(&self) -> Guard {
        LOCAL.with(|local| {
            let depth = local.depth.get();
            local.depth.set(depth + 1);
            if depth > 0 {
                return Guard {
                    slot: local.pinned_at.get(),
                    local,
                };
            }
            let mut own = local.own.get();
            if own == NO_SLOT {
                own = self.claim();
                local.own.set(own);
            }
            let slot = if own < DEDICATED {
                let word = self.epoch.load(Ordering::SeqCst) << 1;
                announce(&self.slots[own].0, word);
                own
            } else {
                self.borrow(local)
            };
            local.pinned_at.set(slot);
            Guard { slot, local }
        })
    }

    /// A dedicated slot for this thread (the lowest free one, after taking
    /// back those of exited threads), or `BORROWS` if none is left.
    #[cold]
    fn claim(&self) -> usize {
        #[cfg(all(target_os = "linux", not(feature = "shuttle")))]
        watch_forks();
        if self.claimed.load(Ordering::SeqCst) >= REAP_FROM {
            self.reap();
        }
        for (i, s) in self.slots[..DEDICATED].iter().enumerate() {
            if s.0
                .compare_exchange(FREE, IDLE, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                let previous = Owner(self.owners[i].load(Ordering::Acquire));
                self.owners[i].store(Owner::me_after(previous).0, Ordering::Release);
                self.claimed.fetch_max(i + 1, Ordering::SeqCst);
                return i;
            }
        }
        BORROWS
    }

    /// Frees the dedicated slots of threads that have exited, for later
    /// claims. An exited thread is not pinned (or, gone while pinned, never
    /// unpins: its slot no longer holds the epoch back).
    #[cold]
    fn reap(&self) {
        let claimed = self.claimed.load(Ordering::SeqCst);
        let pid = threads::current_pid();
        for (owner, slot) in self.owners[..claimed].iter().zip(&self.slots) {
            let o = Owner(owner.load(Ordering::Acquire));
            // The owner word is released before the slot is freed, so only
            // one reaper frees it, and the next claim (after FREE) writes
            // a later generation.
            if o.has_exited(pid)
                && owner
                    .compare_exchange(o.0, o.released().0, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            {
                slot.0.store(FREE, Ordering::SeqCst);
            }
        }
    }

    /// Takes back the slots of exited threads when more are claimed than
    /// [`quiescent`](Self::quiescent) looks at, at most once a second (a
    /// system call per slot); called by a writer's collection.
    pub(crate) fn reap_now(&self) {
        #[cfg(not(feature = "shuttle"))]
        {
            if self.claimed.load(Ordering::Relaxed) <= QUICK_SCAN {
                return;
            }
            let now = std::time::Instant::now();
            {
                // Another writer reaping now: nothing to add.
                let Ok(mut at) = self.reaped.try_lock() else {
                    return;
                };
                if at.is_some_and(|t| now.duration_since(t) < std::time::Duration::from_secs(1)) {
                    return;
                }
                *at = Some(now);
            }
            self.reap();
        }
    }

    /// Pins with a borrowed slot, waiting (yielding) if all are in use.
    #[cold]
    fn borrow(&self, local: &Local) -> usize {
        self.borrowing.store(true, Ordering::SeqCst);
        let start = (local as *const Local as usize / 64) % BORROWED;
        loop {
            let word = self.epoch.load(Ordering::SeqCst) << 1;
            for k in 0..BORROWED {
                let i = DEDICATED + (start + k) % BORROWED;
                if self.slots[i]
                    .0
                    .compare_exchange(FREE, word, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok()
                {
                    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
                    fence(Ordering::SeqCst);
                    return i;
                }
            }
            yield_now();
        }
    }

    /// The epoch to tag an object with that the caller has just unlinked
    /// (with a SeqCst store, before this SeqCst load).
    #[inline]
    pub(crate) fn retire_epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Advances the epoch if every pinned thread has seen the current one,
    /// and returns the epoch now current.
    pub(crate) fn try_advance(&self) -> u64 {
        let e = self.epoch.load(Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let claimed = self.claimed.load(Ordering::SeqCst);
        let borrowed = if self.borrowing.load(Ordering::SeqCst) {
            &self.slots[DEDICATED..]
        } else {
            &[]
        };
        for s in self.slots[..claimed].iter().chain(borrowed) {
            let w = s.0.load(Ordering::SeqCst);
            if w > IDLE && w >> 1 != e {
                return e;
            }
        }
        match self
            .epoch
            .compare_exchange(e, e + 1, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => e + 1,
            Err(now) => now,
        }
    }

    /// Whether no thread is pinned now. Called after unlinking with a SeqCst
    /// store: if no pin precedes these SeqCst loads, no reader holds what was
    /// unlinked, and every later pin comes after the unlink in the SeqCst
    /// order, so its (SeqCst) table loads see it: it may be freed at once.
    ///
    /// Returns `None` without looking when there are more than
    /// [`QUICK_SCAN`] slots to look at (many threads have read): the caller
    /// then retires what it unlinked, and a collection looks at the slots
    /// once for many retirements.
    pub(crate) fn quiescent(&self) -> Option<bool> {
        let claimed = self.claimed.load(Ordering::SeqCst);
        let borrowing = self.borrowing.load(Ordering::SeqCst);
        if claimed + if borrowing { BORROWED } else { 0 } > QUICK_SCAN {
            return None;
        }
        let borrowed = if borrowing {
            &self.slots[DEDICATED..]
        } else {
            &[]
        };
        Some(
            self.slots[..claimed]
                .iter()
                .chain(borrowed)
                .all(|s| s.0.load(Ordering::SeqCst) <= IDLE),
        )
    }

    /// Whether an object retired at epoch `retired` may be freed now that
    /// the epoch is `now`.
    #[inline]
    pub(crate) fn freeable(retired: u64, now: u64) -> bool {
        retired + 2 <= now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_waits_for_pinned_threads() {
        let d = domain();
        let g = d.pin();
        let at = d.epoch.load(Ordering::SeqCst);
        // Pinned at the current epoch: it may advance once, not twice.
        let once = d.try_advance();
        assert!(once <= at + 1);
        assert_eq!(d.try_advance(), once, "blocked by this thread's pin");
        let retired = d.retire_epoch();
        drop(g);
        // Other tests' threads pin too: give them time to unpin.
        let mut now = 0;
        for _ in 0..100_000 {
            now = now.max(d.try_advance());
            if Domain::freeable(retired, now) {
                break;
            }
            std::thread::yield_now();
        }
        assert!(Domain::freeable(retired, now));
    }

    #[test]
    fn pins_nest() {
        let d = domain();
        let outer = d.pin();
        let slot = outer.slot();
        {
            let inner = d.pin();
            assert_eq!(inner.slot(), slot);
        }
        // Still pinned after the inner guard is gone.
        let w = d.slots[slot].0.load(Ordering::SeqCst);
        assert!(w > IDLE);
        drop(outer);
        let w = d.slots[slot].0.load(Ordering::SeqCst);
        assert!(w <= IDLE);
    }

    #[test]
    fn a_nested_pin_keeps_the_outer_announcement() {
        let d = domain();
        let outer = d.pin();
        let slot = outer.slot();
        let first = d.slots[slot].0.load(Ordering::SeqCst);
        // The epoch moves past the outer pin's once (other tests' pins may
        // hold it back a while).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while d.try_advance() <= first >> 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "the epoch stayed at the outer pin's, 10 s later"
            );
            std::thread::yield_now();
        }
        let inner = d.pin();
        assert_eq!(
            d.slots[slot].0.load(Ordering::SeqCst),
            first,
            "a nested pin announced a later epoch over the outer pin's"
        );
        drop(inner);
        drop(outer);
    }

    /// The tests that need many threads' slots at once, or many free
    /// slots, run one at a time.
    static MANY_THREADS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// Starts `n` threads that are all alive at once, each pinning once
    /// (claiming its slot) between two barriers, and returns the slots they
    /// pinned with; they have exited when it returns. They wait unpinned,
    /// so a thread waiting for a borrowed slot never waits on them.
    /// The slots `n` threads alive at once pinned with, each with its owner
    /// word as the thread saw it (0 for a borrowed slot): read before the
    /// thread exits, as a claim in another test may take the slot back
    /// once it has.
    fn slots_of_threads_alive_at_once(n: usize) -> Vec<(usize, u64)> {
        let barrier = std::sync::Barrier::new(n);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        let slot = domain().pin().slot();
                        let owner = domain()
                            .owners
                            .get(slot)
                            .map_or(0, |o| o.load(Ordering::SeqCst));
                        barrier.wait();
                        (slot, owner)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }

    #[test]
    fn threads_beyond_the_dedicated_slots_borrow() {
        let _one = MANY_THREADS.lock().unwrap_or_else(|e| e.into_inner());
        // More threads than dedicated slots, alive at once.
        let n = DEDICATED + 8;
        let slots = slots_of_threads_alive_at_once(n);
        assert!(slots.iter().all(|&(s, _)| s < DEDICATED + BORROWED));
        assert!(
            slots.iter().any(|&(s, _)| s >= DEDICATED),
            "no thread borrowed"
        );
        // Every borrowed slot is free again, once the other tests' threads
        // (which now borrow too) are between pins.
        let all_free = || {
            domain().slots[DEDICATED..]
                .iter()
                .all(|s| s.0.load(Ordering::SeqCst) == FREE)
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !all_free() && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert!(all_free(), "a borrowed slot stayed taken");
    }

    /// A pin through a borrowed slot, as a thread beyond the dedicated ones
    /// takes it; `local` is that thread's state.
    fn borrowed_pin(local: &Local) -> Guard {
        local.depth.set(1);
        let slot = domain().borrow(local);
        local.pinned_at.set(slot);
        Guard { slot, local }
    }

    fn borrower() -> Local {
        Local {
            own: Cell::new(BORROWS),
            pinned_at: Cell::new(0),
            depth: Cell::new(0),
        }
    }

    #[test]
    fn a_borrowed_pin_holds_the_epoch_back() {
        let _one = MANY_THREADS.lock().unwrap_or_else(|e| e.into_inner());
        let d = domain();
        let local = borrower();
        let guard = borrowed_pin(&local);
        let at = d.slots[guard.slot()].0.load(Ordering::SeqCst) >> 1;
        // Pinned at `at`: the epoch may pass it once, never twice. (Held
        // for a few milliseconds only: other tests wait for the epoch.)
        let until = std::time::Instant::now() + std::time::Duration::from_millis(20);
        while std::time::Instant::now() < until {
            assert!(
                !Domain::freeable(at, d.try_advance()),
                "the epoch went two past a borrowed pin"
            );
            std::thread::yield_now();
        }
        drop(guard);
    }

    #[test]
    fn every_borrowed_slot_is_free_again_after_its_pin() {
        let _one = MANY_THREADS.lock().unwrap_or_else(|e| e.into_inner());
        let d = domain();
        // A borrowed slot is free or pinned, never idle (and one left idle
        // would never be borrowed again: the pins below would wait forever).
        let none_idle = || {
            let idle: Vec<usize> = (DEDICATED..DEDICATED + BORROWED)
                .filter(|&i| d.slots[i].0.load(Ordering::SeqCst) == IDLE)
                .collect();
            assert!(idle.is_empty(), "borrowed slots left idle: {idle:?}");
        };
        none_idle();
        // As many pins held at once as there are borrowed slots take them all.
        let locals: Vec<Local> = (0..BORROWED).map(|_| borrower()).collect();
        let guards: Vec<Guard> = locals.iter().map(borrowed_pin).collect();
        let mut slots: Vec<usize> = guards.iter().map(Guard::slot).collect();
        slots.sort_unstable();
        assert_eq!(slots, (DEDICATED..DEDICATED + BORROWED).collect::<Vec<_>>());
        drop(guards);
        // Other threads may borrow them again at once, but never leave one idle.
        none_idle();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_forked_child_owns_the_slot_of_its_thread_and_frees_the_others() {
        let _one = MANY_THREADS.lock().unwrap_or_else(|e| e.into_inner());
        let d = domain();
        let mine = d.pin().slot();
        assert!(mine < DEDICATED);
        // A thread that stays alive (pinned) in the parent.
        let (slot_tx, slot_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || {
            let g = domain().pin();
            slot_tx.send(g.slot()).unwrap();
            stop_rx.recv().unwrap();
        });
        let theirs = slot_rx.recv().unwrap();
        // SAFETY: the child only loads atomics, makes system calls and
        // exits without running anything of the parent's.
        let child = unsafe { libc::fork() };
        if child == 0 {
            let me = Owner(d.owners[mine].load(Ordering::SeqCst));
            let freed = d.slots[theirs].0.load(Ordering::SeqCst) == FREE;
            let code = if me.ids() != Owner::current() {
                1
            } else if !freed {
                2
            } else {
                0
            };
            // SAFETY: ends the child at once.
            unsafe { libc::_exit(code) };
        }
        assert!(child > 0, "fork failed");
        let mut status = 0;
        // SAFETY: waits for the child started above.
        assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
        stop_tx.send(()).unwrap();
        other.join().unwrap();
        assert!(libc::WIFEXITED(status), "child status {status:#x}");
        match libc::WEXITSTATUS(status) {
            0 => {}
            1 => panic!("the child's slot {mine} still names the parent's thread"),
            2 => panic!("the parent thread's slot {theirs} is still taken in the child"),
            c => panic!("child exit {c}"),
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_forked_child_frees_the_borrowed_slots_of_the_parents_threads() {
        let _one = MANY_THREADS.lock().unwrap_or_else(|e| e.into_inner());
        let d = domain();
        // This thread has claimed a slot (so the fork handler is registered)
        // and is not pinned at the fork; a borrowed slot is pinned, as by
        // another thread of the parent.
        drop(d.pin());
        let local = borrower();
        let guard = borrowed_pin(&local);
        let slot = guard.slot();
        // SAFETY: the child only loads an atomic and exits without running
        // anything of the parent's.
        let child = unsafe { libc::fork() };
        if child == 0 {
            let freed = d.slots[slot].0.load(Ordering::SeqCst) == FREE;
            // SAFETY: ends the child at once.
            unsafe { libc::_exit(if freed { 0 } else { 1 }) };
        }
        assert!(child > 0, "fork failed");
        let mut status = 0;
        // SAFETY: waits for the child started above.
        assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
        drop(guard);
        assert!(libc::WIFEXITED(status), "child status {status:#x}");
        assert_eq!(
            libc::WEXITSTATUS(status),
            0,
            "the parent's borrowed slot {slot} is still pinned in the child"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn exited_threads_give_their_slots_to_new_ones() {
        let _one = MANY_THREADS.lock().unwrap_or_else(|e| e.into_inner());
        // Three times as many threads as dedicated slots, one after
        // another: each finds the slot of one that exited.
        for k in 0..3 * DEDICATED {
            let slot = std::thread::spawn(|| domain().pin().slot()).join().unwrap();
            assert!(
                slot < DEDICATED,
                "thread {k} borrowed: slots of exited threads were not taken back"
            );
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn threads_that_read_one_after_another_keep_the_slots_to_scan_few() {
        // A domain of its own: the process's has slots other tests claimed.
        let d = Domain::new();
        // Each claim from REAP_FROM on takes back the slots of the threads
        // that exited before it (one just joined may not have left the
        // kernel yet, and is taken back by a later claim).
        for _ in 0..4 * REAP_FROM {
            std::thread::scope(|s| s.spawn(|| d.claim()).join().unwrap());
        }
        let claimed = d.claimed.load(Ordering::SeqCst);
        assert!(
            claimed <= 2 * REAP_FROM,
            "{claimed} slots claimed by threads that read one at a time"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_collection_takes_back_the_slots_of_exited_threads() {
        let _one = MANY_THREADS.lock().unwrap_or_else(|e| e.into_inner());
        // More threads than a quick scan looks at, alive at once, then gone:
        // their slots are claimed, idle, and owned by exited threads.
        let n = QUICK_SCAN + 4;
        let slots = slots_of_threads_alive_at_once(n);
        let d = domain();
        assert!(d.claimed.load(Ordering::SeqCst) > QUICK_SCAN);
        let mine: Vec<(usize, u64)> = slots.into_iter().filter(|&(s, _)| s < DEDICATED).collect();
        assert!(!mine.is_empty());
        // Taken back: the owner word is no longer the exited thread's. A
        // thread just joined may still be leaving the kernel: look again,
        // as if the last collection's reap were long ago.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let kept = || {
            mine.iter()
                .filter(|&&(i, o)| d.owners[i].load(Ordering::SeqCst) == o)
                .count()
        };
        while kept() > 0 && std::time::Instant::now() < deadline {
            *d.reaped.lock().unwrap() = None;
            d.reap_now();
            std::thread::yield_now();
        }
        assert_eq!(kept(), 0, "slots of exited threads not taken back");
        // A second collection right after does not look again.
        let before = d.reaped.lock().unwrap().expect("reaped");
        d.reap_now();
        assert_eq!(d.reaped.lock().unwrap().expect("reaped"), before);
    }
}
