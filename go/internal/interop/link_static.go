//go:build kuberef_static

package interop

// The same static link flags as the binding's (see ../../link_static.go), so
// that this package's C code and the binding use the one copy of
// libkuberef.a linked into the test binary.

// #cgo LDFLAGS: -Wl,-Bstatic -lkuberef -Wl,-Bdynamic -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -Wl,--as-needed
import "C"
