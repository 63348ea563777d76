package upstreamtest

import (
	"fmt"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/reference"
	kubecontainer "k8s.io/kubernetes/pkg/kubelet/container"
)

// The benchmarks run each operation on the binding ("kuberef") and on the
// real upstream v1.18.6 code ("upstream": kubecontainer.RefManager and
// kubecontainer.GenerateContainerRef from k8s.io/kubernetes v1.18.6, plus
// client-go v0.18.6's GetPartialReference on its own), so one
// `go test -bench` run prints both.

const benchRefs = 1000

func benchPod() *v1.Pod {
	return &v1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "web-7d4b9c8f6d-x2k9p", Namespace: "default",
			UID: "5f1c2a9e-3b7d-4c1e-9a2f-8e6d4c2b1a09", ResourceVersion: "120734"},
		Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app"}, {Name: "log-shipper"}}},
	}
}

func benchIDs() ([]kubecontainer.ContainerID, []*v1.ObjectReference) {
	ids := make([]kubecontainer.ContainerID, benchRefs)
	refs := make([]*v1.ObjectReference, benchRefs)
	pod := benchPod()
	for i := range ids {
		ids[i] = kubecontainer.ContainerID{Type: "containerd", ID: fmt.Sprintf("%064x", i*7919)}
		r, _ := kubecontainer.GenerateContainerRef(pod, &pod.Spec.Containers[i%2])
		refs[i] = r
	}
	return ids, refs
}

type benchStore interface {
	SetRef(kubecontainer.ContainerID, *v1.ObjectReference)
	GetRef(kubecontainer.ContainerID) (*v1.ObjectReference, bool)
	ClearRef(kubecontainer.ContainerID)
}

type kuberefBench struct{ m *kuberef.RefManager }

func (k kuberefBench) SetRef(id kubecontainer.ContainerID, r *v1.ObjectReference) {
	k.m.SetRef(kuberef.ContainerID(id), r)
}
func (k kuberefBench) GetRef(id kubecontainer.ContainerID) (*v1.ObjectReference, bool) {
	return k.m.GetRef(kuberef.ContainerID(id))
}
func (k kuberefBench) ClearRef(id kubecontainer.ContainerID) { k.m.ClearRef(kuberef.ContainerID(id)) }

func stores(b *testing.B) []struct {
	name string
	s    benchStore
	done func()
} {
	k := kuberef.NewRefManager()
	b.Cleanup(func() { k.Close() })
	return []struct {
		name string
		s    benchStore
		done func()
	}{
		{"kuberef", kuberefBench{k}, func() {}},
		{"upstream", kubecontainer.NewRefManager(), func() {}},
	}
}

var sinkRef *v1.ObjectReference

func BenchmarkSetRef(b *testing.B) {
	ids, refs := benchIDs()
	for _, st := range stores(b) {
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				st.s.SetRef(ids[i%benchRefs], refs[i%benchRefs])
			}
		})
	}
}

func BenchmarkGetRef(b *testing.B) {
	ids, refs := benchIDs()
	for _, st := range stores(b) {
		for i := range ids {
			st.s.SetRef(ids[i], refs[i])
		}
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sinkRef, _ = st.s.GetRef(ids[i%benchRefs])
			}
		})
	}
}

func BenchmarkGetRefParallel(b *testing.B) {
	ids, refs := benchIDs()
	for _, st := range stores(b) {
		for i := range ids {
			st.s.SetRef(ids[i], refs[i])
		}
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var r *v1.ObjectReference
				i := 0
				for pb.Next() {
					r, _ = st.s.GetRef(ids[i%benchRefs])
					i++
				}
				_ = r
			})
		})
	}
}

// BenchmarkClearRef times ClearRef of stored references only; the timer is
// stopped while each batch of benchRefs references is stored again.
func BenchmarkClearRef(b *testing.B) {
	ids, refs := benchIDs()
	for _, st := range stores(b) {
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if i%benchRefs == 0 {
					b.StopTimer()
					for j := range ids {
						st.s.SetRef(ids[j], refs[j])
					}
					b.StartTimer()
				}
				st.s.ClearRef(ids[i%benchRefs])
			}
		})
	}
}

func BenchmarkSetClearRef(b *testing.B) {
	ids, refs := benchIDs()
	for _, st := range stores(b) {
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				st.s.SetRef(ids[i%benchRefs], refs[i%benchRefs])
				st.s.ClearRef(ids[i%benchRefs])
			}
		})
	}
}

func BenchmarkGenerateContainerRef(b *testing.B) {
	pod := benchPod()
	c := &v1.Container{Name: "log-shipper"}
	b.Run("kuberef", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkRef, _ = kuberef.GenerateContainerRef(pod, c)
		}
	})
	b.Run("upstream", func(b *testing.B) { // k8s.io/kubernetes v1.18.6 pkg/kubelet/container
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkRef, _ = kubecontainer.GenerateContainerRef(pod, c)
		}
	})
	b.Run("clientgo-GetPartialReference", func(b *testing.B) { // field path given, client-go's scheme
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkRef, _ = reference.GetPartialReference(scheme.Scheme, pod, "spec.containers{log-shipper}")
		}
	})
	emptyTM := benchPod()
	emptyTM.TypeMeta = metav1.TypeMeta{}
	b.Run("kuberef-emptyTypeMeta", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkRef, _ = kuberef.GenerateContainerRef(emptyTM, c)
		}
	})
	b.Run("upstream-emptyTypeMeta", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkRef, _ = kubecontainer.GenerateContainerRef(emptyTM, c)
		}
	})
}

var sinkErr error

func BenchmarkParseString(b *testing.B) {
	const text = "containerd://9b1e4c7d2a3f5e6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
	b.Run("kuberef", func(b *testing.B) {
		b.ReportAllocs()
		var id kuberef.ContainerID
		for i := 0; i < b.N; i++ {
			sinkErr = id.ParseString(text)
		}
	})
	b.Run("upstream", func(b *testing.B) {
		b.ReportAllocs()
		var id kubecontainer.ContainerID
		for i := 0; i < b.N; i++ {
			sinkErr = id.ParseString(text)
		}
	})
}

var sinkString string

func BenchmarkContainerIDString(b *testing.B) {
	id := kubecontainer.ContainerID{Type: "containerd", ID: "9b1e4c7d2a3f5e6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"}
	kid := kuberef.ContainerID(id)
	b.Run("kuberef", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkString = kid.String()
		}
	})
	b.Run("upstream", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkString = id.String()
		}
	})
}
