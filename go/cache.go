package kuberef

import (
	"math/rand/v2"
	"sync/atomic"

	v1 "k8s.io/api/core/v1"
)

// refCache lets GetRef return, without copying or allocating, a reference
// it has returned (or SetRef has stored) before, for as long as the library
// still holds that same stored reference. Every stored reference has a
// stamp that no other reference of the manager ever has (see
// kuberef_set_ref_stamped in include/kuberef.h); the cache maps stamps to
// the *v1.ObjectReference built for them, in a table of 4-slot buckets (one
// cache line each) read without a lock. An entry whose reference has been
// replaced or cleared is never returned again (its stamp is never seen
// again) and is overwritten by later ones; the table holds at most one
// reference per slot. ClearRef through this RefManager empties the slot of
// the reference it removed.
type refCache struct {
	slots []cacheSlot // bucketWays slots per bucket
	shift uint        // 64 - log2(number of buckets)
	// stores counts the entries stored since the last size check; after
	// len(slots)/2 of them, the next store checks whether the manager has
	// outgrown the table.
	stores atomic.Int64
}

// cacheSlot is a stamp and the reference built for it. A writer claims the
// slot by swapping its stamp for slotBusy, stores the reference, then the
// stamp; a reader loads the stamp, the reference and the stamp again, and
// uses the reference only if both stamps are the one it looks for. Stamps
// are never reused, so a reader cannot mistake another write for its own.
type cacheSlot struct {
	stamp atomic.Uint64
	ref   atomic.Pointer[v1.ObjectReference]
}

// slotBusy marks a slot being written (no stamp is all ones: stamps count
// stores, 2^59 of them per shard at most).
const slotBusy = ^uint64(0)

const (
	bucketWays = 4
	// Buckets of a new cache, as a power of two: 256 slots.
	minCacheBits = 6
	// maxCacheBits bounds a cache to 2^12 buckets: 16,384 slots, 256 KiB
	// (plus the references they keep alive), for about 8,000 references at
	// half load: more than the containers of any node. A larger manager
	// keeps its most recently used references cached; a bigger table would
	// cost more in cache misses and GC scanning than it saves (measured at
	// 1,000,000 stored: GetRef 338 -> 350-590 ns with 2^20 slots).
	maxCacheBits = 12
)

func newRefCache(bits uint) *refCache {
	return &refCache{slots: make([]cacheSlot, bucketWays<<bits), shift: 64 - bits}
}

// bucket returns the slots stamp may be cached in.
func (c *refCache) bucket(stamp uint64) []cacheSlot {
	// Stamps of one shard differ in their high bits: mix before taking the
	// top bits (Fibonacci hashing).
	b := int((stamp * 0x9E3779B97F4A7C15) >> c.shift)
	return c.slots[b*bucketWays : b*bucketWays+bucketWays : b*bucketWays+bucketWays]
}

// lookup returns the reference cached for stamp, or nil.
func (c *refCache) lookup(stamp uint64) *v1.ObjectReference {
	b := c.bucket(stamp)
	for i := range b {
		s := &b[i]
		if s.stamp.Load() != stamp {
			continue
		}
		ref := s.ref.Load()
		if s.stamp.Load() != stamp {
			return nil
		}
		return ref
	}
	return nil
}

// store caches ref for stamp in an empty slot of its bucket, or else in a
// random one, unless another writer holds that slot (then the reference is
// simply not cached). The victim is random, not picked by the stamp: with
// every slot of a bucket taken (by references long since replaced), two
// live references whose stamps picked the same slot evicted each other on
// every GetRef (measured: GetRef 88 -> 278 ns after a set/clear churn).
func (c *refCache) store(stamp uint64, ref *v1.ObjectReference) {
	b := c.bucket(stamp)
	var s *cacheSlot
	for i := range b {
		if b[i].stamp.Load() == 0 {
			s = &b[i]
			break
		}
	}
	if s == nil {
		s = &b[rand.Uint32()%bucketWays]
	}
	old := s.stamp.Load()
	if old == slotBusy || !s.stamp.CompareAndSwap(old, slotBusy) {
		return
	}
	s.ref.Store(ref)
	s.stamp.Store(stamp)
}

// drop empties the slot that caches stamp, if any, so that a later store
// finds it free and the reference it held can be collected.
func (c *refCache) drop(stamp uint64) {
	b := c.bucket(stamp)
	for i := range b {
		s := &b[i]
		if s.stamp.Load() == stamp && s.stamp.CompareAndSwap(stamp, slotBusy) {
			s.ref.Store(nil)
			s.stamp.Store(0)
			return
		}
	}
}

// forget drops what is cached for a reference ClearRef removed.
func (r *RefManager) forget(stamp uint64) {
	if c := r.cache.Load(); c != nil {
		c.drop(stamp)
	}
}

// cacheLookup returns the reference cached for stamp, or nil.
func (r *RefManager) cacheLookup(stamp uint64) *v1.ObjectReference {
	if c := r.cache.Load(); c != nil {
		return c.lookup(stamp)
	}
	return nil
}

// remember caches ref as the reference with this stamp, growing the table
// (up to maxCacheBits) when the manager holds more references than half
// its slots; the check runs after every len(slots)/2 stores.
func (r *RefManager) remember(stamp uint64, ref *v1.ObjectReference) {
	c := r.cache.Load()
	if c == nil {
		c = newRefCache(minCacheBits)
		if !r.cache.CompareAndSwap(nil, c) {
			c = r.cache.Load()
		}
	}
	c.store(stamp, ref)
	if c.stores.Add(1) <= int64(len(c.slots)/2) || c.shift <= 64-maxCacheBits {
		return
	}
	c.stores.Store(0)
	n := r.Len()
	bits := 64 - c.shift
	for bits < maxCacheBits && bucketWays<<bits < 2*n {
		bits++
	}
	if bits == 64-c.shift {
		return
	}
	grown := newRefCache(bits)
	for i := range c.slots {
		s := &c.slots[i]
		stamp := s.stamp.Load()
		if stamp == 0 || stamp == slotBusy {
			continue
		}
		if ref := s.ref.Load(); s.stamp.Load() == stamp {
			grown.store(stamp, ref)
		}
	}
	r.cache.CompareAndSwap(c, grown) // a concurrent grow wins: either is fine
}
