package kuberef_test

import (
	"encoding/json"
	"fmt"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
)

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
