// Package k8s118 registers the collector the way a Kubernetes v1.18 kubelet
// fork does: with component-base's legacy registry, whose handler the
// kubelet serves at /metrics (pkg/kubelet/server). Its module requires
// k8s.io/component-base v0.18.6, so it builds against the client_golang
// that Kubernetes v1.18 uses (v1.0.0).
package k8s118

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	"github.com/kuberef/kuberef/go/metrics"
	v1 "k8s.io/api/core/v1"
	"k8s.io/component-base/metrics/legacyregistry"
)

func TestScrapeOfTheLegacyRegistry(t *testing.T) {
	m := kuberef.Global()
	// The known sequence: 3 sets of 2 containers, 2 hits, 1 miss, 1 clear.
	web := kuberef.ContainerID{Type: "containerd", ID: "9b1e4c7d2a3f"}
	log := kuberef.ContainerID{Type: "containerd", ID: "51c0ffee0042"}
	m.SetRef(web, &v1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-0", UID: "5f1c2a9e",
		APIVersion: "v1", ResourceVersion: "1207", FieldPath: "spec.containers{app}"})
	m.SetRef(log, &v1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-0", UID: "5f1c2a9e",
		APIVersion: "v1", ResourceVersion: "1207", FieldPath: "spec.containers{log-shipper}"})
	m.SetRef(log, &v1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-0", UID: "5f1c2a9e",
		APIVersion: "v1", ResourceVersion: "1300", FieldPath: "spec.containers{log-shipper}"})
	m.GetRef(web)
	m.GetRef(log)
	m.GetRef(kuberef.ContainerID{Type: "containerd", ID: "gone"})
	m.ClearRef(web)

	// What a kubelet fork adds at start-up.
	legacyregistry.RawMustRegister(metrics.NewCollector(kuberef.Global()))

	rec := httptest.NewRecorder()
	legacyregistry.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, err := io.ReadAll(rec.Result().Body)
	if err != nil || rec.Code != 200 {
		t.Fatalf("scrape: %d, %v", rec.Code, err)
	}
	var ours []string
	for _, line := range strings.Split(string(body), "\n") {
		if strings.Contains(line, "kuberef_") {
			ours = append(ours, line)
		}
	}
	got := strings.Join(ours, "\n")
	t.Logf("the scrape's kuberef lines:\n%s", got)
	want := fmt.Sprintf(`# HELP kuberef_clears_total Container references removed by ClearRef.
# TYPE kuberef_clears_total counter
kuberef_clears_total 1
# HELP kuberef_lookups_total Container reference lookups (GetRef), by whether a reference was found (result=hit) or not (result=miss).
# TYPE kuberef_lookups_total counter
kuberef_lookups_total{result="hit"} 2
kuberef_lookups_total{result="miss"} 1
# HELP kuberef_pruned_total Container references removed in bulk (ClearPod, Retain and loads that replace the stored references).
# TYPE kuberef_pruned_total counter
kuberef_pruned_total 0
# HELP kuberef_reference_bytes Approximate bytes the stored container references use (entries and hash table slots, without allocator overhead).
# TYPE kuberef_reference_bytes gauge
kuberef_reference_bytes %d
# HELP kuberef_references Container references stored in the kuberef reference manager.
# TYPE kuberef_references gauge
kuberef_references 1
# HELP kuberef_sets_total Container references stored (SetRef, and each reference a load stored).
# TYPE kuberef_sets_total counter
kuberef_sets_total 3`, m.Stats().Bytes)
	if got != want {
		t.Fatalf("scrape:\n%s\nwant:\n%s", got, want)
	}
	// The registry's own metrics are there too: this is the kubelet's /metrics.
	if !strings.Contains(string(body), "\ngo_goroutines ") {
		t.Fatal("the legacy registry's Go collector is missing from the scrape")
	}
}
