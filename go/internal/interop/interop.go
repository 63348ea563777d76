// Package interop is test support: C code (interop.c) compiled into the same
// Go binary as the binding, which uses the global manager through the C ABI
// only, so that tests can check that Go and C see one manager.
package interop

// The header comes from the repository; the library symbols from the
// binding's own link flags (this package is only ever linked with it).

// #cgo CFLAGS: -I${SRCDIR}/../../../include -std=c99 -Wall -Wextra -Werror -pedantic
// #include <stdlib.h>
// #include "interop.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// CSet stores {Kind: Pod, Namespace: from-c, Name: name, UID: c-uid,
// APIVersion: v1, ResourceVersion: 7, FieldPath: fieldPath} under
// runtime://id in the global manager, from C.
func CSet(runtime, id, name, fieldPath string) error {
	cs := []*C.char{C.CString(runtime), C.CString(id), C.CString(name), C.CString(fieldPath)}
	defer func() {
		for _, s := range cs {
			C.free(unsafe.Pointer(s))
		}
	}()
	if st := C.interop_c_set(cs[0], cs[1], cs[2], cs[3]); st != 0 {
		return fmt.Errorf("kuberef_set_ref: status %d", st)
	}
	return nil
}

// CGet reads the name and field path stored under runtime://id in the
// global manager, from C; found is false on KUBEREF_NOT_FOUND.
func CGet(runtime, id string) (name, fieldPath string, found bool, err error) {
	r, i := C.CString(runtime), C.CString(id)
	defer C.free(unsafe.Pointer(r))
	defer C.free(unsafe.Pointer(i))
	nb := (*C.char)(C.malloc(512))
	fb := (*C.char)(C.malloc(512))
	defer C.free(unsafe.Pointer(nb))
	defer C.free(unsafe.Pointer(fb))
	switch st := C.interop_c_get(r, i, nb, 512, fb, 512); st {
	case 0:
		return C.GoString(nb), C.GoString(fb), true, nil
	case C.KUBEREF_NOT_FOUND:
		return "", "", false, nil
	default:
		return "", "", false, fmt.Errorf("kuberef_get_ref: status %d", st)
	}
}

// CClear clears runtime://id in the global manager from C and returns the
// library's status (0 removed, 1 not found).
func CClear(runtime, id string) int {
	r, i := C.CString(runtime), C.CString(id)
	defer C.free(unsafe.Pointer(r))
	defer C.free(unsafe.Pointer(i))
	return int(C.interop_c_clear(r, i))
}

// CLookups is the global manager's lookup count (kuberef_get_stats' gets)
// read from C: the lookups the library itself made, whoever asked.
func CLookups() uint64 { return uint64(C.interop_c_lookups()) }

// CLen is kuberef_len(kuberef_global()) called from C.
func CLen() int { return int(C.interop_c_len()) }
