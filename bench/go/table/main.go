// Command table turns the sample lines of the benchmark programs
// ("IMPL OP STORED VALUE", one file per program run, any number of rounds)
// into the one table `make bench` prints: medians per implementation,
// operation and stored-ref count, ratios against upstream Go, and whether
// each target is met.
//
//	table [-check] FILE...
//
// -check (the smoke test): fail unless every implementation that printed
// anything printed a positive, finite value for every operation.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

const (
	implC     = "kuberef-c"
	implGLib  = "glib-c"
	implGo    = "kuberef-go"
	implUp    = "upstream-go"
	implFloor = "rust-floor"
	implBound = "rust-bound"
)

type key struct {
	impl, op string
	stored   uint64
}

var samples = map[key][]float64{}

// op is one row group of the table and its targets, as ratios to upstream Go
// (0: no target, the ratio is shown for information).
type op struct {
	name, label string
	sized       bool
	targetC     float64 // kuberef from C / upstream Go
	targetGLib  float64 // kuberef from C / GLib from C
	targetGo    float64 // kuberef from Go / upstream Go
	targetBound float64 // kuberef from C / the copy bound
	// who runs it: an implementation not listed prints no line for it
	impls []string
}

var (
	allImpls = []string{implC, implGLib, implGo, implUp, implFloor}
	goImpls  = []string{implGo, implUp}
)

var ops = []op{
	{"get1", "GetRef, 1 thread", true, 1.0, 1.0, 1.0, 1.5, append(allImpls, implBound)},
	{"get2", "GetRef, 2 threads (aggregate)", true, 0.6, 0, 1.0, 0, append(allImpls, implBound)},
	{"setclear", "SetRef + ClearRef", true, 1.0, 0, 2.5, 0, append(allImpls, implBound)},
	{"lifecycle", "Lifecycle (generate, set, 3 gets, clear)", true, 0, 0, 1.0, 0, []string{implC, implGo, implUp, implFloor}},
	{"probe", "Probe events, 2 goroutines (GetRef, 1 in 8 a miss that generates)", true, 0, 0, 1.0, 0, goImpls},
	{"generate", "GenerateContainerRef", false, 0.5, 0, 1.0, 0, []string{implC, implGo, implUp, implFloor}},
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func get(impl, op string, stored uint64) float64 {
	return median(samples[key{impl, op, stored}])
}

func ns(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func fmtNum(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func main() {
	check := flag.Bool("check", false, "smoke test: every implementation has every value")
	flag.Parse()
	impls := map[string]bool{}
	sizeSet := map[uint64]bool{}
	for _, path := range flag.Args() {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fl := strings.Fields(sc.Text())
			if len(fl) == 0 || strings.HasPrefix(fl[0], "#") {
				continue
			}
			if len(fl) != 4 {
				// Every line the programs print is a sample.
				fmt.Fprintf(os.Stderr, "%s: not a sample: %q\n", path, sc.Text())
				os.Exit(1)
			}
			stored, err1 := strconv.ParseUint(fl[2], 10, 64)
			v, err2 := strconv.ParseFloat(fl[3], 64)
			if err1 != nil || err2 != nil {
				fmt.Fprintf(os.Stderr, "%s: bad line %q\n", path, sc.Text())
				os.Exit(1)
			}
			k := key{fl[0], fl[1], stored}
			samples[k] = append(samples[k], v)
			impls[fl[0]] = true
			if stored > 0 && fl[1] != "mem" { // generate and cgo2 print 0
				sizeSet[stored] = true
			}
		}
		f.Close()
	}
	var sizes []uint64
	for s := range sizeSet {
		sizes = append(sizes, s)
	}
	sort.Slice(sizes, func(i, j int) bool { return sizes[i] < sizes[j] })

	if *check {
		bad := 0
		for _, o := range ops {
			for _, impl := range o.impls { // bench/run.sh runs every program
				ss := sizes
				if !o.sized {
					ss = []uint64{0}
				}
				for _, s := range ss {
					if v := get(impl, o.name, s); math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
						fmt.Fprintf(os.Stderr, "missing or bad: %s %s %d\n", impl, o.name, s)
						bad++
					}
				}
			}
		}
		if v := get(implGo, "cgo2", 0); math.IsNaN(v) || v <= 0 {
			fmt.Fprintln(os.Stderr, "missing or bad: kuberef-go cgo2 0")
			bad++
		}
		for _, impl := range []string{implC, implUp} { // the memory programs
			ok := false
			for k, v := range samples {
				ok = ok || (k.impl == impl && k.op == "mem" && k.stored > 0 && median(v) > 0)
			}
			if !ok {
				fmt.Fprintf(os.Stderr, "missing or bad: %s mem\n", impl)
				bad++
			}
		}
		if len(impls) == 0 || len(sizes) == 0 {
			fmt.Fprintln(os.Stderr, "no samples")
			bad++
		}
		fmt.Printf("bench-check: %d implementations x %d operations checked, %d bad\n", len(impls), len(ops), bad)
		if bad > 0 {
			os.Exit(1)
		}
	}

	t := &tally{}
	// Samples per cell: one per round for a sized cell; generate and the
	// cgo floor print one after each size's fill and are pooled.
	nSized, nPooled := 0, 0
	for k, v := range samples {
		switch {
		case k.op == "mem":
		case k.stored > 0:
			nSized = max(nSized, len(v))
		default:
			nPooled = max(nPooled, len(v))
		}
	}
	fmt.Printf("Median ns/op over up to %d samples per cell (up to %d for GenerateContainerRef and the cgo floor, pooled over the sizes). Ratios: ✓/✗ against the target in brackets; no bracket, shown for information. A ratio is printed with enough digits to show which side of its target it is on.\n\n", nSized, nPooled)
	fmt.Println("| operation | stored refs | kuberef from C | GLib from C | kuberef from Go | upstream Go | Rust floor (no FFI) | C / upstream Go | C / GLib | Go binding / upstream Go |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, o := range ops {
		ss := sizes
		if !o.sized {
			ss = []uint64{0}
		}
		for _, s := range ss {
			c, gl, g, up, fl := get(implC, o.name, s), get(implGLib, o.name, s), get(implGo, o.name, s),
				get(implUp, o.name, s), get(implFloor, o.name, s)
			stored := "—"
			if o.sized {
				stored = fmtNum(s)
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				o.label, stored, ns(c), ns(gl), ns(g), ns(up), ns(fl),
				t.ratio(o.label+", "+stored+", C / upstream Go", c, up, o.targetC),
				t.ratio(o.label+", "+stored+", C / GLib", c, gl, o.targetGLib),
				t.ratio(o.label+", "+stored+", Go binding / upstream Go", g, up, o.targetGo))
		}
	}

	// The cgo floor of the binding's SetRef + ClearRef: two calls into C that
	// do nothing, measured in the same process as the binding's row.
	if cgo := get(implGo, "cgo2", 0); !math.IsNaN(cgo) {
		fmt.Printf("\nThe cgo floor: two empty calls from Go into the library (kuberef_abi_version) take %s ns,", ns(cgo))
		for _, s := range sizes {
			up, g := get(implUp, "setclear", s), get(implGo, "setclear", s)
			if !math.IsNaN(up) && up > 0 {
				fmt.Printf(" %.2f× upstream's SetRef + ClearRef at %s stored (the binding: %.2f×);", cgo/up, fmtNum(s), g/up)
			}
		}
		fmt.Println()
	}

	// The lifecycle's floor: what the binding's lifecycle would take if its
	// cache cost nothing beyond three GetRef hits, from cells of this run.
	if cgo, gen := get(implGo, "cgo2", 0), get(implGo, "generate", 0); !math.IsNaN(cgo) && !math.IsNaN(gen) {
		fmt.Printf("\nThe lifecycle's floor: the binding's GenerateContainerRef, the cgo floor, C's SetRef + ClearRef and three of the binding's GetRef (1 thread) take")
		for _, s := range sizes {
			set, hit, up, g := get(implC, "setclear", s), get(implGo, "get1", s), get(implUp, "lifecycle", s), get(implGo, "lifecycle", s)
			if floor := gen + cgo + set + 3*hit; !math.IsNaN(floor) && up > 0 {
				fmt.Printf(" %s ns at %s stored, %.2f× upstream's lifecycle (the binding: %.2f×);", ns(floor), fmtNum(s), floor/up, g/up)
			}
		}
		fmt.Println()
	}

	if !impls[implBound] {
		for _, o := range ops {
			if o.targetBound > 0 {
				for _, s := range sizes {
					t.notMeasured(o.label+", "+fmtNum(s)+", C / copy bound", fmt.Sprintf("≤ %.1f", o.targetBound))
				}
			}
		}
	} else {
		fmt.Printf("\nThe copy bounds (%s: the same keys in one hash table with no lock and no counters, hashed with the library's hash; safe only with one thread writing and none reading meanwhile). GetRef: a lookup that compares the key and copies the fields into a buffer, as kuberef_get_ref must. SetRef + ClearRef: the key and the fields copied into a new allocation and inserted, then found, removed and freed, as a store that keeps no pointer into the caller's memory must. ns/op, and kuberef from C against them:\n\n", implBound)
		fmt.Println("| operation | stored refs | copy bound | kuberef from C | C / bound |")
		fmt.Println("|---|---:|---:|---:|---:|")
		for _, o := range ops {
			if o.targetBound == 0 && o.name != "get2" && o.name != "setclear" {
				continue
			}
			for _, s := range sizes {
				b, c := get(implBound, o.name, s), get(implC, o.name, s)
				fmt.Printf("| %s | %s | %s | %s | %s |\n", o.label, fmtNum(s), ns(b), ns(c), t.ratio(o.label+", "+fmtNum(s)+", C / copy bound", c, b, o.targetBound))
			}
		}
	}

	if len(sizes) >= 2 {
		lo, hi := sizes[0], sizes[len(sizes)-1]
		upScale := get(implUp, "get1", hi) / get(implUp, "get1", lo)
		fmt.Printf("\nScale, GetRef 1 thread, time at %s stored / time at %s (target: at most upstream Go's own):", fmtNum(hi), fmtNum(lo))
		for _, impl := range []string{implC, implGLib, implGo, implUp, implFloor} {
			a, b := get(impl, "get1", hi), get(impl, "get1", lo)
			judged := impl == implC || impl == implGo
			if math.IsNaN(a) || math.IsNaN(b) || (judged && math.IsNaN(upScale)) {
				if judged {
					t.notMeasured("scale "+impl, "≤ upstream Go's own")
					fmt.Printf(" %s — ✗;", impl)
				}
				continue
			}
			target := 0.0
			if judged {
				target = upScale
			}
			fmt.Printf(" %s %s;", impl, t.scale("scale "+impl, a/b, target))
		}
		fmt.Println()
	}

	var memC, memUp float64 = math.NaN(), math.NaN()
	var memN uint64
	for k, v := range samples {
		if k.op == "mem" {
			memN = k.stored
			switch k.impl {
			case implC:
				memC = median(v)
			case implUp:
				memUp = median(v)
			}
		}
	}
	if memN == 0 {
		t.notMeasured("memory per ref, kuberef / Go", "≤ 0.7")
	} else {
		fmt.Printf("\nMemory at %s stored refs, bytes per ref: kuberef %s (RSS growth), upstream Go %s (HeapInuse growth after GC); kuberef / Go %s.\n",
			fmtNum(memN), ns(memC), ns(memUp), t.ratio("memory per ref, kuberef / Go", memC, memUp, 0.7))
	}
	fmt.Printf("\nTargets: %d met, %d missed.\n", t.met, t.missed)
	for _, m := range t.misses {
		fmt.Printf("  missed: %s\n", m)
	}
}

// tally counts the targets met and missed.
type tally struct {
	met, missed int
	misses      []string
}

// ratio formats a/b and, when target > 0, whether it is at most target
// (counted). A target whose cells were not measured (a program printed no
// sample for them) is counted as missed: the table never claims a target it
// has no numbers for.
func (t *tally) ratio(what string, a, b, target float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		if target <= 0 {
			return "—"
		}
		goal := fmt.Sprintf("≤ %.1f", target)
		t.notMeasured(what, goal)
		return fmt.Sprintf("— ✗ (%s)", goal)
	}
	r := a / b
	if target <= 0 {
		return fmt.Sprintf("%.2f", r)
	}
	return t.judge(what, r, target, "%.1f")
}

// notMeasured counts a target whose numbers are missing as missed: the
// table never claims a target it has no numbers for.
func (t *tally) notMeasured(what, goal string) {
	t.missed++
	t.misses = append(t.misses, fmt.Sprintf("%s: not measured, target %s", what, goal))
}

// scale formats a growth ratio against a target that is itself measured.
func (t *tally) scale(what string, r, target float64) string {
	if target <= 0 || math.IsNaN(target) {
		return fmt.Sprintf("%.2f", r)
	}
	return t.judge(what, r, target, "%.2f")
}

// judge counts r as meeting or missing target and formats it with a ✓ or
// a ✗ and the target (printed with targetFormat).
func (t *tally) judge(what string, r, target float64, targetFormat string) string {
	goal := fmt.Sprintf("≤ "+targetFormat, target)
	v := sideOf(r, target)
	if r <= target {
		t.met++
		return fmt.Sprintf("%s ✓ (%s)", v, goal)
	}
	t.missed++
	t.misses = append(t.misses, fmt.Sprintf("%s: %s, target %s", what, v, goal))
	return fmt.Sprintf("%s ✗ (%s)", v, goal)
}

// sideOf formats r with two decimals, or with more (up to five) where two
// would put it on the other side of target than it is (1.0044 against a
// target of 1.0 prints as 1.004, not 1.00).
func sideOf(r, target float64) string {
	for d := 2; d < 5; d++ {
		v := fmt.Sprintf("%.*f", d, r)
		if x, err := strconv.ParseFloat(v, 64); err == nil && (x <= target) == (r <= target) {
			return v
		}
	}
	return fmt.Sprintf("%.5f", r)
}
