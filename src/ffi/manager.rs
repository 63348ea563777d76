//! Managers: the process-wide one, and independent ones a caller owns.

use std::sync::OnceLock;

use super::boundary::*;
use super::types::*;
use crate::manager::RefManager;

static GLOBAL: OnceLock<kuberef_manager> = OnceLock::new();

fn global() -> &'static kuberef_manager {
    GLOBAL.get_or_init(|| kuberef_manager(RefManager::new()))
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
