//! The C ABI (version 1). Thin: every export checks its arguments, converts
//! them, calls the safe core and writes its outputs only on success, inside
//! the panic boundary. The doc comments here become `include/kuberef.h`.

pub mod beyond;
pub mod boundary;
pub mod types;

use std::os::raw::c_char;
use std::sync::OnceLock;

use crate::container_id;
use crate::manager::RefManager;
use crate::reference::{self, ContainerNames, GenerateOptions, Pieces, FIELD_COUNT};
pub use beyond::*;
use boundary::*;
pub use types::*;

static GLOBAL: OnceLock<kuberef_manager> = OnceLock::new();

fn global() -> &'static kuberef_manager {
    GLOBAL.get_or_init(|| kuberef_manager(RefManager::new()))
}

/// # Safety
/// `m` is NULL or a live manager.
unsafe fn manager<'a>(m: *const kuberef_manager) -> Result<&'a RefManager, kuberef_status> {
    // SAFETY: forwarded to the caller.
    unsafe { non_null(m) }.map(|m| &m.0)
}

/// Copies `fields` into `buf`, each followed by a NUL, and points `out`'s
/// views at them; the buffer protocol shared by every reference output.
///
/// # Safety
/// `needed` is NULL or writable.
unsafe fn write_ref(
    lens: [usize; FIELD_COUNT],
    copy: impl FnOnce(&mut [u8]),
    out: &mut kuberef_object_reference,
    buf: &mut [u8],
    needed: *mut usize,
) -> Result<(), kuberef_status> {
    let total = lens.iter().sum::<usize>() + FIELD_COUNT;
    // SAFETY: `needed` is NULL or writable (the caller's contract).
    unsafe { set_needed(needed, total) };
    if buf.len() < total {
        return Err(KUBEREF_BUFFER_TOO_SMALL);
    }
    let buf = &mut buf[..total];
    copy(buf);
    let mut at = 0;
    let views = lens.map(|l| {
        let v = view_of(&buf[at..at + l]);
        at += l + 1;
        v
    });
    let [kind, namespace_, name, uid, api_version, resource_version, field_path] = views;
    *out = kuberef_object_reference {
        kind,
        namespace_,
        name,
        uid,
        api_version,
        resource_version,
        field_path,
    };
    Ok(())
}

/// Copies the reference stored under `id` into `buf` and `out` (the get
/// functions' buffer protocol); returns its stamp.
///
/// # Safety
/// `needed` is NULL or writable.
unsafe fn copy_ref(
    m: &RefManager,
    id: crate::container_id::ContainerIdRef<'_>,
    out: &mut kuberef_object_reference,
    buf: &mut [u8],
    needed: *mut usize,
) -> Result<u64, kuberef_status> {
    m.with_ref(id, |s| {
        let blob = s.nul_terminated_fields();
        // SAFETY: forwarded to the caller.
        unsafe { write_ref(s.lens(), |b| b.copy_from_slice(blob), out, buf, needed) }?;
        Ok(s.stamp())
    })
    .unwrap_or(Err(KUBEREF_NOT_FOUND))
}

/// The process-wide manager, shared by every caller in the process that uses
/// the same loaded copy of the library (the Go binding's `Global()`, C code
/// and plugins). Never NULL; never freed (`kuberef_manager_free` ignores it).
#[no_mangle]
pub extern "C" fn kuberef_global() -> *mut kuberef_manager {
    ffi_boundary!("kuberef_global", std::ptr::null_mut(), {
        global() as *const kuberef_manager as *mut kuberef_manager
    })
}

/// A new, empty manager, independent of every other (upstream
/// `NewRefManager`). The caller owns it and frees it with
/// `kuberef_manager_free`. NULL only if the library panicked.
#[no_mangle]
pub extern "C" fn kuberef_manager_new() -> *mut kuberef_manager {
    ffi_boundary!("kuberef_manager_new", std::ptr::null_mut(), {
        Box::into_raw(Box::new(kuberef_manager(RefManager::new())))
    })
}

/// Frees a manager from `kuberef_manager_new` and every reference it holds.
/// NULL and the global manager are ignored. No other call may use `m`
/// during or after this one.
///
/// # Safety
/// `m` is NULL, the global manager, or a live manager from `kuberef_manager_new`.
#[no_mangle]
pub unsafe extern "C" fn kuberef_manager_free(m: *mut kuberef_manager) {
    ffi_boundary!("kuberef_manager_free", (), {
        let is_global = GLOBAL.get().is_some_and(|g| std::ptr::eq(g, m));
        if !m.is_null() && !is_global {
            // SAFETY: `m` came from Box::into_raw in kuberef_manager_new.
            drop(unsafe { Box::from_raw(m) });
        }
    })
}

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
    ffi_boundary!(status "kuberef_set_ref", {
        // SAFETY: the caller's contract (see the header).
        let (m, id, r) = unsafe { (manager(m)?, container_id(id)?, object_reference(r#ref)?) };
        m.set(id, r)
            .map_err(|_| KUBEREF_INVALID_ARGUMENT)
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
    ffi_boundary!(status "kuberef_get_ref", {
        // SAFETY: the caller's contract (see the header).
        let (m, id, out, buf) =
            unsafe { (manager(m)?, container_id(id)?, non_null_mut(out)?, out_buf(buf, buf_len)?) };
        // SAFETY: as above.
        unsafe { copy_ref(m, id, out, buf, needed) }.map(drop)
    })
}

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
    ffi_boundary!(status "kuberef_set_ref_stamped", {
        // SAFETY: the caller's contract (see the header).
        let (m, id, r, stamp) = unsafe {
            (manager(m)?, container_id(id)?, object_reference(r#ref)?, non_null_mut(stamp)?)
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
    ffi_boundary!(status "kuberef_get_stamp", {
        // SAFETY: the caller's contract (see the header).
        let (m, id, stamp) = unsafe { (manager(m)?, container_id(id)?, non_null_mut(stamp)?) };
        *stamp = m.stamp(id).ok_or(KUBEREF_NOT_FOUND)?;
        Ok(())
    })
}

/// Like `kuberef_get_ref`, and writes the stamp of the reference it copied
/// to `*stamp` (see `kuberef_set_ref_stamped`), taken under the same lock as
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
    ffi_boundary!(status "kuberef_get_ref_stamped", {
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
    ffi_boundary!(status "kuberef_clear_ref_stamped", {
        // SAFETY: the caller's contract (see the header).
        let (m, id, stamp) = unsafe { (manager(m)?, container_id(id)?, non_null_mut(stamp)?) };
        *stamp = m.clear_stamped(id).ok_or(KUBEREF_NOT_FOUND)?;
        Ok(())
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
    ffi_boundary!(status "kuberef_clear_ref", {
        // SAFETY: the caller's contract (see the header).
        let (m, id) = unsafe { (manager(m)?, container_id(id)?) };
        if m.clear(id) {
            Ok(())
        } else {
            Err(KUBEREF_NOT_FOUND)
        }
    })
}

/// The number of references stored in `m`; 0 for NULL. With concurrent
/// writers it is a count the manager had during the call.
///
/// # Safety
/// `m` is NULL or a live manager.
#[no_mangle]
pub unsafe extern "C" fn kuberef_len(m: *const kuberef_manager) -> usize {
    ffi_boundary!("kuberef_len", 0, {
        // SAFETY: the caller's contract (see the header).
        unsafe { manager(m) }.map_or(0, RefManager::len)
    })
}

/// The change counter of `m`: the address of a 64-bit count that grows by
/// at least one with every change to the references stored in `m` (each
/// set and clear, and each batch of a bulk removal or a load; a clear of an
/// absent key may count too) before any get can see that change. Gets and
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
        unsafe { manager(m) }.map_or(std::ptr::null(), |m| {
            m.changes_counter().as_ptr().cast_const()
        })
    })
}

/// Container names checked by `valid_names`: every view is known valid.
#[repr(transparent)]
struct ValidNames([kuberef_str]);

/// # Safety
/// `p` is NULL or points to `len` views, each valid.
unsafe fn valid_names<'a>(
    p: *const kuberef_str,
    len: usize,
) -> Result<&'a ValidNames, kuberef_status> {
    // SAFETY: forwarded to the caller.
    let names = unsafe { array_view(p, len)? };
    for n in names {
        // SAFETY: as above.
        unsafe { str_view(*n)? };
    }
    // SAFETY: ValidNames is a transparent wrapper of [kuberef_str].
    Ok(unsafe { &*(names as *const [kuberef_str] as *const ValidNames) })
}

impl ContainerNames for ValidNames {
    fn position(&self, name: &[u8]) -> Option<usize> {
        self.0
            .iter()
            // SAFETY: every view was checked by `valid_names`.
            .position(|n| unsafe { str_view(*n) }.is_ok_and(|n| n == name))
    }
}

/// A pod argument, checked: every view and name array valid.
///
/// # Safety
/// Non-NULL pointers, views and arrays point to valid memory for the call.
unsafe fn pod_arg<'a>(
    pod: *const kuberef_pod,
) -> Result<reference::Pod<'a, ValidNames>, kuberef_status> {
    // SAFETY: forwarded to the caller.
    unsafe {
        let p = non_null(pod)?;
        Ok(reference::Pod {
            kind: str_view(p.kind)?,
            api_version: str_view(p.api_version)?,
            namespace: str_view(p.namespace_)?,
            name: str_view(p.name)?,
            uid: str_view(p.uid)?,
            resource_version: str_view(p.resource_version)?,
            containers: valid_names(p.containers, p.containers_len)?,
            init_containers: valid_names(p.init_containers, p.init_containers_len)?,
            ephemeral_containers: valid_names(p.ephemeral_containers, p.ephemeral_containers_len)?,
        })
    }
}

/// What both generate functions do with their arguments: check them all
/// (pod, container name, `out`, `buf`, then the flags) and generate. Returns
/// the reference, the pod's apiVersion it was generated from, and the outputs.
///
/// # Safety
/// Non-NULL pointers, views and arrays point to valid memory for the call;
/// `buf` has `buf_len` writable bytes.
unsafe fn generate_args<'a>(
    pod: *const kuberef_pod,
    container_name: kuberef_str,
    flags: u32,
    out: *mut kuberef_object_reference,
    buf: *mut c_char,
    buf_len: usize,
) -> Result<GenerateArgs<'a>, kuberef_status> {
    // SAFETY: forwarded to the caller.
    let (pod, container, out, buf) = unsafe {
        (
            pod_arg(pod)?,
            str_view(container_name)?,
            non_null_mut(out)?,
            out_buf(buf, buf_len)?,
        )
    };
    if flags & !KUBEREF_GENERATE_EPHEMERAL_CONTAINERS != 0 {
        return Err(KUBEREF_INVALID_ARGUMENT);
    }
    let opts = GenerateOptions {
        ephemeral_containers: flags & KUBEREF_GENERATE_EPHEMERAL_CONTAINERS != 0,
    };
    let g = reference::generate_container_ref(&pod, container, opts);
    Ok((g, pod.api_version, out, buf))
}

type GenerateArgs<'a> = (
    reference::GeneratedRef<'a>,
    &'a [u8],
    &'a mut kuberef_object_reference,
    &'a mut [u8],
);

/// Builds the reference the kubelet stores for container `container_name` of
/// `*pod` (upstream `GenerateContainerRef`, Kubernetes v1.18.6), into `buf`
/// with the same buffer protocol as `kuberef_get_ref`. `flags` is 0 or
/// `KUBEREF_GENERATE_EPHEMERAL_CONTAINERS`; other bits get
/// `KUBEREF_INVALID_ARGUMENT`. A container that is not in the pod is not an
/// error: its field path is `implicitly required container NAME`.
/// Returns `KUBEREF_OK`, `KUBEREF_BUFFER_TOO_SMALL`, `KUBEREF_NULL_ARGUMENT`
/// (`pod` or `out`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
///
/// # Safety
/// Non-NULL pointers, views and arrays point to valid memory for the call;
/// `buf` has `buf_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn kuberef_generate_container_ref(
    pod: *const kuberef_pod,
    container_name: kuberef_str,
    flags: u32,
    out: *mut kuberef_object_reference,
    buf: *mut c_char,
    buf_len: usize,
    needed: *mut usize,
) -> kuberef_status {
    ffi_boundary!(status "kuberef_generate_container_ref", {
        // SAFETY: the caller's contract (see the header).
        let (g, _, out, buf) =
            unsafe { generate_args(pod, container_name, flags, out, buf, buf_len)? };
        // Five of the seven fields are plain slices of the pod: copied
        // directly; only the API version and the field path are assembled
        // from pieces (two dynamic calls instead of one per piece).
        let (api_version, field_path) = (g.api_version.byte_len(), g.field_path.byte_len());
        let lens = [g.kind.len(), g.namespace.len(), g.name.len(), g.uid.len(), api_version,
                    g.resource_version.len(), field_path];
        let copy = |b: &mut [u8]| {
            // Each field's NUL is at a known offset: the buffer is sized
            // from `lens`, so only the bytes before each NUL are copied.
            let mut at = 0;
            for f in [g.kind, g.namespace, g.name, g.uid] {
                b[at..at + f.len()].copy_from_slice(f);
                at += f.len();
                b[at] = 0;
                at += 1;
            }
            let mut put = |p: &[u8]| {
                b[at..at + p.len()].copy_from_slice(p);
                at += p.len();
            };
            g.api_version.pieces(&mut put);
            put(b"\0");
            put(g.resource_version);
            put(b"\0");
            g.field_path.pieces(&mut put);
            put(b"\0");
        };
        // SAFETY: the caller's contract (see the header).
        unsafe { write_ref(lens, copy, out, buf, needed) }
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
    ffi_boundary!(status "kuberef_generate_container_ref_borrowed", {
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
    ffi_boundary!(status "kuberef_container_id_parse", {
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
            let at = if part.is_empty() { at.min(text.len() - 1) } else { at };
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
    ffi_boundary!(status "kuberef_container_id_format", {
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

/// The library's version, such as `1.3.0`: a static NUL-terminated string,
/// never freed.
#[no_mangle]
pub extern "C" fn kuberef_version() -> *const c_char {
    ffi_boundary!("kuberef_version", c"?".as_ptr(), {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}

/// The ABI version of the loaded library; equal to `KUBEREF_ABI_VERSION`
/// when header and library match. A plugin compares the two at load time
/// (see `KUBEREF_ABI_VERSION` for the rule).
#[no_mangle]
pub extern "C" fn kuberef_abi_version() -> u32 {
    ffi_boundary!("kuberef_abi_version", KUBEREF_ABI_VERSION, {
        KUBEREF_ABI_VERSION
    })
}

/// A static, NUL-terminated English description of `status`, never freed;
/// unknown codes get a generic text.
#[no_mangle]
pub extern "C" fn kuberef_status_message(status: u32) -> *const c_char {
    ffi_boundary!("kuberef_status_message", c"kuberef: panic".as_ptr(), {
        let msg: &'static std::ffi::CStr = match status {
            KUBEREF_OK => c"ok",
            KUBEREF_NOT_FOUND => c"no reference stored for that container ID",
            KUBEREF_NULL_ARGUMENT => c"a required pointer argument was NULL",
            KUBEREF_INVALID_ARGUMENT => {
                c"invalid argument: NULL view with non-zero length, string too long, or unknown flag"
            }
            KUBEREF_BUFFER_TOO_SMALL => c"output buffer too small; retry with *needed bytes",
            KUBEREF_INVALID_CONTAINER_ID => c"invalid container ID: expected type://id",
            KUBEREF_PANIC => c"internal error: the library panicked inside the call; stored references are whole",
            _ => beyond::status_message(status).unwrap_or(c"unknown kuberef status code"),
        };
        msg.as_ptr()
    })
}
