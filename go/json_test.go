package kuberef_test

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"strings"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

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
