package interop_test

import (
	"fmt"
	"sync"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	"github.com/kuberef/kuberef/go/internal/interop"
	v1 "k8s.io/api/core/v1"
)

func TestGoSetCGets(t *testing.T) {
	id := kuberef.BuildContainerID("containerd", "go-to-c")
	pod := &v1.Pod{Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app"}}}}
	pod.Name, pod.Namespace = "web", "default"
	ref, err := kuberef.GenerateContainerRef(pod, &pod.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	kuberef.Global().SetRef(id, ref)
	name, fp, found, err := interop.CGet(id.Type, id.ID)
	if err != nil || !found || name != "web" || fp != "spec.containers{app}" {
		t.Fatalf("C read %q %q found=%v err=%v", name, fp, found, err)
	}
	// A reference in an independent manager is not visible to C's global.
	m := kuberef.NewRefManager()
	defer m.Close()
	other := kuberef.BuildContainerID("containerd", "private")
	m.SetRef(other, ref)
	if _, _, found, _ := interop.CGet(other.Type, other.ID); found {
		t.Fatal("C sees a reference stored in NewRefManager()")
	}
	if st := interop.CClear(id.Type, id.ID); st != 0 {
		t.Fatalf("C clear: status %d", st)
	}
	if _, ok := kuberef.Global().GetRef(id); ok {
		t.Fatal("Go still sees a reference C cleared")
	}
}

func TestCSetGoGets(t *testing.T) {
	id := kuberef.BuildContainerID("cri-o", "c-to-go")
	if err := interop.CSet(id.Type, id.ID, "db", "spec.initContainers{migrate}"); err != nil {
		t.Fatal(err)
	}
	got, ok := kuberef.Global().GetRef(id)
	want := v1.ObjectReference{Kind: "Pod", Namespace: "from-c", Name: "db", UID: "c-uid", APIVersion: "v1",
		ResourceVersion: "7", FieldPath: "spec.initContainers{migrate}"}
	if !ok || *got != want {
		t.Fatalf("Go read %+v %v", got, ok)
	}
	if n, c := kuberef.Global().Len(), interop.CLen(); n != c {
		t.Fatalf("Len: Go %d, C %d", n, c)
	}
	kuberef.Global().ClearRef(id)
	if _, _, found, _ := interop.CGet(id.Type, id.ID); found {
		t.Fatal("C still sees a reference Go cleared")
	}
}

// Go goroutines and C callers write and read one manager at the same time.
func TestConcurrentGoAndC(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(2)
		go func(g int) { // Go writes, C reads
			defer wg.Done()
			for i := 0; i < 300; i++ {
				id := kuberef.BuildContainerID("go", fmt.Sprintf("%d-%d", g, i))
				kuberef.Global().SetRef(id, &v1.ObjectReference{Name: id.ID, FieldPath: "fp-" + id.ID})
				name, fp, found, err := interop.CGet(id.Type, id.ID)
				if err != nil || !found || name != id.ID || fp != "fp-"+id.ID {
					t.Errorf("C read %q %q %v %v for %s", name, fp, found, err, id.ID)
					return
				}
				kuberef.Global().ClearRef(id)
			}
		}(g)
		go func(g int) { // C writes, Go reads
			defer wg.Done()
			for i := 0; i < 300; i++ {
				id := kuberef.BuildContainerID("c", fmt.Sprintf("%d-%d", g, i))
				if err := interop.CSet(id.Type, id.ID, id.ID, "fp-"+id.ID); err != nil {
					t.Error(err)
					return
				}
				got, ok := kuberef.Global().GetRef(id)
				if !ok || got.Name != id.ID || got.FieldPath != "fp-"+id.ID {
					t.Errorf("Go read %+v %v for %s", got, ok, id.ID)
					return
				}
				if interop.CClear(id.Type, id.ID) != 0 {
					t.Errorf("C clear of %s failed", id.ID)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}
