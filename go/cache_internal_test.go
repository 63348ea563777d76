package kuberef

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
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

// An unchanged manager: SetRef's pointer comes back without the library,
// its pending set moved into the cache by the first GetRef.
func TestSetRefVouchesForItsOwnPointer(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	id := BuildContainerID("containerd", "own")
	mine := &v1.ObjectReference{Name: "mine"}
	m.SetRef(id, mine)
	if e := m.cached(id); e != nil {
		t.Fatalf("SetRef cached an entry: %+v", e)
	}
	if s := m.pendingSet(id); s.ref != mine || s.seen != m.changes() {
		t.Fatalf("pending set after SetRef: %+v (counter %d)", s, m.changes())
	}
	if got, ok := m.GetRef(id); got != mine || !ok {
		t.Fatalf("GetRef = %p %v, want SetRef's %p", got, ok, mine)
	}
	if s := m.pendingSet(id); s.ref != nil {
		t.Fatalf("pending set after GetRef: %+v", s)
	}
	e := m.cached(id)
	if e == nil || e.ref != mine || e.seen.Load() != m.changes() {
		t.Fatalf("cache entry after GetRef: %+v (counter %d)", e, m.changes())
	}
}

// cached returns the entry cached for id, or nil.
func (r *RefManager) cached(id ContainerID) *cacheEntry {
	if c := r.cache.Load(); c != nil {
		return c.lookup(c.hash(id.ID), id.Type, id.ID)
	}
	return nil
}

// pendingSet returns what id's slot holds if it is id's set (else ref nil).
func (r *RefManager) pendingSet(id ContainerID) pendingSet {
	r.cacheMu.Lock()
	defer r.cacheMu.Unlock()
	c := r.cache.Load()
	if c == nil {
		return pendingSet{}
	}
	s := r.pend.slots[pendingIndex(c.hash(id.ID))]
	if s.id != id.ID || s.typ != id.Type {
		return pendingSet{}
	}
	return s
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
		c.store(e, true, false)
		c.remove(e)
	}
}

// Every reference stored through SetRef comes back as SetRef's own pointer
// while the cache is below its largest size: a full bucket grows the cache
// instead of dropping an entry. 1,500 references keep it below: 4 slots per
// reference take it to 8,192 slots, and a full bucket doubles that once at
// most, as nearly every bucket then holds fewer than 2 entries. Before full
// buckets grew the cache, a few references per thousand came back as
// copies.
func TestSetRefPointersAllComeBackBelowTheLargestCache(t *testing.T) {
	const n = 1500
	m := NewRefManager()
	defer m.Close()
	ids, refs := identityFixtures(n)
	for i := range ids {
		m.SetRef(ids[i], refs[i])
	}
	if c := m.cache.Load(); 64-c.shift >= maxCacheBits {
		t.Fatalf("the cache reached its largest size (%d slots): the test needs fewer references", len(c.slots))
	}
	for i := range ids {
		if got, ok := m.GetRef(ids[i]); !ok || got != refs[i] {
			t.Fatalf("reference %d of %d: GetRef = %p %v, want SetRef's %p", i, n, got, ok, refs[i])
		}
	}
}

// As above with 6 goroutines storing at once, so that stores and drops run
// while grows copy the cache: a write that lands in a cache being copied
// is repeated in the one that replaces it.
func TestSetRefPointersSurviveConcurrentGrows(t *testing.T) {
	const workers, each = 6, 250
	for round := 0; round < 20; round++ {
		m := NewRefManager()
		ids, refs := identityFixtures(workers * each)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < len(ids); i += workers {
					m.SetRef(ids[i], refs[i])
					// Every other one stored twice, with a clear between:
					// drops run during grows too.
					if i%2 == 0 {
						m.ClearRef(ids[i])
						m.SetRef(ids[i], refs[i])
					}
				}
			}(w)
		}
		wg.Wait()
		for i := range ids {
			if got, ok := m.GetRef(ids[i]); !ok || got != refs[i] {
				t.Fatalf("round %d, reference %d: GetRef = %p %v, want SetRef's %p", round, i, got, ok, refs[i])
			}
		}
		m.Close()
	}
}

// Every bit of every byte of an ID moves its cache hash, at every length
// from 0 to 80 (each of the hash's forms and their edges).
func TestCacheHashReadsEveryByte(t *testing.T) {
	c := newRefCache(minCacheBits, newCacheSeed())
	for n := 0; n <= 80; n++ {
		id := make([]byte, n)
		for i := range id {
			id[i] = "0123456789abcdef"[(i*7+3)%16]
		}
		base := c.hash(string(id))
		for at := 0; at < n; at++ {
			for bit := 0; bit < 8; bit++ {
				id[at] ^= 1 << bit
				if c.hash(string(id)) == base {
					t.Fatalf("an ID of %d bytes: flipping bit %d of byte %d left its hash", n, bit, at)
				}
				id[at] ^= 1 << bit
			}
		}
	}
}

// IDs that differ in a few bytes anywhere (here 40 IDs of 64 bytes, alike
// but for two bytes in the middle, and 40 of 20 bytes alike but for their
// first two) hash apart: each keeps SetRef's pointer and the cache keeps
// its first size. A hash of an ID's length and last 16 bytes put each group
// in one bucket, which grew the cache to its largest size and then evicted.
func TestIDsAlikeButForAFewBytesKeepTheirPointers(t *testing.T) {
	for _, form := range []string{"%030x%02x%032x", "%02x%018x"} {
		m := NewRefManager()
		var ids []ContainerID
		var refs []*v1.ObjectReference
		for i := 0; i < 40; i++ {
			var id string
			if strings.Count(form, "%") == 3 {
				id = fmt.Sprintf(form, 0, i, 0)
			} else {
				id = fmt.Sprintf(form, i, 0)
			}
			ids = append(ids, BuildContainerID("containerd", id))
			refs = append(refs, &v1.ObjectReference{Name: fmt.Sprintf("web-%d", i)})
			m.SetRef(ids[i], refs[i])
			m.GetRef(ids[i]) // into the cache
		}
		for i := range ids {
			if got, ok := m.GetRef(ids[i]); !ok || got != refs[i] {
				t.Fatalf("%s: GetRef(%v) = %p %v, want SetRef's %p", form, ids[i], got, ok, refs[i])
			}
		}
		if c := m.cache.Load(); 64-c.shift != minCacheBits {
			t.Errorf("%s: the cache grew to %d slots for %d references", form, len(c.slots), m.Len())
		}
		m.Close()
	}
}

// One ID under 12 runtimes: 12 keys of one hash, which no cache size
// separates. Their bucket keeps 8 of them and the cache its first size;
// every GetRef still returns the stored reference (a copy for a key whose
// entry was evicted). Before, the ninth doubled the cache up to its
// largest size (32,768 slots for 12 references).
func TestEqualIDsOfManyRuntimesDoNotGrowTheCache(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	const runtimes = 12
	var ids []ContainerID
	for i := 0; i < runtimes; i++ {
		id := BuildContainerID(fmt.Sprintf("runtime-%d", i), strings.Repeat("ab", 32))
		ids = append(ids, id)
		m.SetRef(id, &v1.ObjectReference{Name: fmt.Sprintf("web-%d", i)})
	}
	for round := 0; round < 3; round++ {
		for i, id := range ids {
			if got, ok := m.GetRef(id); !ok || got.Name != fmt.Sprintf("web-%d", i) {
				t.Fatalf("GetRef(%v) = %+v %v", id, got, ok)
			}
		}
	}
	if c := m.cache.Load(); 64-c.shift != minCacheBits {
		t.Errorf("the cache grew to %d slots for %d references", len(c.slots), m.Len())
	}
}

// A copy GetRef made never replaces an entry for the same stored reference:
// the pointer cached first (here SetRef's) is the one every GetRef returns.
func TestACopyDoesNotReplaceTheSameStoredReference(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	id := BuildContainerID("containerd", "same-stamp")
	mine := &v1.ObjectReference{Name: "mine"}
	m.SetRef(id, mine)
	m.GetRef(id) // moves SetRef's pending set into the cache
	e := m.cached(id)
	copied := &v1.ObjectReference{Name: "mine"}
	if got := cacheStore(m, id, copied, e.stamp, true); got != mine {
		t.Fatalf("storing a copy returned %p, want the cached %p", got, mine)
	}
	if got, _ := m.GetRef(id); got != mine {
		t.Fatalf("GetRef = %p after a copy was offered, want SetRef's %p", got, mine)
	}
	// SetRef's own pointer does replace a copy of the same stored reference.
	m.forget(m.cached(id))
	if got := cacheStore(m, id, copied, e.stamp, true); got != copied {
		t.Fatalf("storing a copy into an empty cache returned %p", got)
	}
	if got := cacheStore(m, id, mine, e.stamp, false); got != mine {
		t.Fatalf("storing SetRef's pointer returned %p", got)
	}
	if got, _ := m.GetRef(id); got != mine {
		t.Fatalf("GetRef = %p, want SetRef's %p over the copy", got, mine)
	}
}

// cacheStore caches ref under id with this stamp as SetRef (keep false) or
// GetRef's copy (keep true) does, and returns what storeLocked returned.
func cacheStore(m *RefManager, id ContainerID, ref *v1.ObjectReference, stamp uint64, keep bool) *v1.ObjectReference {
	e := newEntry(m.cacheFor(), id, ref)
	e.setUnpublished(stamp, unseen)
	m.cacheMu.Lock()
	defer m.cacheMu.Unlock()
	return m.storeLocked(e, keep, true)
}

func identityFixtures(n int) ([]ContainerID, []*v1.ObjectReference) {
	ids := make([]ContainerID, n)
	refs := make([]*v1.ObjectReference, n)
	for i := range ids {
		ids[i] = BuildContainerID("containerd", fmt.Sprintf("%064x", i*7919+1))
		refs[i] = &v1.ObjectReference{Kind: "Pod", Name: fmt.Sprintf("web-%05d", i)}
	}
	return ids, refs
}

// A reference removed behind the cache's back (ClearPod removes in the
// library and leaves the Go cache alone): the GetRef that finds it gone
// drops its entry, so the stale reference is not kept reachable.
func TestGetRefNotFoundDropsTheStaleEntry(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	id := BuildContainerID("containerd", "gone")
	m.SetRef(id, &v1.ObjectReference{Name: "x", UID: "pod-1"})
	if _, ok := m.GetRef(id); !ok || m.cached(id) == nil {
		t.Fatal("GetRef after SetRef: not found or not cached")
	}
	if n := m.ClearPod("pod-1"); n != 1 {
		t.Fatalf("ClearPod = %d, want 1", n)
	}
	if ref, ok := m.GetRef(id); ok || ref != nil {
		t.Fatalf("GetRef after ClearPod = %v, %v", ref, ok)
	}
	if e := m.cached(id); e != nil {
		t.Fatalf("the stale entry stayed cached after GetRef found nothing: %+v", e)
	}
}

// forget drops only the entry it was given: one that replaced it for the
// same key (a concurrent SetRef's, for a newer reference) stays.
func TestForgetDropsOnlyTheEntryItLookedUp(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	id := BuildContainerID("containerd", "replaced")
	m.SetRef(id, &v1.ObjectReference{Name: "old"})
	m.GetRef(id) // each pending set into the cache
	old := m.cached(id)
	newer := &v1.ObjectReference{Name: "new"}
	m.SetRef(id, newer)
	m.GetRef(id)
	m.forget(old)
	if e := m.cached(id); e == nil || e.ref != newer {
		t.Fatalf("cached after forget of the replaced entry: %+v, want the newer one", e)
	}
	m.forget(m.cached(id))
	if e := m.cached(id); e != nil {
		t.Fatalf("cached after forget of the current entry: %+v", e)
	}
}

// A GetRef that copies a reference makes two cgo calls (stamp, copy) for up
// to 137 bytes of text (the fields and their 7 NULs fill the first copy's
// 144 bytes) and three beyond; one that finds it cached, after a change
// elsewhere, one; and in an unchanged manager none (docs/go.md's counts).
// Each count is the least of 3 tries: the counter is the process's, and a
// finalizer freeing another test's manager may call C meanwhile.
func TestGetRefCgoCalls(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	other := &RefManager{m: m.m, counter: m.counter} // a writer with its own cache
	least := func(prepare, f func()) int64 {
		best := int64(1 << 62)
		for try := 0; try < 3; try++ {
			prepare()
			n := runtime.NumCgoCall()
			f()
			best = min(best, runtime.NumCgoCall()-n)
		}
		return best
	}
	for _, tc := range []struct{ text, want int }{{137, 2}, {138, 3}} {
		id := BuildContainerID("containerd", fmt.Sprint("text-", tc.text))
		ref := &v1.ObjectReference{Name: strings.Repeat("n", tc.text)}
		get := func() { m.GetRef(id) }
		if got := least(func() { other.SetRef(id, ref) }, get); got != int64(tc.want) {
			t.Errorf("GetRef copying %d bytes of text: %d cgo calls, want %d", tc.text, got, tc.want)
		}
		elsewhere := func() { other.SetRef(BuildContainerID("containerd", "elsewhere"), &v1.ObjectReference{}) }
		if got := least(elsewhere, get); got != 1 {
			t.Errorf("GetRef of a cached reference after a change elsewhere: %d cgo calls, want 1", got)
		}
		if got := least(func() {}, get); got != 0 {
			t.Errorf("GetRef in an unchanged manager: %d cgo calls, want 0", got)
		}
		if got := least(func() { m.SetRef(id, ref) }, get); got != 0 {
			t.Errorf("GetRef right after this RefManager's SetRef: %d cgo calls, want 0", got)
		}
	}
}

// Another writer over the same library manager overwrites one key with two
// references while this RefManager reads it: each GetRef then copies the
// reference from the library, and every copy is exactly one of the two.
func TestCopiesAreWholeWhileAnotherWriterOverwrites(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	other := &RefManager{m: m.m, counter: m.counter}
	id := BuildContainerID("containerd", "shared")
	a := &v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: "default", Name: "a", UID: "uid-a",
		ResourceVersion: "1", FieldPath: "spec.containers{app}"}
	b := &v1.ObjectReference{Kind: "Other", APIVersion: "apps/v1", Namespace: strings.Repeat("n", 200),
		Name: "b", UID: "uid-b", ResourceVersion: "2", FieldPath: "spec.initContainers[0]"}
	other.SetRef(id, a)
	stop := make(chan struct{})
	var sets atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				other.SetRef(id, b)
			} else {
				other.SetRef(id, a)
			}
			sets.Add(1)
		}
	}()
	// Until copies of both have been read (or far too many reads went by).
	var reads, sawA, sawB int
	for ; reads < 20000 || sawA == 0 || sawB == 0; reads++ {
		if reads == 50_000_000 {
			break
		}
		got, ok := m.GetRef(id)
		if !ok || got == a || got == b || (*got != *a && *got != *b) {
			t.Errorf("read a mixed, missing or uncopied reference: %+v %v", got, ok)
			break
		}
		if *got == *a {
			sawA++
		} else {
			sawB++
		}
	}
	close(stop)
	wg.Wait()
	if sawA == 0 || sawB == 0 {
		t.Fatalf("%d reads, %d writes: copies of a: %d, of b: %d", reads, sets.Load(), sawA, sawB)
	}
	t.Logf("%d reads: %d copies of a, %d of b", reads, sawA, sawB)
}

// A single writer sequence on one key (versions 1..N; every 4th by another
// RefManager value; every 3rd followed by a clear, alternately by m and by
// the other value), SetRef's mode flipped between pending and cached at
// once, a churner on keys sharing K's slot, and readers checking each
// GetRef against the writer's progress before and after it: never older
// than what had completed, never a miss while a set is current and the
// next op is a set, and m's own pointer for m's versions.
func TestGetRefAgainstOneWritersProgress(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	other := &RefManager{m: m.m, counter: m.counter}
	ids := idsSharingASlot(m, 9)
	k, slotmates := ids[0], ids[1:]
	const N = 30000
	refs := make([]*v1.ObjectReference, N+1)
	for v := range refs {
		refs[v] = &v1.ObjectReference{Name: fmt.Sprint(v)}
	}
	var state atomic.Int64 // v: set v done; -v: cleared after v
	stop := make(chan struct{})
	var wg, bg sync.WaitGroup
	errs := make(chan string, 16)
	report := func(s string) {
		select {
		case errs <- s:
		default:
		}
	}
	bg.Add(1)
	go func() { // slot churn
		defer bg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := slotmates[i%len(slotmates)]
			m.SetRef(id, refs[0])
			if i%2 == 0 {
				m.GetRef(id)
			}
			m.ClearRef(id)
		}
	}()
	for r := 0; r < 2; r++ {
		bg.Add(1)
		go func() {
			defer bg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				pre := state.Load()
				got, ok := m.GetRef(k)
				post := state.Load()
				lo, hi := pre, post
				if lo < 0 {
					lo = -lo
				}
				if hi < 0 {
					hi = -hi
				}
				if !ok {
					if pre > 0 && post == pre && pre%3 != 0 {
						report(fmt.Sprintf("miss while version %d was stored (next op a set)", pre))
					}
					continue
				}
				var g int64
				fmt.Sscan(got.Name, &g)
				if g < lo || g > hi+1 || (pre < 0 && g == lo && post == pre) {
					report(fmt.Sprintf("got version %d, writer state before %d after %d", g, pre, post))
				}
				if g%4 != 1 && got != refs[g] && g == hi && post > 0 && post == pre {
					report(fmt.Sprintf("version %d (stored by m, still stored): GetRef = %p, not SetRef's %p", g, got, refs[g]))
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for v := int64(1); v <= N; v++ {
			if v%7 == 0 {
				m.pendingScore.Store(pendingScoreLimit)
			} else if v%5 == 0 {
				m.pendingScore.Store(-pendingScoreLimit)
			}
			w := m
			if v%4 == 1 {
				w = other
			}
			w.SetRef(k, refs[v])
			state.Store(v)
			if v%3 == 0 {
				if v%2 == 0 {
					m.ClearRef(k)
				} else {
					other.ClearRef(k)
				}
				state.Store(-v)
			}
		}
	}()
	wg.Wait()
	close(stop)
	bg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// A store that checks the manager's size (one after every len(slots)/8)
// grows the cache to slotsPerRef slots per stored reference.
func TestACheckingStoreGrowsTheCacheToTheManagersSize(t *testing.T) {
	const refs = 200 // 800 slots: 1,024, from 256
	m := NewRefManager()
	defer m.Close()
	other := &RefManager{m: m.m, counter: m.counter} // stores without m's cache
	for i := 0; i < refs; i++ {
		other.SetRef(BuildContainerID("containerd", fmt.Sprint("sized-", i)), &v1.ObjectReference{})
	}
	c := m.cacheFor()
	m.cacheMu.Lock()
	c.stores = len(c.slots) / 8 // the next store is the one to check
	m.cacheMu.Unlock()
	cacheStore(m, BuildContainerID("containerd", "sized-0"), &v1.ObjectReference{}, 1, false)
	want := bucketWays << minCacheBits
	for want < slotsPerRef*refs {
		want *= 2
	}
	if got := len(m.cache.Load().slots); got != want {
		t.Fatalf("cache of %d slots for %d references, want %d", got, refs, want)
	}
}

// forget drops its entry from whichever slot of its bucket holds it, the
// last included.
func TestForgetDropsAnEntryFromAnySlotOfItsBucket(t *testing.T) {
	m := NewRefManager()
	defer m.Close()
	c := m.cacheFor()
	var ids []ContainerID
	for i := 0; len(ids) < bucketWays; i++ { // a bucket's worth of keys
		id := BuildContainerID("containerd", fmt.Sprint("bucket-", i))
		if c.bucket(c.hash(id.ID)) == c.bucket(c.hash("bucket-0")) {
			ids = append(ids, id)
		}
	}
	for i, id := range ids {
		cacheStore(m, id, &v1.ObjectReference{}, uint64(i+1), false)
	}
	if m.cache.Load() != c {
		t.Fatal("setup: a bucket's worth of entries grew the cache")
	}
	for _, id := range ids {
		e := m.cached(id)
		if e == nil {
			t.Fatalf("%s: not cached", id.ID)
		}
		m.forget(e)
		if e := m.cached(id); e != nil {
			t.Fatalf("%s: cached after forget: %+v", id.ID, e)
		}
	}
}
