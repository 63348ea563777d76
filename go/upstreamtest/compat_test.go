package upstreamtest

import (
	"encoding/json"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	kubeletfork "github.com/kuberef/kuberef/kubelet/container"
	v1 "k8s.io/api/core/v1"
	kubecontainer "k8s.io/kubernetes/pkg/kubelet/container"
)

// Compile-time checks that the binding has upstream's API shape.
var (
	// ContainerID converts both ways (same fields, same order).
	_ = kubecontainer.ContainerID(kuberef.ContainerID{})
	_ = kuberef.ContainerID(kubecontainer.ContainerID{})

	// The same functions with the same signatures.
	_ func(string, string) kubecontainer.ContainerID = kubecontainer.BuildContainerID
	_ func(string, string) kuberef.ContainerID       = kuberef.BuildContainerID
	_ func(string) kubecontainer.ContainerID         = kubecontainer.ParseContainerID
	_ func(string) kuberef.ContainerID               = kuberef.ParseContainerID
	_ func() *kubecontainer.RefManager               = kubecontainer.NewRefManager
	_ func() *kuberef.RefManager                     = kuberef.NewRefManager

	_ func(*v1.Pod, *v1.Container) (*v1.ObjectReference, error) = kubecontainer.GenerateContainerRef
	_ func(*v1.Pod, *v1.Container) (*v1.ObjectReference, error) = kuberef.GenerateContainerRef
	_ string                                                    = kuberef.ImplicitContainerPrefix

	// ContainerID's pointer method set and JSON interfaces.
	_ containerIDMethods = (*kubecontainer.ContainerID)(nil)
	_ containerIDMethods = (*kuberef.ContainerID)(nil)

	// RefManager's method set, with each package's ContainerID.
	_ interface {
		SetRef(kubecontainer.ContainerID, *v1.ObjectReference)
		GetRef(kubecontainer.ContainerID) (*v1.ObjectReference, bool)
		ClearRef(kubecontainer.ContainerID)
	} = (*kubecontainer.RefManager)(nil)
	_ interface {
		SetRef(kuberef.ContainerID, *v1.ObjectReference)
		GetRef(kuberef.ContainerID) (*v1.ObjectReference, bool)
		ClearRef(kuberef.ContainerID)
		Len() int
		Close() error
	} = (*kuberef.RefManager)(nil)
)

type containerIDMethods interface {
	ParseString(string) error
	String() string
	IsEmpty() bool
	json.Marshaler
	json.Unmarshaler
}

// TestKubeletForkAliases uses the fork's package the way kuberuntime and the
// prober use upstream's, and checks ImplicitContainerPrefix is upstream's.
func TestKubeletForkAliases(t *testing.T) {
	if kuberef.ImplicitContainerPrefix != kubecontainer.ImplicitContainerPrefix {
		t.Fatalf("ImplicitContainerPrefix %q, upstream %q", kuberef.ImplicitContainerPrefix, kubecontainer.ImplicitContainerPrefix)
	}
	var refs *kubeletfork.RefManager = kubeletfork.NewRefManager() // kubelet.go
	pod := &v1.Pod{Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app"}}}}
	pod.Name, pod.Namespace, pod.UID = "web", "default", "u1"
	ref, err := kubeletfork.GenerateContainerRef(pod, &pod.Spec.Containers[0]) // kuberuntime startContainer
	if err != nil {
		t.Fatal(err)
	}
	id := kubeletfork.ContainerID{Type: "containerd", ID: "fork-1"}
	refs.SetRef(id, ref)
	if got, ok := refs.GetRef(kubeletfork.ParseContainerID(id.String())); !ok || *got != *ref { // prober
		t.Fatalf("GetRef = %+v %v", got, ok)
	}
	refs.ClearRef(kubeletfork.BuildContainerID("containerd", "fork-1")) // killContainer
	if _, ok := kuberef.Global().GetRef(kuberef.ContainerID(id)); ok {
		t.Fatal("not cleared from the global manager")
	}
}
