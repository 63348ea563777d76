//go:build kuberef_static

package kuberef

// Static linking (-tags kuberef_static): libkuberef.a is linked into the Go
// binary, which then does not need libkuberef.so at run time. -Bstatic makes
// the linker take the archive for -lkuberef (from the same -L directory that
// pkg-config gives), followed by what the Rust standard library needs
// (kuberef.pc's Libs.private). --as-needed then drops the -lkuberef that
// pkg-config appends, which nothing needs any more.

// #cgo LDFLAGS: -Wl,-Bstatic -lkuberef -Wl,-Bdynamic -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -Wl,--as-needed
import "C"
