package kuberef

import (
	"errors"
	"strconv"
	"sync/atomic"
	"unsafe"

	v1 "k8s.io/api/core/v1"
)

// ImplicitContainerPrefix is the field path prefix of a container that is not
// in its pod's spec (upstream's ImplicitContainerPrefix, with its trailing
// space). Upstream declares it a var; here it is a constant because the C
// library produces the field path, so assigning to it could not change the
// output.
const ImplicitContainerPrefix = "implicitly required container "

var ephemeralContainers atomic.Bool

// SetEphemeralContainersEnabled switches what the EphemeralContainers feature
// gate switches in upstream's GenerateContainerRef: whether a pod's
// ephemeral containers are searched for the container. It is off by default,
// as the gate is in Kubernetes v1.18. A kubelet fork sets it from its own
// feature gate at start-up.
func SetEphemeralContainersEnabled(on bool) { ephemeralContainers.Store(on) }

// EphemeralContainersEnabled reports the switch set by
// SetEphemeralContainersEnabled.
func EphemeralContainersEnabled() bool { return ephemeralContainers.Load() }

// Errors GenerateContainerRef returns where upstream would dereference nil.
var (
	ErrNilPod       = errors.New("kuberef: GenerateContainerRef: nil pod")
	ErrNilContainer = errors.New("kuberef: GenerateContainerRef: nil container")
)

// GenerateContainerRef returns the reference to container within pod that
// upstream's kubecontainer.GenerateContainerRef (Kubernetes v1.18.6) returns,
// field for field: Kind and APIVersion from the pod's TypeMeta ("Pod" and
// "v1" when both are empty, as the kubelet's scheme gives), the pod's name,
// namespace, UID and resource version, and the field path of the first
// container of that name in spec.containers, then spec.initContainers, then
// (with SetEphemeralContainersEnabled(true)) spec.ephemeralContainers, or
// ImplicitContainerPrefix + name if there is none. Like upstream with the
// kubelet's scheme it never fails for a real pod; a nil pod or container,
// which upstream dereferences, gets ErrNilPod or ErrNilContainer.
func GenerateContainerRef(pod *v1.Pod, container *v1.Container) (*v1.ObjectReference, error) {
	if pod == nil {
		return nil, ErrNilPod
	}
	if container == nil {
		return nil, ErrNilContainer
	}
	spec := &pod.Spec
	nc, ni, ne := len(spec.Containers), len(spec.InitContainers), len(spec.EphemeralContainers)
	ephemeral := ephemeralContainers.Load()
	if !ephemeral {
		ne = 0 // not searched: no need to pass them
	}
	n := nc + ni + ne
	names := 0
	for i := range spec.Containers {
		names += len(spec.Containers[i].Name)
	}
	for i := range spec.InitContainers {
		names += len(spec.InitContainers[i].Name)
	}
	for i := 0; i < ne; i++ {
		names += len(spec.EphemeralContainers[i].Name)
	}
	p := podStrings{pod.Kind, pod.APIVersion, pod.Namespace, pod.Name, string(pod.UID), pod.ResourceVersion}
	out := outputBound(&p, container.Name, n)

	// One buffer for everything the library reads and writes: the output
	// first (the returned strings point into it), then the name lengths
	// (4-byte aligned), then the names back to back. For a typical pod it is
	// the tail of the block that also holds the returned reference, so the
	// call allocates once.
	lensAt := (out + 3) &^ 3
	namesAt := lensAt + 4*n
	var ref *v1.ObjectReference
	var scratch []byte
	if namesAt+names <= genInline {
		b := new(genBlock)
		ref, scratch = &b.ref, b.buf[:]
	} else {
		ref, scratch = new(v1.ObjectReference), make([]byte, namesAt+names)
	}
	var lens []uint32
	if n > 0 {
		lens = unsafe.Slice((*uint32)(unsafe.Pointer(&scratch[lensAt])), n)
	}
	at, k := namesAt, 0
	put := func(name string) {
		lens[k] = uint32(len(name))
		k++
		at += copy(scratch[at:], name)
	}
	for i := range spec.Containers {
		put(spec.Containers[i].Name)
	}
	for i := range spec.InitContainers {
		put(spec.InitContainers[i].Name)
	}
	for i := 0; i < ne; i++ {
		put(spec.EphemeralContainers[i].Name)
	}
	var lp *uint32
	if n > 0 {
		lp = &lens[0]
	}
	var np *byte
	if names > 0 {
		np = &scratch[namesAt]
	}
	buf, bufLen := &scratch[0], out
	for {
		res := cGenerate(&p, container.Name, ephemeral, lp, np, nc, ni, ne, buf, bufLen)
		switch res.status {
		case statusOK:
			fillRef(ref, unsafe.String(buf, res.needed), &res)
			return ref, nil
		case statusBufferTooSmall: // not expected: outputBound is an upper bound
			b := make([]byte, res.needed)
			buf, bufLen = &b[0], len(b)
		default:
			return nil, &Error{Op: "GenerateContainerRef", Status: res.status}
		}
	}
}

// genInline is how many bytes of output and input GenerateContainerRef can
// keep in the block of the reference it returns (a 288-byte block with the
// 112-byte ObjectReference).
const genInline = 176

type genBlock struct {
	ref v1.ObjectReference
	buf [genInline]byte
}

// outputBound is an upper bound on the bytes the library writes: the seven
// fields, each with its NUL. Kind is the pod's or "Pod"; APIVersion is at
// most the pod's or "v1"; the field path is the longest form the name or
// index can take.
func outputBound(p *podStrings, name string, n int) int {
	b := max(len(p.kind), 3) + max(len(p.apiVersion), 2) + len(p.namespace) + len(p.name) +
		len(p.uid) + len(p.resourceVersion) + 7
	fp := max(len(ImplicitContainerPrefix), len("spec.ephemeralContainers{}")) + len(name)
	fp = max(fp, len("spec.ephemeralContainers[]")+len(strconv.Itoa(n)))
	return b + fp
}
