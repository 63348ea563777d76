package main

// The cgo floor of the binding's SetRef + ClearRef: two calls into the
// library that do nothing (kuberef_abi_version), declared as the binding
// declares its helpers (go/shim.go), so that they cost what any two of its
// calls cost before the library does any work.

/*
#cgo pkg-config: kuberef
#cgo noescape kuberef_abi_version
#cgo nocallback kuberef_abi_version
#include <kuberef.h>
*/
import "C"

// cgoPair makes the two calls and returns what they returned, summed.
func cgoPair() uint32 {
	return uint32(C.kuberef_abi_version()) + uint32(C.kuberef_abi_version())
}
