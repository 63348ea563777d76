package kuberef

import "runtime"

// Stats are a manager's counters (cheap; always on), for export as metrics.
// Each is a value it had during the call; under concurrent writers they may
// disagree with each other slightly.
type Stats struct {
	Sets   uint64 // references stored (SetRef, and each one Load stored)
	Gets   uint64 // GetRef lookups: Hits + Misses (one per GetRef, including those the Go cache answers)
	Hits   uint64 // lookups that found a reference
	Misses uint64 // lookups that found none (including GetRef of an ID over MaxStringLen)
	Clears uint64 // references removed by ClearRef
	Pruned uint64 // references removed by ClearPod, Retain and replacing Loads
	Count  uint64 // references stored now
	Bytes  uint64 // approximate bytes the stored references use
}

// Stats returns the manager's counters.
func (r *RefManager) Stats() Stats {
	// GetRef calls this RefManager answered without the library (hits from
	// the cache, misses of over-limit IDs), and the library lookups it made
	// beyond one per GetRef; loaded before the library's counters, which
	// already include every lookup counted in extra.
	var answered, extra, unasked uint64
	for i := range r.getStats {
		answered += r.getStats[i].answered.Load()
		extra += r.getStats[i].extra.Load()
		unasked += r.getStats[i].unasked.Load()
	}
	st, s := cStats(r.ptr())
	runtime.KeepAlive(r)
	if st != StatusOK {
		panic(&Error{Op: "Stats", Status: st})
	}
	return Stats{Sets: s.sets, Gets: s.gets + answered + unasked - extra, Hits: s.hits + answered - extra,
		Misses: s.misses + unasked, Clears: s.clears, Pruned: s.pruned, Count: s.count, Bytes: s.bytes}
}
