// Package jsondiff checks kuberef_ref_to_json (the C ABI, through cgo)
// against Go's encoding/json on a v1.ObjectReference. It needs no module
// beyond the standard library: ObjectReference below has the same fields,
// types and JSON tags as k8s.io/api/core/v1.ObjectReference (v0.18.6).
package jsondiff

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../build/lib -Wl,-rpath,${SRCDIR}/../../build/lib -lkuberef
#include <stddef.h>
#include "kuberef.h"

// The seven fields back to back in data, lengths in lens.
static kuberef_status to_json(const char *data, const size_t *lens, char *buf, size_t buf_len,
                              size_t *needed) {
  kuberef_object_reference r;
  kuberef_str *f = (kuberef_str *)&r;
  size_t at = 0;
  int i;
  for (i = 0; i < 7; i++) {
    f[i].ptr = lens[i] ? data + at : "";
    f[i].len = lens[i];
    at += lens[i];
  }
  return kuberef_ref_to_json(&r, buf, buf_len, needed);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// UID is k8s.io/apimachinery/pkg/types.UID.
type UID string

// ObjectReference mirrors k8s.io/api/core/v1.ObjectReference.
type ObjectReference struct {
	Kind            string `json:"kind,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             UID    `json:"uid,omitempty"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	FieldPath       string `json:"fieldPath,omitempty"`
}

// KuberefJSON is kuberef_ref_to_json(r). With probe, it first asks for the
// size with a zero-length buffer (the size-query protocol); otherwise it
// guesses a buffer and retries with *needed if that was too small.
func KuberefJSON(r ObjectReference, probe bool) ([]byte, error) {
	fields := []string{r.Kind, r.Namespace, r.Name, string(r.UID), r.APIVersion, r.ResourceVersion, r.FieldPath}
	var data []byte
	var lens [7]C.size_t
	for i, f := range fields {
		data = append(data, f...)
		lens[i] = C.size_t(len(f))
	}
	var dp *C.char
	if len(data) > 0 {
		dp = (*C.char)(unsafe.Pointer(&data[0]))
	}
	size := 0
	if !probe {
		size = len(data) + 16
	}
	for try := 0; try < 2; try++ {
		buf := make([]byte, size+1)
		var needed C.size_t
		st := C.to_json(dp, &lens[0], (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(size), &needed)
		switch st {
		case C.KUBEREF_OK:
			n := int(needed) - 1
			if buf[n] != 0 {
				return nil, fmt.Errorf("no NUL after the JSON")
			}
			return buf[:n], nil
		case C.KUBEREF_BUFFER_TOO_SMALL:
			size = int(needed)
		default:
			return nil, fmt.Errorf("kuberef_ref_to_json: status %d", int(st))
		}
	}
	return nil, fmt.Errorf("buffer still too small")
}
