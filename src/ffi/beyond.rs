//! C ABI additions beyond upstream (still ABI 1: only new symbols): leak
//! control, enumeration, persistence, event JSON and counters. Thin, like
//! the rest of src/ffi: checks, converts, calls the safe core.

#![allow(non_camel_case_types)]

use std::ffi::CStr;
use std::ops::ControlFlow;
use std::os::raw::{c_char, c_int, c_void};

use super::boundary::*;
use super::types::*;
use crate::persist::{path_from_bytes, LoadError, LoadMode, SaveError};
use crate::reference::ObjectReferenceRef;
use crate::RefManager;

/// `kuberef_save`: the save failed before replacing the file (for example a
/// missing directory, no permission, a full disk), and no temporary file is
/// left; `kuberef_load`: the operating system refused to open or read the
/// file. The file at the path and the manager are unchanged.
pub const KUBEREF_IO_ERROR: kuberef_status = 7;
/// `kuberef_load`: there is no file at that path; the manager is unchanged.
pub const KUBEREF_FILE_NOT_FOUND: kuberef_status = 8;
/// `kuberef_load`: the file is not a kuberef references file (wrong magic);
/// the manager is unchanged.
pub const KUBEREF_FILE_FOREIGN: kuberef_status = 9;
/// `kuberef_load`: a references file of a format version this library does
/// not read; the manager is unchanged.
pub const KUBEREF_FILE_VERSION: kuberef_status = 10;
/// `kuberef_load`: the file ends before its header says it does; the
/// manager is unchanged.
pub const KUBEREF_FILE_TRUNCATED: kuberef_status = 11;
/// `kuberef_load`: a checksum does not match or the contents are
/// inconsistent; the manager is unchanged (except in the case
/// `kuberef_load` describes: the file rewritten in place during the load).
pub const KUBEREF_FILE_CORRUPT: kuberef_status = 12;
/// `kuberef_save`: the file at the path was replaced and holds the new
/// snapshot (`*saved` is written), but its directory could not be synced
/// (for example a directory the caller may write but not read), so after a
/// crash or power loss the previous file may be back.
pub const KUBEREF_SAVE_NOT_DURABLE: kuberef_status = 13;
/// `kuberef_load`: the path is a directory, FIFO, socket or device, not a
/// regular file; nothing was read and the manager is unchanged.
pub const KUBEREF_FILE_NOT_REGULAR: kuberef_status = 14;

/// `kuberef_load` flag: afterwards the manager holds exactly the file's
/// references (without it, the file's references are merged in: same IDs
/// overwritten, others kept).
pub const KUBEREF_LOAD_REPLACE: u32 = 1u32;

/// The version of `kuberef_stats` this header describes.
pub const KUBEREF_STATS_VERSION: u32 = 1;

/// The messages of the statuses above (for `kuberef_status_message`).
pub(crate) fn status_message(status: kuberef_status) -> Option<&'static CStr> {
    Some(match status {
        KUBEREF_IO_ERROR => c"I/O error while saving or loading references; nothing was changed",
        KUBEREF_SAVE_NOT_DURABLE => c"references saved, but the directory could not be synced: a crash may bring the previous file back",
        KUBEREF_FILE_NOT_REGULAR => c"not a regular file (a directory, FIFO, socket or device); nothing was read",
        KUBEREF_FILE_NOT_FOUND => c"no references file at that path",
        KUBEREF_FILE_FOREIGN => c"not a kuberef references file",
        KUBEREF_FILE_VERSION => c"unsupported kuberef references file version",
        KUBEREF_FILE_TRUNCATED => c"kuberef references file is truncated",
        KUBEREF_FILE_CORRUPT => c"kuberef references file is corrupt (checksum or contents)",
        _ => return None,
    })
}

/// A manager's counters, filled by `kuberef_get_stats`. Grows only at the end: the
/// caller sets `size` to `sizeof(kuberef_stats)` before the call and the
/// library writes only what fits in `size` bytes, so a program built against
/// this header keeps working with later libraries. Every counter is summed
/// over the manager's shards without stopping writers: each is a value it
/// had during the call, and they may disagree slightly under concurrency.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct kuberef_stats {
    /// In: `sizeof(kuberef_stats)` as the caller knows it. Left as is.
    pub size: u32,
    /// Out: the version of the filled struct (`KUBEREF_STATS_VERSION`).
    pub version: u32,
    /// References stored by `kuberef_set_ref` (overwrites included) and by
    /// `kuberef_load`.
    pub sets: u64,
    /// Lookups by `kuberef_get_ref`: `hits + misses`.
    pub gets: u64,
    /// Lookups that found a reference.
    pub hits: u64,
    /// Lookups that found none.
    pub misses: u64,
    /// References removed by `kuberef_clear_ref` (calls that found none are
    /// not counted).
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

/// The visitor `kuberef_for_each` calls with each (container ID, reference)
/// pair. The views point into a copy owned by the library, each followed by
/// a NUL byte (an empty view points at its NUL), and are valid only until
/// the callback returns. Return 0 to go on, anything else to stop. The
/// callback must return normally (no longjmp, no C++ exception through the
/// library).
pub type kuberef_visit_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        id: *const kuberef_container_id,
        r#ref: *const kuberef_object_reference,
    ) -> c_int,
>;

/// # Safety
/// `m` is NULL or a live manager.
unsafe fn manager<'a>(m: *const kuberef_manager) -> Result<&'a RefManager, kuberef_status> {
    // SAFETY: forwarded to the caller.
    unsafe { non_null(m) }.map(|m| &m.0)
}

/// # Safety
/// `p` is NULL or writable.
unsafe fn put_count(p: *mut usize, n: usize) {
    // SAFETY: forwarded to the caller (set_needed writes a non-NULL usize).
    unsafe { set_needed(p, n) }
}

/// # Safety
/// `path` is a valid view.
unsafe fn path_arg<'a>(path: kuberef_str) -> Result<&'a std::path::Path, kuberef_status> {
    // SAFETY: forwarded to the caller.
    let bytes = unsafe { str_view(path)? };
    path_from_bytes(bytes).ok_or(KUBEREF_INVALID_ARGUMENT)
}

fn view(bytes: &[u8]) -> kuberef_str {
    view_of(bytes)
}

fn ref_views(r: &ObjectReferenceRef<'_>) -> kuberef_object_reference {
    kuberef_object_reference {
        kind: view(r.kind),
        namespace_: view(r.namespace),
        name: view(r.name),
        uid: view(r.uid),
        api_version: view(r.api_version),
        resource_version: view(r.resource_version),
        field_path: view(r.field_path),
    }
}

/// Removes every reference whose `uid` equals `pod_uid` byte for byte (for
/// example when the kubelet forgets a pod), and writes how many it removed
/// to `*removed` when `removed` is not NULL. Scales with the number of
/// stored references; a shard's write lock is held only while its matching
/// references are removed.
/// Returns `KUBEREF_OK` (also when nothing matched), `KUBEREF_NULL_ARGUMENT`
/// (`m`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
///
/// # Safety
/// `m` is NULL or a live manager; `pod_uid` is a valid view; `removed` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kuberef_clear_pod(
    m: *mut kuberef_manager,
    pod_uid: kuberef_str,
    removed: *mut usize,
) -> kuberef_status {
    ffi_boundary!(status "kuberef_clear_pod", {
        // SAFETY: the caller's contract (see the header).
        let (m, uid) = unsafe { (manager(m)?, str_view(pod_uid)?) };
        let n = m.clear_pod(uid);
        // SAFETY: as above.
        unsafe { put_count(removed, n) };
        Ok(())
    })
}

/// Keeps only the references stored under the `n` container IDs in
/// `live_ids` (for example the containers the runtime still reports),
/// removes every other one, and writes how many it removed to `*removed`
/// when `removed` is not NULL. IDs without a reference are ignored;
/// `live_ids` may be NULL when `n` is 0 (which removes everything). Runs in
/// O(stored + n): the live IDs are hashed once. Every view is checked
/// before anything is removed.
/// Returns `KUBEREF_OK`, `KUBEREF_NULL_ARGUMENT` (`m`),
/// `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
///
/// # Safety
/// `m` is NULL or a live manager; `live_ids` is NULL or points to `n` valid
/// container IDs; `removed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kuberef_retain(
    m: *mut kuberef_manager,
    live_ids: *const kuberef_container_id,
    n: usize,
    removed: *mut usize,
) -> kuberef_status {
    ffi_boundary!(status "kuberef_retain", {
        // SAFETY: the caller's contract (see the header).
        let (m, ids) = unsafe { (manager(m)?, array_view(live_ids, n)?) };
        let live = ids
            .iter()
            // SAFETY: as above.
            .map(|id| unsafe { container_id(id) })
            .collect::<Result<Vec<_>, _>>()?;
        let n = m.retain(live);
        // SAFETY: as above.
        unsafe { put_count(removed, n) };
        Ok(())
    })
}

/// Calls `visit(ctx, &id, &ref)` for every stored pair, and writes the
/// number of calls made to `*visited` when `visited` is not NULL. The
/// manager is copied one shard at a time (1/32 of it) and no lock is held
/// while `visit` runs, so `visit` may call any kuberef function, on this
/// manager too. Consistency is per shard: a reference stored for the whole
/// call is visited exactly once; one set or cleared during the call is
/// visited at most once. The order is unspecified. A non-zero return from
/// `visit` stops the enumeration (still `KUBEREF_OK`).
/// Returns `KUBEREF_OK`, `KUBEREF_NULL_ARGUMENT` (`m` or `visit`) or
/// `KUBEREF_PANIC`.
///
/// # Safety
/// `m` is NULL or a live manager; `visit` is NULL or a function as
/// described by `kuberef_visit_fn`; `visited` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kuberef_for_each(
    m: *const kuberef_manager,
    visit: kuberef_visit_fn,
    ctx: *mut c_void,
    visited: *mut usize,
) -> kuberef_status {
    ffi_boundary!(status "kuberef_for_each", {
        // SAFETY: the caller's contract (see the header).
        let m = unsafe { manager(m)? };
        let visit = visit.ok_or(KUBEREF_NULL_ARGUMENT)?;
        let calls = m.for_each_ref(|id, r| {
            let cid = kuberef_container_id { r#type: view(id.typ), id: view(id.id) };
            let cref = ref_views(&r);
            // SAFETY: the views point into the library's copy, alive for the call.
            if unsafe { visit(ctx, &cid, &cref) } == 0 {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            }
        });
        // SAFETY: as above.
        unsafe { put_count(visited, calls) };
        Ok(())
    })
}

/// Writes every reference in `m` to the file at `path` atomically: into a
/// new temporary file in the same directory, named
/// `<file name>.kuberef-tmp.<16 random hex digits>` and created exclusively
/// (never through a symbolic link, never over an existing file), mode 0600,
/// then fsync, rename over `path`, fsync of the directory. The file at
/// `path` is therefore always either the previous complete file or the new
/// one, even if the process is killed; a symbolic link at `path` is
/// replaced, never written through. Saves share no lock: any number of
/// threads and processes may save, to the same path or others, at once,
/// and the last rename wins. A save that fails removes its temporary file;
/// one killed midway leaves it, and a later successful save to the same
/// path removes such leftovers once they are 5 seconds old and no save
/// holds them (they are safe to delete by hand when no save is running).
/// `path` is a view of the path's bytes (no NUL needed; an embedded NUL or
/// an empty path gets `KUBEREF_INVALID_ARGUMENT`); a relative path is
/// relative to the current directory. The manager is copied shard by shard
/// (the same consistency as `kuberef_for_each`) and no lock is held during
/// I/O. `*saved`, when `saved` is not NULL, receives the number of
/// references written, on `KUBEREF_OK` and `KUBEREF_SAVE_NOT_DURABLE`.
/// Returns `KUBEREF_OK`, `KUBEREF_SAVE_NOT_DURABLE` (the file was
/// replaced), `KUBEREF_IO_ERROR` (the file at `path` is untouched),
/// `KUBEREF_NULL_ARGUMENT` (`m`), `KUBEREF_INVALID_ARGUMENT` or
/// `KUBEREF_PANIC`.
///
/// # Safety
/// `m` is NULL or a live manager; `path` is a valid view; `saved` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn kuberef_save(
    m: *const kuberef_manager,
    path: kuberef_str,
    saved: *mut usize,
) -> kuberef_status {
    ffi_boundary!(status "kuberef_save", {
        // SAFETY: the caller's contract (see the header).
        let (m, path) = unsafe { (manager(m)?, path_arg(path)?) };
        let (n, status) = match m.save(path) {
            Ok(n) => (n, Ok(())),
            Err(SaveError::NotDurable { saved, .. }) => (saved, Err(KUBEREF_SAVE_NOT_DURABLE)),
            Err(_) => return Err(KUBEREF_IO_ERROR),
        };
        // SAFETY: as above.
        unsafe { put_count(saved, n) };
        status
    })
}

/// Restores the references saved by `kuberef_save` in the file at `path`
/// (a view of the path's bytes, as for `kuberef_save`; a symbolic link is
/// followed). With `flags` 0 they are merged in (same IDs overwritten,
/// others kept); with `KUBEREF_LOAD_REPLACE` they are set, then every
/// reference stored before the load began and not set by it is removed, so
/// concurrent readers never miss a reference that is in both, and without
/// concurrent writers the manager ends up holding exactly the file's
/// references (references others set during the load are kept).
/// The file is opened without blocking, and anything but a regular file is
/// refused before it is read. Its header is checked against its real size
/// and against what its record count can need, then the whole file is
/// checked (every record and the checksum) before anything changes, in
/// memory that does not depend on the file's size: on every error the
/// manager is unchanged. The one exception: if the file is rewritten in
/// place while it is read (which `kuberef_save` never does), the load
/// returns `KUBEREF_FILE_CORRUPT` (or `KUBEREF_IO_ERROR` for a failed read)
/// and may have applied part of it. `*loaded`, when `loaded` is not NULL,
/// receives the number of references in the file.
/// Returns `KUBEREF_OK`, `KUBEREF_FILE_NOT_FOUND`,
/// `KUBEREF_FILE_NOT_REGULAR`, `KUBEREF_FILE_FOREIGN`,
/// `KUBEREF_FILE_VERSION`, `KUBEREF_FILE_TRUNCATED`, `KUBEREF_FILE_CORRUPT`,
/// `KUBEREF_IO_ERROR`, `KUBEREF_NULL_ARGUMENT` (`m`),
/// `KUBEREF_INVALID_ARGUMENT` (bad view, path or unknown flag) or
/// `KUBEREF_PANIC`.
///
/// # Safety
/// `m` is NULL or a live manager; `path` is a valid view; `loaded` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn kuberef_load(
    m: *mut kuberef_manager,
    path: kuberef_str,
    flags: u32,
    loaded: *mut usize,
) -> kuberef_status {
    ffi_boundary!(status "kuberef_load", {
        // SAFETY: the caller's contract (see the header).
        let (m, path) = unsafe { (manager(m)?, path_arg(path)?) };
        if flags & !KUBEREF_LOAD_REPLACE != 0 {
            return Err(KUBEREF_INVALID_ARGUMENT);
        }
        let mode = if flags & KUBEREF_LOAD_REPLACE != 0 { LoadMode::Replace } else { LoadMode::Merge };
        let n = m.load(path, mode).map_err(|e| match e {
            LoadError::NotFound => KUBEREF_FILE_NOT_FOUND,
            LoadError::NotRegular => KUBEREF_FILE_NOT_REGULAR,
            LoadError::Foreign => KUBEREF_FILE_FOREIGN,
            LoadError::Version(_) => KUBEREF_FILE_VERSION,
            LoadError::Truncated(_) => KUBEREF_FILE_TRUNCATED,
            LoadError::Corrupt(_) => KUBEREF_FILE_CORRUPT,
            _ => KUBEREF_IO_ERROR,
        })?;
        // SAFETY: as above.
        unsafe { put_count(loaded, n) };
        Ok(())
    })
}

/// Writes `*ref` as JSON into `buf`, followed by a NUL: exactly the bytes
/// Go's `json.Marshal` produces for a `v1.ObjectReference` with these
/// fields (field order `kind, namespace, name, uid, apiVersion,
/// resourceVersion, fieldPath`; empty fields omitted; `<`, `>`, `&`,
/// U+2028, U+2029 and control characters escaped as Go does; each byte of
/// invalid UTF-8 as `\ufffd`), ready for an event's `involvedObject`.
/// `*needed`, when not NULL, receives the JSON's length plus one on
/// `KUBEREF_OK` and `KUBEREF_BUFFER_TOO_SMALL`. `buf` may be NULL when
/// `buf_len` is 0.
/// Returns `KUBEREF_OK`, `KUBEREF_BUFFER_TOO_SMALL`, `KUBEREF_NULL_ARGUMENT`
/// (`ref`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
///
/// # Safety
/// `ref` is NULL or valid with valid views; `buf` has `buf_len` writable
/// bytes; `needed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kuberef_ref_to_json(
    r#ref: *const kuberef_object_reference,
    buf: *mut c_char,
    buf_len: usize,
    needed: *mut usize,
) -> kuberef_status {
    ffi_boundary!(status "kuberef_ref_to_json", {
        // SAFETY: the caller's contract (see the header).
        let (r, buf) = unsafe { (object_reference(r#ref)?, out_buf(buf, buf_len)?) };
        let json = crate::json::object_reference_json(&r);
        let total = json.len() + 1;
        // SAFETY: as above.
        unsafe { set_needed(needed, total) };
        if buf.len() < total {
            return Err(KUBEREF_BUFFER_TOO_SMALL);
        }
        buf[..json.len()].copy_from_slice(&json);
        buf[json.len()] = 0;
        Ok(())
    })
}

/// Fills `*out` with `m`'s counters (see `kuberef_stats`). Set
/// `out->size = sizeof(kuberef_stats)` first; a size smaller than this
/// header's struct gets `KUBEREF_INVALID_ARGUMENT`. Cheap: the counters are
/// always on (relaxed per-shard atomics) and summed here; each shard's lock
/// is taken briefly to size its table.
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
    ffi_boundary!(status "kuberef_get_stats", {
        // SAFETY: the caller's contract (see the header).
        let (m, out) = unsafe { (manager(m)?, non_null_mut(out)?) };
        let size = out.size;
        if (size as usize) < std::mem::size_of::<kuberef_stats>() {
            return Err(KUBEREF_INVALID_ARGUMENT);
        }
        let s = m.stats();
        *out = kuberef_stats {
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
        Ok(())
    })
}
