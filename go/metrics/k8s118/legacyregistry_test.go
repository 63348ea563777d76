// Package k8s118 registers the collector the way a Kubernetes v1.18 kubelet
// fork does: with component-base's legacy registry, whose handler the
// kubelet serves at /metrics (pkg/kubelet/server). Its module requires
// k8s.io/component-base v0.18.6, so it builds against the client_golang
// that Kubernetes v1.18 uses (v1.0.0).
package k8s118

import (
	"io"
	"net/http/httptest"
	"os"
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
	// docs/operating.md shows this scrape: it must be this one.
	doc, err := os.ReadFile("../../../docs/operating.md")
	if err != nil {
		t.Fatal(err)
	}
	const after, open, end = "a scrape of that handler holds", "```text\n", "\n```"
	text := string(doc)
	i := strings.Index(text, after)
	j := i + strings.Index(text[max(i, 0):], open)
	if i < 0 || j < i {
		t.Fatalf("docs/operating.md: no text block after %q", after)
	}
	want := text[j+len(open):]
	want = want[:strings.Index(want, end)]
	if got != want {
		t.Fatalf("scrape:\n%s\ndocs/operating.md shows:\n%s", got, want)
	}
	// The registry's own metrics are there too: this is the kubelet's /metrics.
	if !strings.Contains(string(body), "\ngo_goroutines ") {
		t.Fatal("the legacy registry's Go collector is missing from the scrape")
	}
}
