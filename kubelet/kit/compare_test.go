package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeRun writes go test -json events (one per line) as OUT/RUN/SUITE.json.
func writeRun(t *testing.T, out, run, suite string, events ...string) {
	t.Helper()
	dir := filepath.Join(out, run)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := strings.Join(events, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, suite+".json"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	passA   = `{"Action":"pass","Package":"p","Test":"TestA"}`
	passB   = `{"Action":"pass","Package":"p","Test":"TestB"}`
	failB   = `{"Action":"fail","Package":"p","Test":"TestB"}`
	pkgPass = `{"Action":"pass","Package":"p"}`
	pkgFail = `{"Action":"fail","Package":"p"}`
	passQ   = `{"Action":"pass","Package":"q","Test":"TestQ"}`
)

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		name           string
		baseline, swap []string
		wantErr        string // "" for success
	}{
		{"the same results", []string{passA, passB, pkgPass}, []string{passA, passB, pkgPass}, ""},
		{"a test that fails in the swap", []string{passA, passB, pkgPass}, []string{passA, failB, pkgFail}, "2 upstream tests"},
		{"a test that does not run in the swap", []string{passA, passB, pkgPass}, []string{passA, pkgPass}, "1 upstream tests"},
		// Every test passed, then the binary failed: a race or a panic after
		// the tests, or TestMain's exit status.
		{"a test binary that fails after its tests", []string{passA, passB, pkgPass}, []string{passA, passB, pkgFail}, "1 upstream tests"},
		// A suite that runs each test in a process of its own (per-test):
		// one process failed after its test passed, the next passed.
		{"one per-test process that fails after its test", []string{passA, pkgPass, passB, pkgPass},
			[]string{passA, pkgFail, passB, pkgPass}, "1 upstream tests"},
		// A package that does not build has only its own failure.
		{"a swap that does not build", []string{passA, passB, pkgPass},
			[]string{`{"Action":"fail","Package":"p","FailedBuild":"p"}`}, "3 upstream tests"},
		{"a baseline that does not build", []string{passQ, `{"Action":"fail","Package":"p","FailedBuild":"p"}`},
			[]string{passQ, `{"Action":"fail","Package":"p","FailedBuild":"p"}`}, "passed no test in: tests p"},
		{"a package with no test files", []string{passA, pkgPass, `{"Action":"skip","Package":"none"}`},
			[]string{passA, pkgPass, `{"Action":"skip","Package":"none"}`}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			writeRun(t, out, "baseline", "tests", tc.baseline...)
			writeRun(t, out, "swap", "tests", tc.swap...)
			err := compare(out, io.Discard)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("compare: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("compare: %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}
