package kuberef_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func podRef(pod, container int) *v1.ObjectReference {
	return &v1.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: "ns", Name: fmt.Sprintf("pod-%d", pod),
		UID: types.UID(fmt.Sprintf("uid-%d", pod)), ResourceVersion: "42",
		FieldPath: fmt.Sprintf("spec.containers{c%d}", container),
	}
}

func cid(i int) kuberef.ContainerID {
	return kuberef.BuildContainerID("containerd", fmt.Sprintf("%064x", i))
}

func TestClearPodAndRetain(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	for i := 0; i < 300; i++ {
		m.SetRef(cid(i), podRef(i%3, i))
	}
	if n := m.ClearPod("uid-1"); n != 100 || m.Len() != 200 {
		t.Fatalf("ClearPod removed %d, len %d", n, m.Len())
	}
	if n := m.ClearPod("uid-1"); n != 0 {
		t.Fatalf("second ClearPod removed %d", n)
	}
	live := []kuberef.ContainerID{cid(0), cid(3), cid(1), {Type: "docker", ID: cid(6).ID}, {}}
	if n := m.Retain(live); n != 198 || m.Len() != 2 {
		t.Fatalf("Retain removed %d, len %d", n, m.Len())
	}
	for _, i := range []int{0, 3} {
		if ref, ok := m.GetRef(cid(i)); !ok || *ref != *podRef(i%3, i) {
			t.Errorf("ref %d after Retain: %+v %v", i, ref, ok)
		}
	}
	if n := m.Retain(nil); n != 2 || m.Len() != 0 {
		t.Fatalf("Retain(nil) removed %d, len %d", n, m.Len())
	}
	s := m.Stats()
	if s.Pruned != 300 || s.Count != 0 || s.Sets != 300 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSnapshotAndForEach(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	if got := m.Snapshot(); len(got) != 0 {
		t.Fatalf("empty snapshot: %v", got)
	}
	want := map[kuberef.ContainerID]v1.ObjectReference{}
	for i := 0; i < 1000; i++ {
		ref := podRef(i, i)
		if i%10 == 0 { // binary and long strings survive
			ref.Name = strings.Repeat("\x00é", i)
		}
		m.SetRef(cid(i), ref)
		want[cid(i)] = *ref
	}
	got := m.Snapshot()
	if len(got) != len(want) {
		t.Fatalf("snapshot has %d pairs, want %d", len(got), len(want))
	}
	seen := map[kuberef.ContainerID]bool{}
	for _, e := range got {
		if seen[e.ID] || *e.Ref != want[e.ID] {
			t.Fatalf("pair %v: %+v (seen %v)", e.ID, e.Ref, seen[e.ID])
		}
		seen[e.ID] = true
	}
	// ForEach holds no lock: clearing from inside it works; false stops.
	calls := 0
	m.ForEach(func(id kuberef.ContainerID, _ *v1.ObjectReference) bool {
		calls++
		m.ClearRef(id)
		return calls < 600
	})
	if calls != 600 || m.Len() != 400 {
		t.Fatalf("ForEach: %d calls, len %d", calls, m.Len())
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "refs")
	a, b := kuberef.NewRefManager(), kuberef.NewRefManager()
	defer a.Close()
	defer b.Close()
	for i := 0; i < 500; i++ {
		a.SetRef(cid(i), podRef(i/5, i))
	}
	_, err := b.Load(path, false)
	var fe *kuberef.FileError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &fe) || fe.Status != kuberef.StatusFileNotFound {
		t.Fatalf("Load of a missing file: %v", err)
	}
	if n, err := a.Save(path); n != 500 || err != nil {
		t.Fatalf("Save = %d, %v", n, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("saved file: %v, %v", st, err)
	}
	b.SetRef(cid(9999), podRef(1, 1))
	if n, err := b.Load(path, false); n != 500 || err != nil || b.Len() != 501 {
		t.Fatalf("merge Load = %d, %v (len %d)", n, err, b.Len())
	}
	if n, err := b.Load(path, true); n != 500 || err != nil || b.Len() != 500 {
		t.Fatalf("replace Load = %d, %v (len %d)", n, err, b.Len())
	}
	for i := 0; i < 500; i++ {
		if ref, ok := b.GetRef(cid(i)); !ok || *ref != *podRef(i/5, i) {
			t.Fatalf("ref %d after Load: %+v", i, ref)
		}
	}
	good, _ := os.ReadFile(path)
	bad := filepath.Join(dir, "bad")
	for _, c := range []struct {
		name   string
		data   []byte
		status uint32
	}{
		{"empty", nil, kuberef.StatusFileTruncated},
		{"half", good[:len(good)/2], kuberef.StatusFileTruncated},
		{"foreign", []byte("apiVersion: v1\nkind: Pod\n...................................."), kuberef.StatusFileForeign},
		{"version", append(append(append([]byte{}, good[:8]...), 2, 0, 0, 0), good[12:]...), kuberef.StatusFileVersion},
		{"flipped", append(append(append([]byte{}, good[:len(good)-3]...), good[len(good)-3]^0x40), good[len(good)-2:]...), kuberef.StatusFileCorrupt},
	} {
		os.WriteFile(bad, c.data, 0o600)
		_, err := b.Load(bad, true)
		if !errors.As(err, &fe) || fe.Status != c.status || b.Len() != 500 {
			t.Errorf("%s: %v (len %d)", c.name, err, b.Len())
		}
	}
	if _, err := a.Save(filepath.Join(dir, "no", "such", "dir")); !errors.As(err, &fe) || fe.Status != kuberef.StatusIOError {
		t.Errorf("Save into a missing directory: %v", err)
	}
}

func TestRefToJSONMatchesEncodingJSON(t *testing.T) {
	// The real upstream type: json.Marshal(v1.ObjectReference) is the oracle.
	r := rand.New(rand.NewSource(1))
	pieces := []string{"", "a", "<", ">", "&", "\"", "\\", "\n", "\x00", "\x7f", "\u2028", "\u2029", "é", "😀",
		"\xff", "\xe2\x82", "\xed\xa0\x80", "spec.containers{app}", "\ufffd"}
	str := func() string {
		var b strings.Builder
		for n := r.Intn(6); n > 0; n-- {
			b.WriteString(pieces[r.Intn(len(pieces))])
		}
		return b.String()
	}
	for i := 0; i < 20000; i++ {
		ref := &v1.ObjectReference{Kind: str(), Namespace: str(), Name: str(), UID: types.UID(str()),
			APIVersion: str(), ResourceVersion: str(), FieldPath: str()}
		want, _ := json.Marshal(ref)
		if got := kuberef.RefToJSON(ref); !bytes.Equal(got, want) {
			t.Fatalf("RefToJSON(%#v)\n got %q\nwant %q", ref, got, want)
		}
	}
	long := &v1.ObjectReference{Name: strings.Repeat("<", 10000)}
	if want, _ := json.Marshal(long); !bytes.Equal(kuberef.RefToJSON(long), want) {
		t.Fatal("long reference differs")
	}
}

func TestStats(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	for i := 0; i < 10; i++ {
		m.SetRef(cid(i), podRef(0, i))
	}
	for i := 0; i < 15; i++ {
		m.GetRef(cid(i))
	}
	m.ClearRef(cid(0))
	s := m.Stats()
	if s.Sets != 10 || s.Gets != 15 || s.Hits != 10 || s.Misses != 5 || s.Clears != 1 || s.Count != 9 || s.Bytes == 0 {
		t.Fatalf("stats %+v", s)
	}
	// One lookup per GetRef, whether the Go cache answers it alone, checks
	// a stamp, or copies the reference (two library calls).
	for i := 1; i < 10; i++ {
		m.GetRef(cid(i)) // cached since the previous loop; nothing changed but the clear
		m.GetRef(cid(i)) // answered without the library
	}
	path := filepath.Join(t.TempDir(), "refs")
	if _, err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	m2 := kuberef.NewRefManager()
	defer m2.Close()
	if _, err := m2.Load(path, false); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		m2.GetRef(cid(i)) // copied (or a miss, for 0)
		m2.GetRef(cid(i)) // cached
	}
	s = m.Stats()
	if s.Gets != 33 || s.Hits != 28 || s.Misses != 5 {
		t.Fatalf("stats after cached gets %+v", s)
	}
	s2 := m2.Stats()
	if s2.Gets != 20 || s2.Hits != 18 || s2.Misses != 2 || s2.Sets != 9 {
		t.Fatalf("stats of the loaded manager %+v", s2)
	}
}

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
