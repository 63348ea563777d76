// Package kuberef is a drop-in replacement for the Kubernetes v1.18.6
// kubelet's container reference manager (kubecontainer.RefManager,
// GenerateContainerRef and ContainerID), answered by the kuberef C library
// through cgo. A kubelet fork switches by changing one import:
//
//	kubecontainer "k8s.io/kubernetes/pkg/kubelet/container"
//
// becomes, for these names,
//
//	kubecontainer "github.com/kuberef/kuberef/go"
//
// and every reference stored in Global() is visible to C code and plugins
// that use the same loaded libkuberef.
//
// Linking: by default the package links libkuberef.so dynamically, with
// flags from pkg-config (set PKG_CONFIG_PATH to the directory holding
// kuberef.pc). Build with -tags kuberef_static to link libkuberef.a into the
// Go binary instead. See docs/go.md in the repository.
//
// Every operation is at most one cgo call (a GetRef that copies a changed
// reference: two; a GetRef in an unchanged manager, and ContainerID's String
// and MarshalJSON: none): strings are passed to C as
// pointer and length for the duration of the call (no C.CString copies), C
// never keeps a Go pointer, and references come back shared, as upstream's
// are: GetRef returns the same pointer while the stored reference stays the
// same, without allocating.
//
// Strings longer than MaxStringLen (64 MiB), which the C library refuses,
// get upstream's own answer wherever there is one without storing them;
// GenerateContainerRef returns an error for them and SetRef panics. Each
// function's documentation says which; docs/go.md lists them all.
package kuberef
