package kuberef

import (
	"sync/atomic"

	v1 "k8s.io/api/core/v1"
)

// pendingSets holds references SetRef stored that no GetRef has read since,
// so that a SetRef and the ClearRef after it allocate nothing: a cache entry
// (cache.go) is a new object, and writing its new cache line costs a SetRef
// more than the rest of the cache's work. The first GetRef of such a key
// moves its reference into the cache, with its stamp and "seen", so GetRef
// returns SetRef's own pointer as before; a SetRef whose slot another key
// holds moves that one first. A pointer SetRef stored therefore stays the
// one GetRef returns exactly as long as it would in the cache alone.
//
// Slots are direct-mapped by the cache's hash of the container ID (every
// cache of a manager has the same seed) and read and written under the
// manager's cacheMu, apart from each slot's tag (tagOf its set's hash, or 0
// for an empty slot): GetRef loads it without the lock and takes the lock
// only when it matches, so the miss of a key with no pending set costs no
// lock. A tag is written after its slot: a GetRef that loads the old tag
// asks the library, and its copy (copyRef) takes the slot under the lock if
// the stamps agree. ClearRef takes the lock unless the cache entry it looked
// up before the clear has the stamp the clear removed (then it drops that
// entry without the lock, as for any cached reference): the removed set may
// be pending, or moving into the cache meanwhile, and every move holds the
// lock (see dropPending).
//
// Which sets wait here adapts to how the manager is used: a set read before
// its ClearRef costs less cached at once (one lock, in SetRef), one cleared
// unread costs less pending (no allocation at all). The manager keeps a
// score of the pending sets' fates, a step toward "read" for each that a
// GetRef takes, toward "cleared" for each that a ClearRef drops; while it
// leans to "read", SetRef caches its reference at once, except for keys
// whose hash has its top 4 bits clear (1 in 16), whose sets stay pending to
// keep the score current. Either way GetRef returns SetRef's pointer.
//
// A slot's reference may no longer be the stored one (changed through C,
// another RefManager value, Load, ClearPod, Retain, or a ClearRef that
// removed another stamp): a slot is judged by its stamp and "seen" exactly
// as a cache entry is, so a stale one costs at most a copy. Like a stale
// cache entry, it keeps its reference reachable until a GetRef or SetRef of
// its key (a SetRef of another key that needs its slot moves it into the
// cache, where it stays as such an entry would).
type pendingSets struct {
	tags  [pendingSlots]atomic.Uint32
	slots [pendingSlots]pendingSet
}

// pendingSet is what SetRef stored: the key, its cache hash, the caller's
// pointer, the library's stamp and "seen" (see cacheEntry). ref is nil in
// an empty slot.
type pendingSet struct {
	hash        uint64
	typ, id     string
	ref         *v1.ObjectReference
	stamp, seen uint64
}

// pendingScoreLimit bounds the score of pending sets' fates (see
// pendingSets) in both directions: after this many more fates of one kind,
// SetRef follows them.
const pendingScoreLimit = 8

// cachesSets reports whether SetRef caches the reference of a key with this
// hash at once rather than leaving it pending (see pendingSets).
func (r *RefManager) cachesSets(hash uint64) bool {
	return r.pendingScore.Load() > 0 && hash>>60 != 0
}

// notePendingFate moves the score one step toward read (a GetRef took a
// pending set) or cleared (a ClearRef dropped one unread). The caller holds
// cacheMu.
func (r *RefManager) notePendingFate(read bool) {
	v := r.pendingScore.Load()
	if read && v < pendingScoreLimit {
		r.pendingScore.Store(v + 1)
	} else if !read && v > -pendingScoreLimit {
		r.pendingScore.Store(v - 1)
	}
}

// pendingSlots is how many sets can wait at once; a kubelet reads few of
// the references it stores, and most of them while the container runs.
const pendingSlots = 64

func pendingIndex(hash uint64) int { return int(hash & (pendingSlots - 1)) }

// mayHold reports whether a set of a key with this hash may be pending
// (false: none is). No lock.
func (p *pendingSets) mayHold(hash uint64) bool {
	return p.tags[pendingIndex(hash)].Load() == tagOf(hash)
}

// takeLocked empties the slot of (typ, id) and returns its set, if the set
// there is that key's. The caller holds cacheMu.
func (p *pendingSets) takeLocked(hash uint64, typ, id string) (pendingSet, bool) {
	i := pendingIndex(hash)
	s := &p.slots[i]
	if s.ref == nil || s.hash != hash || s.id != id || s.typ != typ {
		return pendingSet{}, false
	}
	out := *s
	*s = pendingSet{}
	p.tags[i].Store(0)
	return out, true
}

// pendLocked records a SetRef's set of ref under id, replacing an older one
// of its key; a set of another key in its slot moves to the cache first.
// The caller holds cacheMu, and made the library call that gave stamp under
// it. (Fields are assigned one by one: a pendingSet built on the stack and
// copied whole is read back with 16-byte loads that straddle the 8-byte
// stores that wrote it, which stalls.)
func (r *RefManager) pendLocked(hash uint64, id ContainerID, ref *v1.ObjectReference, stamp, seen uint64) {
	i := pendingIndex(hash)
	slot := &r.pend.slots[i]
	if slot.ref != nil && (slot.hash != hash || slot.id != id.ID || slot.typ != id.Type) {
		r.cacheLocked(*slot, true)
	}
	slot.hash, slot.typ, slot.id, slot.ref, slot.stamp, slot.seen = hash, id.Type, id.ID, ref, stamp, seen
	if tag := tagOf(hash); r.pend.tags[i].Load() != tag {
		r.pend.tags[i].Store(tag)
	}
}

// cacheLocked caches a set taken from its slot and returns its entry (check:
// see storeLocked). No entry cached for its key is newer: a store of one (a
// copy) takes the key's pending set first. The caller holds cacheMu.
func (r *RefManager) cacheLocked(s pendingSet, check bool) *cacheEntry {
	e := &cacheEntry{hash: s.hash, typ: s.typ, id: s.id, ref: s.ref}
	e.setUnpublished(s.stamp, s.seen)
	r.storeLocked(e, false, check)
	return e
}

// takePending moves the pending set of id, whose hash is hash, into the
// cache and returns its entry, or nil if id has none.
func (r *RefManager) takePending(hash uint64, id ContainerID) *cacheEntry {
	e := &cacheEntry{hash: hash, typ: id.Type, id: id.ID} // allocated before the lock, as by SetRef
	r.cacheMu.Lock()
	i := pendingIndex(hash)
	s := &r.pend.slots[i]
	if s.ref == nil || s.hash != hash || s.id != id.ID || s.typ != id.Type {
		r.cacheMu.Unlock()
		return nil
	}
	e.ref = s.ref
	e.setUnpublished(s.stamp, s.seen)
	*s = pendingSet{}
	r.pend.tags[i].Store(0)
	r.notePendingFate(true)
	r.storeLocked(e, false, false)
	r.cacheMu.Unlock()
	return e
}

// dropPending drops the set of this stamp, which ClearRef removed from the
// library, whether it is still in id's slot or was moved into the cache
// since ClearRef looked (moves hold cacheMu, which this takes).
func (r *RefManager) dropPending(hash uint64, id ContainerID, stamp uint64) {
	r.cacheMu.Lock()
	i := pendingIndex(hash)
	if s := &r.pend.slots[i]; s.stamp == stamp && s.ref != nil && s.hash == hash && s.id == id.ID && s.typ == id.Type {
		*s = pendingSet{}
		r.pend.tags[i].Store(0)
		r.notePendingFate(false)
	} else if c := r.cache.Load(); c != nil {
		// Moved into the cache since ClearRef looked: moves hold cacheMu.
		if e := c.lookup(hash, id.Type, id.ID); e != nil && e.stamp == stamp {
			c.remove(e)
		}
	}
	r.cacheMu.Unlock()
}

// clearPendingLocked empties every slot (Close). The caller holds cacheMu.
func (r *RefManager) clearPendingLocked() {
	for i := range r.pend.slots {
		r.pend.slots[i] = pendingSet{}
		r.pend.tags[i].Store(0)
	}
}
