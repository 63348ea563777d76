package kuberef_test

// What each function does with a string longer than the C library takes
// (kuberef.MaxStringLen): upstream's own answer wherever one exists without
// passing the string to the library, an error where the function has an
// error result, and a panic from SetRef alone (README, Go, "Differences
// from upstream").

import (
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
