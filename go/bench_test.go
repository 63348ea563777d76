package kuberef_test

import (
	"fmt"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkCgoFloor is one cgo call that does nothing (kuberef_abi_version):
// the fixed cost every operation of the binding pays.
func BenchmarkCgoFloor(b *testing.B) {
	for i := 0; i < b.N; i++ {
		kuberef.ABIVersion()
	}
}

var sink *v1.ObjectReference

func BenchmarkGetRefBinding(b *testing.B) {
	m := kuberef.NewRefManager()
	defer m.Close()
	id := kuberef.BuildContainerID("containerd", "9b1e4c7d2a3f5e6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b")
	m.SetRef(id, &v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Name: "web-7d4b9c8f6d-x2k9p", Namespace: "default",
		UID: "5f1c2a9e-3b7d-4c1e-9a2f-8e6d4c2b1a09", ResourceVersion: "120734", FieldPath: "spec.containers{log-shipper}"})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sink, _ = m.GetRef(id)
	}
}

// BenchmarkSetClearBinding is SetRef then ClearRef of one of 64 keys.
func BenchmarkSetClearBinding(b *testing.B) {
	m := kuberef.NewRefManager()
	defer m.Close()
	ids := make([]kuberef.ContainerID, 64)
	refs := make([]*v1.ObjectReference, 64)
	for i := range ids {
		ids[i] = kuberef.BuildContainerID("containerd", fmt.Sprintf("%064x", i*7919+1))
		refs[i] = &v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Name: fmt.Sprintf("web-7d4b9c8f6d-%05d", i),
			Namespace: "default", UID: "5f1c2a9e-3b7d-4c1e-9a2f-8e6d4c2b1a09", ResourceVersion: "120734",
			FieldPath: "spec.containers{log-shipper}"}
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		k := i & 63
		m.SetRef(ids[k], refs[k])
		m.ClearRef(ids[k])
	}
}

// lifecyclePods returns the keys and pods of the lifecycle benchmarks: 64
// containers, each the second of its pod's two.
func lifecyclePods() ([]kuberef.ContainerID, []*v1.Pod) {
	const n = 64
	ids := make([]kuberef.ContainerID, n)
	pods := make([]*v1.Pod, n)
	for i := range ids {
		ids[i] = kuberef.BuildContainerID("containerd", fmt.Sprintf("%064x", i*7919+1))
		pods[i] = &v1.Pod{
			TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-7d4b9c8f6d-%05d", i), Namespace: "default", UID: "5f1c2a9e-3b7d-4c1e-9a2f-8e6d4c2b1a09", ResourceVersion: "120734"},
			Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "app"}, {Name: "log-shipper"}}},
		}
	}
	return ids, pods
}

// BenchmarkLifecycleBinding is the kubelet's sequence for one container:
// generate, SetRef, three GetRefs, ClearRef.
func BenchmarkLifecycleBinding(b *testing.B) {
	m := kuberef.NewRefManager()
	defer m.Close()
	ids, pods := lifecyclePods()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		k := i & (len(ids) - 1)
		ref, err := kuberef.GenerateContainerRef(pods[k], &pods[k].Spec.Containers[1])
		if err != nil {
			b.Fatal(err)
		}
		m.SetRef(ids[k], ref)
		for g := 0; g < 3; g++ {
			sink, _ = m.GetRef(ids[k])
		}
		m.ClearRef(ids[k])
	}
}

// BenchmarkGenerateLifecycleBinding is the lifecycle's generate alone.
func BenchmarkGenerateLifecycleBinding(b *testing.B) {
	_, pods := lifecyclePods()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		k := i & (len(pods) - 1)
		ref, err := kuberef.GenerateContainerRef(pods[k], &pods[k].Spec.Containers[1])
		if err != nil {
			b.Fatal(err)
		}
		sink = ref
	}
}

// BenchmarkSetReadClearBinding is the lifecycle without its generate (the
// references generated once, beforehand): a SetRef read three times before
// its ClearRef, which SetRef caches at once (see pendingSets).
func BenchmarkSetReadClearBinding(b *testing.B) {
	m := kuberef.NewRefManager()
	defer m.Close()
	ids, pods := lifecyclePods()
	refs := make([]*v1.ObjectReference, len(ids))
	for k := range refs {
		var err error
		if refs[k], err = kuberef.GenerateContainerRef(pods[k], &pods[k].Spec.Containers[1]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		k := i & (len(ids) - 1)
		m.SetRef(ids[k], refs[k])
		for g := 0; g < 3; g++ {
			sink, _ = m.GetRef(ids[k])
		}
		m.ClearRef(ids[k])
	}
}

// BenchmarkGetRefAfterChangeBinding is a GetRef of a cached reference after
// a change elsewhere in the manager (a ClearRef of an absent key, which the
// library may count as one): the path that asks the library for the stamp.
func BenchmarkGetRefAfterChangeBinding(b *testing.B) {
	m := kuberef.NewRefManager()
	defer m.Close()
	id := kuberef.BuildContainerID("containerd", "9b1e4c7d2a3f5e6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b")
	other := kuberef.BuildContainerID("containerd", "absent")
	m.SetRef(id, &v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Name: "web-7d4b9c8f6d-x2k9p", Namespace: "default",
		UID: "5f1c2a9e-3b7d-4c1e-9a2f-8e6d4c2b1a09", ResourceVersion: "120734", FieldPath: "spec.containers{log-shipper}"})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.ClearRef(other)
		sink, _ = m.GetRef(id)
	}
}

// BenchmarkClearAbsentBinding is the ClearRef of BenchmarkGetRefAfterChangeBinding alone.
func BenchmarkClearAbsentBinding(b *testing.B) {
	m := kuberef.NewRefManager()
	defer m.Close()
	other := kuberef.BuildContainerID("containerd", "absent")
	for i := 0; i < b.N; i++ {
		m.ClearRef(other)
	}
}
