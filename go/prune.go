package kuberef

import (
	"runtime"

	"k8s.io/apimachinery/pkg/types"
)

// ClearPod removes every reference whose UID is podUID (for example when the
// kubelet forgets a deleted pod) and returns how many it removed. Upstream
// never removes these for containers that exit on their own. A podUID
// longer than MaxStringLen matches nothing stored (no stored field can be
// that long): ClearPod returns 0 without calling the library.
func (r *RefManager) ClearPod(podUID types.UID) int {
	m := r.ptr()
	if len(podUID) > MaxStringLen {
		return 0
	}
	st, n := cClearPod(m, string(podUID))
	runtime.KeepAlive(r)
	if st != StatusOK {
		panic(&Error{Op: "ClearPod", Status: st})
	}
	return n
}

// Retain keeps only the references stored under the live IDs (what the
// kubelet's container GC knows is still there), removes every other one and
// returns how many it removed. It runs in O(stored + len(live)). A live ID
// with a Type or ID longer than MaxStringLen has no reference (SetRef
// refuses it) and is skipped; the others are retained as usual.
func (r *RefManager) Retain(live []ContainerID) int {
	m := r.ptr()
	for i := range live {
		if overLimit(live[i].Type, live[i].ID) {
			live = withinLimit(live)
			break
		}
	}
	st, n := cRetain(m, live)
	runtime.KeepAlive(r)
	if st != StatusOK {
		panic(&Error{Op: "Retain", Status: st})
	}
	return n
}

// withinLimit returns the IDs of ids whose parts are within MaxStringLen.
func withinLimit(ids []ContainerID) []ContainerID {
	kept := make([]ContainerID, 0, len(ids))
	for _, id := range ids {
		if !overLimit(id.Type, id.ID) {
			kept = append(kept, id)
		}
	}
	return kept
}
