//go:build !kuberef_nopkgconfig && !kuberef_static

package kuberef

// The header's directory (-I) and the library (-L, -lkuberef) come from
// pkg-config: set PKG_CONFIG_PATH to the directory that holds kuberef.pc
// (<repo>/build/lib/pkgconfig after `make lib`, or the installed one).
// Build with -tags kuberef_nopkgconfig to give them in CGO_CFLAGS and
// CGO_LDFLAGS instead (see nopkgconfig.go).

// #cgo pkg-config: kuberef
import "C"
