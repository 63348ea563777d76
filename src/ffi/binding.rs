//! Binding support: exports that exist so that a binding in another
//! language (the Go binding) can keep what it built from a stored reference
//! and answer from it without calling the library, and can generate a
//! reference that shares the pod's own strings, as upstream's does. C
//! callers may use them too; they are part of ABI 1 and frozen like every
//! other symbol. A future need extends an existing function's contract
//! (for example an optional out-parameter that accepts NULL) rather than
//! adding another variant of it.

use std::os::raw::c_char;

use super::boundary::*;
use super::buffer::copy_ref;
use super::generate::generate_args;
use super::status::*;
use super::types::*;
use crate::reference::Pieces;

/// Like `kuberef_set_ref`, and writes the new reference's stamp to
/// `*stamp`: a nonzero number that no other reference stored in `m` has had
/// or will have (every store, even of an equal reference, gets a new one).
/// While this reference stays stored, `kuberef_get_stamp` returns the same
/// number, so a caller can keep what it built from it and skip copying it
/// again. `*stamp` is written only on `KUBEREF_OK`.
/// Returns what `kuberef_set_ref` returns (`KUBEREF_NULL_ARGUMENT` also for
/// `stamp`); on any error the manager is unchanged.
///
/// # Safety
/// Non-NULL pointers and views point to valid memory for the call.
#[no_mangle]
pub unsafe extern "C" fn kuberef_set_ref_stamped(
    m: *mut kuberef_manager,
    id: *const kuberef_container_id,
    r#ref: *const kuberef_object_reference,
    stamp: *mut u64,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_set_ref_stamped", {
        // SAFETY: the caller's contract (see the header).
        let (m, id, r, stamp) = unsafe {
            (
                manager(m)?,
                container_id(id)?,
                object_reference(r#ref)?,
                non_null_mut(stamp)?,
            )
        };
        *stamp = m.set_stamped(id, r).map_err(|_| KUBEREF_INVALID_ARGUMENT)?;
        Ok(())
    })
}

/// Writes the stamp of the reference stored under `*id` to `*stamp`
/// without copying the reference (see `kuberef_set_ref_stamped`): equal to
/// a stamp seen earlier exactly when that same stored reference is still
/// the one under `*id`. `*stamp` is written only on `KUBEREF_OK`.
/// Returns `KUBEREF_OK`, `KUBEREF_NOT_FOUND`, `KUBEREF_NULL_ARGUMENT` (`m`,
/// `id` or `stamp`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
///
/// # Safety
/// Non-NULL pointers and views point to valid memory for the call.
#[no_mangle]
pub unsafe extern "C" fn kuberef_get_stamp(
    m: *const kuberef_manager,
    id: *const kuberef_container_id,
    stamp: *mut u64,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_get_stamp", {
        // SAFETY: the caller's contract (see the header).
        let (m, id, stamp) = unsafe { (manager(m)?, container_id(id)?, non_null_mut(stamp)?) };
        *stamp = m.stamp(id).ok_or(KUBEREF_NOT_FOUND)?;
        Ok(())
    })
}

/// Like `kuberef_get_ref`, and writes the stamp of the reference it copied
/// to `*stamp` (see `kuberef_set_ref_stamped`), taken in the same lookup as
/// the copy. `*stamp` is written only on `KUBEREF_OK`.
/// Returns what `kuberef_get_ref` returns (`KUBEREF_NULL_ARGUMENT` also for
/// `stamp`).
///
/// # Safety
/// Non-NULL pointers and views point to valid memory for the call; `buf`
/// has `buf_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn kuberef_get_ref_stamped(
    m: *const kuberef_manager,
    id: *const kuberef_container_id,
    out: *mut kuberef_object_reference,
    buf: *mut c_char,
    buf_len: usize,
    needed: *mut usize,
    stamp: *mut u64,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_get_ref_stamped", {
        // SAFETY: the caller's contract (see the header).
        let (m, id, out, buf, stamp) = unsafe {
            (
                manager(m)?,
                container_id(id)?,
                non_null_mut(out)?,
                out_buf(buf, buf_len)?,
                non_null_mut(stamp)?,
            )
        };
        // SAFETY: as above.
        *stamp = unsafe { copy_ref(m, id, out, buf, needed) }?;
        Ok(())
    })
}

/// Like `kuberef_clear_ref`, and writes the stamp of the reference it
/// removed to `*stamp` (see `kuberef_set_ref_stamped`), so that a caller can
/// drop what it kept for that reference. `*stamp` is written only on
/// `KUBEREF_OK`.
/// Returns what `kuberef_clear_ref` returns (`KUBEREF_NULL_ARGUMENT` also
/// for `stamp`).
///
/// # Safety
/// Non-NULL pointers and views point to valid memory for the call.
#[no_mangle]
pub unsafe extern "C" fn kuberef_clear_ref_stamped(
    m: *mut kuberef_manager,
    id: *const kuberef_container_id,
    stamp: *mut u64,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_clear_ref_stamped", {
        // SAFETY: the caller's contract (see the header).
        let (m, id, stamp) = unsafe { (manager(m)?, container_id(id)?, non_null_mut(stamp)?) };
        *stamp = m.clear_stamped(id).ok_or(KUBEREF_NOT_FOUND)?;
        Ok(())
    })
}

/// The change counter of `m`: the address of a 64-bit count that grows by
/// at least one with every change to the references stored in `m` (each
/// set (a load's too), each clear, and each removal of a bulk removal
/// (`kuberef_clear_pod`, `kuberef_retain`, a replacing load); a clear of an
/// absent key, or a bulk removal finding a key replaced since its scan, may
/// count too) before any get can see that change (it moves by
/// two per change, and is odd while one is in progress). Gets and
/// other reads never change it. If a caller loads the same value before and
/// after a get, nothing that get could see changed in between, so what the
/// caller copied stays current for as long as the counter keeps that value:
/// a cache can answer without calling the library.
/// Load it atomically and never write it: C11
/// `atomic_load_explicit((const _Atomic uint64_t *)p, memory_order_acquire)`,
/// or `__atomic_load_n(p, __ATOMIC_ACQUIRE)` in GCC and Clang. The address
/// stays valid until `m` is freed (for ever for the global manager); the
/// caller owns nothing. NULL for a NULL `m` or if the library panicked.
///
/// # Safety
/// `m` is NULL or a live manager.
#[no_mangle]
pub unsafe extern "C" fn kuberef_change_counter(m: *const kuberef_manager) -> *const u64 {
    ffi_boundary!("kuberef_change_counter", std::ptr::null(), {
        // SAFETY: the caller's contract (see the header).
        unsafe { manager(m) }.map_or(std::ptr::null(), |m| m.changes_counter())
    })
}

/// Like `kuberef_generate_container_ref`, but the result borrows, as
/// upstream's does: each field of `*out` that upstream takes from the pod
/// (namespace, name, uid, resourceVersion, and kind and apiVersion when the
/// pod has them) is a view of the pod's own bytes, the constants `Pod` and
/// `v1` of the scheme fallback are views of static strings, and only the rest
/// (the field path; an apiVersion that is not one slice of the pod's, which
/// never happens with upstream's parsing) is written to `buf`, each followed
/// by a NUL: the exception to the header's rule that output strings are
/// copied into `buf`. Views into the pod are not NUL-terminated and are
/// valid as long as the pod's strings are; views into `buf` as long as
/// `buf` is. An empty field is the pod's own view of that field when it is
/// empty too and its pointer is not NULL (kind, namespace, name, uid,
/// apiVersion, resourceVersion); otherwise (the pod gave `{NULL, 0}`, or an
/// apiVersion that parses to nothing, such as `/` or `a/b/c`) it is the
/// library's static empty string. The field path is never empty.
/// `*needed` (when not NULL) is the room the written fields take in `buf`,
/// NULs included, and is written on `KUBEREF_OK` and
/// `KUBEREF_BUFFER_TOO_SMALL`; `*out` and `buf` only on `KUBEREF_OK`.
/// No byte of the pod's strings is copied, and only the apiVersion (parsed)
/// and the container names (compared) are read.
/// Returns what `kuberef_generate_container_ref` returns.
///
/// # Safety
/// Non-NULL pointers, views and arrays point to valid memory for the call;
/// `buf` has `buf_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn kuberef_generate_container_ref_borrowed(
    pod: *const kuberef_pod,
    container_name: kuberef_str,
    flags: u32,
    out: *mut kuberef_object_reference,
    buf: *mut c_char,
    buf_len: usize,
    needed: *mut usize,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_generate_container_ref_borrowed", {
        // SAFETY: the caller's contract (see the header).
        let (g, pod_api_version, out, buf) =
            unsafe { generate_args(pod, container_name, flags, out, buf, buf_len)? };
        let api_version = g.api_version.within(pod_api_version);
        let written = api_version.map_or(g.api_version.byte_len() + 1, |_| 0);
        let total = written + g.field_path.byte_len() + 1;
        // SAFETY: `needed` is NULL or writable (the caller's contract).
        unsafe { set_needed(needed, total) };
        if buf.len() < total {
            return Err(KUBEREF_BUFFER_TOO_SMALL);
        }
        let mut at = 0;
        let mut write = |f: &dyn Pieces| {
            let start = at;
            f.pieces(&mut |p| {
                buf[at..at + p.len()].copy_from_slice(p);
                at += p.len();
            });
            buf[at] = 0;
            at += 1;
            view_of(&buf[start..at - 1])
        };
        // An empty apiVersion is the pod's own view when that is empty too;
        // one parsed to nothing from a non-empty apiVersion ("/", "a/b/c")
        // is a `b""` with no readable address: the static empty string.
        let api_version = match api_version {
            Some(s) if s.is_empty() && pod_api_version.is_empty() => view_of(pod_api_version),
            Some(s) => view_or_empty(s),
            None => write(&g.api_version),
        };
        let field_path = write(&g.field_path);
        // The other fields are the pod's own slices (kind also the static
        // "Pod"), as `str_view` gave them: an empty one is the pod's own
        // non-NULL pointer, or the static empty string for `{NULL, 0}`.
        *out = kuberef_object_reference {
            kind: view_of(g.kind),
            namespace_: view_of(g.namespace),
            name: view_of(g.name),
            uid: view_of(g.uid),
            api_version,
            resource_version: view_of(g.resource_version),
            field_path,
        };
        Ok(())
    })
}
