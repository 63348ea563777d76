package kuberef

import "runtime"

// Stats are a manager's counters (cheap; always on), for export as metrics.
// Count and each counter that only grows is a value it had during the call,
// except that Gets and Hits may lag behind GetRefs still in flight (they
// never decrease from one call to the next); Bytes, summed over the library's
// shards one after another, may be off by what writers changed meanwhile;
// and under concurrent writers they may disagree with each other slightly.
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

// Stats returns the manager's counters. Gets and Hits never decrease from
// one call to the next, as a metrics exporter expects of counters.
func (r *RefManager) Stats() Stats {
	// The library's counters first, then this RefManager's corrections:
	// GetRef calls answered without the library (hits from the cache,
	// misses of over-limit IDs), and the library lookups made beyond one
	// per GetRef, each added to extra before the library counts it (a
	// GetRef's first lookup is extra until it is known to decide the
	// GetRef's answer: a hit it counted is never one the GetRef then
	// turns into a miss). So a lookup the library's counters include is in
	// extra too, and Gets and Hits are at most their true values; a GetRef
	// in flight can make them lower for a moment, which the floor below
	// hides.
	st, s := cStats(r.ptr())
	runtime.KeepAlive(r)
	if st != StatusOK {
		panic(&Error{Op: "Stats", Status: st})
	}
	var answered, extra, unasked uint64
	for i := range r.getStats {
		answered += r.getStats[i].answered.Load()
		extra += r.getStats[i].extra.Load()
		unasked += r.getStats[i].unasked.Load()
	}
	// (A moment's shortfall can go below zero: floored at zero.)
	less := func(a, b uint64) uint64 { return a - min(a, b) }
	out := Stats{Sets: s.sets, Gets: less(s.gets+answered+unasked, extra), Hits: less(s.hits+answered, extra),
		Misses: s.misses + unasked, Clears: s.clears, Pruned: s.pruned, Count: s.count, Bytes: s.bytes}
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	out.Gets = max(out.Gets, r.statsFloor.gets)
	out.Hits = max(out.Hits, r.statsFloor.hits)
	r.statsFloor.gets, r.statsFloor.hits = out.Gets, out.Hits
	return out
}
