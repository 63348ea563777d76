//! The checks every export goes through: the panic boundary and the
//! conversion of C views into Rust slices.

use std::os::raw::c_char;

use super::status::*;
use super::types::*;
use crate::manager::RefManager;
use crate::reference::ObjectReferenceRef;
use crate::MAX_STR_LEN;

/// Runs an export's body inside `catch_unwind`, so that no panic unwinds into
/// C or Go. Every export's body is wrapped in it; the first argument is the
/// export's own name (the panic-injection tests, through `crate::fault`, and
/// the export audit key on it).
///
/// * `ffi_boundary!(status, "name", { ... })`: the body evaluates to
///   `Result<(), kuberef_status>`; the export returns `KUBEREF_OK`, the error,
///   or `KUBEREF_PANIC`.
/// * `ffi_boundary!("name", default, { ... })`: the body evaluates to the
///   export's return value; a panic returns `default`.
macro_rules! ffi_boundary {
    (status, $name:literal, $body:block) => {
        ffi_boundary!($name, $crate::ffi::status::KUBEREF_PANIC, {
            let r: ::std::result::Result<(), $crate::ffi::status::kuberef_status> = (|| $body)();
            match r {
                Ok(()) => $crate::ffi::status::KUBEREF_OK,
                Err(s) => s,
            }
        })
    };
    ($name:literal, $default:expr, $body:block) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| {
            $crate::fault::point($name);
            $body
        })) {
            Ok(v) => v,
            Err(_) => $default,
        }
    };
}
pub(crate) use ffi_boundary;

// The conversions below are `unsafe`: they trust the C caller's contract
// that a non-NULL pointer (or view) points to valid memory for the call.

/// A required pointer argument: `KUBEREF_NULL_ARGUMENT` when NULL.
pub(crate) unsafe fn non_null<'a, T>(p: *const T) -> Result<&'a T, kuberef_status> {
    // SAFETY: the caller guarantees a non-NULL pointer points to a valid T
    // for the duration of the call (the documented contract).
    unsafe { p.as_ref() }.ok_or(KUBEREF_NULL_ARGUMENT)
}

/// A manager argument: `KUBEREF_NULL_ARGUMENT` when NULL.
///
/// # Safety
/// `m` is NULL or a live manager.
pub(crate) unsafe fn manager<'a>(
    m: *const kuberef_manager,
) -> Result<&'a RefManager, kuberef_status> {
    // SAFETY: forwarded to the caller.
    unsafe { non_null(m) }.map(|m| &m.0)
}

/// A required output pointer: `KUBEREF_NULL_ARGUMENT` when NULL.
pub(crate) unsafe fn non_null_mut<'a, T>(p: *mut T) -> Result<&'a mut T, kuberef_status> {
    // SAFETY: as for `non_null`.
    unsafe { p.as_mut() }.ok_or(KUBEREF_NULL_ARGUMENT)
}

/// The library's static empty string: one NUL byte at one address for the
/// life of the process, never freed. An empty output view that has no byte
/// of the caller's memory (`buf` or input) to point at points here (see the
/// header's rules on output views).
static EMPTY: [u8; 1] = [0];

/// The zero-length slice at [`EMPTY`]: an empty string whose pointer is
/// readable (one NUL byte) and is never NULL or dangling.
pub(crate) fn empty() -> &'static [u8] {
    &EMPTY[..0]
}

/// A string view as a slice: `KUBEREF_INVALID_ARGUMENT` for `ptr == NULL`
/// with `len > 0` and for `len > KUBEREF_MAX_STR_LEN`. An empty view keeps
/// its pointer when it is not NULL (so an output view of it is the caller's
/// own pointer); `{NULL, 0}` becomes [`empty`].
pub(crate) unsafe fn str_view<'a>(s: kuberef_str) -> Result<&'a [u8], kuberef_status> {
    if s.len == 0 {
        if s.ptr.is_null() {
            return Ok(empty());
        }
        // SAFETY: non-NULL, and a u8 pointer is always aligned; a
        // zero-length slice reads nothing.
        return Ok(unsafe { std::slice::from_raw_parts(s.ptr.cast::<u8>(), 0) });
    }
    if s.ptr.is_null() || s.len > MAX_STR_LEN {
        return Err(KUBEREF_INVALID_ARGUMENT);
    }
    // SAFETY: non-NULL, and the caller guarantees `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(s.ptr.cast::<u8>(), s.len) })
}

/// An array argument as a slice: `KUBEREF_INVALID_ARGUMENT` for a NULL
/// pointer with a non-zero length, or a length no array can have.
pub(crate) unsafe fn array_view<'a, T>(p: *const T, len: usize) -> Result<&'a [T], kuberef_status> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() || len > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        return Err(KUBEREF_INVALID_ARGUMENT);
    }
    // SAFETY: non-NULL, and the caller guarantees `len` readable elements.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// An output buffer: `buf` may be NULL only when `buf_len` is 0.
pub(crate) unsafe fn out_buf<'a>(
    buf: *mut c_char,
    buf_len: usize,
) -> Result<&'a mut [u8], kuberef_status> {
    if buf_len == 0 {
        return Ok(&mut []);
    }
    if buf.is_null() || buf_len > isize::MAX as usize {
        return Err(KUBEREF_INVALID_ARGUMENT);
    }
    // SAFETY: non-NULL, and the caller guarantees `buf_len` writable bytes.
    Ok(unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), buf_len) })
}

/// A container ID argument, checked.
pub(crate) unsafe fn container_id<'a>(
    id: *const kuberef_container_id,
) -> Result<crate::container_id::ContainerIdRef<'a>, kuberef_status> {
    // SAFETY: forwarded to the caller.
    unsafe {
        let id = non_null(id)?;
        Ok(crate::container_id::ContainerIdRef {
            typ: str_view(id.r#type)?,
            id: str_view(id.id)?,
        })
    }
}

/// An object reference argument, checked: every field a valid view.
/// Always inlined: out of line, its 112-byte result would be copied through
/// the stack in 16-byte loads that straddle the 8-byte stores that wrote it,
/// stalling store-to-load forwarding on every set (docs/performance.md).
#[inline(always)]
pub(crate) unsafe fn object_reference<'a>(
    r: *const kuberef_object_reference,
) -> Result<crate::reference::ObjectReferenceRef<'a>, kuberef_status> {
    // SAFETY: forwarded to the caller.
    unsafe {
        let r = non_null(r)?;
        Ok(crate::reference::ObjectReferenceRef::from_fields([
            str_view(r.kind)?,
            str_view(r.namespace_)?,
            str_view(r.name)?,
            str_view(r.uid)?,
            str_view(r.api_version)?,
            str_view(r.resource_version)?,
            str_view(r.field_path)?,
        ]))
    }
}

/// A view of `bytes`, pointer and length as they are: for bytes inside a
/// caller's buffer or input, or inside the library's own memory. An empty
/// `bytes` must itself point at readable memory (an empty slice of a
/// caller's view from [`str_view`], a NUL inside a buffer, or [`empty`]);
/// for an empty slice from anywhere else use [`view_or_empty`].
pub(crate) fn view_of(bytes: &[u8]) -> kuberef_str {
    kuberef_str {
        ptr: bytes.as_ptr().cast(),
        len: bytes.len(),
    }
}

/// [`view_of`], except that an empty `bytes` becomes a view of [`empty`]:
/// for empty slices whose pointer may be dangling or one past the end of
/// the caller's memory (a sub-slice at the end of an input, a `b""`
/// literal).
pub(crate) fn view_or_empty(bytes: &[u8]) -> kuberef_str {
    if bytes.is_empty() {
        view_of(empty())
    } else {
        view_of(bytes)
    }
}

/// Writes a `needed` count when the pointer is not NULL.
pub(crate) unsafe fn set_needed(needed: *mut usize, n: usize) {
    // SAFETY: the caller guarantees a non-NULL `needed` is writable.
    if let Some(p) = unsafe { needed.as_mut() } {
        *p = n;
    }
}

/// Views of a reference's seven fields, pointers as they are (see
/// [`view_of`]).
pub(crate) fn ref_views(r: &ObjectReferenceRef<'_>) -> kuberef_object_reference {
    kuberef_object_reference {
        kind: view_of(r.kind),
        namespace_: view_of(r.namespace),
        name: view_of(r.name),
        uid: view_of(r.uid),
        api_version: view_of(r.api_version),
        resource_version: view_of(r.resource_version),
        field_path: view_of(r.field_path),
    }
}
