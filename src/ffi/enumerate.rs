//! Enumeration: every stored pair, shown to a caller's callback with no
//! lock held.

#![allow(non_camel_case_types)]

use std::ops::ControlFlow;
use std::os::raw::{c_int, c_void};

use super::boundary::*;
use super::status::*;
use super::types::*;

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
    ffi_boundary!(status, "kuberef_for_each", {
        // SAFETY: the caller's contract (see the header).
        let m = unsafe { manager(m)? };
        let visit = visit.ok_or(KUBEREF_NULL_ARGUMENT)?;
        let calls = m.for_each_ref(|id, r| {
            let cid = kuberef_container_id {
                r#type: view_of(id.typ),
                id: view_of(id.id),
            };
            let cref = ref_views(&r);
            // SAFETY: the views point into the library's copy, alive for the call.
            if unsafe { visit(ctx, &cid, &cref) } == 0 {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            }
        });
        // SAFETY: as above.
        unsafe { set_needed(visited, calls) };
        Ok(())
    })
}
