package kuberef

import (
	"errors"
	"math"
	"sync/atomic"
	"unsafe"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
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
//
// As upstream's does, the returned reference shares string bytes with the
// pod: a field equal to one of the pod's fields is that field's string; only
// the field path (and any field the library produced that equals none of
// them) is newly allocated.
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

	// The searched containers' names: a typical pod's as arguments of the
	// C helper, so that the library reads only the bytes it compares; more
	// of them back to back with their lengths, on the stack unless the pod
	// is large.
	var direct [genDirect]string
	var lens []uint32
	var names []byte
	if n := nc + ni + ne; n <= genDirect {
		for i := 0; i < n; i++ {
			direct[i] = searchedName(spec, i)
		}
	} else {
		var scratch genScratch
		lens, names = scratch.lens[:0], scratch.names[:0]
		for i := 0; i < n; i++ {
			s := searchedName(spec, i)
			if uint64(len(s)) > math.MaxUint32 {
				s = s[:math.MaxUint32] // still longer than the library accepts: it rejects it
			}
			lens = append(lens, uint32(len(s)))
			names = append(names, s...)
		}
	}

	// The reference and, in the same block, room for the field path, the
	// only field that normally has to be copied out of the library's
	// output. A longer one gets a buffer of its own.
	var ref *v1.ObjectReference
	var out []byte
	if len(container.Name) <= genInline-len(ImplicitContainerPrefix) {
		b := new(genBlock)
		ref, out = &b.ref, b.fp[:]
	} else {
		ref, out = new(v1.ObjectReference), make([]byte, len(ImplicitContainerPrefix)+len(container.Name))
	}
	for {
		var io genIO
		cGenerate(pod, container.Name, ephemeral, nc, ni, ne, &direct, unsafe.SliceData(lens), unsafe.SliceData(names),
			unsafe.SliceData(out), len(out), &io)
		switch st := uint32(io.status); st {
		case statusOK:
			fillGenerated(ref, pod, out, &io)
			return ref, nil
		case statusBufferTooSmall: // a field path longer than guessed, or a copied TypeMeta field
			out = make([]byte, io.needed)
		default:
			return nil, &Error{Op: "GenerateContainerRef", Status: st}
		}
	}
}

// genInline is the room for the field path in the block GenerateContainerRef
// allocates with the reference: 48 bytes, which with the 112-byte
// ObjectReference make a 160-byte block (a Go size class), and hold the field
// path of any container whose name has up to 18 bytes, or up to 31 in
// spec.containers.
const genInline = 48

type genBlock struct {
	ref v1.ObjectReference
	fp  [genInline]byte
}

// searchedName is the name of the i-th container of spec.containers, then
// spec.initContainers, then spec.ephemeralContainers.
func searchedName(spec *v1.PodSpec, i int) string {
	if i < len(spec.Containers) {
		return spec.Containers[i].Name
	}
	i -= len(spec.Containers)
	if i < len(spec.InitContainers) {
		return spec.InitContainers[i].Name
	}
	return spec.EphemeralContainers[i-len(spec.InitContainers)].Name
}

// genScratch is the input buffer GenerateContainerRef keeps on its stack
// for a pod with more than genDirect searched containers: room for the
// names of a medium-sized pod. The C helper is marked
// noescape and nocallback (cgo.go), so passing it does not move it to the
// heap.
type genScratch struct {
	lens  [16]uint32
	names [256]byte
}

// fillGenerated sets ref's fields from the helper's result: the pod's own
// strings or constants where the library's output equals them, else the
// bytes it copied into out, in field order.
func fillGenerated(ref *v1.ObjectReference, pod *v1.Pod, out []byte, io *genIO) {
	at := 0
	field := func(i int) string {
		switch io.src[i] {
		case srcKind:
			return pod.Kind
		case srcAPIVersion:
			return pod.APIVersion
		case srcNamespace:
			return pod.Namespace
		case srcName:
			return pod.Name
		case srcUID:
			return string(pod.UID)
		case srcResourceVersion:
			return pod.ResourceVersion
		case srcConstPod:
			return "Pod"
		case srcConstV1:
			return "v1"
		case srcConstEmpty:
			return ""
		default: // copied
			n := int(io.len[i])
			at += n
			return unsafe.String(&out[at-n], n)
		}
	}
	ref.Kind = field(0)
	ref.Namespace = field(1)
	ref.Name = field(2)
	ref.UID = types.UID(field(3))
	ref.APIVersion = field(4)
	ref.ResourceVersion = field(5)
	ref.FieldPath = field(6)
}
