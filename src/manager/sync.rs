//! The synchronization primitives of the manager's lock-free parts (the
//! epoch domain, the tables, the writer lock): std's, or, in a build
//! with the `shuttle` feature, Shuttle's, whose scheduler then explores the
//! interleavings of the threads that use them (tests/schedules.rs). The
//! feature is for that test alone: a build with it works only inside a
//! Shuttle test.

#[cfg(not(feature = "shuttle"))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize};
#[cfg(not(feature = "shuttle"))]
pub(crate) use std::thread::yield_now;

#[cfg(feature = "shuttle")]
pub(crate) use shuttle::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize};
#[cfg(feature = "shuttle")]
pub(crate) use shuttle::thread::yield_now;
