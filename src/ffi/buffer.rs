//! The output-buffer protocol shared by every export that returns a
//! reference: the fields copied into the caller's `buf`, each followed by a
//! NUL, `*out`'s views pointing at them, `*needed` written on success and on
//! `KUBEREF_BUFFER_TOO_SMALL`.

use super::boundary::*;
use super::status::*;
use super::types::*;
use crate::manager::RefManager;
use crate::reference::FIELD_COUNT;

/// Copies `fields` into `buf`, each followed by a NUL, and points `out`'s
/// views at them; the buffer protocol shared by every reference output.
///
/// # Safety
/// `needed` is NULL or writable.
pub(super) unsafe fn write_ref(
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
pub(super) unsafe fn copy_ref(
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
