package kuberef

import (
	"encoding/binary"
	"runtime"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Entry is one stored (container ID, reference) pair.
type Entry struct {
	ID  ContainerID
	Ref *v1.ObjectReference
}

// Snapshot returns every stored pair, in no particular order. The library
// copies the manager one shard (1/32) at a time, so each shard's pairs are
// consistent with each other but the whole is not one global snapshot: a
// reference stored during the whole call is listed exactly once; one set or
// cleared meanwhile is listed at most once. No lock is held while Go runs.
// The strings of all the pairs share one allocation.
func (r *RefManager) Snapshot() []Entry {
	var out []Entry
	st := cSnapshot(r.ptr(), func(raw []byte, count int) {
		all := string(raw) // one copy into Go memory; the strings below share it
		out = make([]Entry, 0, count)
		refs := make([]v1.ObjectReference, count)
		at := 0
		for i := 0; i < count; i++ {
			var lens [9]int
			for k := range lens {
				// Unaligned: read the native-endian size_t byte by byte.
				if snapshotWord == 8 {
					lens[k] = int(binary.NativeEndian.Uint64(raw[at+k*snapshotWord:]))
				} else {
					lens[k] = int(binary.NativeEndian.Uint32(raw[at+k*snapshotWord:]))
				}
			}
			at += 9 * snapshotWord
			var parts [9]string
			for k, l := range lens {
				parts[k] = all[at : at+l]
				at += l
			}
			ref := &refs[i]
			*ref = v1.ObjectReference{Kind: parts[2], Namespace: parts[3], Name: parts[4], UID: types.UID(parts[5]),
				APIVersion: parts[6], ResourceVersion: parts[7], FieldPath: parts[8]}
			out = append(out, Entry{ID: ContainerID{Type: parts[0], ID: parts[1]}, Ref: ref})
		}
	})
	runtime.KeepAlive(r)
	if st != StatusOK {
		panic(&Error{Op: "Snapshot", Status: st})
	}
	return out
}

// ForEach calls f with every stored pair (see Snapshot for the consistency)
// until f returns false. f may call any method of r.
func (r *RefManager) ForEach(f func(id ContainerID, ref *v1.ObjectReference) bool) {
	for _, e := range r.Snapshot() {
		if !f(e.ID, e.Ref) {
			return
		}
	}
}
