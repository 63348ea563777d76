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
// A string longer than MaxStringLen among those the C library reads (the
// pod's kind, apiVersion, namespace, name, uid and resourceVersion, the
// searched containers' names, the container's name) gets an *Error
// (Status KUBEREF_INVALID_ARGUMENT) where upstream returns a reference: the
// function has an error result for it, the library builds every reference
// (answering anyway would take a second implementation in Go), and a
// reference with such a field could not be stored by SetRef anyway.
//
// As upstream's does, the returned reference shares string bytes with the
// pod: a field equal to one of the pod's fields is that field's string, and
// "Pod" and "v1" are constants. The field path may be shared with other
// references this function returned (recent field paths are kept in a small
// fixed table), so a typical call allocates only the ObjectReference.
// Strings are immutable, so none of this is visible except through unsafe.
func GenerateContainerRef(pod *v1.Pod, container *v1.Container) (*v1.ObjectReference, error) {
	return generateContainerRef(pod, container, ephemeralContainers.Load())
}

// generateContainerRef is GenerateContainerRef with the ephemeral containers
// searched if and only if ephemeral is true.
func generateContainerRef(pod *v1.Pod, container *v1.Container, ephemeral bool) (*v1.ObjectReference, error) {
	if pod == nil {
		return nil, ErrNilPod
	}
	if container == nil {
		return nil, ErrNilContainer
	}
	spec := &pod.Spec
	nc, ni, ne := len(spec.Containers), len(spec.InitContainers), len(spec.EphemeralContainers)
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
		k := 0
		for i := 0; i < nc; i++ {
			direct[k] = spec.Containers[i].Name
			k++
		}
		for i := 0; i < ni; i++ {
			direct[k] = spec.InitContainers[i].Name
			k++
		}
		for i := 0; i < ne; i++ {
			direct[k] = spec.EphemeralContainers[i].Name
			k++
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

	// The library's output fields that equal none of the pod's fields or
	// the constants (normally just the field path) are copied into out: on
	// the stack, or for a long container name on the heap.
	var stackOut [genStackOut]byte
	var heapOut []byte
	outPtr, outLen := &stackOut[0], len(stackOut)
	if n := len(ImplicitContainerPrefix) + len(container.Name); n > outLen {
		heapOut = make([]byte, n)
		outPtr, outLen = &heapOut[0], n
	}
	for {
		var io genIO
		cGenerate(pod, container.Name, ephemeral, nc, ni, ne, &direct, unsafe.SliceData(lens), unsafe.SliceData(names),
			outPtr, outLen, &io)
		switch st := uint32(io.status); st {
		case StatusOK:
			// The copied fields, back to back, as one string: interned
			// from the stack, or pointing into the heap buffer.
			var copied string
			if heapOut != nil {
				copied = unsafe.String(&heapOut[0], int(io.needed))
			} else {
				copied = intern(stackOut[:io.needed], uint64(io.hash))
			}
			return newGenerated(pod, copied, &io), nil
		case StatusBufferTooSmall: // a long field path or copied TypeMeta fields
			heapOut = make([]byte, io.needed)
			outPtr, outLen = &heapOut[0], len(heapOut)
		default:
			return nil, &Error{Op: "GenerateContainerRef", Status: st}
		}
	}
}

// genStackOut is the room GenerateContainerRef gives the library's copied
// fields on its stack: the field path of a container whose name has up to 34
// bytes (implicit) or 47 (in spec.containers).
const genStackOut = 64

// The intern table: field paths (the copied fields of GenerateContainerRef)
// recently returned, so that a field path already seen is returned as the
// same string instead of new bytes. A kubelet's pods share few distinct
// container names, so nearly every call finds its field path here, and
// GenerateContainerRef allocates only the ObjectReference. The table is a
// fixed array of slots selected by a hash of the bytes: bounded memory, no
// lock (a slot is one atomic pointer; a newer string replaces an older one).
type internEntry struct{ s string }

var internTable [internSlots]atomic.Pointer[internEntry]

const internSlots = 256

// intern returns a string with b's bytes (whose hash the C helper computed):
// the table's, or a new one that then takes b's slot.
func intern(b []byte, hash uint64) string {
	if len(b) == 0 {
		return ""
	}
	slot := &internTable[hash%internSlots]
	if e := slot.Load(); e != nil && e.s == string(b) {
		return e.s
	}
	e := &internEntry{string(b)}
	slot.Store(e)
	return e.s
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
// names of a medium-sized pod. The C helper is marked noescape and
// nocallback (shim.go), so passing it, stackOut and the genIO does not move
// them to the heap.
type genScratch struct {
	lens  [16]uint32
	names [256]byte
}

// newGenerated returns the reference the helper described: the pod's own
// strings or constants where the library's output equals them, else the
// bytes it copied (copied holds them back to back in field order).
func newGenerated(pod *v1.Pod, copied string, io *genIO) *v1.ObjectReference {
	src := &io.src
	if src[1] == srcNamespace && src[2] == srcName && src[3] == srcUID && src[5] == srcResourceVersion &&
		src[6] == srcCopied && (src[0] == srcKind || src[0] == srcConstPod) &&
		(src[4] == srcAPIVersion || src[4] == srcConstV1) {
		// The usual shape: only the field path copied, Kind and APIVersion
		// the pod's or "Pod" and "v1".
		kind, apiVersion := pod.Kind, pod.APIVersion
		if src[0] == srcConstPod {
			kind = "Pod"
		}
		if src[4] == srcConstV1 {
			apiVersion = "v1"
		}
		return &v1.ObjectReference{Kind: kind, Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
			APIVersion: apiVersion, ResourceVersion: pod.ResourceVersion, FieldPath: copied}
	}
	at := 0
	field := func(i int) string {
		switch src[i] {
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
			return copied[at-n : at]
		}
	}
	// In field order, as the copied bytes are.
	kind, namespace, name, uid := field(0), field(1), field(2), field(3)
	apiVersion, resourceVersion, fieldPath := field(4), field(5), field(6)
	return &v1.ObjectReference{Kind: kind, Namespace: namespace, Name: name, UID: types.UID(uid),
		APIVersion: apiVersion, ResourceVersion: resourceVersion, FieldPath: fieldPath}
}
