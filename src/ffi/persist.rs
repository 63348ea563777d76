//! Persistence: saving every reference to a snapshot file atomically, and
//! loading it back after a restart.

use super::boundary::*;
use super::status::*;
use super::types::*;
use crate::persist::{path_from_bytes, LoadError, LoadMode, SaveError};

/// `kuberef_load` flag: afterwards the manager holds exactly the file's
/// references (without it, the file's references are merged in: same IDs
/// overwritten, others kept).
pub const KUBEREF_LOAD_REPLACE: u32 = 1u32;

/// # Safety
/// `path` is a valid view.
unsafe fn path_arg<'a>(path: kuberef_str) -> Result<&'a std::path::Path, kuberef_status> {
    // SAFETY: forwarded to the caller.
    let bytes = unsafe { str_view(path)? };
    path_from_bytes(bytes).ok_or(KUBEREF_INVALID_ARGUMENT)
}

/// Writes every reference in `m` to the file at `path` atomically: into a
/// new temporary file in the same directory, named
/// `<file name>.kuberef-tmp.<16 random hex digits>` (with the file name cut
/// to its first 200 bytes, so that the name fits) and created exclusively
/// (never through a symbolic link, never over an existing file), mode 0600,
/// then fsync, rename over `path`, fsync of the directory. The file at
/// `path` is therefore always either the previous complete file or the new
/// one, even if the process is killed; a symbolic link at `path` is
/// replaced, never written through. Saves share no lock: any number of
/// threads and processes may save, to the same path or others, at once,
/// and the last rename wins. A save that fails removes its temporary file;
/// one killed midway leaves it, and a later successful save to the same
/// path (or to one whose name has the same first 200 bytes) removes such
/// leftovers once they are 5 seconds old and no save holds them (they are
/// safe to delete by hand when no save is running).
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
    ffi_boundary!(status, "kuberef_save", {
        // SAFETY: the caller's contract (see the header).
        let (m, path) = unsafe { (manager(m)?, path_arg(path)?) };
        let (n, status) = match m.save(path) {
            Ok(n) => (n, Ok(())),
            Err(SaveError::NotDurable { saved, .. }) => (saved, Err(KUBEREF_SAVE_NOT_DURABLE)),
            Err(_) => return Err(KUBEREF_IO_ERROR),
        };
        // SAFETY: as above.
        unsafe { set_needed(saved, n) };
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
/// Anything but a regular file is refused without being opened (a symbolic
/// link is followed), also when the path changes during the call, on Linux
/// with `/proc` mounted (elsewhere such a change can have a special file
/// opened, without blocking, then refused), and the file is opened without
/// blocking. Its header
/// is checked against its real size and against what its record count can
/// need, then the whole file is checked (every record and the checksum)
/// before anything changes, in memory that does not depend on the file's
/// size: on every error the manager is unchanged. The one exception: if the file is rewritten in
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
    ffi_boundary!(status, "kuberef_load", {
        // SAFETY: the caller's contract (see the header).
        let (m, path) = unsafe { (manager(m)?, path_arg(path)?) };
        if flags & !KUBEREF_LOAD_REPLACE != 0 {
            return Err(KUBEREF_INVALID_ARGUMENT);
        }
        let mode = if flags & KUBEREF_LOAD_REPLACE != 0 {
            LoadMode::Replace
        } else {
            LoadMode::Merge
        };
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
        unsafe { set_needed(loaded, n) };
        Ok(())
    })
}
