//! Status codes: every fallible function returns one, by value. The numbers
//! are stable: a code is never renumbered or reused, and later versions only
//! add codes after the last one.

#![allow(non_camel_case_types)]

use std::ffi::CStr;
use std::os::raw::c_char;

use super::boundary::ffi_boundary;

/// The status every fallible function returns. The numbers are stable:
/// a code is never renumbered or reused.
pub type kuberef_status = u32;

/// Success; outputs were written.
pub const KUBEREF_OK: kuberef_status = 0;

/// No reference is stored under that container ID.
pub const KUBEREF_NOT_FOUND: kuberef_status = 1;

/// A required pointer argument was NULL.
pub const KUBEREF_NULL_ARGUMENT: kuberef_status = 2;

/// A view or array with a NULL pointer and a non-zero length, a buffer or
/// array length over `PTRDIFF_MAX`, a string over `KUBEREF_MAX_STR_LEN`, an
/// empty path or one with a NUL byte (`kuberef_save`, `kuberef_load`), or
/// an unknown flag.
pub const KUBEREF_INVALID_ARGUMENT: kuberef_status = 3;

/// The output buffer is too small; `*needed` (when given) holds the size that
/// suffices, and nothing else was written.
pub const KUBEREF_BUFFER_TOO_SMALL: kuberef_status = 4;

/// The text is not `type://id`.
pub const KUBEREF_INVALID_CONTAINER_ID: kuberef_status = 5;

/// The library panicked inside the call. A call that stores or clears one
/// reference changed nothing; a bulk removal (`kuberef_clear_pod`,
/// `kuberef_retain`, `kuberef_load` with `KUBEREF_LOAD_REPLACE`) may have
/// removed part of what it would have. Every stored reference stays whole.
pub const KUBEREF_PANIC: kuberef_status = 6;

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

/// The newest status code: every code up to it has a message of its own.
pub const LAST_STATUS: kuberef_status = KUBEREF_FILE_NOT_REGULAR;

/// The English message of `status`, or `None` for a code no version has.
pub(crate) fn message(status: kuberef_status) -> Option<&'static CStr> {
    Some(match status {
        KUBEREF_OK => c"ok",
        KUBEREF_NOT_FOUND => c"no reference stored for that container ID",
        KUBEREF_NULL_ARGUMENT => c"a required pointer argument was NULL",
        KUBEREF_INVALID_ARGUMENT => {
            c"invalid argument: NULL view with non-zero length, string or length too long, empty path or one with a NUL byte, or unknown flag"
        }
        KUBEREF_BUFFER_TOO_SMALL => c"output buffer too small; retry with *needed bytes",
        KUBEREF_INVALID_CONTAINER_ID => c"invalid container ID: expected type://id",
        KUBEREF_PANIC => {
            c"internal error: the library panicked inside the call; stored references are whole"
        }
        KUBEREF_IO_ERROR => c"I/O error while saving or loading references; nothing was changed",
        KUBEREF_FILE_NOT_FOUND => c"no references file at that path",
        KUBEREF_FILE_FOREIGN => c"not a kuberef references file",
        KUBEREF_FILE_VERSION => c"unsupported kuberef references file version",
        KUBEREF_FILE_TRUNCATED => c"kuberef references file is truncated",
        KUBEREF_FILE_CORRUPT => c"kuberef references file is corrupt (checksum or contents)",
        KUBEREF_SAVE_NOT_DURABLE => {
            c"references saved, but the directory could not be synced: a crash may bring the previous file back"
        }
        KUBEREF_FILE_NOT_REGULAR => {
            c"not a regular file (a directory, FIFO, socket or device); nothing was read"
        }
        _ => return None,
    })
}

/// A static, NUL-terminated English description of `status`, never freed;
/// unknown codes get a generic text.
#[no_mangle]
pub extern "C" fn kuberef_status_message(status: u32) -> *const c_char {
    ffi_boundary!("kuberef_status_message", c"kuberef: panic".as_ptr(), {
        message(status)
            .unwrap_or(c"unknown kuberef status code")
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_up_to_the_last_has_a_message_and_no_later_one_does() {
        for code in 0..=LAST_STATUS {
            assert!(message(code).is_some(), "no message for status {code}");
        }
        assert_eq!(message(LAST_STATUS + 1), None);
    }

    #[test]
    fn each_message_names_its_own_condition_and_no_other() {
        let names = [
            (KUBEREF_OK, "ok"),
            (KUBEREF_NOT_FOUND, "no reference stored"),
            (KUBEREF_NULL_ARGUMENT, "argument was NULL"),
            (KUBEREF_INVALID_ARGUMENT, "invalid argument"),
            (KUBEREF_BUFFER_TOO_SMALL, "buffer too small"),
            (KUBEREF_INVALID_CONTAINER_ID, "invalid container ID"),
            (KUBEREF_PANIC, "panicked"),
            (KUBEREF_IO_ERROR, "I/O error"),
            (KUBEREF_FILE_NOT_FOUND, "no references file"),
            (KUBEREF_FILE_FOREIGN, "not a kuberef references file"),
            (KUBEREF_FILE_VERSION, "version"),
            (KUBEREF_FILE_TRUNCATED, "truncated"),
            (KUBEREF_FILE_CORRUPT, "corrupt"),
            (KUBEREF_SAVE_NOT_DURABLE, "could not be synced"),
            (KUBEREF_FILE_NOT_REGULAR, "not a regular file"),
        ];
        assert_eq!(names.len() as u32, LAST_STATUS + 1);
        for (code, name) in names {
            for other in 0..=LAST_STATUS {
                let text = message(other).unwrap().to_str().unwrap();
                assert_eq!(
                    text.contains(name),
                    other == code,
                    "status {other}'s message {text:?} and {name:?}, status {code}'s condition"
                );
            }
        }
    }
}
