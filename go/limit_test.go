package kuberef_test

// What each function does with a string longer than the C library takes
// (kuberef.MaxStringLen): upstream's own answer wherever one exists without
// passing the string to the library, an error where the function has an
// error result, and a panic from SetRef alone (docs/go.md, "Differences
// from upstream").

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// statusInvalidArgument is KUBEREF_INVALID_ARGUMENT.
const statusInvalidArgument = 3

var (
	longOnce sync.Once
	longText string
)

// xAt is where the x's start in longText.
const xAt = len(`"docker://`)

// long returns `"docker://` + MaxStringLen+1 bytes of 'x' + `"://y`, built
// once (one 64 MiB allocation for every test here); the over-limit inputs
// are slices of it, which share its bytes.
func long() string {
	longOnce.Do(func() {
		b := make([]byte, xAt+kuberef.MaxStringLen+1+len(`"://y`))
		copy(b, `"docker://`)
		xs := b[xAt : xAt+kuberef.MaxStringLen+1]
		xs[0] = 'x'
		for n := 1; n < len(xs); n *= 2 { // a few large copies, not 64 Mi writes (-race)
			copy(xs[n:], xs[:n])
		}
		copy(b[xAt+len(xs):], `"://y`)
		longText = unsafe.String(&b[0], len(b)) // b is never written again
	})
	return longText
}

// overLimit is MaxStringLen+1 bytes of 'x'.
func overLimit() string { return long()[xAt : xAt+kuberef.MaxStringLen+1] }

// isX reports whether s is overLimit() (same length and bytes) without a copy.
func isX(s string) bool { return s == overLimit() }

func wantPanicError(t *testing.T, op string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		var e *kuberef.Error
		if err, ok := r.(error); !ok || !errors.As(err, &e) || e.Op != op || e.Status != statusInvalidArgument {
			t.Fatalf("%s: recovered %v, want a *kuberef.Error of %s with KUBEREF_INVALID_ARGUMENT", op, r, op)
		}
	}()
	f()
}

func TestOverLimitParseString(t *testing.T) {
	s := long()
	ok := s[1 : xAt+kuberef.MaxStringLen+1]  // docker://xxx...
	quoted := s[:xAt+kuberef.MaxStringLen+2] // "docker://xxx..."
	for _, text := range []string{ok, quoted} {
		id := kuberef.ContainerID{Type: "old", ID: "value"}
		if err := id.ParseString(text); err != nil || id.Type != "docker" || !isX(id.ID) {
			t.Fatalf("ParseString(%d bytes): type %q, id of %d bytes, %v", len(text), id.Type, len(id.ID), err)
		}
		if got := kuberef.ParseContainerID(text); got.Type != "docker" || !isX(got.ID) {
			t.Fatalf("ParseContainerID(%d bytes): type %q, id of %d bytes", len(text), got.Type, len(got.ID))
		}
	}
	// A long type: `xxx..."://y` has one separator after the trimming.
	var id kuberef.ContainerID
	if err := id.ParseString(s[xAt:]); err != nil || id.Type != s[xAt:len(s)-len(`://y`)] || id.ID != "y" {
		t.Fatalf("ParseString(long type): type of %d bytes, id %q, %v", len(id.Type), id.ID, err)
	}
	// Two separators: upstream's error, the text %q-quoted (its one '"'
	// becomes \"), and c unchanged. (Each error is a 64 MiB string.)
	bad := s[1:]
	id = kuberef.ContainerID{Type: "old", ID: "value"}
	err := id.ParseString(bad)
	if err == nil || !strings.HasPrefix(err.Error(), `invalid container ID: "docker://xxx`) ||
		!strings.HasSuffix(err.Error(), `x\"://y"`) || len(err.Error()) != len(`invalid container ID: `)+len(bad)+3 {
		t.Fatalf("ParseString(two separators): error of %d bytes", len(fmt.Sprint(err)))
	}
	if id != (kuberef.ContainerID{Type: "old", ID: "value"}) {
		t.Fatal("ParseString changed the ID on failure")
	}
	// No separator: ParseContainerID's zero value.
	if got := kuberef.ParseContainerID(overLimit()); !got.IsEmpty() {
		t.Fatal("ParseContainerID of bad text is not the zero value")
	}
}

func TestOverLimitUnmarshalJSON(t *testing.T) {
	s := long()
	quoted := s[:xAt+kuberef.MaxStringLen+2]
	// A read-only []byte view of the text: UnmarshalJSON copies it once.
	data := unsafe.Slice(unsafe.StringData(quoted), len(quoted))
	var id kuberef.ContainerID
	if err := id.UnmarshalJSON(data); err != nil || id.Type != "docker" || !isX(id.ID) {
		t.Fatalf("UnmarshalJSON: type %q, id of %d bytes, %v", id.Type, len(id.ID), err)
	}
}

func TestOverLimitStringAndMarshalJSON(t *testing.T) {
	id := kuberef.ContainerID{Type: "docker", ID: overLimit()}
	s := id.String()
	if len(s) != len("docker://")+kuberef.MaxStringLen+1 || s[:9] != "docker://" || !isX(s[9:]) {
		t.Fatalf("String: %d bytes", len(s))
	}
	b, err := id.MarshalJSON()
	if err != nil || len(b) != len(s)+2 || string(b[:10]) != `"docker://` || b[len(b)-1] != '"' ||
		string(b[10:len(b)-1]) != overLimit() {
		t.Fatalf("MarshalJSON: %d bytes, %v", len(b), err)
	}
}

func TestOverLimitGetRef(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	m.SetRef(cid(1), podRef(0, 1))
	for _, id := range []kuberef.ContainerID{{Type: "docker", ID: overLimit()}, {Type: overLimit(), ID: "1"}} {
		if ref, ok := m.GetRef(id); ok || ref != nil {
			t.Fatalf("GetRef(over-limit) = %v, %v", ref, ok)
		}
	}
	if _, ok := m.GetRef(cid(1)); !ok {
		t.Fatal("GetRef of the stored reference missed")
	}
	// One lookup per GetRef: the two over-limit ones are misses that the
	// library never saw.
	if s := m.Stats(); s.Gets != 3 || s.Hits != 1 || s.Misses != 2 || s.Gets != s.Hits+s.Misses {
		t.Fatalf("stats %+v", s)
	}
}

func TestOverLimitClearRef(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	m.SetRef(cid(1), podRef(0, 1))
	m.ClearRef(kuberef.ContainerID{Type: "docker", ID: overLimit()})
	m.ClearRef(kuberef.ContainerID{Type: overLimit(), ID: cid(1).ID})
	m.SetRef(kuberef.ContainerID{Type: "docker", ID: overLimit()}, nil) // SetRef(id, nil) is ClearRef
	if s := m.Stats(); m.Len() != 1 || s.Clears != 0 {
		t.Fatalf("len %d, stats %+v", m.Len(), s)
	}
}

func TestOverLimitSetRefPanics(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	wantPanicError(t, "SetRef", func() { m.SetRef(kuberef.ContainerID{Type: "docker", ID: overLimit()}, podRef(0, 1)) })
	wantPanicError(t, "SetRef", func() { m.SetRef(kuberef.ContainerID{Type: overLimit(), ID: "1"}, podRef(0, 1)) })
	ref := podRef(0, 1)
	ref.FieldPath = overLimit()
	wantPanicError(t, "SetRef", func() { m.SetRef(cid(1), ref) })
	if _, ok := m.GetRef(cid(1)); ok || m.Len() != 0 || m.Stats().Sets != 0 {
		t.Fatalf("a refused SetRef stored something: len %d", m.Len())
	}
}

func TestOverLimitClearPod(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	m.SetRef(cid(1), podRef(0, 1))
	if n := m.ClearPod(types.UID(overLimit())); n != 0 || m.Len() != 1 {
		t.Fatalf("ClearPod(over-limit) removed %d, len %d", n, m.Len())
	}
}

func TestOverLimitRetain(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	for i := 0; i < 3; i++ {
		m.SetRef(cid(i), podRef(0, i))
	}
	live := []kuberef.ContainerID{{Type: "containerd", ID: overLimit()}, cid(1), {Type: overLimit(), ID: cid(2).ID}}
	if n := m.Retain(live); n != 2 || m.Len() != 1 {
		t.Fatalf("Retain removed %d, len %d", n, m.Len())
	}
	if _, ok := m.GetRef(cid(1)); !ok {
		t.Fatal("Retain removed a live reference")
	}
	// Only over-limit live IDs: nothing stored is live.
	if n := m.Retain(live[:1]); n != 1 || m.Len() != 0 {
		t.Fatalf("Retain(over-limit only) removed %d, len %d", n, m.Len())
	}
}

func TestOverLimitRefToJSON(t *testing.T) {
	// encoding/json's own bytes: {"kind":"Pod","name":"xxx..."}.
	got := kuberef.RefToJSON(&v1.ObjectReference{Kind: "Pod", Name: overLimit()})
	prefix, suffix := `{"kind":"Pod","name":"`, `"}`
	if len(got) != len(prefix)+kuberef.MaxStringLen+1+len(suffix) || string(got[:len(prefix)]) != prefix ||
		string(got[len(got)-len(suffix):]) != suffix || string(got[len(prefix):len(got)-len(suffix)]) != overLimit() {
		t.Fatalf("RefToJSON(over-limit name): %d bytes", len(got))
	}
}

func TestOverLimitGenerateContainerRef(t *testing.T) {
	pod := func(name, container string) *v1.Pod {
		p := &v1.Pod{Spec: v1.PodSpec{Containers: []v1.Container{{Name: container}}}}
		p.Name = name
		return p
	}
	for _, c := range []struct {
		pod       *v1.Pod
		container string
	}{
		{pod("web", "app"), overLimit()}, // the container's name
		{pod("web", overLimit()), "app"}, // a searched container's name
		{pod(overLimit(), "app"), "app"}, // the pod's name
	} {
		ref, err := kuberef.GenerateContainerRef(c.pod, &v1.Container{Name: c.container})
		var e *kuberef.Error
		if ref != nil || !errors.As(err, &e) || e.Status != statusInvalidArgument {
			t.Fatalf("GenerateContainerRef(over-limit) = %v, %v", ref, err)
		}
	}
}

// Save and Load refuse an over-limit path with an error (persistence's own
// error type; only that there is one is checked here).
func TestOverLimitSaveLoad(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	m.SetRef(cid(1), podRef(0, 1))
	path := overLimit() // refused by length, before any file system call
	if _, err := m.Save(path); err == nil {
		t.Fatal("Save(over-limit path) returned no error")
	}
	if _, err := m.Load(path, true); err == nil || m.Len() != 1 {
		t.Fatalf("Load(over-limit path): %v, len %d", err, m.Len())
	}
}
