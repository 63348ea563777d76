package kuberef_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestLibraryVersion(t *testing.T) {
	if got := kuberef.ABIVersion(); got != 1 {
		t.Fatalf("ABIVersion = %d, want 1", got)
	}
	if v := kuberef.LibraryVersion(); v == "" {
		t.Fatal("empty LibraryVersion")
	}
}

// Expected values are upstream v1.18.6 ParseString's results for these inputs.
func TestParseString(t *testing.T) {
	cases := []struct {
		in      string
		typ, id string
		ok      bool
	}{
		{"docker://abc", "docker", "abc", true},
		{`"docker://abc"`, "docker", "abc", true},
		{`""docker://abc"`, "docker", "abc", true},
		{"abc", "", "", false},
		{"docker:/abc", "", "", false},
		{"a://b://c", "", "", false},
		{"://", "", "", true},
		{"docker://", "docker", "", true},
		{"://abc", "", "abc", true},
		{"", "", "", false},
		{`"`, "", "", false},
		{" docker://abc ", " docker", "abc ", true},
		{"containerd://9b1e\x00x", "containerd", "9b1e\x00x", true},
	}
	for _, c := range cases {
		id := kuberef.ContainerID{Type: "old", ID: "value"}
		err := id.ParseString(c.in)
		if c.ok {
			if err != nil || id.Type != c.typ || id.ID != c.id {
				t.Errorf("ParseString(%q) = %+v, %v; want {%q %q}", c.in, id, err, c.typ, c.id)
			}
			if got := kuberef.ParseContainerID(c.in); got != (kuberef.ContainerID{Type: c.typ, ID: c.id}) {
				t.Errorf("ParseContainerID(%q) = %+v", c.in, got)
			}
		} else {
			want := fmt.Sprintf("invalid container ID: %q", c.in)
			if err == nil || err.Error() != want {
				t.Errorf("ParseString(%q) error = %v, want %s", c.in, err, want)
			}
			if id != (kuberef.ContainerID{Type: "old", ID: "value"}) {
				t.Errorf("ParseString(%q) changed the ID on failure: %+v", c.in, id)
			}
			if got := kuberef.ParseContainerID(c.in); !got.IsEmpty() {
				t.Errorf("ParseContainerID(%q) = %+v, want zero", c.in, got)
			}
		}
	}
}

func TestContainerIDStringJSON(t *testing.T) {
	cases := []struct {
		id   kuberef.ContainerID
		str  string
		json string
	}{
		{kuberef.BuildContainerID("docker", "abc"), "docker://abc", `"docker://abc"`},
		{kuberef.ContainerID{}, "://", `"://"`},
		{kuberef.ContainerID{Type: "a\"b", ID: "ü\n"}, "a\"b://ü\n", `"a\"b://ü\n"`},
	}
	for _, c := range cases {
		if got := c.id.String(); got != c.str {
			t.Errorf("%+v.String() = %q, want %q", c.id, got, c.str)
		}
		b, err := json.Marshal(&c.id)
		if err != nil || string(b) != c.json {
			t.Errorf("json.Marshal(%+v) = %s, %v; want %s", c.id, b, err, c.json)
		}
	}
	var id kuberef.ContainerID
	if err := json.Unmarshal([]byte(`"containerd://x1"`), &id); err != nil || id != kuberef.BuildContainerID("containerd", "x1") {
		t.Errorf("json.Unmarshal = %+v, %v", id, err)
	}
	if err := id.UnmarshalJSON([]byte(`"nope"`)); err == nil || err.Error() != `invalid container ID: "\"nope\""` {
		t.Errorf("UnmarshalJSON(bad) = %v", err)
	}
	if (&kuberef.ContainerID{Type: "docker"}).IsEmpty() || !(&kuberef.ContainerID{}).IsEmpty() {
		t.Error("IsEmpty")
	}
}

func sampleRef(i int) *v1.ObjectReference {
	return &v1.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: "ns", Name: fmt.Sprintf("pod-%d", i),
		UID: "5f1c2a9e-0000-4000-8000-000000000000", ResourceVersion: "42",
		FieldPath: fmt.Sprintf("spec.containers{c%d}", i),
	}
}

func TestRefManagerBasics(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	id := kuberef.BuildContainerID("containerd", "abc")
	if ref, ok := m.GetRef(id); ok || ref != nil {
		t.Fatalf("GetRef on empty = %v, %v", ref, ok)
	}
	want := sampleRef(1)
	m.SetRef(id, want)
	got, ok := m.GetRef(id)
	if !ok || *got != *want {
		t.Fatalf("GetRef = %+v, %v; want %+v", got, ok, want)
	}
	// As upstream: GetRef returns the pointer SetRef stored, every time.
	if got != want {
		t.Fatal("GetRef after SetRef on the same RefManager: not the stored pointer")
	}
	if again, _ := m.GetRef(id); again != want {
		t.Fatal("a second GetRef returned another pointer")
	}
	// The library keeps its own copy: what other readers (C, Snapshot) see
	// does not follow later changes to the Go value.
	want.Name = "changed after SetRef"
	snap := m.Snapshot()
	if len(snap) != 1 || snap[0].Ref.Name != "pod-1" {
		t.Fatalf("library copy changed with the Go value: %+v", snap)
	}
	want.Name = "pod-1"
	// Keys compare byte for byte on both fields.
	for _, other := range []kuberef.ContainerID{{"docker", "abc"}, {"containerd", "abcd"}, {"containerdab", "c"}, {}} {
		if _, ok := m.GetRef(other); ok {
			t.Errorf("GetRef(%+v) found a reference", other)
		}
	}
	m.SetRef(id, sampleRef(2)) // overwrite
	if got, _ := m.GetRef(id); got.Name != "pod-2" || m.Len() != 1 {
		t.Fatalf("overwrite: %+v, len %d", got, m.Len())
	}
	m.SetRef(kuberef.ContainerID{}, sampleRef(3)) // the zero ID is a key
	if m.Len() != 2 {
		t.Fatalf("Len = %d, want 2", m.Len())
	}
	m.ClearRef(id)
	m.ClearRef(id) // absent: no-op
	if _, ok := m.GetRef(id); ok || m.Len() != 1 {
		t.Fatalf("after ClearRef: ok=%v len=%d", ok, m.Len())
	}
	// SetRef(id, nil) is ClearRef(id) (documented difference from upstream).
	m.SetRef(kuberef.ContainerID{}, nil)
	if ref, ok := m.GetRef(kuberef.ContainerID{}); ok || ref != nil || m.Len() != 0 {
		t.Fatalf("SetRef(nil): %v %v len %d", ref, ok, m.Len())
	}
}

func TestRefManagerLongAndBinaryStrings(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	for _, n := range []int{0, 1, 100, 143, 144, 145, 300, 70000} {
		ref := &v1.ObjectReference{
			Kind: strings.Repeat("k", n), Namespace: "n\x00s", Name: strings.Repeat("é", n/2),
			UID: "", APIVersion: "v1", ResourceVersion: strings.Repeat("9", n%7), FieldPath: "f\x00",
		}
		id := kuberef.BuildContainerID("t\x00", fmt.Sprint(n))
		m.SetRef(id, ref)
		got, ok := m.GetRef(id)
		if !ok || *got != *ref {
			t.Fatalf("n=%d: GetRef = %+v, %v", n, got, ok)
		}
	}
}

func TestManagersAreIndependentAndGlobalIsShared(t *testing.T) {
	a, b := kuberef.NewRefManager(), kuberef.NewRefManager()
	defer a.Close()
	defer b.Close()
	id := kuberef.BuildContainerID("containerd", "indep")
	a.SetRef(id, sampleRef(1))
	if _, ok := b.GetRef(id); ok || b.Len() != 0 {
		t.Fatal("a reference set in one manager is visible in another")
	}
	if _, ok := kuberef.Global().GetRef(id); ok {
		t.Fatal("a reference set in a new manager is visible in Global")
	}
	if kuberef.Global() != kuberef.Global() {
		t.Fatal("Global returns different managers")
	}
	g := kuberef.Global()
	g.SetRef(id, sampleRef(7))
	defer g.ClearRef(id)
	if got, ok := kuberef.Global().GetRef(id); !ok || got.Name != "pod-7" {
		t.Fatalf("Global GetRef = %+v %v", got, ok)
	}
	if err := g.Close(); err != nil { // no-op on the global
		t.Fatal(err)
	}
	if _, ok := g.GetRef(id); !ok {
		t.Fatal("Close on Global freed it")
	}
}

func TestCloseIdempotentAndUseAfterClosePanics(t *testing.T) {
	m := kuberef.NewRefManager()
	m.SetRef(kuberef.ContainerID{Type: "a", ID: "b"}, sampleRef(1))
	if m.Close() != nil || m.Close() != nil {
		t.Fatal("Close returned an error")
	}
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("GetRef after Close did not panic")
		}
	}()
	m.GetRef(kuberef.ContainerID{Type: "a", ID: "b"})
}

func TestFinalizerFreesUnclosedManagers(t *testing.T) {
	for i := 0; i < 1000; i++ {
		m := kuberef.NewRefManager()
		m.SetRef(kuberef.ContainerID{Type: "t", ID: fmt.Sprint(i)}, sampleRef(i))
	}
	runtime.GC()
	runtime.GC()
	m := kuberef.NewRefManager()
	defer m.Close()
	if m.Len() != 0 {
		t.Fatal("new manager not empty")
	}
}

func TestConcurrentUse(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				id := kuberef.ContainerID{Type: "containerd", ID: fmt.Sprintf("%d-%d", g, i%50)}
				ref := sampleRef(i)
				m.SetRef(id, ref)
				got, ok := m.GetRef(id)
				if !ok || *got != *ref {
					t.Errorf("goroutine %d: GetRef = %+v %v, want %+v", g, got, ok, ref)
					return
				}
				if i%3 == 0 {
					m.ClearRef(id)
				}
			}
		}(g)
	}
	wg.Wait()
}

func okPod() *v1.Pod {
	return &v1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "ok", Namespace: "test-ns", UID: "bar", ResourceVersion: "42",
			SelfLink: "/api/v1/pods/foo"},
		Spec: v1.PodSpec{Containers: []v1.Container{{Name: "by-name"}, {}}},
	}
}

// The cases of upstream's ref_test.go (v1.18.6) with the field paths the
// real code produces (the test's own expected field paths are never compared
// upstream and are wrong).
func TestGenerateContainerRefUpstreamCases(t *testing.T) {
	base := v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Name: "ok", Namespace: "test-ns", UID: "bar", ResourceVersion: "42"}
	defaulted := okPod()
	defaulted.SelfLink = "/api/v1/pods/ok"
	cases := []struct {
		name      string
		pod       *v1.Pod
		container *v1.Container
		fieldPath string
	}{
		{"by-name", okPod(), &v1.Container{Name: "by-name"}, "spec.containers{by-name}"},
		{"no-name", okPod(), &v1.Container{}, "spec.containers[1]"},
		{"defaulted-selflink", defaulted, &v1.Container{Name: "by-name"}, "spec.containers{by-name}"},
		{"implicitly-required", okPod(), &v1.Container{Name: "net"}, kuberef.ImplicitContainerPrefix + "net"},
	}
	for _, c := range cases {
		got, err := kuberef.GenerateContainerRef(c.pod, c.container)
		want := base
		want.FieldPath = c.fieldPath
		if err != nil || *got != want {
			t.Errorf("%s: GenerateContainerRef = %+v, %v; want %+v", c.name, got, err, want)
		}
	}
}

func TestGenerateContainerRefShapes(t *testing.T) {
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "n", UID: "u", ResourceVersion: "1"},
		Spec: v1.PodSpec{
			Containers:     []v1.Container{{Name: "foo"}, {Name: "bar"}, {Name: ""}, {Name: "baz"}},
			InitContainers: []v1.Container{{Name: "init"}, {Name: ""}, {Name: "foo"}},
			EphemeralContainers: []v1.EphemeralContainer{
				{EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: "debug"}},
			},
		},
	}
	check := func(name, wantPath, wantKind, wantAV string) {
		t.Helper()
		got, err := kuberef.GenerateContainerRef(pod, &v1.Container{Name: name})
		if err != nil || got.FieldPath != wantPath || got.Kind != wantKind || got.APIVersion != wantAV ||
			got.Name != "p" || got.Namespace != "n" || got.UID != "u" || got.ResourceVersion != "1" {
			t.Errorf("container %q: %+v, %v; want path %q kind %q apiVersion %q", name, got, err, wantPath, wantKind, wantAV)
		}
	}
	// Empty TypeMeta: the kubelet's scheme gives Pod/v1.
	check("foo", "spec.containers{foo}", "Pod", "v1")
	check("", "spec.containers[2]", "Pod", "v1")
	check("init", "spec.initContainers{init}", "Pod", "v1")
	check("debug", "implicitly required container debug", "Pod", "v1")
	kuberef.SetEphemeralContainersEnabled(true)
	check("debug", "spec.ephemeralContainers{debug}", "Pod", "v1")
	kuberef.SetEphemeralContainersEnabled(false)
	if kuberef.EphemeralContainersEnabled() {
		t.Fatal("gate still on")
	}
	pod.TypeMeta = metav1.TypeMeta{Kind: "Thing", APIVersion: "apps/v1beta1"}
	check("baz", "spec.containers{baz}", "Thing", "apps/v1beta1")
	// An unparsable APIVersion drops the version; with no Kind left the
	// scheme decides.
	pod.TypeMeta = metav1.TypeMeta{Kind: "X", APIVersion: "a/b/c"}
	check("baz", "spec.containers{baz}", "X", "")
	pod.TypeMeta = metav1.TypeMeta{Kind: "", APIVersion: "a/b/c"}
	check("baz", "spec.containers{baz}", "Pod", "v1")
	// Many containers (more than the helper keeps on its stack) and long names.
	big := &v1.Pod{}
	for i := 0; i < 100; i++ {
		big.Spec.Containers = append(big.Spec.Containers, v1.Container{Name: fmt.Sprintf("c%03d-%s", i, strings.Repeat("x", i))})
	}
	name := big.Spec.Containers[99].Name
	got, err := kuberef.GenerateContainerRef(big, &v1.Container{Name: name})
	if err != nil || got.FieldPath != "spec.containers{"+name+"}" {
		t.Errorf("big pod: %+v %v", got, err)
	}
	long := strings.Repeat("z", 5000)
	got, err = kuberef.GenerateContainerRef(big, &v1.Container{Name: long})
	if err != nil || got.FieldPath != kuberef.ImplicitContainerPrefix+long {
		t.Errorf("long name: %v", err)
	}
	if _, err := kuberef.GenerateContainerRef(nil, &v1.Container{}); err != kuberef.ErrNilPod {
		t.Errorf("nil pod: %v", err)
	}
	if _, err := kuberef.GenerateContainerRef(pod, nil); err != kuberef.ErrNilContainer {
		t.Errorf("nil container: %v", err)
	}
}

// Writers overwrite one key with two different references while readers
// read it: every read is exactly one of the two, never a mix.
func TestConcurrentOverwriteReadsAreWhole(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	id := kuberef.BuildContainerID("containerd", "shared")
	a := sampleRef(1)
	b := &v1.ObjectReference{Kind: "Other", APIVersion: "apps/v1", Namespace: strings.Repeat("n", 200),
		Name: "b", UID: "uid-b", ResourceVersion: "2", FieldPath: "spec.initContainers[0]"}
	m.SetRef(id, a)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if (i+w)%2 == 0 {
					m.SetRef(id, a)
				} else {
					m.SetRef(id, b)
				}
			}
		}(w)
	}
	for i := 0; i < 20000; i++ {
		got, ok := m.GetRef(id)
		if !ok || (*got != *a && *got != *b) {
			t.Errorf("read a mixed or missing reference: %+v %v", got, ok)
			break
		}
	}
	close(stop)
	wg.Wait()
}

// The GetRef cache stays correct through heavy set/clear churn of other
// keys and through overwrites: every GetRef returns the current reference,
// and repeated GetRefs of an unchanged one return the same pointer.
func TestGetRefCacheUnderChurn(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	hot := make([]kuberef.ContainerID, 300)
	for i := range hot {
		hot[i] = kuberef.BuildContainerID("containerd", fmt.Sprintf("hot-%d", i))
		m.SetRef(hot[i], sampleRef(i))
	}
	for round := 0; round < 3; round++ {
		for i := 0; i < 20000; i++ {
			id := kuberef.BuildContainerID("docker", fmt.Sprintf("churn-%d", i%700))
			m.SetRef(id, sampleRef(i))
			if i%3 != 0 {
				m.ClearRef(id)
			}
		}
		for i, id := range hot {
			if round == 1 && i%2 == 0 {
				m.SetRef(id, sampleRef(i+1000)) // overwritten: a new value
			}
			a, ok := m.GetRef(id)
			b, _ := m.GetRef(id)
			want := i
			if round >= 1 && i%2 == 0 {
				want = i + 1000
			}
			if !ok || a != b || a.Name != fmt.Sprintf("pod-%d", want) {
				t.Fatalf("round %d key %d: %+v %v (same pointer %v)", round, i, a, ok, a == b)
			}
		}
	}
}
