package kuberef_test

// What each function does with a string longer than the C library takes
// (kuberef.MaxStringLen): upstream's own answer wherever one exists without
// passing the string to the library, an error where the function has an
// error result, and a panic from SetRef alone (README, Go, "Differences
// from upstream").

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"

	kuberef "github.com/kuberef/kuberef/go"
)

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
