package kuberef_test

import (
	"path/filepath"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
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
