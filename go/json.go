package kuberef

import (
	"encoding/json"

	v1 "k8s.io/api/core/v1"
)

// RefToJSON returns exactly what json.Marshal(ref) returns for a
// v1.ObjectReference (the event's involvedObject), computed by the C
// library so that C callers and plugins produce the same bytes. A reference
// with a field longer than MaxStringLen, which the library refuses, is
// marshalled by encoding/json itself: the same bytes, for every length.
func RefToJSON(ref *v1.ObjectReference) []byte {
	if ref == nil {
		return []byte("null")
	}
	if overLimit(ref.Kind, ref.Namespace, ref.Name, string(ref.UID), ref.APIVersion, ref.ResourceVersion,
		ref.FieldPath) {
		b, _ := json.Marshal(ref) // seven strings: Marshal has no error to give
		return b
	}
	size := 32 + len(ref.Kind) + len(ref.Namespace) + len(ref.Name) + len(ref.UID) +
		len(ref.APIVersion) + len(ref.ResourceVersion) + len(ref.FieldPath) + 80
	for {
		buf := make([]byte, size)
		switch st, n := cRefToJSON(ref, buf); st {
		case StatusOK:
			return buf[:n-1]
		case StatusBufferTooSmall:
			size = n
		default:
			panic(&Error{Op: "RefToJSON", Status: st})
		}
	}
}
