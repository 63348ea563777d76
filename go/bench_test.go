package kuberef_test

import (
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
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
