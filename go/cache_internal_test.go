package kuberef

import (
	"testing"

	v1 "k8s.io/api/core/v1"
)

// A write by another writer between SetRef's store and its second look at
// the change counter: SetRef must not vouch for its own pointer, and GetRef
// returns what the library holds.
func TestSetRefDoesNotVouchForAValueAnotherWriterReplaced(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	// A second RefManager value over the same library manager: another
	// writer, with its own cache.
	other := &RefManager{m: m.m, counter: m.counter}
	id := BuildContainerID("containerd", "hook")
	theirs := &v1.ObjectReference{Name: "theirs"}
	testHookAfterSet = func() {
		testHookAfterSet = nil
		other.SetRef(id, theirs)
	}
	defer func() { testHookAfterSet = nil }()
	m.SetRef(id, &v1.ObjectReference{Name: "mine"})
	if ref, ok := m.GetRef(id); !ok || ref.Name != "theirs" {
		t.Fatalf("GetRef = %+v %v, want the other writer's reference", ref, ok)
	}
	if ref, _ := other.GetRef(id); ref != theirs {
		t.Fatal("the other writer's GetRef: not its own pointer")
	}
}

// An unchanged manager: SetRef's pointer comes back from the cache alone.
func TestSetRefVouchesForItsOwnPointer(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	id := BuildContainerID("containerd", "own")
	mine := &v1.ObjectReference{Name: "mine"}
	m.SetRef(id, mine)
	e := m.cached(id)
	if e == nil || e.ref != mine || e.seen.Load() != m.changes() {
		t.Fatalf("cache entry after SetRef: %+v (counter %d)", e, m.changes())
	}
}
