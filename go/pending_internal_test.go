package kuberef

import (
	"fmt"
	"runtime"
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
	ids := idsSharingASlot(m, 5)
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

// unsampledID returns a container ID named after name whose sets SetRef
// caches at once while the score leans to "read" (see cachesSets).
func unsampledID(m *RefManager, typ, name string) ContainerID {
	c := m.cacheFor()
	id := BuildContainerID(typ, name)
	for i := 0; c.hash(id.ID)>>60 == 0; i++ {
		id = BuildContainerID(typ, fmt.Sprint(name, "-", i))
	}
	return id
}

// A SetRef that caches at once drops the older pending set of its key, which
// would otherwise replace the newer entry when a GetRef after a change
// elsewhere takes it, and empties its slot, tag included (a GetRef miss of
// a key of that slot then takes no lock).
func TestSetRefCachingAtOnceDropsAnOlderPendingSet(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	id := unsampledID(m, "containerd", "twice")
	m.SetRef(id, &v1.ObjectReference{Name: "older"}) // pending
	m.pendingScore.Store(pendingScoreLimit)
	newer := &v1.ObjectReference{Name: "newer"}
	m.SetRef(id, newer) // cached at once
	if e := m.cached(id); e == nil || e.ref != newer {
		t.Fatalf("SetRef did not cache at once: %+v", e)
	}
	if s := m.pendingSet(id); s.ref != nil {
		t.Fatalf("the older set stayed pending: %+v", s)
	}
	if tag := m.pend.tags[pendingIndex(m.cacheFor().hash(id.ID))].Load(); tag != 0 {
		t.Fatalf("empty slot has tag %#x, want 0", tag)
	}
	m.SetRef(BuildContainerID("containerd", "elsewhere"), &v1.ObjectReference{})
	if got, ok := m.GetRef(id); got != newer || !ok {
		t.Fatalf("GetRef = %+v %v, want the newer SetRef's %p", got, ok, newer)
	}
}

// idsSharingASlot returns n keys whose sets share one pending slot of m.
func idsSharingASlot(m *RefManager, n int) []ContainerID {
	c := m.cacheFor()
	want := pendingIndex(c.hash("slot-0"))
	var ids []ContainerID
	for i := 0; len(ids) < n; i++ {
		if id := fmt.Sprint("slot-", i); pendingIndex(c.hash(id)) == want {
			ids = append(ids, BuildContainerID("containerd", id))
		}
	}
	return ids
}

// collidingIDs returns two keys whose sets share one pending slot.
func collidingIDs(m *RefManager) (k, l ContainerID) {
	ids := idsSharingASlot(m, 2)
	return ids[0], ids[1]
}

// A ClearRef of a pending set, racing with a SetRef of another key whose
// set takes the same slot and moves the first into the cache: ClearRef
// drops it there, as a cleared reference must not stay reachable until its
// key is read or stored again, which for a container ID is never.
func TestClearRefRacingASlotMoveLeavesNothing(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	k, l := collidingIDs(m)
	mine := &v1.ObjectReference{Name: "mine"}
	m.SetRef(k, mine) // pending (new manager: score 0)
	if s := m.pendingSet(k); s.ref != mine {
		t.Fatalf("setup: not pending: %+v", s)
	}
	var wg sync.WaitGroup
	testHookAfterSet = func() { // in SetRef(l), holding cacheMu
		testHookAfterSet = nil
		wg.Add(1)
		go func() { defer wg.Done(); m.ClearRef(k) }()
		time.Sleep(50 * time.Millisecond) // ClearRef clears in C, then waits for cacheMu
	}
	defer func() { testHookAfterSet = nil }()
	m.SetRef(l, &v1.ObjectReference{Name: "other key"})
	wg.Wait()
	if m.Len() != 1 {
		t.Fatalf("library holds %d references, want 1 (the other key's)", m.Len())
	}
	if s := m.pendingSet(k); s.ref != nil {
		t.Fatalf("pending set after ClearRef: %+v", s)
	}
	if e := m.cached(k); e != nil {
		t.Fatalf("ClearRef completed, but the cache still holds the cleared set's pointer: %+v (ref %p, SetRef's %p)", e, e.ref, mine)
	}
}

// The same without hooks: goroutines each storing and clearing their own
// keys, as the kubelet's pod workers do. Afterwards the library is empty,
// and so are the cache and the pending slots: leftovers would accumulate
// over rounds and fill the cache to where it evicts live entries.
func TestSetRefClearRefChurnLeavesNoPointers(t *testing.T) {
	const workers, each = 4, 20000
	m := NewRefManager()
	defer m.Close()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ref := &v1.ObjectReference{Name: fmt.Sprint("w", w)}
			for i := 0; i < each; i++ {
				id := BuildContainerID("containerd", fmt.Sprintf("%016x%048x", w, i))
				m.SetRef(id, ref)
				m.ClearRef(id)
			}
		}(w)
	}
	wg.Wait()
	if n := m.Len(); n != 0 {
		t.Fatalf("library holds %d", n)
	}
	cached, pending := 0, 0
	c := m.cache.Load()
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			cached++
		}
	}
	m.cacheMu.Lock()
	for i := range m.pend.slots {
		if m.pend.slots[i].ref != nil {
			pending++
		}
	}
	m.cacheMu.Unlock()
	if cached+pending != 0 {
		t.Fatalf("after %d SetRef+ClearRef pairs, none stored: %d cache entries and %d pending sets still hold pointers (cache %d slots)",
			workers*each, cached, pending, len(c.slots))
	}
}

// A GetRef that moves a pending set into the cache makes no cgo call, even
// when that store would be the one to check the manager's size (the check
// waits for the next SetRef or copy). The least of 3 tries: the cgo call
// counter is the process's, and another test's finalizer may call C.
func TestGetRefTakingAPendingSetMakesNoCgoCall(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	least := int64(1 << 62)
	for try := 0; try < 3; try++ {
		id := BuildContainerID("containerd", fmt.Sprint("size-check-", try))
		ref := &v1.ObjectReference{Name: "r"}
		m.pendingScore.Store(0) // pending (the last try's GetRef moved the score)
		m.SetRef(id, ref)
		if s := m.pendingSet(id); s.ref != ref {
			t.Fatalf("SetRef's set is not pending: %+v", s)
		}
		m.cacheMu.Lock()
		c := m.cache.Load()
		c.stores = len(c.slots) // the next checking store checks
		m.cacheMu.Unlock()
		n := runtime.NumCgoCall()
		got, ok := m.GetRef(id)
		least = min(least, runtime.NumCgoCall()-n)
		if got != ref || !ok {
			t.Fatalf("GetRef = %p %v, want SetRef's %p", got, ok, ref)
		}
	}
	if least != 0 {
		t.Fatalf("GetRef of a pending set in an unchanged manager: %d cgo calls, want 0", least)
	}
}

// Equal container IDs of two runtimes share a hash, and so a pending slot
// and a bucket: each key still gets its own SetRef's pointer back, whether
// the other's set was pending or cached at once, and whichever is read
// first.
func TestEqualIDsOfTwoRuntimesKeepTheirOwnPointers(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	a := unsampledID(m, "containerd", "shared-id")
	b := BuildContainerID("docker", a.ID)
	refA, refB := &v1.ObjectReference{Name: "a"}, &v1.ObjectReference{Name: "b"}
	m.SetRef(a, refA) // pending (new manager: score 0)
	m.pendingScore.Store(pendingScoreLimit)
	m.SetRef(b, refB) // cached at once
	for round := 0; round < 2; round++ {
		for _, k := range []struct {
			id  ContainerID
			ref *v1.ObjectReference
		}{{a, refA}, {b, refB}} {
			if got, ok := m.GetRef(k.id); got != k.ref || !ok {
				t.Fatalf("round %d, %s: GetRef = %+v (%p) %v, want SetRef's %p", round, k.id.Type, got, got, ok, k.ref)
			}
		}
	}
}

// A copy that finds its key's set pending with the stamp it copied (a
// GetRef that loaded the slot's tag before SetRef wrote it) returns SetRef's
// pointer, caches it as current at the copy's counter value, and counts the
// set as read.
func TestACopyOfAPendingSetsStampCachesItCurrentAndCountsItRead(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	id := BuildContainerID("containerd", "copied")
	mine := &v1.ObjectReference{Name: "mine"}
	m.SetRef(id, mine) // pending (new manager: score 0)
	// A change elsewhere, by another writer with its own cache.
	other := &RefManager{m: m.m, counter: m.counter}
	other.SetRef(BuildContainerID("containerd", "elsewhere"), &v1.ObjectReference{})
	seen := m.changes() // newer than the pending set's
	if got, ok := m.copyRef(m.ptr(), id, nil, seen); got != mine || !ok {
		t.Fatalf("copyRef = %+v (%p) %v, want SetRef's %p", got, got, ok, mine)
	}
	if e := m.cached(id); e == nil || e.ref != mine || e.seen.Load() != seen {
		t.Fatalf("cached after the copy: %+v, want SetRef's %p seen at %d", e, mine, seen)
	}
	if s := m.pendingSet(id); s.ref != nil {
		t.Fatalf("still pending after the copy: %+v", s)
	}
	if score := m.pendingScore.Load(); score != 1 {
		t.Fatalf("pending score %d after a set was read, want 1", score)
	}
}

// A ClearRef whose key has an older reference cached and a newer one
// pending drops both: neither keeps its pointer reachable.
func TestClearRefDropsAPendingSetBehindAnOlderEntry(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	id := BuildContainerID("containerd", "two-generations")
	m.SetRef(id, &v1.ObjectReference{Name: "older"})
	m.GetRef(id) // cached
	m.pendingScore.Store(0)
	m.SetRef(id, &v1.ObjectReference{Name: "newer"}) // pending
	if s := m.pendingSet(id); s.ref == nil || m.cached(id) == nil {
		t.Fatalf("setup: pending %+v, cached %+v", s, m.cached(id))
	}
	m.ClearRef(id)
	if s := m.pendingSet(id); s.ref != nil {
		t.Fatalf("pending set after ClearRef: %+v", s)
	}
	if e := m.cached(id); e != nil {
		t.Fatalf("cache entry after ClearRef: %+v", e)
	}
}
