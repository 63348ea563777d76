package kuberef_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The kubelet scenario: a kubelet stores references as it starts containers
// and saves them; it restarts (a new process); its prober then records
// events for the still-running containers. Upstream's map is empty after a
// restart, so the prober falls back to regenerating a reference from the
// pod as it is now (kubernetes#84792). With Load at start-up, the events
// carry the stored reference: the field path and resource version of the
// container's creation.
const scenarioEnv = "KUBEREF_TEST_RESTART_FILE"

type probeEvent struct {
	Container      string          `json:"container"`
	HadStoredRef   bool            `json:"hadStoredRef"`
	InvolvedObject json.RawMessage `json:"involvedObject"`
	FromC          string          `json:"fromC"`
}

func scenarioPod(resourceVersion string) *v1.Pod {
	return &v1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "prod", UID: "4c9f0b5e-restart",
			ResourceVersion: resourceVersion},
		Spec: v1.PodSpec{
			InitContainers: []v1.Container{{Name: "init-db"}},
			Containers:     []v1.Container{{Name: "app"}, {Name: "sidecar"}},
		},
	}
}

var scenarioIDs = map[string]kuberef.ContainerID{
	"app":     kuberef.BuildContainerID("containerd", "a1a1a1a1a1a1"),
	"sidecar": kuberef.BuildContainerID("containerd", "b2b2b2b2b2b2"),
}

func TestKubeletRestartScenario(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container-refs")
	// Before the restart: the kubelet starts the containers of the pod at
	// resourceVersion 100 and stores their references (kuberuntime's
	// startContainer), then saves them.
	pod := scenarioPod("100")
	before := kuberef.NewRefManager()
	defer before.Close()
	stored := map[string]*v1.ObjectReference{}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		ref, err := kuberef.GenerateContainerRef(pod, c)
		if err != nil {
			t.Fatal(err)
		}
		before.SetRef(scenarioIDs[c.Name], ref)
		stored[c.Name] = ref
	}
	if n, err := before.Save(path); err != nil || n != 2 {
		t.Fatalf("Save = %d, %v", n, err)
	}

	// The restart: a new process (this test binary, running only the child
	// test) loads the file at start-up and probes; a second one does not
	// load (what upstream does).
	run := func(load bool) []probeEvent {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKubeletRestartChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), scenarioEnv+"="+path, fmt.Sprintf("KUBEREF_TEST_RESTART_LOAD=%v", load))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child process: %v\n%s", err, out)
		}
		var events []probeEvent
		for _, line := range strings.Split(string(out), "\n") {
			if rest, ok := strings.CutPrefix(line, "EVENT "); ok {
				var e probeEvent
				if err := json.Unmarshal([]byte(rest), &e); err != nil {
					t.Fatalf("child output %q: %v", line, err)
				}
				events = append(events, e)
			}
		}
		sort.Slice(events, func(i, j int) bool { return events[i].Container < events[j].Container })
		if len(events) != 2 {
			t.Fatalf("child reported %d events:\n%s", len(events), out)
		}
		return events
	}

	for _, e := range run(true) {
		var got v1.ObjectReference
		json.Unmarshal(e.InvolvedObject, &got)
		want := stored[e.Container]
		if !e.HadStoredRef || got != *want {
			t.Errorf("after restart with Load, %s's event: stored=%v involvedObject %+v, want %+v", e.Container, e.HadStoredRef, got, *want)
		}
		if got.FieldPath != "spec.containers{"+e.Container+"}" || got.ResourceVersion != "100" {
			t.Errorf("%s: fieldPath %q resourceVersion %q", e.Container, got.FieldPath, got.ResourceVersion)
		}
		if e.FromC != string(e.InvolvedObject) {
			t.Errorf("%s: C JSON %s differs from json.Marshal %s", e.Container, e.FromC, e.InvolvedObject)
		}
	}
	for _, e := range run(false) {
		var got v1.ObjectReference
		json.Unmarshal(e.InvolvedObject, &got)
		// Upstream behaviour: no stored reference; the fallback describes
		// the pod as it is now (resourceVersion 205), not as it was when
		// the container started.
		if e.HadStoredRef || got.ResourceVersion != "205" {
			t.Errorf("without Load, %s: stored=%v %+v", e.Container, e.HadStoredRef, got)
		}
	}
}

// TestKubeletRestartChild is the restarted kubelet of the scenario above;
// it runs only as that test's child process.
func TestKubeletRestartChild(t *testing.T) {
	path := os.Getenv(scenarioEnv)
	if path == "" {
		t.Skip("only run as the child of TestKubeletRestartScenario")
	}
	refs := kuberef.Global() // a fresh process: the global manager is empty
	if refs.Len() != 0 {
		t.Fatalf("global manager not empty at start: %d", refs.Len())
	}
	if os.Getenv("KUBEREF_TEST_RESTART_LOAD") == "true" {
		if n, err := refs.Load(path, true); err != nil || n != 2 {
			t.Fatalf("Load at start-up = %d, %v", n, err)
		}
	}
	// The pod has been updated since (resourceVersion 205); the containers
	// keep running. The prober's recordContainerEvent (v1.18.6): GetRef, and
	// on a miss GenerateContainerRef from the current pod.
	pod := scenarioPod("205")
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		ref, ok := refs.GetRef(scenarioIDs[c.Name])
		if !ok {
			var err error
			if ref, err = kuberef.GenerateContainerRef(pod, c); err != nil {
				t.Fatal(err)
			}
		}
		event := v1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: pod.Name + ".probe", Namespace: pod.Namespace},
			InvolvedObject: *ref, Reason: "Unhealthy", Message: "Liveness probe failed", Type: v1.EventTypeWarning,
		}
		raw, err := json.Marshal(event)
		if err != nil {
			t.Fatal(err)
		}
		var decoded struct {
			InvolvedObject json.RawMessage `json:"involvedObject"`
		}
		json.Unmarshal(raw, &decoded)
		line, _ := json.Marshal(probeEvent{Container: c.Name, HadStoredRef: ok, InvolvedObject: decoded.InvolvedObject,
			FromC: string(kuberef.RefToJSON(ref))})
		fmt.Printf("EVENT %s\n", line)
	}
}
