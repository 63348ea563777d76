package kuberef

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"sync/atomic"
	"unsafe"

	v1 "k8s.io/api/core/v1"
)

// refCache lets GetRef return a reference it has returned (or SetRef has
// stored) before without copying it again, and, while nothing in the
// manager has changed, without calling into the library at all. A SetRef's
// reference may wait in the manager's pending sets until the first GetRef
// of its key (pending.go).
//
// Each entry holds a container ID, the *v1.ObjectReference built for the
// reference stored under it, that stored reference's stamp (unique to it,
// see kuberef_set_ref_stamped in include/kuberef.h) and "seen": a value of
// the manager's change counter (kuberef_change_counter) loaded before a
// lookup in the library found that same stamp. The counter grows with every
// change before any lookup can see the change, so while it still reads
// "seen" the entry is current, and GetRef returns it, decided by two atomic
// loads (the counter's and the entry's "seen") besides the lookup's own.
// After a change anywhere in the manager, GetRef asks the library for the
// stamp (one call that copies nothing) and, if it is the entry's, marks the
// entry seen again; only a new stamp costs a copy.
//
// Entries are immutable apart from "seen" and sit in buckets of 8 slots
// (atomic pointers, one cache line, and a 32-bit tag each). GetRef reads
// them without a lock. Stores and grows hold the manager's cacheMu, so that
// a key has at most one entry and no store loses another's; a drop takes
// out one entry it looked up, with a compare-and-swap. A slot is replaced
// whole, so a reader sees an old entry or a new one, each consistent.
// Below maxCacheBits nothing is evicted (a full bucket doubles the cache),
// so every pointer SetRef stored or GetRef returned stays the one GetRef
// returns until its key changes (except among equal IDs of 9 or more
// runtimes: see storeLocked).
type refCache struct {
	slots []atomic.Pointer[cacheEntry] // bucketWays slots per bucket
	// tags[i] is the tag of the entry in slots[i] (see tagOf), or 0: a
	// lookup loads only the entries whose tag matches. A tag is written
	// before its entry, so it is a filter that may pass a wrong entry (the
	// key compare rejects it) or, while a store is under way, miss the
	// right one (the library is asked).
	tags  []atomic.Uint32
	shift uint // 64 - log2(number of buckets)
	seed  cacheSeed
	// stores counts the entries stored since the last size check (under
	// the manager's cacheMu); after len(slots)/8 of them, the next store
	// checks whether the manager has outgrown the table.
	stores int
}

type cacheEntry struct {
	hash    uint64 // the cache's hash of id (refCache.hash)
	typ, id string
	ref     *v1.ObjectReference
	stamp   uint64
	seen    atomic.Uint64 // a change-counter value at which ref was current
}

// unseen marks an entry no lookup has confirmed yet (the change counter
// never gets there: it counts changes).
const unseen = ^uint64(0)

const (
	bucketWays = 8
	// Buckets of a new cache, as a power of two: 256 slots.
	minCacheBits = 5
	// maxCacheBits bounds a cache to 2^12 buckets: 32,768 slots, 384 KiB
	// (plus the entries and references they keep alive), for about 8,000
	// references at a quarter load: more than the containers of any node.
	// At this size a full bucket gives up a random entry (whose key then
	// costs a copy at its next GetRef): a bigger table would cost more in
	// cache misses and GC scanning than it saves.
	maxCacheBits = 12
	// A cache grows to 4 slots per stored reference (a quarter of each
	// 8-slot bucket on average), so that hardly any bucket fills: a full
	// bucket below maxCacheBits doubles the whole cache.
	slotsPerRef = 4
)

// cacheSeed seeds a cache's hash: random per manager, kept across grows.
type cacheSeed struct {
	words [2]uint64
	short maphash.Seed
}

func newCacheSeed() cacheSeed {
	return cacheSeed{words: [2]uint64{rand.Uint64() | 1, rand.Uint64()}, short: maphash.MakeSeed()}
}

func newRefCache(bits uint, seed cacheSeed) *refCache {
	return &refCache{
		slots: make([]atomic.Pointer[cacheEntry], bucketWays<<bits),
		tags:  make([]atomic.Uint32, bucketWays<<bits),
		shift: 64 - bits,
		seed:  seed,
	}
}

// tagOf is the slot tag of an entry with this hash: never 0.
func tagOf(hash uint64) uint32 { return uint32(hash) | 1 }

// bucket returns where the entry of a container ID with this hash may be:
// its first slot. The ID alone is hashed (IDs are unique per runtime;
// equal IDs of different runtimes share a bucket and are told apart by the
// type).
func (c *refCache) bucket(hash uint64) int {
	return int(hash>>c.shift) * bucketWays
}

// hash hashes a container ID for the cache, every byte of it, mixed with
// the seed: an ID of 16 to 64 bytes (a runtime's 64 hex digits) in
// 8-byte words, the first 32 bytes and the last 32 (overlapping; 16 each
// up to 32 bytes) in two independent folded multiplies and a third that
// joins them, other lengths with hash/maphash. Only equal IDs (of
// different runtimes) share a hash by construction; see storeLocked for
// what a bucket full of them costs.
func (c *refCache) hash(id string) uint64 {
	n := len(id)
	if n < 16 || n > 64 {
		return maphash.String(c.seed.short, id)
	}
	// Words at 0 to n-8: inside the string. Native byte order: the hash
	// only has to agree with itself in one process.
	p := unsafe.Pointer(unsafe.StringData(id))
	w := func(at int) uint64 { return *(*uint64)(unsafe.Add(p, at)) }
	k0, k1 := c.seed.words[0], c.seed.words[1]^uint64(n)
	if n <= 32 {
		a := foldMul(w(0)^k0, w(8)^k1)
		return foldMul(a^w(n-16)^mixA, w(n-8)^k0^mixB)
	}
	// Each word of a 32-byte half goes into one factor: two words per
	// factor, one of them rotated so that the same change in both does
	// not cancel out.
	rot := func(x uint64) uint64 { return bits.RotateLeft64(x, 29) }
	a := foldMul(w(0)^k0^rot(w(16)), w(8)^k1^rot(w(24)))
	b := foldMul(w(n-32)^k1^rot(w(n-16)), w(n-24)^k0^rot(w(n-8)))
	return foldMul(a^mixC, b^mixD)
}

// foldMul is the 128-bit product of a and b, its halves xored together.
func foldMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// Constants that keep the hash's lanes apart (digits of pi).
const (
	mixA = 0x243f6a8885a308d3
	mixB = 0x13198a2e03707344
	mixC = 0xa4093822299f31d0
	mixD = 0x082efa98ec4e6c89
)

// lookup returns the entry of (typ, id), whose hash is hash, or nil.
func (c *refCache) lookup(hash uint64, typ, id string) *cacheEntry {
	b, tag := c.bucket(hash), tagOf(hash)
	tags := c.tags[b : b+bucketWays : b+bucketWays]
	for i := range tags {
		if tags[i].Load() != tag {
			continue
		}
		if e := c.slots[b+i].Load(); e != nil && e.hash == hash && e.id == id && e.typ == typ {
			return e
		}
	}
	return nil
}

// store puts e in the slot of an entry for the same key, or else in an
// empty slot of its bucket, or else, if evict is true, in a random one, and
// returns the entry cached for e's key: e, or, if keep is true, an entry
// already there for the same stored reference (the same stamp), which
// holds the pointer returned first. With evict false and every slot taken
// by other keys it stores nothing and returns nil. The victim is random:
// with every slot of a bucket taken, two live keys that picked the same
// slot by a fixed rule would evict each other on every GetRef.
func (c *refCache) store(e *cacheEntry, evict, keep bool) *cacheEntry {
	b, tag := c.bucket(e.hash), tagOf(e.hash)
	slots := c.slots[b : b+bucketWays : b+bucketWays]
	tags := c.tags[b : b+bucketWays : b+bucketWays]
	at := -1
	for i := range slots {
		old := slots[i].Load()
		if old == nil {
			if at < 0 {
				at = i
			}
			continue
		}
		if tags[i].Load() == tag && old.hash == e.hash && old.id == e.id && old.typ == e.typ {
			if keep && old.stamp == e.stamp {
				return old
			}
			at = i
			break
		}
	}
	if at < 0 {
		if !evict {
			return nil
		}
		at = int(rand.Uint32() % bucketWays)
	}
	// Tag first: a reader that sees the tag and an older entry rejects the
	// entry by its key; one that sees the new entry under an older tag
	// misses it once and asks the library.
	if tags[at].Load() != tag { // a slot reused by its key keeps its tag: no store
		tags[at].Store(tag)
	}
	slots[at].Store(e)
	return e
}

// splittable reports whether a bigger cache can split the bucket of an
// entry with this hash: whether an entry there has another hash.
func (c *refCache) splittable(hash uint64) bool {
	b := c.bucket(hash)
	for i := b; i < b+bucketWays; i++ {
		if e := c.slots[i].Load(); e != nil && e.hash != hash {
			return true
		}
	}
	return false
}

// remove empties the slot holding e, if one does, so that the reference it
// holds can be collected. A compare-and-swap: an entry that replaced e
// meanwhile stays.
func (c *refCache) remove(e *cacheEntry) {
	b := c.bucket(e.hash)
	slots := c.slots[b : b+bucketWays : b+bucketWays]
	for i := range slots {
		if slots[i].Load() == e {
			slots[i].CompareAndSwap(e, nil)
			return
		}
	}
}

// changeStep is how far one change moves the library's change counter,
// which is odd while a change is in progress (src/manager/writer.rs).
const changeStep = 2

// changes loads the manager's change counter (kuberef_change_counter).
func (r *RefManager) changes() uint64 {
	return atomic.LoadUint64(r.counter)
}

// forget drops e, an entry GetRef or ClearRef looked up before the
// library answered that its reference is no longer stored (nil: none).
// Only e goes, without the lock: an entry a concurrent SetRef stores for
// the same key meanwhile is for a newer reference, and stays.
func (r *RefManager) forget(e *cacheEntry) {
	if c := r.cache.Load(); c != nil && e != nil {
		c.remove(e)
	}
}

// cacheFor returns the manager's cache, making it if there is none yet.
func (r *RefManager) cacheFor() *refCache {
	if c := r.cache.Load(); c != nil {
		return c
	}
	r.cacheMu.Lock()
	defer r.cacheMu.Unlock()
	c := r.cache.Load()
	if c == nil {
		c = newRefCache(minCacheBits, newCacheSeed())
		r.cache.Store(c)
	}
	return c
}

// newEntry returns an entry for ref under id, hashed for c (every cache of
// a manager has the same seed: a grow keeps it), with its stamp and seen
// to be set before storeLocked publishes it.
func newEntry(c *refCache, id ContainerID, ref *v1.ObjectReference) *cacheEntry {
	return &cacheEntry{hash: c.hash(id.ID), typ: id.Type, id: id.ID, ref: ref}
}

// setUnpublished sets e's stamp and seen (a change-counter value at which
// ref was current, or unseen) with plain writes: e is not shared until
// storeLocked publishes it with an atomic store, which orders them before
// every load of e.seen.
func (e *cacheEntry) setUnpublished(stamp, seen uint64) {
	e.stamp = stamp
	*(*uint64)(unsafe.Pointer(&e.seen)) = seen
}

// storeLocked caches e, and returns the pointer GetRef is to return for
// e's key: e.ref, or, if keep is true (e holds a copy GetRef made), the
// pointer already cached for the same stored reference (the same stamp).
// The caller holds cacheMu, and made the library call that gave e's stamp
// under it, or took e from the pending sets, where no store of a newer
// reference of its key leaves it (pending.go): SetRef's store in the
// library and in the cache (or its pending set), and GetRef's
// copy and its caching, are each one step for every other SetRef and
// GetRef copy of this RefManager, so that the cache never goes back to an
// older stored reference than the library's.
//
// Below maxCacheBits the cache never evicts: a store into a full bucket
// doubles the cache instead, so that every reference SetRef stored (and
// every copy GetRef made) stays cached (or pending) until its key is
// cleared or stored again. The one exception is a bucket whose 8 entries
// all have the new entry's hash, which only equal IDs of 9 or more
// runtimes have: no size would separate them, so one of them is evicted
// (its key's next GetRef returns a copy). The cache also grows, up to
// maxCacheBits, when the manager holds more than one reference per
// slotsPerRef slots; that check (one call for the manager's Len) runs
// after every len(slots)/8 stores, at the first store with check true
// (GetRef's move of a pending set passes false: a GetRef that finds its
// reference in Go makes no call into the library while nothing in the
// manager changes). At maxCacheBits a store into a full bucket evicts a
// random entry.
func (r *RefManager) storeLocked(e *cacheEntry, keep, check bool) *v1.ObjectReference {
	c := r.cache.Load()
	if c == nil { // closed meanwhile
		return e.ref
	}
	cached := c.store(e, c.shift <= 64-maxCacheBits, keep)
	for cached == nil { // a full bucket below the largest size
		if !c.splittable(e.hash) {
			// Every entry there has e's hash (equal IDs of 9 or more
			// runtimes): no size separates them, one of them goes.
			cached = c.store(e, true, keep)
			break
		}
		c = r.grow(c, 65-c.shift)
		cached = c.store(e, c.shift <= 64-maxCacheBits, keep)
	}
	if cached != e {
		return cached.ref
	}
	c.stores++
	if !check || c.stores <= len(c.slots)/8 || c.shift <= 64-maxCacheBits {
		return e.ref
	}
	c.stores = 0
	refs := r.Len()
	bits := 64 - c.shift
	for bits < maxCacheBits && bucketWays<<bits < slotsPerRef*refs {
		bits++
	}
	if bits > 64-c.shift {
		r.grow(c, bits)
	}
	return e.ref
}

// grow replaces c, the cache, with one of 2^bits buckets holding c's
// entries, and returns it. The caller holds cacheMu.
func (r *RefManager) grow(c *refCache, bits uint) *refCache {
	grown := newRefCache(bits, c.seed)
	for i := range c.slots {
		if e := c.slots[i].Load(); e != nil {
			// Only keys of one hash (see storeLocked) can fill a bucket
			// of the bigger cache: one of them goes.
			grown.store(e, true, false)
		}
	}
	r.cache.Store(grown)
	return grown
}
