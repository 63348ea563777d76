package kuberef

import (
	"fmt"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// A SetRef and the ClearRef after it leave nothing: no pending set (which
// would keep the caller's reference reachable) and no cache entry.
func TestSetRefThenClearRefLeavesNothing(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	id := BuildContainerID("containerd", "short-lived")
	m.SetRef(id, &v1.ObjectReference{Name: "brief"})
	m.ClearRef(id)
	if s := m.pendingSet(id); s.ref != nil {
		t.Fatalf("pending set after ClearRef: %+v", s)
	}
	c := m.cache.Load()
	if m.pend.tags[pendingIndex(c.hash(id.ID))].Load() != 0 {
		t.Fatal("the slot's tag survived ClearRef")
	}
	if e := m.cached(id); e != nil {
		t.Fatalf("cache entry after ClearRef: %+v", e)
	}
	if got, ok := m.GetRef(id); ok || got != nil {
		t.Fatalf("GetRef after ClearRef = %+v %v", got, ok)
	}
}

// Keys whose sets share a slot: each SetRef moves the set before it into
// the cache, and every GetRef returns its own SetRef's pointer.
func TestPendingSlotsSharedByKeysKeepEveryPointer(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	c := m.cacheFor()
	var ids []ContainerID
	want := pendingIndex(c.hash("shared-0"))
	for i := 0; len(ids) < 5; i++ {
		id := fmt.Sprint("shared-", i)
		if pendingIndex(c.hash(id)) == want {
			ids = append(ids, BuildContainerID("containerd", id))
		}
	}
	refs := make([]*v1.ObjectReference, len(ids))
	for i, id := range ids {
		refs[i] = &v1.ObjectReference{Name: id.ID}
		m.SetRef(id, refs[i])
	}
	for i, id := range ids[:len(ids)-1] {
		if e := m.cached(id); e == nil || e.ref != refs[i] {
			t.Fatalf("%s: moved out of its slot: %+v, want an entry of %p", id.ID, e, refs[i])
		}
	}
	for i, id := range ids {
		if got, ok := m.GetRef(id); got != refs[i] || !ok {
			t.Fatalf("%s: GetRef = %p %v, want SetRef's %p", id.ID, got, ok, refs[i])
		}
	}
}

// A pending set the library no longer holds is never returned: another
// writer's reference is copied, and after a clear by another writer GetRef
// misses.
func TestStalePendingSetsAreNeverReturned(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	other := &RefManager{m: m.m, counter: m.counter} // a writer with its own cache
	id := BuildContainerID("containerd", "stale")
	mine := &v1.ObjectReference{Name: "mine"}
	m.SetRef(id, mine)
	other.SetRef(id, &v1.ObjectReference{Name: "theirs"})
	if got, ok := m.GetRef(id); !ok || got == mine || got.Name != "theirs" {
		t.Fatalf("GetRef after another writer's SetRef = %+v %v, want a copy of theirs", got, ok)
	}
	m.SetRef(id, mine)
	other.ClearRef(id)
	if got, ok := m.GetRef(id); ok || got != nil {
		t.Fatalf("GetRef after another writer's ClearRef = %+v %v", got, ok)
	}
	// ClearRef drops only the set of the stamp it removed. (The GetRef
	// above took a pending set: SetRef would now cache at once.)
	m.pendingScore.Store(0)
	m.SetRef(id, mine)
	other.SetRef(id, &v1.ObjectReference{Name: "theirs"})
	m.ClearRef(id)
	if s := m.pendingSet(id); s.ref != mine {
		t.Fatalf("ClearRef of another stamp dropped the pending set: %+v", s)
	}
	if got, ok := m.GetRef(id); ok || got != nil {
		t.Fatalf("GetRef after ClearRef = %+v %v", got, ok)
	}
}

// A GetRef that loads a slot's tag before SetRef writes it, but finds
// SetRef's stamp in the library, copies under cacheMu: the copy takes the
// pending set, and GetRef returns SetRef's pointer, not the copy.
func TestACopyTakesThePendingSetOfItsStamp(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	id := BuildContainerID("containerd", "raced")
	m.cacheFor()
	mine := &v1.ObjectReference{Name: "mine"}
	var got *v1.ObjectReference
	var wg sync.WaitGroup
	testHookAfterSet = func() {
		testHookAfterSet = nil
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, _ = m.GetRef(id)
		}()
		// The GetRef's stamp lookup runs meanwhile, then it waits for
		// cacheMu, which this SetRef holds until its set is pending.
		time.Sleep(20 * time.Millisecond)
	}
	defer func() { testHookAfterSet = nil }()
	m.SetRef(id, mine)
	wg.Wait()
	if got != mine {
		t.Fatalf("GetRef = %+v (%p), want SetRef's %p", got, got, mine)
	}
	if s := m.pendingSet(id); s.ref != nil {
		t.Fatalf("pending set after GetRef: %+v", s)
	}
}

// SetRef follows the fates of the recent pending sets: once they were read
// before their ClearRef, it caches its reference at once (but for 1 key in
// 16, which stay pending); once they were cleared unread, it leaves them
// pending again.
func TestSetRefFollowsWhatBecomesOfPendingSets(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	c := m.cacheFor()
	var ids, sampled []ContainerID
	for i := 0; len(ids) < 2*pendingScoreLimit || len(sampled) == 0; i++ {
		id := BuildContainerID("containerd", fmt.Sprintf("%064x", i*7919+1))
		if c.hash(id.ID)>>60 == 0 {
			sampled = append(sampled, id)
		} else {
			ids = append(ids, id)
		}
	}
	ref := &v1.ObjectReference{Name: "r"}
	cachedAtOnce := func(id ContainerID) bool {
		m.SetRef(id, ref)
		defer m.ClearRef(id)
		return m.cached(id) != nil
	}
	if cachedAtOnce(ids[0]) {
		t.Fatal("a new manager's SetRef cached at once")
	}
	for _, id := range ids[:pendingScoreLimit] { // read before the clear
		m.SetRef(id, ref)
		m.GetRef(id)
		m.ClearRef(id)
	}
	if !cachedAtOnce(ids[0]) {
		t.Fatal("after sets that were read, SetRef left its set pending")
	}
	if cachedAtOnce(sampled[0]) {
		t.Fatal("a sampled key's set was cached at once")
	}
	for i := 0; i < 2*pendingScoreLimit; i++ { // cleared unread (the sampled key's)
		m.SetRef(sampled[0], ref)
		m.ClearRef(sampled[0])
	}
	if cachedAtOnce(ids[0]) {
		t.Fatal("after sets that were cleared unread, SetRef cached at once")
	}
	for i, id := range ids {
		m.SetRef(id, ref)
		if got, ok := m.GetRef(id); got != ref || !ok {
			t.Fatalf("key %d: GetRef = %p %v, want SetRef's %p", i, got, ok, ref)
		}
	}
}

// A SetRef that caches at once drops the older pending set of its key, which
// would otherwise replace the newer entry when a GetRef after a change
// elsewhere takes it.
func TestSetRefCachingAtOnceDropsAnOlderPendingSet(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	c := m.cacheFor()
	id := BuildContainerID("containerd", "twice")
	for i := 0; c.hash(id.ID)>>60 == 0; i++ { // a key that is not sampled
		id = BuildContainerID("containerd", fmt.Sprint("twice-", i))
	}
	m.SetRef(id, &v1.ObjectReference{Name: "older"}) // pending
	m.pendingScore.Store(pendingScoreLimit)
	newer := &v1.ObjectReference{Name: "newer"}
	m.SetRef(id, newer) // cached at once
	if e := m.cached(id); e == nil || e.ref != newer {
		t.Fatalf("SetRef did not cache at once: %+v", e)
	}
	m.SetRef(BuildContainerID("containerd", "elsewhere"), &v1.ObjectReference{})
	if got, ok := m.GetRef(id); got != newer || !ok {
		t.Fatalf("GetRef = %+v %v, want the newer SetRef's %p", got, ok, newer)
	}
}
