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
// Each operation is one cgo call, with these exceptions: GetRef of a cached
// reference makes none while nothing in the manager has changed (a miss
// makes its one call), and two when it copies a changed
// reference (three for one of more than 137 bytes of text); GetRef and
// ClearRef make none for an ID longer than MaxStringLen; NewRefManager,
// the first Global, Snapshot and ForEach make two (ForEach's callback runs
// after both); SetRef or GetRef one more after every 32 to 2,048 stores
// into the cache while it can still grow, when the store checks the
// manager's size;
// GenerateContainerRef and RefToJSON one more when their output outgrows
// the first buffer; ContainerID's String and MarshalJSON none. Strings are passed to C as
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
