package kuberef

import (
	"sync/atomic"

	v1 "k8s.io/api/core/v1"
)

// refCache lets GetRef return, without copying or allocating, a reference
// it has returned (or SetRef has stored) before, for as long as the library
// still holds that same stored reference. Every stored reference has a
// stamp that no other reference of the manager ever has (see
// kuberef_set_ref_stamped in include/kuberef.h); the cache maps stamps to
// the *v1.ObjectReference built for them, in a direct-mapped table whose
// slots are read without a lock. An entry whose reference has been replaced
// or cleared is never returned again (its stamp is never seen again) and is
// overwritten by later ones; the table holds at most one reference per slot.
type refCache struct {
	slots []cacheSlot
	shift uint // 64 - log2(len(slots))
	// stores counts the entries stored since this table was made; after
	// len(slots) of them, the next store checks whether the manager has
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
	minCacheBits = 8
	// maxCacheBits bounds a cache to 16 MiB of slots (plus the references
	// they keep alive): 1M slots, more than the containers of any node.
	maxCacheBits = 20
)

func newRefCache(bits uint) *refCache {
	return &refCache{slots: make([]cacheSlot, 1<<bits), shift: 64 - bits}
}

func (c *refCache) slot(stamp uint64) *cacheSlot {
	// Stamps of one shard differ in their high bits: mix before taking the
	// top bits (Fibonacci hashing).
	return &c.slots[(stamp*0x9E3779B97F4A7C15)>>c.shift]
}

// lookup returns the reference cached for stamp, or nil.
func (c *refCache) lookup(stamp uint64) *v1.ObjectReference {
	s := c.slot(stamp)
	if s.stamp.Load() != stamp {
		return nil
	}
	ref := s.ref.Load()
	if s.stamp.Load() != stamp {
		return nil
	}
	return ref
}

// store caches ref for stamp, unless another writer holds the slot (then
// the reference is simply not cached).
func (c *refCache) store(stamp uint64, ref *v1.ObjectReference) {
	s := c.slot(stamp)
	old := s.stamp.Load()
	if old == slotBusy || !s.stamp.CompareAndSwap(old, slotBusy) {
		return
	}
	s.ref.Store(ref)
	s.stamp.Store(stamp)
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
// its slots.
func (r *RefManager) remember(stamp uint64, ref *v1.ObjectReference) {
	c := r.cache.Load()
	if c == nil {
		c = newRefCache(minCacheBits)
		if !r.cache.CompareAndSwap(nil, c) {
			c = r.cache.Load()
		}
	}
	c.store(stamp, ref)
	if c.stores.Add(1) <= int64(len(c.slots)) || c.shift <= 64-maxCacheBits {
		return
	}
	c.stores.Store(0)
	n := r.Len()
	bits := 64 - c.shift
	for bits < maxCacheBits && 1<<bits < 2*n {
		bits++
	}
	if bits == 64-c.shift {
		return
	}
	grown := newRefCache(bits)
	for i := range c.slots {
		s := &c.slots[i]
		if stamp := s.stamp.Load(); stamp != 0 && stamp != slotBusy {
			if ref := c.lookup(stamp); ref != nil {
				grown.store(stamp, ref)
			}
		}
	}
	r.cache.CompareAndSwap(c, grown) // a concurrent grow wins: either is fine
}
