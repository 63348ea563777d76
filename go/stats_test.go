package kuberef_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
)

func TestStats(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	for i := 0; i < 10; i++ {
		m.SetRef(cid(i), podRef(0, i))
	}
	for i := 0; i < 15; i++ {
		m.GetRef(cid(i))
	}
	m.ClearRef(cid(0))
	s := m.Stats()
	if s.Sets != 10 || s.Gets != 15 || s.Hits != 10 || s.Misses != 5 || s.Clears != 1 || s.Count != 9 || s.Bytes == 0 {
		t.Fatalf("stats %+v", s)
	}
	// One lookup per GetRef, whether the Go cache answers it alone, checks
	// a stamp, or copies the reference (two library calls).
	for i := 1; i < 10; i++ {
		m.GetRef(cid(i)) // cached since the previous loop; nothing changed but the clear
		m.GetRef(cid(i)) // answered without the library
	}
	path := filepath.Join(t.TempDir(), "refs")
	if _, err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	m2 := kuberef.NewRefManager()
	defer m2.Close()
	if _, err := m2.Load(path, false); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		m2.GetRef(cid(i)) // copied (or a miss, for 0)
		m2.GetRef(cid(i)) // cached
	}
	s = m.Stats()
	if s.Gets != 33 || s.Hits != 28 || s.Misses != 5 {
		t.Fatalf("stats after cached gets %+v", s)
	}
	s2 := m2.Stats()
	if s2.Gets != 20 || s2.Hits != 18 || s2.Misses != 2 || s2.Sets != 9 {
		t.Fatalf("stats of the loaded manager %+v", s2)
	}
}

// Gets and Hits never go down from one Stats call to the next, as counters
// exported as metrics must not, while GetRefs copy references a Load keeps
// replacing. Stats could catch a copying GetRef between its lookups and
// count it twice, then once (under -race, about 200 decreases in 2,000,000
// calls).
func TestStatsGetsAndHitsNeverDecrease(t *testing.T) {
	src := kuberef.NewRefManager()
	ids := make([]kuberef.ContainerID, 8)
	for i := range ids {
		ids[i] = kuberef.BuildContainerID("containerd", fmt.Sprintf("k%d", i))
		src.SetRef(ids[i], &v1.ObjectReference{Name: "x"})
	}
	path := filepath.Join(t.TempDir(), "refs")
	if _, err := src.Save(path); err != nil {
		t.Fatal(err)
	}
	src.Close()
	m := kuberef.NewRefManager()
	defer m.Close()
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // every reference replaced, again and again: GetRefs copy
		defer wg.Done()
		for !stop.Load() {
			if _, err := m.Load(path, false); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for r := 0; r < runtime.GOMAXPROCS(0); r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			for n := r; !stop.Load(); n++ {
				m.GetRef(ids[n%len(ids)])
			}
		}(r)
	}
	var prev kuberef.Stats
	for i := 0; i < 500000; i++ {
		s := m.Stats()
		if s.Gets < prev.Gets || s.Hits < prev.Hits {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("call %d: Gets %d -> %d, Hits %d -> %d", i, prev.Gets, s.Gets, prev.Hits, s.Hits)
		}
		prev = s
	}
	stop.Store(true)
	wg.Wait()
	if prev.Gets == 0 {
		t.Fatal("no GetRef counted")
	}
}
