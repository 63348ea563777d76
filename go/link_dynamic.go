//go:build !kuberef_static

package kuberef

// Dynamic linking (the default): pkg-config's -L and -lkuberef (see pkgconfig.go)
// link libkuberef.so; the dynamic loader must find libkuberef.so.1 at run
// time (installed in a system directory, LD_LIBRARY_PATH, or
// -Wl,-rpath,<dir> in CGO_LDFLAGS).
