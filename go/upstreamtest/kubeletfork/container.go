// Package kubeletfork is what a kubelet fork's pkg/kubelet/container does to
// switch to kuberef: it replaces upstream's definitions of ContainerID,
// RefManager and GenerateContainerRef with these aliases and wrappers, and
// every caller (kubelet.go, kuberuntime, prober) compiles and behaves as
// before, except for the differences the binding documents.
package kubeletfork

import (
	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
)

// runtime.go: the ContainerID type and its constructors.
type ContainerID = kuberef.ContainerID

func BuildContainerID(typ, ID string) ContainerID { return kuberef.BuildContainerID(typ, ID) }
func ParseContainerID(containerID string) ContainerID {
	return kuberef.ParseContainerID(containerID)
}

// container_reference_manager.go: the manager, shared with C and plugins.
type RefManager = kuberef.RefManager

func NewRefManager() *RefManager { return kuberef.Global() }

// ref.go: the reference generator.
const ImplicitContainerPrefix = kuberef.ImplicitContainerPrefix

func GenerateContainerRef(pod *v1.Pod, container *v1.Container) (*v1.ObjectReference, error) {
	return kuberef.GenerateContainerRef(pod, container)
}
