package kuberef

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// RefManager is a drop-in replacement for upstream's kubecontainer.RefManager
// (Kubernetes v1.18.6): a thread-safe map from container ID to object
// reference, with the same SetRef, GetRef and ClearRef. The map lives in the
// C library, so the references stored in Global() are visible to C code and
// plugins in the same process.
//
// References are shared, as in upstream, where GetRef returns the very
// pointer SetRef stored: GetRef returns the pointer passed to SetRef when
// that reference was stored through this RefManager value, and otherwise
// (stored by C code, a plugin, Load, or another RefManager value) a
// reference built once from the library's copy and shared by every later
// GetRef until the stored reference changes. The binding's cache of these
// pointers grows with the manager and drops none of them until it reaches
// 32,768 slots (about 8,000 references), unless 9 or more runtimes store
// one container ID; then it may drop one, and the next GetRef of its key
// builds the reference again from the library's copy. Treat references as read-only once stored or returned, as the
// kubelet does.
//
// Differences from upstream, all implied by storing copies outside the Go heap:
//   - The library stores a copy of *ref: C code, plugins, Snapshot and Save
//     see the reference as it was when SetRef was called, even if the
//     caller changes *ref afterwards (which upstream's callers never do).
//   - SetRef(id, nil) removes the reference stored under id (it is ClearRef):
//     GetRef then returns (nil, false). Upstream stores the nil pointer and
//     GetRef returns (nil, true). The v1.18.6 kubelet never stores nil (it
//     checks ref != nil first), and the prober regenerates a reference on a
//     miss, so this only changes what a caller that stores nil observes.
//   - The mutex is not embedded: there are no Lock/RLock methods to call.
//
// A RefManager from NewRefManager owns C memory; Close frees it (a finalizer
// does so too if Close is never called). Close must not run concurrently
// with other calls on the same manager; every other method is safe for
// concurrent use. Using a closed manager panics.
//
// Strings longer than MaxStringLen, which the library refuses: GetRef
// answers (nil, false) and ClearRef does nothing for such an ID, which is
// what upstream does for an ID nothing was stored under, as nothing can be
// here (SetRef refuses it); SetRef panics with *Error, as it cannot store
// the reference and upstream's signature has no error. Apart from that and a closed manager, methods
// without an error result panic only on an internal failure of the
// library (see Error).
type RefManager struct {
	m       unsafe.Pointer // *cManager (C memory), read and cleared atomically
	counter *uint64        // its change counter (C memory), loaded atomically
	global  bool
	cache   atomic.Pointer[refCache] // see cache.go
	// cacheMu orders the cache's stores and grows, and guards pend; GetRef
	// reads the cache without it, and drops do not need it (see forget).
	cacheMu sync.Mutex
	pend    pendingSets // SetRef's references no GetRef has read yet (pending.go)
	// pendingScore leans positive while pending sets were read before
	// their ClearRef, negative while they were cleared unread (pending.go).
	pendingScore atomic.Int32
	// getStats corrects the library's get counters for GetRef (see Stats),
	// striped by the ID's last byte so that goroutines reading different
	// keys rarely add to the same cache line.
	getStats [getStripes]getStripe
	// statsFloor holds the Gets and Hits the last Stats returned, under
	// statsMu: Stats never returns less (see Stats).
	statsMu    sync.Mutex
	statsFloor struct{ gets, hits uint64 }
}

const getStripes = 16

type getStripe struct {
	answered atomic.Uint64 // GetRef calls answered from the cache alone
	extra    atomic.Uint64 // library lookups beyond the first in one GetRef
	unasked  atomic.Uint64 // GetRef misses of IDs over MaxStringLen (no library lookup)
	_        [40]byte
}

func (r *RefManager) getStripe(id string) *getStripe {
	if id == "" {
		return &r.getStats[0]
	}
	return &r.getStats[id[len(id)-1]%getStripes]
}

// newManager wraps a manager of the library.
func newManager(p *cManager, global bool, op string) (*RefManager, error) {
	counter := cChangeCounter(p)
	if p == nil || counter == nil {
		// The library returns NULL only when it panicked.
		return nil, &Error{Op: op, Status: StatusPanic}
	}
	return &RefManager{m: unsafe.Pointer(p), counter: counter, global: global}, nil
}

// NewRefManager returns a new, empty manager, independent of every other
// (upstream semantics). Free it with Close when done; a finalizer frees it
// if it becomes unreachable first. It panics with *Error (StatusPanic) only
// if the library failed to create the manager, which no input can cause.
func NewRefManager() *RefManager {
	r, err := newManager(cNew(), false, "NewRefManager")
	if err != nil {
		panic(err)
	}
	runtime.SetFinalizer(r, (*RefManager).Close)
	return r
}

var (
	globalOnce sync.Once
	globalMgr  *RefManager
	globalErr  error
)

// Global returns the process-wide manager of the loaded C library
// (kuberef_global()), shared with C code and plugins that use the same copy
// of the library. It is never freed; Close on it does nothing. Like
// NewRefManager, it panics only if the library failed to create it (on
// every call then, not only the first).
func Global() *RefManager {
	globalOnce.Do(func() {
		globalMgr, globalErr = newManager(cGlobal(), true, "Global")
	})
	if globalErr != nil {
		panic(globalErr) // every call, not only the first
	}
	return globalMgr
}

// Close frees a manager from NewRefManager and every reference it holds. It
// is idempotent, does nothing on Global(), and always returns nil.
func (r *RefManager) Close() error {
	if r.global {
		return nil
	}
	if p := atomic.SwapPointer(&r.m, nil); p != nil {
		runtime.SetFinalizer(r, nil)
		cFree((*cManager)(p))
		r.cache.Store(nil)
		r.cacheMu.Lock()
		r.clearPendingLocked()
		r.cacheMu.Unlock()
	}
	return nil
}

func (r *RefManager) ptr() *cManager {
	p := atomic.LoadPointer(&r.m)
	if p == nil {
		panic("kuberef: RefManager used after Close")
	}
	return (*cManager)(p)
}

// SetRef stores ref under id, replacing any earlier reference (upstream
// SetRef): the library keeps a copy of *ref, and GetRef on this RefManager
// returns ref itself while it stays stored. SetRef(id, nil) is ClearRef(id);
// see RefManager.
//
// SetRef panics with *Error (Status KUBEREF_INVALID_ARGUMENT) if id.Type,
// id.ID or a field of *ref is longer than MaxStringLen: the library cannot
// store it, and upstream's signature has no error to return. Nothing is
// stored or changed then. This and using a closed manager are the binding's
// only panics that an input can cause; Kubernetes validation keeps real
// names and IDs far below the limit.
func (r *RefManager) SetRef(id ContainerID, ref *v1.ObjectReference) {
	if ref == nil {
		r.ClearRef(id)
		return
	}
	m := r.ptr()
	hash := r.cacheFor().hash(id.ID)
	// Cached at once while recent sets were read before they were cleared,
	// else left pending (see pendingSets).
	var e *cacheEntry
	if r.cachesSets(hash) {
		e = &cacheEntry{hash: hash, typ: id.Type, id: id.ID, ref: ref}
	}
	// The library's store and the cache's (or the pending set's) under one
	// lock (see storeLocked): two SetRefs of one key record their pointers
	// in the order the library stored them.
	r.cacheMu.Lock()
	before := r.changes()
	st, stamp := cSet(m, id.Type, id.ID, ref.Kind, ref.Namespace, ref.Name, string(ref.UID),
		ref.APIVersion, ref.ResourceVersion, ref.FieldPath)
	if testHookAfterSet != nil {
		testHookAfterSet()
	}
	after := r.changes()
	runtime.KeepAlive(r)
	if st != StatusOK {
		r.cacheMu.Unlock()
		panic(&Error{Op: "SetRef", Status: st})
	}
	// A set is exactly one change, which moves the counter by changeStep
	// from an even value (no change in progress): if it moved by exactly
	// that from such a value, no other change came in between, and ref is
	// current at "after".
	seen := unseen
	if before%changeStep == 0 && after == before+changeStep {
		seen = after
	}
	if e != nil {
		e.setUnpublished(stamp, seen)
		r.storeLocked(e, false, true)
		if r.pend.mayHold(hash) {
			r.pend.takeLocked(hash, id.Type, id.ID) // an older set of this key
		}
	} else {
		r.pendLocked(hash, id, ref, stamp, seen)
	}
	r.cacheMu.Unlock()
}

// testHookAfterSet, if set (by tests), runs in SetRef between the store and
// the second load of the change counter.
var testHookAfterSet func()

// testHookBeforeRecopy, if set (by tests), runs in GetRef after a copy found
// its buffer too small, before the copy that sizes it exactly.
var testHookBeforeRecopy func()

// inlineBytes is the room GetRef's first copy gives the library: the
// seven fields and the NUL the library writes after each, so references of
// up to 137 bytes of text. With the 112-byte ObjectReference it makes a
// 256-byte block, which holds the references of typical pods.
const inlineBytes = 144

// refBlock is a reference and the bytes of its seven strings in one
// allocation; GetRef returns &block.ref, which keeps the block alive.
type refBlock struct {
	ref v1.ObjectReference
	buf [inlineBytes]byte
}

// GetRef returns the reference stored under id, or (nil, false) if there is
// none (upstream GetRef). The reference is shared (see RefManager): while the
// stored reference stays the same, every call returns the same pointer.
// While nothing in the manager changes, GetRef of a reference it has
// cached does not call into the library (its change counter is read from
// Go; a key with nothing stored is not cached and costs one call, which
// copies nothing); after a change, one call
// that copies nothing tells whether the cached reference is still the
// stored one, and only a new stored reference is copied (its seven strings
// share one allocation with it).
//
// An id with a Type or ID longer than MaxStringLen gets (nil, false)
// without a call into the library: nothing can be stored under it (SetRef
// refuses it), so that is upstream's answer too. Stats counts it as one
// lookup and a miss, like every other miss.
func (r *RefManager) GetRef(id ContainerID) (*v1.ObjectReference, bool) {
	m := r.ptr()
	// seen is loaded before the library is asked: whatever the lookups
	// below find is current at least until the counter moves from it.
	seen := r.changes()
	var e *cacheEntry
	if c := r.cache.Load(); c != nil {
		hash := c.hash(id.ID)
		e = c.lookup(hash, id.Type, id.ID)
		current := e != nil && e.seen.Load() == seen
		if !current && r.pend.mayHold(hash) {
			if p := r.takePending(hash, id); p != nil {
				e = p
				current = e.seen.Load() == seen
			}
		}
		if current {
			r.getStripe(id.ID).answered.Add(1)
			return e.ref, true
		}
	}
	// Checked here, off the cached path: an over-limit ID is never cached.
	if len(id.Type) > MaxStringLen || len(id.ID) > MaxStringLen {
		r.getStripe(id.ID).unasked.Add(1)
		return nil, false
	}
	// Stats counts one lookup per GetRef, and a hit only once the GetRef
	// is one: the library's lookups beyond the one that decides are
	// "extra", each counted before the library counts it (see Stats). Each
	// lookup is extra until it decides: the stamp lookup decides a miss, or
	// a hit of the cached reference's stamp; a stamp found with none
	// cached, or a newer one, means a copy (copyRef), which decides.
	extra := &r.getStripe(id.ID).extra
	extra.Add(1)
	st, stamp := cStamp(m, id.Type, id.ID)
	runtime.KeepAlive(r)
	switch st {
	case StatusOK:
		if e != nil && e.stamp == stamp {
			extra.Add(^uint64(0))
			e.seen.Store(seen)
			return e.ref, true
		}
	case StatusNotFound:
		extra.Add(^uint64(0))
		r.forget(e)
		return nil, false
	default:
		extra.Add(^uint64(0))
		panic(&Error{Op: "GetRef", Status: st})
	}
	// Copy it (and its stamp, which may be newer than the one just seen
	// if a writer came in between).
	return r.copyRef(m, id, e, seen)
}

// copyRef copies the reference stored under id from the library and caches
// it, under cacheMu (see storeLocked), and returns the pointer to return:
// the copy, or SetRef's pointer for the same stored reference. e is the
// entry GetRef found for id (nil: none), dropped if the library has none.
func (r *RefManager) copyRef(m *cManager, id ContainerID, e *cacheEntry, seen uint64) (*v1.ObjectReference, bool) {
	c := r.cacheFor()
	extra := &r.getStripe(id.ID).extra
	b := new(refBlock)
	r.cacheMu.Lock()
	defer r.cacheMu.Unlock()
	// A set of id pending since GetRef looked (its tag written after that
	// look): the stored reference, if the copy finds its stamp, and else
	// older than the copy, which replaces it.
	set, pending := r.pend.takeLocked(c.hash(id.ID), id.Type, id.ID)
	// Each copy is extra until it decides (found, or not found), as the
	// stamp lookup was (see GetRef): one too small for the reference does
	// not, though the library counts it as a hit.
	extra.Add(1)
	res := cGet(m, id.Type, id.ID, &b.buf[0], inlineBytes)
	runtime.KeepAlive(r)
	if res.status == StatusOK {
		extra.Add(^uint64(0))
		fillRef(&b.ref, unsafe.String(&b.buf[0], res.needed), &res)
		return r.cacheCopyLocked(c, id, &b.ref, res.stamp, seen, set, pending), true
	}
	for res.status == StatusBufferTooSmall { // a longer reference: size it exactly
		if testHookBeforeRecopy != nil {
			testHookBeforeRecopy()
		}
		buf := make([]byte, res.needed)
		extra.Add(1)
		res = cGet(m, id.Type, id.ID, &buf[0], len(buf))
		runtime.KeepAlive(r)
		if res.status == StatusOK {
			extra.Add(^uint64(0))
			ref := new(v1.ObjectReference)
			fillRef(ref, unsafe.String(&buf[0], res.needed), &res)
			return r.cacheCopyLocked(c, id, ref, res.stamp, seen, set, pending), true
		}
	}
	extra.Add(^uint64(0)) // it decides, or it failed
	if res.status == StatusNotFound {
		r.forget(e)
		return nil, false
	}
	panic(&Error{Op: "GetRef", Status: res.status})
}

// cacheCopyLocked caches ref, GetRef's copy of the reference of this stamp
// (current at seen), and returns the pointer to return: SetRef's, if set (a
// set pending for id: pending true) is of the same stamp, or one cached
// before for it (see storeLocked), or ref. The caller holds cacheMu.
func (r *RefManager) cacheCopyLocked(c *refCache, id ContainerID, ref *v1.ObjectReference, stamp, seen uint64,
	set pendingSet, pending bool) *v1.ObjectReference {
	if pending && set.stamp == stamp {
		set.seen = seen
		r.notePendingFate(true)
		return r.cacheLocked(set, true).ref
	}
	copied := newEntry(c, id, ref)
	copied.setUnpublished(stamp, seen)
	return r.storeLocked(copied, true, true)
}

// fillRef points ref's fields into s, the one string the library wrote.
func fillRef(ref *v1.ObjectReference, s string, r *result) {
	f := func(i int) string { return s[r.off[i] : r.off[i]+r.len[i]] }
	ref.Kind = f(0)
	ref.Namespace = f(1)
	ref.Name = f(2)
	ref.UID = types.UID(f(3))
	ref.APIVersion = f(4)
	ref.ResourceVersion = f(5)
	ref.FieldPath = f(6)
}

// ClearRef forgets the reference stored under id; clearing an absent id does
// nothing (upstream ClearRef). So does an id with a Type or ID longer than
// MaxStringLen, under which nothing can be stored: the library is not asked.
func (r *RefManager) ClearRef(id ContainerID) {
	m := r.ptr()
	if overLimit(id.Type, id.ID) {
		return
	}
	// Looked up first: the entry to drop is the one cached before the
	// clear, not one a concurrent SetRef stores after it; a pending set or
	// an entry moved from one is dropped by the removed stamp.
	c := r.cache.Load()
	var e *cacheEntry
	var hash uint64
	if c != nil {
		hash = c.hash(id.ID)
		e = c.lookup(hash, id.Type, id.ID)
	}
	st, stamp := cClear(m, id.Type, id.ID)
	runtime.KeepAlive(r)
	switch st {
	case StatusOK, StatusNotFound:
		r.forget(e)
		// The removed reference was not the entry looked up: it may be
		// pending, or have moved from its slot into the cache since (a
		// GetRef, a copy, or a SetRef of a key sharing its slot, all under
		// cacheMu).
		if st == StatusOK && c != nil && (e == nil || e.stamp != stamp) {
			r.dropPending(hash, id, stamp)
		}
	default:
		panic(&Error{Op: "ClearRef", Status: st})
	}
}

// Len returns the number of stored references (not in upstream). With
// concurrent writers it is a count the manager had during the call.
func (r *RefManager) Len() int {
	n := cLen(r.ptr())
	runtime.KeepAlive(r)
	return n
}
