//go:build kuberef_static

package kuberef

// Static linking (-tags kuberef_static): libkuberef.a is linked into the Go
// binary, which then does not need libkuberef.so at run time. -Bstatic makes
// the linker take the archive for -lkuberef (from the -L directory that
// pkg-config gives); what the archive needs besides it (the Rust standard
// library's native libraries) comes from kuberef.pc's Libs.private, through
// pkg-config --static (pkgconfig_static.go), or, with kuberef_nopkgconfig,
// from CGO_LDFLAGS. --as-needed then drops the plain -lkuberef that
// pkg-config appends, which nothing needs any more.

// #cgo LDFLAGS: -Wl,-Bstatic -lkuberef -Wl,-Bdynamic -Wl,--as-needed
import "C"
