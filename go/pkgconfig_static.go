//go:build !kuberef_nopkgconfig && kuberef_static

package kuberef

// As pkgconfig.go, with --static: pkg-config adds kuberef.pc's
// Libs.private, the native libraries a static link of libkuberef.a needs.

// #cgo pkg-config: --static kuberef
import "C"
