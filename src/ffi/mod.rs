//! The C ABI (version 1). Thin: every export checks its arguments, converts
//! them, calls the safe core and writes its outputs only on success, inside
//! the panic boundary (`boundary`). The doc comments here become
//! `include/kuberef.h`, one section per module below, in this order; a new
//! export goes in the module of its domain, with a row in
//! tests/panic_injection.rs and a test in the C test of that domain.

// The checks every export goes through, the status codes, the types.
pub mod boundary;
pub mod status;
pub mod types;

// Upstream's RefManager, GenerateContainerRef and ContainerID, and the
// library's identity (one module per header section, in header order).
pub mod manager;
// (each `mod` line has its own comment so that rustfmt keeps this order)
pub mod refs;
// -
pub mod generate;
// -
pub mod container_id;
// -
pub mod version;

// What kuberef adds: leak control, enumeration, persistence, event JSON,
// counters.
pub mod prune;
// -
pub mod enumerate;
// -
pub mod persist;
// -
pub mod json;
// -
pub mod stats;

// Binding support.
pub mod binding;

mod buffer;

pub use binding::*;
pub use container_id::*;
pub use enumerate::*;
pub use generate::*;
pub use json::*;
pub use manager::*;
pub use persist::*;
pub use prune::*;
pub use refs::*;
pub use stats::*;
pub use status::*;
pub use types::*;
pub use version::*;
