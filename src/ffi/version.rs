//! The library's version and ABI version, for the load-time check.

use std::os::raw::c_char;

use super::boundary::ffi_boundary;
use super::types::*;

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
