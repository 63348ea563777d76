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

// GetRef shares references (one pointer while the stored reference stays
// the same) and never returns one that C has replaced or cleared.
func TestSharedReferencesFollowCWrites(t *testing.T) {
	g := kuberef.Global()
	id := kuberef.BuildContainerID("containerd", "shared-follow")
	defer g.ClearRef(id)
	if err := interop.CSet(id.Type, id.ID, "first", "spec.containers{a}"); err != nil {
		t.Fatal(err)
	}
	a, ok := g.GetRef(id)
	if !ok || a.Name != "first" {
		t.Fatalf("GetRef = %+v %v", a, ok)
	}
	if b, _ := g.GetRef(id); b != a {
		t.Fatal("unchanged stored reference: GetRef returned another pointer")
	}
	// C stores an equal reference again: a new stored reference, so a new
	// Go value (the old one may have been changed by its holder).
	if err := interop.CSet(id.Type, id.ID, "first", "spec.containers{a}"); err != nil {
		t.Fatal(err)
	}
	b, ok := g.GetRef(id)
	if !ok || b == a || *b != *a {
		t.Fatalf("after C's store: %+v %v (same pointer %v)", b, ok, b == a)
	}
	if err := interop.CSet(id.Type, id.ID, "second", "spec.containers{b}"); err != nil {
		t.Fatal(err)
	}
	if c, ok := g.GetRef(id); !ok || c.Name != "second" || c.FieldPath != "spec.containers{b}" {
		t.Fatalf("after C's change: %+v %v", c, ok)
	}
	if st := interop.CClear(id.Type, id.ID); st != 0 {
		t.Fatalf("C clear: %d", st)
	}
	if c, ok := g.GetRef(id); ok || c != nil {
		t.Fatalf("after C's clear: %+v %v", c, ok)
	}
	// Go stores, C overwrites: Go's pointer is not returned any more.
	mine := &v1.ObjectReference{Name: "mine"}
	g.SetRef(id, mine)
	if c, _ := g.GetRef(id); c != mine {
		t.Fatal("GetRef after SetRef: not the stored pointer")
	}
	if err := interop.CSet(id.Type, id.ID, "theirs", "x"); err != nil {
		t.Fatal(err)
	}
	if c, ok := g.GetRef(id); !ok || c == mine || c.Name != "theirs" {
		t.Fatalf("after C overwrote Go's reference: %+v %v", c, ok)
	}
}

// While nothing in the manager changes, GetRef answers from Go without a
// library lookup; any change, even to another key and even from C, makes
// the next GetRef ask the library once, which keeps the same pointer when
// the stored reference is the same.
func TestGetRefSkipsTheLibraryWhileNothingChanges(t *testing.T) {
	g := kuberef.Global()
	id := kuberef.BuildContainerID("containerd", "skip-library")
	other := kuberef.BuildContainerID("containerd", "skip-library-other")
	defer g.ClearRef(id)
	defer g.ClearRef(other)
	mine := &v1.ObjectReference{Name: "mine"}
	g.SetRef(id, mine)
	before := interop.CLookups()
	for i := 0; i < 100; i++ {
		if ref, ok := g.GetRef(id); !ok || ref != mine {
			t.Fatalf("GetRef = %p %v, want the stored pointer %p", ref, ok, mine)
		}
	}
	if n := interop.CLookups() - before; n != 0 {
		t.Fatalf("%d library lookups for 100 GetRefs of an unchanged manager", n)
	}
	if err := interop.CSet(other.Type, other.ID, "other", "fp"); err != nil {
		t.Fatal(err)
	}
	before = interop.CLookups()
	for i := 0; i < 100; i++ {
		if ref, ok := g.GetRef(id); !ok || ref != mine {
			t.Fatalf("after a C write of another key: GetRef = %p %v", ref, ok)
		}
	}
	if n := interop.CLookups() - before; n != 1 {
		t.Fatalf("%d library lookups after one change, want 1", n)
	}
	// A miss is not cached: every GetRef of an absent key asks.
	before = interop.CLookups()
	for i := 0; i < 3; i++ {
		if _, ok := g.GetRef(kuberef.BuildContainerID("containerd", "skip-library-absent")); ok {
			t.Fatal("absent key found")
		}
	}
	if n := interop.CLookups() - before; n != 3 {
		t.Fatalf("%d library lookups for 3 misses", n)
	}
}

// Go's SetRef and C's set race on one key: once both stop, GetRef returns
// what the library holds (C's value or the last Go pointer), never a value
// the other writer replaced.
func TestGoAndCWritersRaceOnOneKey(t *testing.T) {
	g := kuberef.Global()
	id := kuberef.BuildContainerID("containerd", "race-one-key")
	defer g.ClearRef(id)
	for round := 0; round < 200; round++ {
		var wg sync.WaitGroup
		var last *v1.ObjectReference
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				last = &v1.ObjectReference{Name: fmt.Sprintf("go-%d-%d", round, i)}
				g.SetRef(id, last)
				g.GetRef(id)
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if err := interop.CSet(id.Type, id.ID, fmt.Sprintf("c-%d-%d", round, i), "fp"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		wg.Wait()
		name, _, found, err := interop.CGet(id.Type, id.ID)
		if err != nil || !found {
			t.Fatalf("C get: %v %v", found, err)
		}
		ref, ok := g.GetRef(id)
		if !ok || ref.Name != name {
			t.Fatalf("round %d: GetRef = %+v %v, the library holds %q", round, ref, ok, name)
		}
		if name == last.Name && ref != last {
			t.Fatalf("round %d: Go's own value is stored but GetRef returned another pointer", round)
		}
	}
}

// While C rewrites a key, Go readers on several goroutines see every
// completed write: a reader that starts after write i returns i or later,
// never an older cached value.
func TestSharedReferencesUnderConcurrentCWrites(t *testing.T) {
	g := kuberef.Global()
	id := kuberef.BuildContainerID("containerd", "shared-concurrent")
	defer g.ClearRef(id)
	var done sync.WaitGroup
	var latest sync.Map // "v": the last completed write's number
	latest.Store("v", -1)
	stop := make(chan struct{})
	for r := 0; r < 4; r++ {
		done.Add(1)
		go func() {
			defer done.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				v, _ := latest.Load("v")
				before := v.(int)
				ref, ok := g.GetRef(id)
				if before < 0 {
					continue
				}
				var got int
				if !ok {
					t.Errorf("reference missing after write %d", before)
					return
				}
				if _, err := fmt.Sscanf(ref.Name, "w%d", &got); err != nil || got < before {
					t.Errorf("read %q after write %d completed", ref.Name, before)
					return
				}
			}
		}()
	}
	for i := 0; i < 3000; i++ {
		if err := interop.CSet(id.Type, id.ID, fmt.Sprintf("w%d", i), "fp"); err != nil {
			t.Fatal(err)
		}
		latest.Store("v", i)
	}
	close(stop)
	done.Wait()
}
