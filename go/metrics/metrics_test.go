package metrics_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	"github.com/kuberef/kuberef/go/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

func id(s string) kuberef.ContainerID { return kuberef.ContainerID{Type: "containerd", ID: s} }

func ref(pod, container string) *v1.ObjectReference {
	return &v1.ObjectReference{Kind: "Pod", Namespace: "default", Name: pod, UID: types.UID("uid-" + pod),
		APIVersion: "v1", FieldPath: "spec.containers{" + container + "}"}
}

// values are what the collector must report.
type values struct{ references, bytes, hits, misses, sets, clears, pruned uint64 }

// operate runs a known sequence on m, each counter ending at a different
// value: 7 sets (one an overwrite) of 6 references in 3 pods, 4 hits, 5
// misses, 2 clears, 3 references pruned by ClearPod; 1 reference is left.
func operate(t *testing.T, m *kuberef.RefManager) values {
	for _, s := range []struct{ id, pod string }{{"a", "web-0"}, {"b", "web-0"}, {"b", "web-0"},
		{"c", "web-1"}, {"d", "web-1"}, {"e", "web-1"}, {"f", "web-2"}} {
		m.SetRef(id(s.id), ref(s.pod, "app-"+s.id))
	}
	for _, k := range []string{"a", "a", "f", "a", "x", "y", "z", "w", "v"} {
		m.GetRef(id(k))
	}
	m.ClearRef(id("a"))
	m.ClearRef(id("b"))
	if n := m.ClearPod("uid-web-1"); n != 3 {
		t.Fatalf("ClearPod removed %d", n)
	}
	return values{references: 1, bytes: m.Stats().Bytes, hits: 4, misses: 5, sets: 7, clears: 2, pruned: 3}
}

// expected is the exposition text of v, every series with labels.
func expected(v values, labels string) string {
	l := func(extra string) string {
		all := strings.Trim(labels+","+extra, ",")
		if all == "" {
			return ""
		}
		return "{" + all + "}"
	}
	return fmt.Sprintf(`# HELP kuberef_clears_total Container references removed by ClearRef.
# TYPE kuberef_clears_total counter
kuberef_clears_total%[1]s %[4]d
# HELP kuberef_lookups_total Container reference lookups (GetRef), by whether a reference was found (result=hit) or not (result=miss).
# TYPE kuberef_lookups_total counter
kuberef_lookups_total%[2]s %[5]d
kuberef_lookups_total%[3]s %[6]d
# HELP kuberef_pruned_total Container references removed in bulk (ClearPod, Retain and loads that replace the stored references).
# TYPE kuberef_pruned_total counter
kuberef_pruned_total%[1]s %[7]d
# HELP kuberef_reference_bytes Approximate bytes the stored container references use (entries and hash table slots, without allocator overhead).
# TYPE kuberef_reference_bytes gauge
kuberef_reference_bytes%[1]s %[8]d
# HELP kuberef_references Container references stored in the kuberef reference manager.
# TYPE kuberef_references gauge
kuberef_references%[1]s %[9]d
# HELP kuberef_sets_total Container references stored (SetRef, and each reference a load stored).
# TYPE kuberef_sets_total counter
kuberef_sets_total%[1]s %[10]d
`, l(""), l(`result="hit"`), l(`result="miss"`), v.clears, v.hits, v.misses, v.pruned, v.bytes, v.references, v.sets)
}

// only is the one metric named name of c (testutil.ToFloat64 reads one).
type only struct {
	c    prometheus.Collector
	name string
}

func (o only) match(d *prometheus.Desc) bool {
	return strings.Contains(d.String(), `fqName: "`+o.name+`"`)
}

func (o only) Describe(ch chan<- *prometheus.Desc) {
	all := make(chan *prometheus.Desc, 16)
	o.c.Describe(all)
	close(all)
	for d := range all {
		if o.match(d) {
			ch <- d
		}
	}
}

func (o only) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric, 16)
	o.c.Collect(all)
	close(all)
	for m := range all {
		if o.match(m.Desc()) {
			ch <- m
		}
	}
}

func TestCollectorAfterKnownOperations(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	c := metrics.NewCollector(m)
	// Before anything: every metric is there, at zero (and the empty
	// manager's hash tables).
	if err := testutil.CollectAndCompare(c, strings.NewReader(expected(values{bytes: m.Stats().Bytes}, ""))); err != nil {
		t.Fatal(err)
	}
	v := operate(t, m)
	if v.bytes == 0 {
		t.Fatal("a manager holding a reference reports 0 bytes")
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(expected(v, ""))); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(only{c, "kuberef_pruned_total"}); got != 3 {
		t.Fatalf("kuberef_pruned_total = %v", got)
	}
}

func TestRegistriesAcceptItAndLabelsSeparateManagers(t *testing.T) {
	a, b := kuberef.NewRefManager(), kuberef.NewRefManager()
	defer a.Close()
	defer b.Close()
	operate(t, a)
	// A pedantic registry checks that Collect sends only what Describe declared.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewCollectorWithLabels(a, prometheus.Labels{"manager": "a"}))
	reg.MustRegister(metrics.NewCollectorWithLabels(b, prometheus.Labels{"manager": "b"}))
	if err := reg.Register(metrics.NewCollectorWithLabels(b, prometheus.Labels{"manager": "b"})); err == nil {
		t.Fatal("a second collector with the same labels registered")
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 6 {
		t.Fatalf("%d metric families, want 6", len(mfs))
	}
	for _, mf := range mfs {
		want := 2
		if mf.GetName() == "kuberef_lookups_total" {
			want = 4
		}
		if len(mf.GetMetric()) != want {
			t.Fatalf("%s: %d series, want %d", mf.GetName(), len(mf.GetMetric()), want)
		}
	}
}

func TestCollectWhileTheManagerChanges(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	c := metrics.NewCollector(m)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 2000; i++ {
			m.SetRef(id(fmt.Sprint(i)), ref("web", "app"))
			m.GetRef(id(fmt.Sprint(i)))
		}
	}()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	for i := 0; i < 50; i++ {
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if got := testutil.ToFloat64(only{c, "kuberef_sets_total"}); got != 2000 {
		t.Fatalf("kuberef_sets_total = %v, want 2000", got)
	}
}
