//go:build kuberef_nopkgconfig && !kuberef_static

package kuberef

// Without pkg-config (-tags kuberef_nopkgconfig): the caller gives the
// header's directory in CGO_CFLAGS (-I<dir>) and the library's in
// CGO_LDFLAGS (-L<dir>, plus -Wl,-rpath,<dir> if it is not on the loader's
// path); this file adds -lkuberef. With kuberef_static, link_static.go adds
// the static flags instead.

// #cgo LDFLAGS: -lkuberef
import "C"
