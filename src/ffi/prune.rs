//! Leak control: removing the references of a pod, or of every container
//! that is no longer alive, in bulk.

use super::boundary::*;
use super::status::*;
use super::types::*;

/// Removes every reference whose `uid` equals `pod_uid` byte for byte (for
/// example when the kubelet forgets a pod), and writes how many it removed
/// to `*removed` when `removed` is not NULL. Scales with the number of
/// stored references; writers wait for one shard's scan or one batch of
/// removals at a time, and a get waits for one removal at most (each is a
/// change of its own, see `kuberef_change_counter`), as for a clear.
/// Returns `KUBEREF_OK` (also when nothing matched), `KUBEREF_NULL_ARGUMENT`
/// (`m`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
///
/// # Safety
/// `m` is NULL or a live manager; `pod_uid` is a valid view; `removed` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kuberef_clear_pod(
    m: *mut kuberef_manager,
    pod_uid: kuberef_str,
    removed: *mut usize,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_clear_pod", {
        // SAFETY: the caller's contract (see the header).
        let (m, uid) = unsafe { (manager(m)?, str_view(pod_uid)?) };
        let n = m.clear_pod(uid);
        // SAFETY: as above.
        unsafe { set_needed(removed, n) };
        Ok(())
    })
}

/// Keeps only the references stored under the `n` container IDs in
/// `live_ids` (for example the containers the runtime still reports),
/// removes every other one, and writes how many it removed to `*removed`
/// when `removed` is not NULL. IDs without a reference are ignored;
/// `live_ids` may be NULL when `n` is 0 (which removes everything). Runs in
/// O(stored + n): the live IDs are hashed once. Every view is checked
/// before anything is removed.
/// Returns `KUBEREF_OK`, `KUBEREF_NULL_ARGUMENT` (`m`),
/// `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
///
/// # Safety
/// `m` is NULL or a live manager; `live_ids` is NULL or points to `n` valid
/// container IDs; `removed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kuberef_retain(
    m: *mut kuberef_manager,
    live_ids: *const kuberef_container_id,
    n: usize,
    removed: *mut usize,
) -> kuberef_status {
    ffi_boundary!(status, "kuberef_retain", {
        // SAFETY: the caller's contract (see the header).
        let (m, ids) = unsafe { (manager(m)?, array_view(live_ids, n)?) };
        let live = ids
            .iter()
            // SAFETY: as above.
            .map(|id| unsafe { container_id(id) })
            .collect::<Result<Vec<_>, _>>()?;
        let n = m.retain(live);
        // SAFETY: as above.
        unsafe { set_needed(removed, n) };
        Ok(())
    })
}
