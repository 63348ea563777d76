//! Types and general constants: the ABI version and the functions it
//! comprises, the string limit, the views every function takes and returns,
//! and the manager handle.

#![allow(non_camel_case_types)]

use std::os::raw::c_char;

/// The version of the C ABI this header describes.
///
/// ABI 1 is every function, type and constant this header declares. Its
/// functions, by the library version that added them:
/// 1.0.0: `kuberef_global`, `kuberef_manager_new`, `kuberef_manager_free`,
/// `kuberef_len`, `kuberef_set_ref`, `kuberef_get_ref`, `kuberef_clear_ref`,
/// `kuberef_generate_container_ref`, `kuberef_container_id_parse`,
/// `kuberef_container_id_format`, `kuberef_version`, `kuberef_abi_version`,
/// `kuberef_status_message`;
/// 1.1.0: `kuberef_clear_pod`, `kuberef_retain`, `kuberef_for_each`,
/// `kuberef_save`, `kuberef_load`, `kuberef_ref_to_json`, `kuberef_get_stats`;
/// 1.2.0: `kuberef_set_ref_stamped`, `kuberef_get_stamp`,
/// `kuberef_get_ref_stamped`, `kuberef_clear_ref_stamped`;
/// 1.3.0: `kuberef_change_counter`, `kuberef_generate_container_ref_borrowed`.
///
/// None of them ever changes meaning (signature, layout, numbers or
/// behaviour). The rule: this number, and with it the SONAME
/// `libkuberef.so.N`, changes only if an ABI 1 symbol would have to change
/// meaning. Additions (new functions, new flags, new status codes, new
/// types) keep both, so a program built against ABI 1 runs unchanged on
/// every later ABI 1 library. On an older library, a program that calls an
/// added function gets an undefined-symbol error (at `dlopen(RTLD_NOW)`, at
/// start with `-z now`, else at the first call), and a new flag gets
/// `KUBEREF_INVALID_ARGUMENT`: never a silent misbehaviour.
///
/// A plugin checks at load time that `kuberef_abi_version()` (the library
/// the dynamic linker found) equals this compile-time number, and refuses
/// to start otherwise.
pub const KUBEREF_ABI_VERSION: u32 = 1;

/// The largest string the library accepts in any view, in bytes (64 MiB).
/// Longer views get `KUBEREF_INVALID_ARGUMENT`.
pub const KUBEREF_MAX_STR_LEN: usize = 67108864;

const _: () = assert!(KUBEREF_MAX_STR_LEN == crate::MAX_STR_LEN);

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
