// Package metrics exports a kuberef RefManager's counters (its Stats) as
// Prometheus metrics, for a kubelet fork's /metrics.
//
// It is a module of its own so that the binding's module needs no
// Prometheus client. It requires the oldest client_golang it works with
// (v0.9.2, the first with a go.mod), so a module that already uses
// client_golang keeps its version: Kubernetes v1.18 uses v1.0.0.
//
// The metrics, read from one Stats call per scrape:
//
//	kuberef_references                    gauge    references stored now
//	kuberef_reference_bytes               gauge    approximate bytes they use
//	kuberef_lookups_total{result="hit"}   counter  GetRef calls that found a reference
//	kuberef_lookups_total{result="miss"}  counter  GetRef calls that found none
//	kuberef_sets_total                    counter  references stored (SetRef, and each one Load stored)
//	kuberef_clears_total                  counter  references removed by ClearRef
//	kuberef_pruned_total                  counter  references removed by ClearPod, Retain and replacing Loads
//
// The only variable label is result, with two values. Several managers
// exported from one registry need distinct constant labels
// (NewCollectorWithLabels), or their metrics would collide.
package metrics

import (
	kuberef "github.com/kuberef/kuberef/go"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector is a prometheus.Collector over one RefManager's Stats. It is
// safe for concurrent use, as the registries that call it require. The
// manager must stay open while the Collector is registered: Unregister it
// before closing a manager from NewRefManager. Collect on a closed manager
// panics, as every use of one does, and a registry's Gather runs Collect in
// a goroutine of its own, where that panic ends the process.
type Collector struct {
	m                                                *kuberef.RefManager
	references, bytes, lookups, sets, clears, pruned *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a Collector over m (kuberef.Global() for the
// process-wide manager a kubelet fork uses).
func NewCollector(m *kuberef.RefManager) *Collector {
	return NewCollectorWithLabels(m, nil)
}

// NewCollectorWithLabels returns a Collector over m whose metrics all carry
// constLabels, for exporting several managers from one registry.
func NewCollectorWithLabels(m *kuberef.RefManager, constLabels prometheus.Labels) *Collector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, constLabels)
	}
	return &Collector{
		m:          m,
		references: desc("kuberef_references", "Container references stored in the kuberef reference manager."),
		bytes: desc("kuberef_reference_bytes",
			"Approximate bytes the stored container references use (entries and hash table slots, without allocator overhead)."),
		lookups: desc("kuberef_lookups_total",
			"Container reference lookups (GetRef), by whether a reference was found (result=hit) or not (result=miss).", "result"),
		sets:   desc("kuberef_sets_total", "Container references stored (SetRef, and each reference a load stored)."),
		clears: desc("kuberef_clears_total", "Container references removed by ClearRef."),
		pruned: desc("kuberef_pruned_total",
			"Container references removed in bulk (ClearPod, Retain and loads that replace the stored references)."),
	}
}

// Describe sends the descriptors of every metric Collect sends.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.references, c.bytes, c.lookups, c.sets, c.clears, c.pruned} {
		ch <- d
	}
}

// Collect reads the manager's Stats once and sends every metric from it.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.m.Stats()
	gauge := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(c.references, s.Count)
	gauge(c.bytes, s.Bytes)
	counter(c.lookups, s.Hits, "hit")
	counter(c.lookups, s.Misses, "miss")
	counter(c.sets, s.Sets)
	counter(c.clears, s.Clears)
	counter(c.pruned, s.Pruned)
}
