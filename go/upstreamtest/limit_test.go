package upstreamtest

import (
	"encoding/json"
	"hash/maphash"
	"runtime"
	"strings"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	kubecontainer "k8s.io/kubernetes/pkg/kubelet/container"
)

// edgeBytes start and end the 65 MiB ID: what %q treats specially and
// escapes as JSON does (quotes, backslashes, \n and \t, non-ASCII,
// U+2028) and the separator. oddBytes adds the characters json.Marshal
// escapes after MarshalJSON (<, >, &); they are left out of the large ID,
// whose output would then grow past what json.Marshal reserved for it and
// be copied twice more.
const (
	edgeBytes = "\"\\\n\té\u2028://"
	oddBytes  = edgeBytes + "<>&"
)

// notJSON are bytes %q escapes in a way JSON does not accept (\x00, \x7f,
// \xff), so that json.Marshal fails, for upstream and the binding alike.
const notJSON = "\x00\x7f\xff\xfe"

// TestContainerIDBeyondTheLibraryLimit compares String, MarshalJSON and
// json.Marshal with upstream's kubecontainer.ContainerID for an ID the C
// library could not take (65 MiB, over kuberef.MaxStringLen), the zero
// value, and odd bytes, including invalid UTF-8 and bytes for which %q's
// escapes are not JSON, so that json.Marshal fails, for both alike. The
// binding formats in Go, so there is no limit to hit. To keep memory
// modest, results are compared by length and hash, and each is dropped
// (and collected) before the next is built: about 0.5 GB at the peak
// (json.Marshal), 1.2 GB under -race, whose shadow memory triples what
// the byte loops of strconv and encoding/json touch.
func TestContainerIDBeyondTheLibraryLimit(t *testing.T) {
	const size = 65 << 20
	big := edgeBytes + strings.Repeat("a", size-2*len(edgeBytes)) + edgeBytes
	if len(big) <= kuberef.MaxStringLen {
		t.Fatalf("%d bytes is not over the library's limit", len(big))
	}
	cases := []kubecontainer.ContainerID{
		{Type: "containerd", ID: big},
		{},
		{Type: oddBytes, ID: oddBytes},
		{Type: "docker", ID: notJSON},
		{Type: "a\x00b", ID: "\xed\xa0\x80"}, // a UTF-16 surrogate's bytes
	}
	seed := maphash.MakeSeed()
	type result struct {
		len  int
		hash uint64
		err  string
	}
	ofString := func(s string) result { return result{len(s), maphash.String(seed, s), ""} }
	ofBytes := func(b []byte, err error) result {
		r := result{len(b), maphash.Bytes(seed, b), ""}
		if err != nil {
			// The message names the type: upstream's is *container.ContainerID.
			r.err = strings.Replace(err.Error(), "*container.ContainerID", "*kuberef.ContainerID", 1)
		}
		return r
	}
	for _, u := range cases {
		k := kuberef.ContainerID(u)
		checks := []struct {
			what string
			u, k func() result
		}{
			{"String", func() result { return ofString(u.String()) }, func() result { return ofString(k.String()) }},
			{"MarshalJSON", func() result { return ofBytes(u.MarshalJSON()) }, func() result { return ofBytes(k.MarshalJSON()) }},
			// encoding/json calls MarshalJSON (a pointer method) and checks
			// that its output is JSON.
			{"json.Marshal", func() result { return ofBytes(json.Marshal(&u)) }, func() result { return ofBytes(json.Marshal(&k)) }},
		}
		for _, c := range checks {
			want := c.u()
			runtime.GC()
			got := c.k()
			runtime.GC()
			if got != want {
				t.Errorf("{%d-byte type, %d-byte id}: %s: upstream %d bytes, %q; kuberef %d bytes, %q",
					len(u.Type), len(u.ID), c.what, want.len, want.err, got.len, got.err)
			} else if c.what == "json.Marshal" {
				t.Logf("{%d-byte type, %d-byte id}: json.Marshal: %d bytes, error %q", len(u.Type), len(u.ID), got.len, got.err)
			}
		}
	}
}
