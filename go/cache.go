package kuberef

import (
	"encoding/binary"
	"hash/maphash"
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
// returns until its key changes.
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

// hash hashes a container ID for the cache. An ID of 16 bytes or more is
// hashed from its length and its last 16 bytes, mixed with the seed: every
// lookup hashes, and runtimes' IDs are random hex, which those bytes tell
// apart. IDs that share them share a bucket, which costs their lookups the
// library's answer, never a wrong one. Shorter IDs are hashed whole.
func (c *refCache) hash(id string) uint64 {
	n := len(id)
	if n < 16 {
		return maphash.String(c.seed.short, id)
	}
	tail := unsafe.Slice(unsafe.StringData(id[n-16:]), 16)
	h := (binary.LittleEndian.Uint64(tail) ^ c.seed.words[1]) * c.seed.words[0]
	h = (h ^ binary.LittleEndian.Uint64(tail[8:]) ^ uint64(n)) * 0x9E3779B97F4A7C15
	return h ^ h>>29
}

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
// cleared or stored again. The cache also grows, up to maxCacheBits, when
// the manager holds more than one reference per slotsPerRef slots; that
// check (one call for the manager's Len) runs after every len(slots)/8
// stores, at the first store with check true (GetRef's move of a pending
// set passes false: GetRef makes no call into the library while nothing in
// the manager changes). At maxCacheBits a store into a full bucket evicts a
// random entry.
func (r *RefManager) storeLocked(e *cacheEntry, keep, check bool) *v1.ObjectReference {
	c := r.cache.Load()
	if c == nil { // closed meanwhile
		return e.ref
	}
	cached := c.store(e, c.shift <= 64-maxCacheBits, keep)
	for cached == nil { // a full bucket below the largest size
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
			// Only keys that share the bytes the hash reads (see hash)
			// can fill a bucket of the bigger cache: one of them goes.
			grown.store(e, true, false)
		}
	}
	r.cache.Store(grown)
	return grown
}
