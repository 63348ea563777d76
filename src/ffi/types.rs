//! The C ABI's types and constants (ABI 1). Every item here appears in
//! `include/kuberef.h`; numbers never change meaning.

#![allow(non_camel_case_types)]

use std::os::raw::c_char;

/// The version of the C ABI this header describes.
///
/// ABI 1 is: the functions `kuberef_global`, `kuberef_manager_new`,
/// `kuberef_manager_free`, `kuberef_set_ref`, `kuberef_get_ref`,
/// `kuberef_clear_ref`, `kuberef_len`, `kuberef_generate_container_ref`,
/// `kuberef_container_id_parse`, `kuberef_container_id_format`,
/// `kuberef_version`, `kuberef_abi_version` and `kuberef_status_message`;
/// the types `kuberef_status`, `kuberef_str`, `kuberef_container_id`,
/// `kuberef_object_reference`, `kuberef_pod` and `kuberef_manager`; and the
/// constants `KUBEREF_ABI_VERSION`, `KUBEREF_MAX_STR_LEN`,
/// `KUBEREF_GENERATE_EPHEMERAL_CONTAINERS` and the status codes
/// `KUBEREF_OK` to `KUBEREF_PANIC`. None of them ever changes meaning
/// (signature, layout, numbers or behaviour).
///
/// The rule: this number, and with it the SONAME `libkuberef.so.N`, changes
/// only if an ABI 1 symbol would have to change meaning. Additions (new
/// functions, new flags, new types) keep both, so a program built against
/// ABI 1 runs unchanged on every later ABI 1 library. On an older library,
/// a program that calls an added function gets an undefined-symbol error
/// (at `dlopen(RTLD_NOW)`, at start with `-z now`, else at the first call),
/// and a new flag gets `KUBEREF_INVALID_ARGUMENT`: never a silent
/// misbehaviour.
///
/// A plugin checks at load time that `kuberef_abi_version()` (the library
/// the dynamic linker found) equals this compile-time number, and refuses
/// to start otherwise.
pub const KUBEREF_ABI_VERSION: u32 = 1;

/// The largest string the library accepts in any view, in bytes (64 MiB).
/// Longer views get `KUBEREF_INVALID_ARGUMENT`.
pub const KUBEREF_MAX_STR_LEN: usize = 67108864;
const _: () = assert!(KUBEREF_MAX_STR_LEN == crate::MAX_STR_LEN);

/// The status every fallible function returns. The numbers are stable:
/// a code is never renumbered or reused.
pub type kuberef_status = u32;

/// Success; outputs were written.
pub const KUBEREF_OK: kuberef_status = 0;
/// No reference is stored under that container ID.
pub const KUBEREF_NOT_FOUND: kuberef_status = 1;
/// A required pointer argument was NULL.
pub const KUBEREF_NULL_ARGUMENT: kuberef_status = 2;
/// A view or array with a NULL pointer and a non-zero length, a string over
/// `KUBEREF_MAX_STR_LEN`, or an unknown flag.
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

/// `kuberef_generate_container_ref` flag: search the pod's ephemeral
/// containers too, as with the EphemeralContainers feature gate on
/// (off by default in Kubernetes v1.18).
pub const KUBEREF_GENERATE_EPHEMERAL_CONTAINERS: u32 = 1u32;

/// A view of bytes: `len` bytes at `ptr`, any values (embedded NULs count;
/// no NUL terminator is needed on input). `ptr` may be NULL only when `len`
/// is 0. The library never keeps an input view after the call returns. An
/// output view's `ptr` is never NULL, even when `len` is 0 (see the rules on
/// output views at the top of this header).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kuberef_str {
    /// The first byte.
    pub ptr: *const c_char,
    /// The number of bytes.
    pub len: usize,
}

/// A container ID (upstream `ContainerID`): the runtime's name, such as
/// `containerd`, and the runtime's container ID. As a key it compares byte
/// for byte on both fields.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kuberef_container_id {
    /// The runtime name (upstream `Type`).
    pub r#type: kuberef_str,
    /// The runtime's container ID (upstream `ID`).
    pub id: kuberef_str,
}

/// A `v1.ObjectReference`, fields in upstream order. As an output of the
/// get and copying generate functions, every view points into the caller's
/// buffer and is followed there by a NUL byte;
/// `kuberef_generate_container_ref_borrowed` and `kuberef_for_each` say
/// where theirs point.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kuberef_object_reference {
    /// `kind`, for example `Pod`.
    pub kind: kuberef_str,
    /// `namespace` (named with a trailing underscore for C++).
    pub namespace_: kuberef_str,
    /// `name`: the pod's name.
    pub name: kuberef_str,
    /// `uid`: the pod's UID.
    pub uid: kuberef_str,
    /// `apiVersion`, for example `v1`.
    pub api_version: kuberef_str,
    /// `resourceVersion`: the pod's resource version.
    pub resource_version: kuberef_str,
    /// `fieldPath`, for example `spec.containers{app}`.
    pub field_path: kuberef_str,
}

/// What `kuberef_generate_container_ref` reads from a `v1.Pod`: TypeMeta,
/// ObjectMeta and the names of the containers in each spec list.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kuberef_pod {
    /// TypeMeta.Kind
    pub kind: kuberef_str,
    /// TypeMeta.APIVersion
    pub api_version: kuberef_str,
    /// ObjectMeta.Namespace
    pub namespace_: kuberef_str,
    /// ObjectMeta.Name
    pub name: kuberef_str,
    /// ObjectMeta.UID
    pub uid: kuberef_str,
    /// ObjectMeta.ResourceVersion
    pub resource_version: kuberef_str,
    /// Spec.Containers[*].Name (NULL only if `containers_len` is 0).
    pub containers: *const kuberef_str,
    /// The number of `containers`.
    pub containers_len: usize,
    /// Spec.InitContainers[*].Name (NULL only if `init_containers_len` is 0).
    pub init_containers: *const kuberef_str,
    /// The number of `init_containers`.
    pub init_containers_len: usize,
    /// Spec.EphemeralContainers[*].Name (NULL only if
    /// `ephemeral_containers_len` is 0).
    pub ephemeral_containers: *const kuberef_str,
    /// The number of `ephemeral_containers`.
    pub ephemeral_containers_len: usize,
}

/// A container reference manager (upstream `RefManager`): a thread-safe map
/// from container ID to object reference. Opaque: use it only through
/// pointers the library returns.
pub struct kuberef_manager(pub(crate) crate::manager::RefManager);
