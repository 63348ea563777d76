package kuberef

import (
	"fmt"
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

// The cache's work in a SetRef and the ClearRef after it (store an entry,
// drop it), over 1,024 keys: with a new entry per store, as SetRef makes
// (a GetRef may still hold the entry a store replaces), and with each key's
// entry rewritten in place, which is safe only with no reader and is here
// to show what the new entry costs. docs/performance.md cites both.
func BenchmarkCacheStoreNewEntry(b *testing.B)       { benchCacheStore(b, true) }
func BenchmarkCacheStoreRewrittenEntry(b *testing.B) { benchCacheStore(b, false) }

func benchCacheStore(b *testing.B, fresh bool) {
	const n = 1024
	c := newRefCache(minCacheBits+4, newCacheSeed()) // 4,096 slots: 4 per key
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%064x", i*7919+1)
	}
	ref := &v1.ObjectReference{Name: "web"}
	entries := make([]cacheEntry, n)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		k := i & (n - 1)
		h := c.hash(ids[k])
		e := &entries[k]
		if fresh {
			e = &cacheEntry{}
		}
		e.hash, e.typ, e.id, e.ref, e.stamp = h, "containerd", ids[k], ref, uint64(i)
		e.seen.Store(unseen)
		c.store(e)
		c.drop(h, "containerd", ids[k])
	}
}
