//! Counters a kubelet can export as metrics.

#![allow(non_camel_case_types)]

use super::boundary::*;
use super::status::*;
use super::types::*;

/// The version of `kuberef_stats` this header describes.
pub const KUBEREF_STATS_VERSION: u32 = 1;

/// A manager's counters, filled by `kuberef_get_stats`. Grows only at the end: the
/// caller sets `size` to `sizeof(kuberef_stats)` before the call and the
/// library writes only what fits in `size` bytes, so a program built against
/// this header keeps working with later libraries. The counters are read
/// without stopping writers: `count` and each counter that only grows
/// (`sets` to `pruned`) is a value it had during the call; `bytes`, summed
/// over the manager's shards one after another, may be off by what writers
/// changed meanwhile; and they may disagree slightly with each other.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct kuberef_stats {
    /// In: `sizeof(kuberef_stats)` as the caller knows it. Left as is.
    pub size: u32,
    /// Out: the version of the filled struct (`KUBEREF_STATS_VERSION`).
    pub version: u32,
    /// References stored by `kuberef_set_ref` and `kuberef_set_ref_stamped`
    /// (overwrites included) and by `kuberef_load`.
    pub sets: u64,
    /// Lookups by `kuberef_get_ref`, `kuberef_get_ref_stamped` and
    /// `kuberef_get_stamp`: `hits + misses`.
    pub gets: u64,
    /// Lookups that found a reference.
    pub hits: u64,
    /// Lookups that found none.
    pub misses: u64,
    /// References removed by `kuberef_clear_ref` and
    /// `kuberef_clear_ref_stamped` (calls that found none are not counted).
    pub clears: u64,
    /// References removed in bulk by `kuberef_clear_pod`, `kuberef_retain`
    /// and `kuberef_load` with `KUBEREF_LOAD_REPLACE`.
    pub pruned: u64,
    /// References stored now.
    pub count: u64,
    /// Approximate bytes the stored references use: entries and hash-table
    /// slots, without allocator overhead.
    pub bytes: u64,
}

/// Fills `*out` with `m`'s counters (see `kuberef_stats`). Set
/// `out->size = sizeof(kuberef_stats)` first; a size smaller than version
/// 1's struct (72 bytes) gets `KUBEREF_INVALID_ARGUMENT`, and only `size`
/// bytes are written. Cheap: the counters are
/// always on (relaxed atomics, per shard and per reading thread) and summed
/// here; no lock is taken.
/// Returns `KUBEREF_OK`, `KUBEREF_NULL_ARGUMENT` (`m` or `out`),
/// `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
///
/// # Safety
/// `m` is NULL or a live manager; `out` is NULL or points to `out->size`
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn kuberef_get_stats(
    m: *const kuberef_manager,
    out: *mut kuberef_stats,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_get_stats", {
        // SAFETY: the caller's contract (see the header).
        let m = unsafe { manager(m)? };
        if out.is_null() {
            return Err(KUBEREF_NULL_ARGUMENT);
        }
        // SAFETY: `out` is not NULL and its first field is readable (the
        // caller's contract); only `size` bytes of it are writable.
        let size = unsafe { std::ptr::addr_of!((*out).size).read_unaligned() };
        if (size as usize) < STATS_V1_SIZE {
            return Err(KUBEREF_INVALID_ARGUMENT);
        }
        let s = m.stats();
        let filled = kuberef_stats {
            size,
            version: KUBEREF_STATS_VERSION,
            sets: s.sets,
            gets: s.gets,
            hits: s.hits,
            misses: s.misses,
            clears: s.clears,
            pruned: s.pruned,
            count: s.count,
            bytes: s.bytes,
        };
        let n = (size as usize).min(std::mem::size_of::<kuberef_stats>());
        // SAFETY: `out` has `size` writable bytes, and `filled` at least `n`.
        unsafe {
            std::ptr::copy_nonoverlapping(
                std::ptr::addr_of!(filled).cast::<u8>(),
                out.cast::<u8>(),
                n,
            )
        };
        Ok(())
    })
}

/// The size of version 1's `kuberef_stats`: the least a caller may pass in
/// `size`, whatever later versions add.
const STATS_V1_SIZE: usize = 72;
const _: () = assert!(std::mem::size_of::<kuberef_stats>() >= STATS_V1_SIZE);
