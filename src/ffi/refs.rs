//! Storing, copying out and forgetting references (upstream `SetRef`,
//! `GetRef`, `ClearRef`).

use std::os::raw::c_char;

use super::boundary::*;
use super::buffer::copy_ref;
use super::status::*;
use super::types::*;

/// Stores a copy of `*ref` under `*id`, replacing any earlier reference
/// silently (upstream `SetRef`). The library keeps no pointer into the
/// arguments.
/// Returns `KUBEREF_OK`, `KUBEREF_NULL_ARGUMENT`, `KUBEREF_INVALID_ARGUMENT`
/// or `KUBEREF_PANIC`; on any error the manager is unchanged.
///
/// # Safety
/// Non-NULL pointers and views point to valid memory for the call.
#[no_mangle]
pub unsafe extern "C" fn kuberef_set_ref(
    m: *mut kuberef_manager,
    id: *const kuberef_container_id,
    r#ref: *const kuberef_object_reference,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_set_ref", {
        // SAFETY: the caller's contract (see the header).
        let (m, id, r) = unsafe { (manager(m)?, container_id(id)?, object_reference(r#ref)?) };
        m.set(id, r).map_err(|_| KUBEREF_INVALID_ARGUMENT)
    })
}

/// Copies the reference stored under `*id` into `buf` (upstream `GetRef`):
/// each of the seven fields followed by a NUL byte, with `*out`'s views
/// pointing into `buf` (an empty field gets a non-NULL pointer to its NUL).
/// `*needed`, when `needed` is not NULL, receives the byte count the output
/// needs on `KUBEREF_OK` and `KUBEREF_BUFFER_TOO_SMALL`; repeat the call with
/// that many bytes. `buf` may be NULL when `buf_len` is 0. `*out` is written
/// only on `KUBEREF_OK`; it stays valid as long as `buf` does.
/// Returns `KUBEREF_OK`, `KUBEREF_NOT_FOUND`, `KUBEREF_BUFFER_TOO_SMALL`,
/// `KUBEREF_NULL_ARGUMENT` (`m`, `id` or `out`), `KUBEREF_INVALID_ARGUMENT`
/// or `KUBEREF_PANIC`.
///
/// # Safety
/// Non-NULL pointers and views point to valid memory for the call; `buf`
/// has `buf_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn kuberef_get_ref(
    m: *const kuberef_manager,
    id: *const kuberef_container_id,
    out: *mut kuberef_object_reference,
    buf: *mut c_char,
    buf_len: usize,
    needed: *mut usize,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_get_ref", {
        // SAFETY: the caller's contract (see the header).
        let (m, id, out, buf) = unsafe {
            (
                manager(m)?,
                container_id(id)?,
                non_null_mut(out)?,
                out_buf(buf, buf_len)?,
            )
        };
        // SAFETY: as above.
        unsafe { copy_ref(m, id, out, buf, needed) }.map(drop)
    })
}

/// Forgets the reference stored under `*id` (upstream `ClearRef`).
/// Returns `KUBEREF_OK` if one was removed, `KUBEREF_NOT_FOUND` if there was
/// none (upstream ignores that case; so may the caller), or an argument error.
///
/// # Safety
/// Non-NULL pointers and views point to valid memory for the call.
#[no_mangle]
pub unsafe extern "C" fn kuberef_clear_ref(
    m: *mut kuberef_manager,
    id: *const kuberef_container_id,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_clear_ref", {
        // SAFETY: the caller's contract (see the header).
        let (m, id) = unsafe { (manager(m)?, container_id(id)?) };
        if m.clear(id) {
            Ok(())
        } else {
            Err(KUBEREF_NOT_FOUND)
        }
    })
}
