package kuberef_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
)

func TestRefManagerBasics(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	id := kuberef.BuildContainerID("containerd", "abc")
	if ref, ok := m.GetRef(id); ok || ref != nil {
		t.Fatalf("GetRef on empty = %v, %v", ref, ok)
	}
	want := sampleRef(1)
	m.SetRef(id, want)
	got, ok := m.GetRef(id)
	if !ok || *got != *want {
		t.Fatalf("GetRef = %+v, %v; want %+v", got, ok, want)
	}
	// As upstream: GetRef returns the pointer SetRef stored, every time.
	if got != want {
		t.Fatal("GetRef after SetRef on the same RefManager: not the stored pointer")
	}
	if again, _ := m.GetRef(id); again != want {
		t.Fatal("a second GetRef returned another pointer")
	}
	// The library keeps its own copy: what other readers (C, Snapshot) see
	// does not follow later changes to the Go value.
	want.Name = "changed after SetRef"
	snap := m.Snapshot()
	if len(snap) != 1 || snap[0].Ref.Name != "pod-1" {
		t.Fatalf("library copy changed with the Go value: %+v", snap)
	}
	want.Name = "pod-1"
	// Keys compare byte for byte on both fields.
	for _, other := range []kuberef.ContainerID{{"docker", "abc"}, {"containerd", "abcd"}, {"containerdab", "c"}, {}} {
		if _, ok := m.GetRef(other); ok {
			t.Errorf("GetRef(%+v) found a reference", other)
		}
	}
	m.SetRef(id, sampleRef(2)) // overwrite
	if got, _ := m.GetRef(id); got.Name != "pod-2" || m.Len() != 1 {
		t.Fatalf("overwrite: %+v, len %d", got, m.Len())
	}
	m.SetRef(kuberef.ContainerID{}, sampleRef(3)) // the zero ID is a key
	if m.Len() != 2 {
		t.Fatalf("Len = %d, want 2", m.Len())
	}
	m.ClearRef(id)
	m.ClearRef(id) // absent: no-op
	if _, ok := m.GetRef(id); ok || m.Len() != 1 {
		t.Fatalf("after ClearRef: ok=%v len=%d", ok, m.Len())
	}
	// SetRef(id, nil) is ClearRef(id) (documented difference from upstream).
	m.SetRef(kuberef.ContainerID{}, nil)
	if ref, ok := m.GetRef(kuberef.ContainerID{}); ok || ref != nil || m.Len() != 0 {
		t.Fatalf("SetRef(nil): %v %v len %d", ref, ok, m.Len())
	}
}

func TestRefManagerLongAndBinaryStrings(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	for _, n := range []int{0, 1, 100, 143, 144, 145, 300, 70000} {
		ref := &v1.ObjectReference{
			Kind: strings.Repeat("k", n), Namespace: "n\x00s", Name: strings.Repeat("é", n/2),
			UID: "", APIVersion: "v1", ResourceVersion: strings.Repeat("9", n%7), FieldPath: "f\x00",
		}
		id := kuberef.BuildContainerID("t\x00", fmt.Sprint(n))
		m.SetRef(id, ref)
		got, ok := m.GetRef(id)
		if !ok || *got != *ref {
			t.Fatalf("n=%d: GetRef = %+v, %v", n, got, ok)
		}
	}
}

func TestManagersAreIndependentAndGlobalIsShared(t *testing.T) {
	a, b := kuberef.NewRefManager(), kuberef.NewRefManager()
	defer a.Close()
	defer b.Close()
	id := kuberef.BuildContainerID("containerd", "indep")
	a.SetRef(id, sampleRef(1))
	if _, ok := b.GetRef(id); ok || b.Len() != 0 {
		t.Fatal("a reference set in one manager is visible in another")
	}
	if _, ok := kuberef.Global().GetRef(id); ok {
		t.Fatal("a reference set in a new manager is visible in Global")
	}
	if kuberef.Global() != kuberef.Global() {
		t.Fatal("Global returns different managers")
	}
	g := kuberef.Global()
	g.SetRef(id, sampleRef(7))
	defer g.ClearRef(id)
	if got, ok := kuberef.Global().GetRef(id); !ok || got.Name != "pod-7" {
		t.Fatalf("Global GetRef = %+v %v", got, ok)
	}
	if err := g.Close(); err != nil { // no-op on the global
		t.Fatal(err)
	}
	if _, ok := g.GetRef(id); !ok {
		t.Fatal("Close on Global freed it")
	}
}

func TestCloseIdempotentAndUseAfterClosePanics(t *testing.T) {
	m := kuberef.NewRefManager()
	m.SetRef(kuberef.ContainerID{Type: "a", ID: "b"}, sampleRef(1))
	if m.Close() != nil || m.Close() != nil {
		t.Fatal("Close returned an error")
	}
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("GetRef after Close did not panic")
		}
	}()
	m.GetRef(kuberef.ContainerID{Type: "a", ID: "b"})
}

func TestFinalizerFreesUnclosedManagers(t *testing.T) {
	for i := 0; i < 1000; i++ {
		m := kuberef.NewRefManager()
		m.SetRef(kuberef.ContainerID{Type: "t", ID: fmt.Sprint(i)}, sampleRef(i))
	}
	runtime.GC()
	runtime.GC()
	m := kuberef.NewRefManager()
	defer m.Close()
	if m.Len() != 0 {
		t.Fatal("new manager not empty")
	}
}

func TestConcurrentUse(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				id := kuberef.ContainerID{Type: "containerd", ID: fmt.Sprintf("%d-%d", g, i%50)}
				ref := sampleRef(i)
				m.SetRef(id, ref)
				got, ok := m.GetRef(id)
				if !ok || *got != *ref {
					t.Errorf("goroutine %d: GetRef = %+v %v, want %+v", g, got, ok, ref)
					return
				}
				if i%3 == 0 {
					m.ClearRef(id)
				}
			}
		}(g)
	}
	wg.Wait()
}

// Goroutines that each own their keys set, read and clear them in a random
// mix (phases that read what they set, phases that never read, so that
// SetRef moves between caching at once and leaving sets pending), while the
// others' changes move the counter and share the pending slots: every
// GetRef returns exactly the pointer its goroutine stored last, or nothing
// after its ClearRef.
func TestOwnKeysReadBackExactlyUnderChurn(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	const goroutines, keys, ops = 8, 40, 6000
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ids := make([]kuberef.ContainerID, keys)
			stored := make([]*v1.ObjectReference, keys)
			for k := range ids {
				ids[k] = kuberef.BuildContainerID("containerd", fmt.Sprintf("%064x", g*keys+k+1))
			}
			seed := uint64(g)*0x9E3779B97F4A7C15 + 1
			for i := 0; i < ops; i++ {
				seed = seed*6364136223846793005 + 1442695040888963407
				k, op := int(seed>>33)%keys, int(seed>>20)%10
				readFirst := (i/500)%2 == 0 // phases of 500 ops
				if !readFirst && op >= 4 && op < 7 {
					op = 7 // no GetRef: sets are cleared unread, or stay pending
				}
				switch {
				case op < 4:
					stored[k] = &v1.ObjectReference{Name: fmt.Sprint(g, "-", i)}
					m.SetRef(ids[k], stored[k])
					if readFirst {
						if got, ok := m.GetRef(ids[k]); got != stored[k] || !ok {
							t.Errorf("goroutine %d op %d: GetRef right after SetRef = %p %v, want %p", g, i, got, ok, stored[k])
							return
						}
					}
				case op < 7:
					got, ok := m.GetRef(ids[k])
					if got != stored[k] || ok != (stored[k] != nil) {
						t.Errorf("goroutine %d op %d: GetRef = %p %v, want %p", g, i, got, ok, stored[k])
						return
					}
				default:
					m.ClearRef(ids[k])
					stored[k] = nil
				}
			}
		}(g)
	}
	wg.Wait()
}

// Writers overwrite one key with two different references while a reader
// reads it: every read is one of the two pointers SetRef stored (copies,
// which another writer's references need, are checked in
// TestCopiesAreWholeWhileAnotherWriterOverwrites).
func TestConcurrentOverwriteReadsAreWhole(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	id := kuberef.BuildContainerID("containerd", "shared")
	a := sampleRef(1)
	b := &v1.ObjectReference{Kind: "Other", APIVersion: "apps/v1", Namespace: strings.Repeat("n", 200),
		Name: "b", UID: "uid-b", ResourceVersion: "2", FieldPath: "spec.initContainers[0]"}
	m.SetRef(id, a)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if (i+w)%2 == 0 {
					m.SetRef(id, a)
				} else {
					m.SetRef(id, b)
				}
			}
		}(w)
	}
	for i := 0; i < 20000; i++ {
		got, ok := m.GetRef(id)
		if !ok || (got != a && got != b) {
			t.Errorf("read a reference that is not one SetRef stored: %+v %v", got, ok)
			break
		}
	}
	close(stop)
	wg.Wait()
}

// The GetRef cache stays correct through heavy set/clear churn of other
// keys and through overwrites: every GetRef returns the current reference,
// and repeated GetRefs of an unchanged one return the same pointer.
func TestGetRefCacheUnderChurn(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	hot := make([]kuberef.ContainerID, 300)
	for i := range hot {
		hot[i] = kuberef.BuildContainerID("containerd", fmt.Sprintf("hot-%d", i))
		m.SetRef(hot[i], sampleRef(i))
	}
	for round := 0; round < 3; round++ {
		for i := 0; i < 20000; i++ {
			id := kuberef.BuildContainerID("docker", fmt.Sprintf("churn-%d", i%700))
			m.SetRef(id, sampleRef(i))
			if i%3 != 0 {
				m.ClearRef(id)
			}
		}
		for i, id := range hot {
			if round == 1 && i%2 == 0 {
				m.SetRef(id, sampleRef(i+1000)) // overwritten: a new value
			}
			a, ok := m.GetRef(id)
			b, _ := m.GetRef(id)
			want := i
			if round >= 1 && i%2 == 0 {
				want = i + 1000
			}
			if !ok || a != b || a.Name != fmt.Sprintf("pod-%d", want) {
				t.Fatalf("round %d key %d: %+v %v (same pointer %v)", round, i, a, ok, a == b)
			}
		}
	}
}

// A GetRef that finds nothing allocates nothing, whether or not the key
// was ever cached (the probe path of a container started before a restart).
func TestGetRefMissAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation changes allocation counts")
	}
	m := kuberef.NewRefManager()
	defer m.Close()
	m.SetRef(kuberef.BuildContainerID("containerd", "stored"), &v1.ObjectReference{Name: "stored"})
	missing := kuberef.BuildContainerID("containerd", "never-stored")
	if ref, ok := m.GetRef(missing); ok || ref != nil {
		t.Fatalf("GetRef of a missing key = %+v %v", ref, ok)
	}
	if n := testing.AllocsPerRun(100, func() { m.GetRef(missing) }); n != 0 {
		t.Errorf("GetRef of a missing key: %v allocations per call, want 0", n)
	}
}

// Two SetRefs of one key at once: GetRef then returns the pointer passed to
// the one whose reference the library holds, not a copy of it. The caching
// of the first could come after the second's, putting back an older
// reference the next GetRef had to copy (a few rounds in 20,000 did).
func TestConcurrentSetRefsOfOneKeyKeepTheStoredPointer(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	for i := 0; i < 20000; i++ {
		id := kuberef.BuildContainerID("containerd", fmt.Sprintf("%064x", i))
		a, b := &v1.ObjectReference{Name: "a"}, &v1.ObjectReference{Name: "b"}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, ref := range []*v1.ObjectReference{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); <-start; m.SetRef(id, ref) }()
		}
		close(start)
		wg.Wait()
		got, ok := m.GetRef(id)
		want := a
		if ok && got.Name == "b" {
			want = b
		}
		if !ok || got != want {
			t.Fatalf("round %d: GetRef = %p %v, want the pointer %p passed to the SetRef that stored %q", i, got, ok, want, want.Name)
		}
	}
}

// A GetRef that copies a reference (here, one Load stored) while SetRef
// stores the same key: afterwards GetRef returns SetRef's pointer. The
// copy's caching could come after SetRef's and put the older reference
// back, so that every later GetRef returned a copy of SetRef's reference
// (under -race, 5 to 20 rounds of 9,600 did).
func TestGetRefCopyRacingSetRefLeavesSetRefsPointer(t *testing.T) {
	src := kuberef.NewRefManager()
	defer src.Close()
	ids := make([]kuberef.ContainerID, 64)
	for i := range ids {
		ids[i] = kuberef.BuildContainerID("containerd", fmt.Sprintf("%064x", i))
		src.SetRef(ids[i], &v1.ObjectReference{Name: "loaded", FieldPath: strings.Repeat("f", 100)})
	}
	path := t.TempDir() + "/refs"
	if _, err := src.Save(path); err != nil {
		t.Fatal(err)
	}
	m := kuberef.NewRefManager()
	defer m.Close()
	for round := 0; round < 150; round++ {
		if _, err := m.Load(path, false); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			p := &v1.ObjectReference{Name: "set"}
			var wg sync.WaitGroup
			start := make(chan struct{})
			wg.Add(2)
			go func() { defer wg.Done(); <-start; m.GetRef(id) }()
			go func() { defer wg.Done(); <-start; m.SetRef(id, p) }()
			close(start)
			wg.Wait()
			if got, ok := m.GetRef(id); !ok || got != p {
				t.Fatalf("round %d, %s: GetRef = %p %v, want SetRef's %p", round, id.ID, got, ok, p)
			}
		}
	}
}
