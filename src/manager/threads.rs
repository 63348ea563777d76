//! Which thread owns a reader slot, and whether that thread has exited:
//! how the epoch domain (see [`super::epoch`]) takes back the dedicated
//! slots of exited threads without a thread-local destructor.
//!
//! An owner is the thread's process and thread IDs, packed in one word with
//! a generation above them (see [`Owner`]). A thread has exited when the
//! kernel has no thread of that ID in the caller's own process
//! (`tgkill(pid, tid, 0)` fails with `ESRCH`): a live thread is never
//! taken for an exited one. An ID the kernel has since given to a new
//! thread makes an exited thread look alive, which only keeps its slot.
//! Owners from another process are never judged, nor are threads whose IDs
//! are unknown (0: other systems, and Shuttle's simulated threads). A child
//! process rewrites the slot its forking thread inherited with its own IDs
//! (see `epoch::after_fork_in_child`): judged by the parent's IDs, that live
//! thread would pass for an exited one in a descendant the kernel gives the
//! parent's process ID.

/// Bits of a process or thread ID (Linux's `PID_MAX_LIMIT` is 2^22).
const ID_BITS: u32 = 22;
const ID_MASK: u64 = (1 << ID_BITS) - 1;
/// The process and thread IDs of an owner word; the bits above are its
/// generation.
const IDS: u64 = (1 << (2 * ID_BITS)) - 1;

/// A slot's owner word: `generation << 44 | pid << 22 | tid`, with pid and
/// tid 0 while nobody owns the slot (or the owner's IDs are unknown). The
/// generation grows with each claim of the slot, so a word seen once is
/// never seen again while a reaper compares and swaps it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Owner(pub(super) u64);

impl Owner {
    /// The word for the calling thread, one generation after `previous`
    /// (the slot's word before this claim).
    pub(super) fn me_after(previous: Owner) -> Owner {
        let generation = (previous.0 >> (2 * ID_BITS)).wrapping_add(1);
        Owner((generation << (2 * ID_BITS)) | current_ids())
    }

    /// The owner's process and thread IDs (0 and 0 for nobody).
    #[cfg(test)]
    pub(super) fn ids(self) -> (u64, u64) {
        ((self.0 & IDS) >> ID_BITS, self.0 & ID_MASK)
    }

    /// The calling thread's process and thread IDs, as [`Owner::ids`] gives
    /// them (0 and 0 where unknown).
    #[cfg(test)]
    pub(super) fn current() -> (u64, u64) {
        let ids = current_ids();
        (ids >> ID_BITS, ids & ID_MASK)
    }

    /// This owner with its IDs taken away: the slot is nobody's.
    pub(super) fn released(self) -> Owner {
        Owner(self.0 & !IDS)
    }

    /// Whether this owner is a thread of the process `pid` (the caller's,
    /// from [`current_pid`]) that has exited (see the module docs); false
    /// when that is not known.
    pub(super) fn has_exited(self, pid: u64) -> bool {
        let ids = self.0 & IDS;
        ids != 0 && pid != 0 && ids >> ID_BITS == pid && !thread_exists(pid, ids & ID_MASK)
    }
}

/// The calling process's ID as owners record it, or 0 where it is unknown:
/// read once by a reaper for all the slots it looks at.
pub(super) fn current_pid() -> u64 {
    current_ids() >> ID_BITS
}

/// The calling thread's `pid << 22 | tid`, or 0 where they are unknown.
#[cfg(all(target_os = "linux", not(feature = "shuttle")))]
fn current_ids() -> u64 {
    // SAFETY: getpid and gettid take no arguments and cannot fail.
    let (pid, tid) = unsafe {
        (
            libc::getpid() as u64,
            libc::syscall(libc::SYS_gettid) as u64,
        )
    };
    if pid == 0 || tid == 0 || pid > ID_MASK || tid > ID_MASK {
        return 0;
    }
    (pid << ID_BITS) | tid
}

#[cfg(not(all(target_os = "linux", not(feature = "shuttle"))))]
fn current_ids() -> u64 {
    0
}

/// Whether process `pid` (the caller's) has a thread `tid`: only a
/// definite "no such thread" from the kernel says no.
#[cfg(all(target_os = "linux", not(feature = "shuttle")))]
fn thread_exists(pid: u64, tid: u64) -> bool {
    // SAFETY: signal 0 sends nothing; the call only checks that the thread
    // exists in the process.
    let r = unsafe { libc::syscall(libc::SYS_tgkill, pid as libc::pid_t, tid as libc::pid_t, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(all(target_os = "linux", not(feature = "shuttle"))))]
fn thread_exists(_pid: u64, _tid: u64) -> bool {
    true
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_thread_is_alive_until_it_has_exited() {
        let me = Owner::me_after(Owner(0));
        assert_ne!(me.0 & IDS, 0, "this thread's IDs are known");
        let pid = current_pid();
        assert!(!me.has_exited(pid), "the calling thread is alive");
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            tx.send(Owner::me_after(Owner(0))).unwrap();
            stop_rx.recv().unwrap();
        });
        let other = rx.recv().unwrap();
        assert!(!other.has_exited(pid), "a running thread");
        stop_tx.send(()).unwrap();
        t.join().unwrap();
        // The kernel lets a thread's waiters go (it clears the thread's ID
        // word) a moment before it takes the thread out of the process:
        // a joined thread is judged exited soon, not at once.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !other.has_exited(pid) {
            assert!(
                std::time::Instant::now() < deadline,
                "a joined thread, 10 s later"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!(
            !other.released().has_exited(pid),
            "a released slot has no owner to judge"
        );
    }

    #[test]
    fn a_live_thread_is_alive_right_after_an_exited_one_was_judged() {
        let pid = current_pid();
        let me = Owner::me_after(Owner(0));
        let gone = std::thread::spawn(|| Owner::me_after(Owner(0)))
            .join()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !gone.has_exited(pid) {
            assert!(
                std::time::Instant::now() < deadline,
                "a joined thread, 10 s later"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        // The check just made failed with ESRCH; a check that succeeds
        // judges by its own result, not by that error.
        assert!(!me.has_exited(pid), "the calling thread is alive");
    }

    #[test]
    fn generations_grow_and_survive_a_release() {
        let a = Owner::me_after(Owner(0));
        let b = Owner::me_after(a.released());
        assert_ne!(a, b);
        assert_eq!(a.0 & IDS, b.0 & IDS);
        assert_eq!(b.0 >> (2 * ID_BITS), 2);
    }

    #[test]
    fn owners_of_another_process_are_not_judged() {
        // A thread ID of a process that is not this one: never "exited".
        let foreign =
            Owner((1 << (2 * ID_BITS)) | (((current_ids() >> ID_BITS) + 1) << ID_BITS) | 1);
        assert!(!foreign.has_exited(current_pid()));
    }
}
