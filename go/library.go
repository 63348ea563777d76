package kuberef

import "fmt"

// MaxStringLen is the longest string, in bytes, the C library accepts
// (KUBEREF_MAX_STR_LEN, 64 MiB). Each function's documentation says what it
// does with a longer one; docs/go.md lists them all.
const MaxStringLen = 64 << 20

// overLimit reports whether any of ss is longer than the library accepts.
func overLimit(ss ...string) bool {
	for _, s := range ss {
		if len(s) > MaxStringLen {
			return true
		}
	}
	return false
}

// Error is a failure reported by the C library that has no upstream
// equivalent: a string over MaxStringLen where the function cannot give
// upstream's answer without storing or passing it (SetRef panics with it,
// GenerateContainerRef returns it), or an internal failure of the library
// (StatusPanic, or the C allocator failing), which no input causes and with
// which functions without an error result panic.
type Error struct {
	Op     string // the Go operation, e.g. "SetRef"
	Status uint32 // the library's status code (see StatusOK and the others)
}

func (e *Error) Error() string {
	return fmt.Sprintf("kuberef: %s: %s (status %d)", e.Op, statusMessage(e.Status), e.Status)
}

func statusMessage(s uint32) string {
	if s == statusOutOfMemory {
		return "out of memory"
	}
	return cMessage(s)
}

// ABIVersion returns the ABI version of the loaded C library (1).
func ABIVersion() uint32 { return cABIVersion() }

// LibraryVersion returns the version of the loaded C library, e.g. "1.3.0".
func LibraryVersion() string { return cVersion() }
