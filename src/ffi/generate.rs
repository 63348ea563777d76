//! Upstream `GenerateContainerRef` (Kubernetes v1.18.6): a pod argument,
//! checked, and the reference generated into the caller's buffer.

use std::os::raw::c_char;

use super::boundary::*;
use super::buffer::write_ref;
use super::status::*;
use super::types::*;
use crate::generate::{self, ContainerNames, GenerateOptions};
use crate::reference::Pieces;

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
) -> Result<generate::Pod<'a, ValidNames>, kuberef_status> {
    // SAFETY: forwarded to the caller.
    unsafe {
        let p = non_null(pod)?;
        Ok(generate::Pod {
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
pub(super) unsafe fn generate_args<'a>(
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
    let g = generate::generate_container_ref(&pod, container, opts);
    Ok((g, pod.api_version, out, buf))
}

pub(super) type GenerateArgs<'a> = (
    generate::GeneratedRef<'a>,
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
    ffi_boundary!(status, "kuberef_generate_container_ref", {
        // SAFETY: the caller's contract (see the header).
        let (g, _, out, buf) =
            unsafe { generate_args(pod, container_name, flags, out, buf, buf_len)? };
        // Five of the seven fields are plain slices of the pod: copied
        // directly; only the API version and the field path are assembled
        // from pieces (two dynamic calls instead of one per piece).
        let (api_version, field_path) = (g.api_version.byte_len(), g.field_path.byte_len());
        let lens = [
            g.kind.len(),
            g.namespace.len(),
            g.name.len(),
            g.uid.len(),
            api_version,
            g.resource_version.len(),
            field_path,
        ];
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
