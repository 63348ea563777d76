package kuberef_test

import (
	"strings"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
)

func TestSnapshotAndForEach(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	if got := m.Snapshot(); len(got) != 0 {
		t.Fatalf("empty snapshot: %v", got)
	}
	want := map[kuberef.ContainerID]v1.ObjectReference{}
	for i := 0; i < 1000; i++ {
		ref := podRef(i, i)
		if i%10 == 0 { // binary and long strings survive
			ref.Name = strings.Repeat("\x00é", i)
		}
		m.SetRef(cid(i), ref)
		want[cid(i)] = *ref
	}
	got := m.Snapshot()
	if len(got) != len(want) {
		t.Fatalf("snapshot has %d pairs, want %d", len(got), len(want))
	}
	seen := map[kuberef.ContainerID]bool{}
	for _, e := range got {
		if seen[e.ID] || *e.Ref != want[e.ID] {
			t.Fatalf("pair %v: %+v (seen %v)", e.ID, e.Ref, seen[e.ID])
		}
		seen[e.ID] = true
	}
	// ForEach holds no lock: clearing from inside it works; false stops.
	calls := 0
	m.ForEach(func(id kuberef.ContainerID, _ *v1.ObjectReference) bool {
		calls++
		m.ClearRef(id)
		return calls < 600
	})
	if calls != 600 || m.Len() != 400 {
		t.Fatalf("ForEach: %d calls, len %d", calls, m.Len())
	}
}
