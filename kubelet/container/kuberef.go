// This file is the kuberef kubelet fork kit's replacement for three parts of
// a Kubernetes v1.18 kubelet's pkg/kubelet/container: the ContainerID type
// and its constructors (from runtime.go), the RefManager
// (container_reference_manager.go) and GenerateContainerRef (ref.go). The
// kit's fork.sh deletes those definitions and installs this file; every
// caller (kubelet.go, kuberuntime, the prober, dockershim) then compiles
// unchanged and keeps and generates its container references through the
// kuberef C library. See docs/kubelet-fork.md in the kuberef repository.

package container

import (
	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/klog"
	"k8s.io/kubernetes/pkg/features"
)

// ContainerID identifies a container by its runtime's type ("docker",
// "containerd") and the runtime's ID for it. It is kuberef's ContainerID:
// the same two fields in the same order, with ParseString, String, IsEmpty
// and the JSON methods giving the same results and errors as the type it
// replaces.
type ContainerID = kuberef.ContainerID

// BuildContainerID returns ContainerID{Type: typ, ID: ID}.
func BuildContainerID(typ, ID string) ContainerID {
	return kuberef.BuildContainerID(typ, ID)
}

// ParseContainerID parses "type://id" (see ContainerID.ParseString). Text
// that is not a container ID gives the zero ContainerID, and the parse error
// is logged through klog.
func ParseContainerID(containerID string) ContainerID {
	var id ContainerID
	if err := id.ParseString(containerID); err != nil {
		klog.Error(err)
	}
	return id
}

// RefManager keeps the kubelet's container references by container ID
// (SetRef, GetRef, ClearRef), safe for concurrent use. It is kuberef's
// RefManager; how it differs from the type it replaces is listed in the
// binding's documentation (kuberef.RefManager).
type RefManager = kuberef.RefManager

// NewRefManager returns the process-wide manager, kuberef.Global(), whose
// references C code and plugins that use the same loaded libkuberef also see.
// Every call returns that same manager: the kubelet makes one RefManager and
// hands it to kuberuntime and the prober, so the one it makes is the shared
// one. Code that needs a private, empty manager calls kuberef.NewRefManager.
func NewRefManager() *RefManager {
	return kuberef.Global()
}

// ImplicitContainerPrefix starts the field path of a reference to a
// container that is in none of the pod's searched container lists; the
// container's name follows it.
const ImplicitContainerPrefix = kuberef.ImplicitContainerPrefix

// GenerateContainerRef returns the reference to container within pod that
// the kubelet attaches to the container's events: the pod's kind, API
// version, name, namespace, UID and resource version, and a field path
// naming the container in spec.containers, spec.initContainers or, while
// the EphemeralContainers feature gate is enabled, spec.ephemeralContainers
// (or ImplicitContainerPrefix and its name if it is in none of them). The
// gate is read from utilfeature.DefaultFeatureGate on every call, so the
// result follows --feature-gates without any set-up. It never fails for a
// real pod; a nil pod or container gives kuberef.ErrNilPod or
// kuberef.ErrNilContainer.
func GenerateContainerRef(pod *v1.Pod, container *v1.Container) (*v1.ObjectReference, error) {
	return kuberef.GenerateContainerRefWith(pod, container, kuberef.GenerateOptions{
		EphemeralContainers: utilfeature.DefaultFeatureGate.Enabled(features.EphemeralContainers),
	})
}
