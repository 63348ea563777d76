package kuberef

import (
	"runtime"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
)

// A GetRef whose first library lookup finds a reference it must then copy,
// and whose copy finds it gone: Stats, called in between, must not count a
// hit that the GetRef does not end with (the floor that keeps Hits from
// decreasing would keep it).
func TestStatsNeverCountsAHitBeforeGetRefEndsWithOne(t *testing.T) {
	for _, cached := range []bool{false, true} {
		m := NewRefManager()
		// Another writer over the same library manager, with its own cache.
		other := &RefManager{m: m.m, counter: m.counter}
		id := BuildContainerID("containerd", "gone")
		if cached {
			m.SetRef(id, &v1.ObjectReference{Name: "old"}) // cached, then replaced
			m.GetRef(id)                                   // (moved from its pending set into the cache)
		}
		other.SetRef(id, &v1.ObjectReference{Name: "new"})
		before := m.Stats()

		// A SetRef of another key holds cacheMu, so the GetRef waits in its
		// copy after its stamp lookup found the reference.
		entered, release := make(chan struct{}), make(chan struct{})
		testHookAfterSet = func() { close(entered); <-release }
		setDone := make(chan struct{})
		go func() { m.SetRef(BuildContainerID("containerd", "holder"), &v1.ObjectReference{}); close(setDone) }()
		<-entered
		testHookAfterSet = nil
		_, lib := cStats(m.ptr())
		got := make(chan bool)
		go func() { _, ok := m.GetRef(id); got <- ok }()
		// Wait for the stamp lookup: the library counts it.
		for {
			if _, s := cStats(m.ptr()); s.gets > lib.gets {
				break
			}
			runtime.Gosched()
		}
		during := m.Stats()
		other.ClearRef(id)
		close(release)
		<-setDone
		if ok := <-got; ok {
			t.Fatalf("cached=%v: GetRef found a reference cleared before its copy", cached)
		}
		after := m.Stats()
		if during.Hits != before.Hits {
			t.Errorf("cached=%v: Stats during the GetRef: Hits %d, before it %d", cached, during.Hits, before.Hits)
		}
		if after.Gets != before.Gets+1 || after.Hits != before.Hits || after.Misses != before.Misses+1 {
			t.Errorf("cached=%v: one GetRef that missed: before %+v, after %+v", cached, before, after)
		}
		m.Close()
	}
}

// The same for a reference longer than GetRef's first buffer: the copy that
// finds the buffer too small (a hit to the library) does not decide either,
// and the reference is cleared before the copy sized for it.
func TestStatsNeverCountsAHitOfACopyTooSmall(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	other := &RefManager{m: m.m, counter: m.counter}
	id := BuildContainerID("containerd", "long")
	other.SetRef(id, &v1.ObjectReference{Name: strings.Repeat("n", 200)})
	before := m.Stats()
	var during Stats
	testHookBeforeRecopy = func() {
		testHookBeforeRecopy = nil
		during = m.Stats()
		other.ClearRef(id)
	}
	defer func() { testHookBeforeRecopy = nil }()
	if _, ok := m.GetRef(id); ok {
		t.Fatal("GetRef found a reference cleared before its second copy")
	}
	after := m.Stats()
	if during.Hits != before.Hits {
		t.Errorf("Stats between the copies: Hits %d, before the GetRef %d", during.Hits, before.Hits)
	}
	if after.Gets != before.Gets+1 || after.Hits != before.Hits || after.Misses != before.Misses+1 {
		t.Errorf("one GetRef that missed: before %+v, after %+v", before, after)
	}
}

// Stats: one lookup per GetRef, over the pending paths.
func TestStatsOneLookupPerGetRefOverPendingSets(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	other := &RefManager{m: m.m, counter: m.counter}
	k, l := collidingIDs(m)
	gets, hits := 0, 0
	get := func(id ContainerID) {
		gets++
		if _, ok := m.GetRef(id); ok {
			hits++
		}
	}
	for i := 0; i < 200; i++ {
		m.pendingScore.Store(int32(i%3-1) * pendingScoreLimit)
		m.SetRef(k, &v1.ObjectReference{Name: "a"})
		if i%2 == 0 {
			other.SetRef(l, &v1.ObjectReference{}) // counter moves: pending set not current
		}
		if i%5 == 0 {
			m.SetRef(l, &v1.ObjectReference{Name: "l"}) // moves k's set into the cache
		}
		if i%7 == 0 {
			other.SetRef(k, &v1.ObjectReference{Name: "theirs", FieldPath: string(make([]byte, 300))})
		}
		get(k)
		get(k)
		get(l)
		if i%3 == 0 {
			m.ClearRef(k)
			get(k)
		}
	}
	s := m.Stats()
	if s.Gets != uint64(gets) || s.Hits != uint64(hits) || s.Misses != uint64(gets-hits) {
		t.Fatalf("Stats Gets %d Hits %d Misses %d, want %d %d %d", s.Gets, s.Hits, s.Misses, gets, hits, gets-hits)
	}
}
