//! kuberef: the Kubernetes v1.18.6 kubelet's container reference manager
//! (`RefManager`, `GenerateContainerRef`, `ContainerID`) as a safe Rust
//! library with a stable C ABI (see `include/kuberef.h`).
//!
//! The semantics live in safe Rust: [`container_id`], [`reference`],
//! [`generate`] and [`manager`] (upstream's), and [`prune`], [`enumerate`], [`persist`],
//! [`json`] and [`stats`] (what kuberef adds). The [`ffi`] module is the C
//! ABI: it only checks, converts and catches panics; the core never uses it.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod container_id;
pub mod enumerate;
#[cfg(feature = "panic-injection")]
pub mod fault;
#[cfg(not(feature = "panic-injection"))]
mod fault;
pub mod ffi;
pub mod generate;
pub mod json;
pub mod manager;
pub mod persist;
pub mod prune;
mod random;
pub mod reference;
pub mod stats;

pub use container_id::{ContainerId, ContainerIdRef, InvalidContainerId};
pub use generate::{
    generate_container_ref, GenerateOptions, GeneratedRef, Pod, IMPLICIT_CONTAINER_PREFIX,
};
pub use manager::{RefManager, StoredRef, TooLong, MAX_STR_LEN};
pub use persist::{LoadError, LoadMode, SaveError};
pub use reference::{ObjectReference, ObjectReferenceRef};
pub use stats::Stats;
