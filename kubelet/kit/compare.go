package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// A run's results: for each suite (a file name under baseline/ and swap/,
// e.g. "tests" for tests.json) and package, each test's (and subtest's) last
// outcome, from go test -json or go tool test2json output, and the
// package's test binary's ("(package)"): "fail" if any run of it failed (a
// per-test suite runs the binary once for each test), else its last.
type results map[string]map[string]map[string]string // suite -> package -> test -> pass|fail|skip

type event struct {
	Action  string
	Package string
	Test    string
}

func load(dir string) (results, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no results in %s", dir)
	}
	r := results{}
	for _, path := range files {
		suite := strings.TrimSuffix(filepath.Base(path), ".json")
		r[suite] = map[string]map[string]string{}
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var e event
			if json.Unmarshal(sc.Bytes(), &e) != nil || e.Package == "" {
				continue // a line that is not an event (a build error)
			}
			if r[suite][e.Package] == nil {
				r[suite][e.Package] = map[string]string{}
			}
			switch e.Action {
			case "pass", "fail", "skip":
				if e.Test == "" {
					e.Test = "(package)"
					if r[suite][e.Package][e.Test] == "fail" {
						break // one failed run fails the binary
					}
				}
				r[suite][e.Package][e.Test] = e.Action
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	return r, nil
}

func count(tests map[string]string) (pass, fail, skip int) {
	for name, outcome := range tests {
		if name == "(package)" {
			continue
		}
		switch outcome {
		case "pass":
			pass++
		case "fail":
			fail++
		case "skip":
			skip++
		}
	}
	return
}

// compare prints, for each suite and package, the tests (subtests included)
// that passed, failed and were skipped in the baseline and in the swap, then
// every regression: a test, or a package's test binary as a whole
// ("(package)"), that passed in the baseline and failed, was skipped, or did
// not run, in the swap. It fails on a regression, and on a package or a
// suite whose baseline passed no test (a package that fails to build
// included: a comparison with nothing is no comparison).
func compare(out string, w io.Writer) error {
	base, err := load(filepath.Join(out, "baseline"))
	if err != nil {
		return err
	}
	swap, err := load(filepath.Join(out, "swap"))
	if err != nil {
		return err
	}
	var suites []string
	for s := range base {
		suites = append(suites, s)
	}
	sort.Strings(suites)
	var regressions, empty, bothFail []string
	fmt.Fprintln(w, "| suite | package | baseline pass/fail/skip | swap pass/fail/skip | regressions |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	totalBase, totalSwap := 0, 0
	for _, suite := range suites {
		var pkgs []string
		for p := range base[suite] {
			pkgs = append(pkgs, p)
		}
		for p := range swap[suite] {
			if base[suite][p] == nil {
				pkgs = append(pkgs, p)
			}
		}
		sort.Strings(pkgs)
		suitePass := 0
		for _, pkg := range pkgs {
			b, s := base[suite][pkg], swap[suite][pkg]
			bp, bf, bs := count(b)
			sp, sf, ss := count(s)
			if bp+bf+bs == 0 && sp+sf+ss == 0 && b["(package)"] != "fail" && s["(package)"] != "fail" {
				continue // no test files
			}
			totalBase += bp
			totalSwap += sp
			suitePass += bp
			if bp == 0 {
				empty = append(empty, suite+" "+pkg)
			}
			var names []string
			for name := range b {
				names = append(names, name)
			}
			sort.Strings(names)
			n := 0
			for _, name := range names {
				// "(package)" is the test binary's own outcome: a race or a
				// panic outside any test, TestMain's exit status, or a
				// package that does not build fails it after its tests.
				switch {
				case b[name] == "pass" && s[name] != "pass": // failed, skipped or did not run
					got := s[name]
					if got == "" {
						got = "did not run"
					}
					regressions = append(regressions, fmt.Sprintf("%s %s %s: baseline pass, swap %s", suite, pkg, name, got))
					n++
				case b[name] == "fail" && s[name] == "fail":
					bothFail = append(bothFail, fmt.Sprintf("%s %s %s", suite, pkg, name))
				}
			}
			fmt.Fprintf(w, "| %s | %s | %d/%d/%d | %d/%d/%d | %d |\n", suite, pkg, bp, bf, bs, sp, sf, ss, n)
		}
		if suitePass == 0 {
			// Nothing built or ran (a package that failed to build in
			// both trees leaves no results): nothing was compared.
			empty = append(empty, suite+" (every package)")
		}
	}
	for _, t := range bothFail {
		fmt.Fprintf(w, "fails in both (not a regression): %s\n", t)
	}
	for _, r := range regressions {
		fmt.Fprintf(w, "REGRESSION %s\n", r)
	}
	fmt.Fprintf(w, "upstream tests: baseline %d passed, swap %d passed, %d regressions\n", totalBase, totalSwap, len(regressions))
	switch {
	case len(empty) > 0:
		return fmt.Errorf("the baseline passed no test in: %s", strings.Join(empty, ", "))
	case len(regressions) > 0:
		return fmt.Errorf("%d upstream tests pass in the baseline and not with the kit", len(regressions))
	}
	return nil
}
