// Fixtures shared by the binding's tests.
package kuberef_test

import (
	"fmt"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func sampleRef(i int) *v1.ObjectReference {
	return &v1.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: "ns", Name: fmt.Sprintf("pod-%d", i),
		UID: "5f1c2a9e-0000-4000-8000-000000000000", ResourceVersion: "42",
		FieldPath: fmt.Sprintf("spec.containers{c%d}", i),
	}
}

func okPod() *v1.Pod {
	return &v1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "ok", Namespace: "test-ns", UID: "bar", ResourceVersion: "42",
			SelfLink: "/api/v1/pods/foo"},
		Spec: v1.PodSpec{Containers: []v1.Container{{Name: "by-name"}, {}}},
	}
}

func podRef(pod, container int) *v1.ObjectReference {
	return &v1.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: "ns", Name: fmt.Sprintf("pod-%d", pod),
		UID: types.UID(fmt.Sprintf("uid-%d", pod)), ResourceVersion: "42",
		FieldPath: fmt.Sprintf("spec.containers{c%d}", container),
	}
}

func cid(i int) kuberef.ContainerID {
	return kuberef.BuildContainerID("containerd", fmt.Sprintf("%064x", i))
}
