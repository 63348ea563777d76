// Package cligo runs the kuberef tool (KUBEREF_BIN) on snapshots written
// through the Go binding: its JSON must carry each reference exactly as
// RefToJSON writes it (and json.Marshal, which RefToJSON matches), its
// table must escape what a terminal would act on, and stats, diff and
// verify must agree with what the test stored and with Load.
package cligo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

func bin(t *testing.T) string {
	t.Helper()
	b := os.Getenv("KUBEREF_BIN")
	if b == "" {
		t.Fatal("KUBEREF_BIN must name the built kuberef binary (make cli-test sets it)")
	}
	return b
}

// run returns the tool's stdout, stderr and exit status.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// runOK runs the tool and fails the test unless it exits 0 with nothing on
// standard error; it returns standard output.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := run(t, args...)
	if code != 0 || errs != "" {
		t.Fatalf("kuberef %v: status %d, stderr %q", args, code, errs)
	}
	return out
}

// Strings that stress the encoders and a terminal: every escape class of
// Go's JSON, invalid UTF-8, terminal control sequences, bidi overrides.
var fragments = []string{
	"web", "spec.containers{app}", "<", ">", "&", "\"", "\\", "\x7f", "\b", "\f", "\n", "\r", "\t", "\x00",
	"\x1b[2J", "\x1b]0;title\x07", "é", "€", "\u2028", "\u2029", "\u202e", "\ufffd", "😀", "\xff", "\xc0\xaf",
	"\xed\xa0\x80", "\xe2\x80", "\xf0\x9f\x98",
}

func randString(r *rand.Rand) string {
	if r.Intn(4) == 0 {
		return ""
	}
	var b strings.Builder
	for n := 1 + r.Intn(4); n > 0; n-- {
		b.WriteString(fragments[r.Intn(len(fragments))])
	}
	return b.String()
}

type entry struct {
	id  kuberef.ContainerID
	ref *v1.ObjectReference
}

// fill stores n references with random strings in a new manager; pod k
// (uid "pod-k") holds references k*3 .. k*3+2; IDs are unique.
func fill(r *rand.Rand, n int) (*kuberef.RefManager, []entry) {
	m := kuberef.NewRefManager()
	var all []entry
	for i := 0; i < n; i++ {
		runtime := []string{"containerd", "docker", "cri-o"}[i%3]
		id := kuberef.ContainerID{Type: runtime, ID: fmt.Sprintf("%08x%s", i, randString(r))}
		ref := &v1.ObjectReference{Kind: randString(r), Namespace: []string{"default", "kube-system"}[(i/3)%2],
			Name: randString(r), UID: types.UID(fmt.Sprintf("pod-%d", i/3)), APIVersion: randString(r),
			ResourceVersion: randString(r), FieldPath: randString(r)}
		m.SetRef(id, ref)
		all = append(all, entry{id, ref})
	}
	return m, all
}

// asJSON is what a JSON string holding s decodes to (invalid UTF-8 becomes U+FFFD).
func asJSON(t *testing.T, s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back string
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

type dumpLine struct {
	ContainerID string          `json:"containerID"`
	Reference   json.RawMessage `json:"reference"`
}

func TestDumpIsRefToJSONForEveryReference(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	m, all := fill(r, 3000)
	defer m.Close()
	path := filepath.Join(t.TempDir(), "refs")
	if n, err := m.Save(path); n != len(all) || err != nil {
		t.Fatalf("Save = %d, %v", n, err)
	}
	want := map[string]*v1.ObjectReference{}
	for _, e := range all {
		want[asJSON(t, e.id.String())] = e.ref
	}
	out, errs, code := run(t, "dump", "--format", "json", path)
	if code != 0 || errs != "" {
		t.Fatalf("dump: status %d, %q", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(all) {
		t.Fatalf("%d lines for %d references", len(lines), len(all))
	}
	for _, line := range lines {
		var l dumpLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		ref, ok := want[l.ContainerID]
		if !ok {
			t.Fatalf("unknown container ID %q", l.ContainerID)
		}
		delete(want, l.ContainerID)
		if got, exact := string(l.Reference), string(kuberef.RefToJSON(ref)); got != exact {
			t.Fatalf("%q: reference %s, RefToJSON %s", l.ContainerID, got, exact)
		}
		if std, _ := json.Marshal(ref); string(l.Reference) != string(std) {
			t.Fatalf("%q: reference %s, json.Marshal %s", l.ContainerID, l.Reference, std)
		}
		// The line is exactly the two members, in this order, without spaces.
		if !strings.HasPrefix(line, `{"containerID":"`) || !strings.HasSuffix(line, `","reference":`+string(l.Reference)+`}`) {
			t.Fatalf("line shape: %q", line)
		}
	}
	if len(want) != 0 {
		t.Fatalf("%d references not dumped", len(want))
	}

	// Filters select exactly the matching references.
	out = runOK(t, "dump", "--runtime", "cri-o", "--namespace", "kube-system", path)
	n := 0
	for i := range all {
		if i%3 == 2 && (i/3)%2 == 1 {
			n++
		}
	}
	if got := strings.Count(out, "\n"); got != n {
		t.Fatalf("--runtime cri-o --namespace kube-system: %d lines, want %d", got, n)
	}
	out = runOK(t, "dump", "--pod-uid", "pod-7", path)
	if got := strings.Count(out, "\n"); got != 3 {
		t.Fatalf("--pod-uid pod-7: %d lines, want 3", got)
	}

	// The table shows the same references with nothing a terminal acts on.
	out, _, code = run(t, "dump", "--format", "table", path)
	if code != 0 || !utf8.ValidString(out) {
		t.Fatalf("table: status %d, valid UTF-8 %v", code, utf8.ValidString(out))
	}
	for _, c := range out {
		if (c < 0x20 && c != '\n') || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u202e' || c == '\u2028' {
			t.Fatalf("table holds %U", c)
		}
	}
	if got := strings.Count(out, "\n"); got != len(all)+1 {
		t.Fatalf("table: %d lines, want %d", got, len(all)+1)
	}
}

type change struct {
	Change      string          `json:"change"`
	ContainerID string          `json:"containerID"`
	Reference   json.RawMessage `json:"reference"`
	Before      json.RawMessage `json:"before"`
	After       json.RawMessage `json:"after"`
}

func TestDiffStatsAndVerifyAgreeWithTheBinding(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	m, all := fill(r, 600)
	defer m.Close()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if _, err := m.Save(a); err != nil {
		t.Fatal(err)
	}
	// B: every 50th reference cleared, every 60th changed, 7 new ones.
	want := map[string]string{}
	for i, e := range all {
		switch {
		case i%50 == 0:
			m.ClearRef(e.id)
			want[asJSON(t, e.id.String())] = "removed"
		case i%60 == 1:
			changed := *e.ref
			changed.ResourceVersion += "+1"
			m.SetRef(e.id, &changed)
			want[asJSON(t, e.id.String())] = "changed"
		}
	}
	for i := 0; i < 7; i++ {
		id := kuberef.ContainerID{Type: "containerd", ID: fmt.Sprintf("new-%d", i)}
		m.SetRef(id, &v1.ObjectReference{Kind: "Pod", Name: "new"})
		want[id.String()] = "added"
	}
	if _, err := m.Save(b); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, "diff", a, b)
	if code != 1 || errs != "" {
		t.Fatalf("diff: status %d, %q", code, errs)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var c change
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got[c.ContainerID] = c.Change
		if c.Change == "changed" && (len(c.Before) == 0 || len(c.After) == 0 || bytes.Equal(c.Before, c.After)) {
			t.Fatalf("changed without before and after: %q", line)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("diff: got %v\nwant %v", got, want)
	}

	// stats: the counts of what B holds.
	out, _, code = run(t, "stats", "--top", "0", b)
	var st struct {
		Records, References, Pods int
		Runtimes                  []struct {
			Runtime    string
			References int
		}
	}
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil {
		t.Fatalf("stats: status %d, %v: %q", code, err, out)
	}
	perRuntime := map[string]int{}
	pods := map[types.UID]bool{}
	for _, e := range m.Snapshot() {
		perRuntime[e.ID.Type]++
		pods[e.Ref.UID] = true
	}
	if st.Records != m.Len() || st.References != m.Len() || st.Pods != len(pods) || len(st.Runtimes) != len(perRuntime) {
		t.Fatalf("stats %+v; the manager holds %d references in %d pods, %v", st, m.Len(), len(pods), perRuntime)
	}
	for _, rt := range st.Runtimes {
		if perRuntime[rt.Runtime] != rt.References {
			t.Fatalf("stats: runtime %q: %d, want %d", rt.Runtime, rt.References, perRuntime[rt.Runtime])
		}
	}

	// verify and the classes of damage, against Load's status for the same file.
	if _, _, code := run(t, "verify", b); code != 0 {
		t.Fatalf("verify of a saved file: status %d", code)
	}
	whole, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	damaged := map[string][]byte{
		"truncated": whole[:len(whole)-1],
		"foreign":   append([]byte("NOTKUBE!"), whole[8:]...),
		"version":   append(append(append([]byte{}, whole[:8]...), 9), whole[9:]...),
		"checksum":  append(append([]byte{}, whole[:len(whole)-1]...), whole[len(whole)-1]^1),
		"trailing":  append(append([]byte{}, whole...), 0),
	}
	// Load's status for each file, and the tool's exit (the tool tells a
	// checksum mismatch, 9, from other damage, 10, which Load reports alike).
	expect := map[string]struct {
		status uint32
		exit   int
	}{
		"truncated": {kuberef.StatusFileTruncated, 8}, "foreign": {kuberef.StatusFileForeign, 6},
		"version": {kuberef.StatusFileVersion, 7}, "checksum": {kuberef.StatusFileCorrupt, 9},
		"trailing": {kuberef.StatusFileCorrupt, 10}, "missing": {kuberef.StatusFileNotFound, 3},
		"directory": {kuberef.StatusFileNotRegular, 4},
	}
	paths := map[string]string{"missing": filepath.Join(dir, "missing"), "directory": dir}
	for name, bytes := range damaged {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes, 0o600); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	for name, p := range paths {
		_, err := kuberef.NewRefManager().Load(p, false)
		var fe *kuberef.FileError
		if !errors.As(err, &fe) {
			t.Fatalf("%s: Load = %v", name, err)
		}
		out, errs, code := run(t, "verify", p)
		w, ok := expect[name]
		if !ok || fe.Status != w.status || code != w.exit || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "kuberef: "+p+": ") {
			t.Fatalf("%s: Load status %d; verify status %d, stdout %q, stderr %q", name, fe.Status, code, out, errs)
		}
	}
}
