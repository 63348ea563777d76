//! Event JSON: a reference exactly as Go's `json.Marshal` (Go 1.22 and
//! later) writes it.

use std::os::raw::c_char;

use super::boundary::*;
use super::status::*;
use super::types::*;

/// Writes `*ref` as JSON into `buf`, followed by a NUL: exactly the bytes
/// Go's `json.Marshal` produces for a `v1.ObjectReference` with these
/// fields (field order `kind, namespace, name, uid, apiVersion,
/// resourceVersion, fieldPath`; empty fields omitted; `<`, `>`, `&`,
/// U+2028, U+2029 and control characters escaped as Go does; each byte of
/// invalid UTF-8 as `\ufffd`), ready for an event's `involvedObject`. Go
/// 1.22 and later, that is: older Go and the json-iterator of Kubernetes
/// v1.18's API client write backspace and form feed as `\u0008` and
/// `\u000c`, not `\b` and `\f` (the same string once decoded).
/// `*needed`, when not NULL, receives the JSON's length plus one on
/// `KUBEREF_OK` and `KUBEREF_BUFFER_TOO_SMALL`. `buf` may be NULL when
/// `buf_len` is 0; such a size query allocates nothing, and a call with room
/// writes the JSON straight into `buf`.
/// Returns `KUBEREF_OK`, `KUBEREF_BUFFER_TOO_SMALL`, `KUBEREF_NULL_ARGUMENT`
/// (`ref`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
///
/// # Safety
/// `ref` is NULL or valid with valid views; `buf` has `buf_len` writable
/// bytes; `needed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kuberef_ref_to_json(
    r#ref: *const kuberef_object_reference,
    buf: *mut c_char,
    buf_len: usize,
    needed: *mut usize,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_ref_to_json", {
        // SAFETY: the caller's contract (see the header).
        let (r, buf) = unsafe { (object_reference(r#ref)?, out_buf(buf, buf_len)?) };
        // Sized first, then written straight into `buf`: a size query
        // allocates nothing, however long the escaped text.
        let len = crate::json::object_reference_json_len(&r);
        let total = len + 1;
        // SAFETY: as above.
        unsafe { set_needed(needed, total) };
        if buf.len() < total {
            return Err(KUBEREF_BUFFER_TOO_SMALL);
        }
        let mut out = Filling {
            buf: &mut buf[..len],
            at: 0,
        };
        crate::json::write_object_reference(&mut out, &r);
        assert_eq!(out.at, len, "the JSON has the length it was sized at");
        buf[len] = 0;
        Ok(())
    })
}

/// A [`JsonSink`](crate::json::JsonSink) writing into a buffer sized for
/// the text (by [`JsonLen`](crate::json::JsonLen)); writing past its end
/// panics (caught at the boundary).
struct Filling<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl crate::json::JsonSink for Filling<'_> {
    fn put(&mut self, b: &[u8]) {
        self.buf[self.at..self.at + b.len()].copy_from_slice(b);
        self.at += b.len();
    }
}
