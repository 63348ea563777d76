//! Container IDs as text: upstream `ParseString` and `String`.

use std::os::raw::c_char;

use super::boundary::*;
use super::status::*;
use super::types::*;
use crate::container_id;

/// Parses `type://id` (upstream `ParseString`): every leading and trailing
/// `"` is trimmed, then the text must contain `://` exactly once. On
/// `KUBEREF_OK`, `*out`'s views point into `text` (valid as long as it is;
/// not NUL-terminated), each at its part's offset in `text`, except an
/// empty part at the very end (the id of `docker://`), which points at the
/// last byte of `text`: never one past its end.
/// Returns `KUBEREF_OK`, `KUBEREF_INVALID_CONTAINER_ID`,
/// `KUBEREF_NULL_ARGUMENT` (`out`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
///
/// # Safety
/// `text` is a valid view; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kuberef_container_id_parse(
    text: kuberef_str,
    out: *mut kuberef_container_id,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_container_id_parse", {
        // SAFETY: the caller's contract (see the header).
        let (text, out) = unsafe { (str_view(text)?, non_null_mut(out)?) };
        let id = container_id::parse(text).map_err(|_| KUBEREF_INVALID_CONTAINER_ID)?;
        // Both parts are slices of `text`, which is not empty here (it holds
        // "://"). An empty part keeps its place in `text` unless that is the
        // end (the id of "docker://"): then it is at the last byte, so that
        // every view points at a byte of `text` and `ptr - text` is an
        // offset into `text` for every part (callers may slice with it).
        let in_text = |part: &[u8]| {
            let at = part.as_ptr() as usize - text.as_ptr() as usize;
            let at = if part.is_empty() {
                at.min(text.len() - 1)
            } else {
                at
            };
            view_of(&text[at..at + part.len()])
        };
        *out = kuberef_container_id {
            r#type: in_text(id.typ),
            id: in_text(id.id),
        };
        Ok(())
    })
}

/// Writes `type://id` followed by a NUL into `buf` (upstream `String`).
/// `*needed`, when not NULL, receives the length plus one on `KUBEREF_OK`
/// and `KUBEREF_BUFFER_TOO_SMALL`. `buf` may be NULL when `buf_len` is 0.
/// Returns `KUBEREF_OK`, `KUBEREF_BUFFER_TOO_SMALL`, `KUBEREF_NULL_ARGUMENT`
/// (`id`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
///
/// # Safety
/// `id` is NULL or valid; `buf` has `buf_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn kuberef_container_id_format(
    id: *const kuberef_container_id,
    buf: *mut c_char,
    buf_len: usize,
    needed: *mut usize,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_container_id_format", {
        // SAFETY: the caller's contract (see the header).
        let (id, buf) = unsafe { (container_id(id)?, out_buf(buf, buf_len)?) };
        let total = id.formatted_len() + 1;
        // SAFETY: as above.
        unsafe { set_needed(needed, total) };
        if buf.len() < total {
            return Err(KUBEREF_BUFFER_TOO_SMALL);
        }
        let mut at = 0;
        for part in [id.typ, container_id::SEPARATOR, id.id, b"\0"] {
            buf[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        Ok(())
    })
}
