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

type op struct {
	name, label       string
	sized             bool
	targetC, targetGo float64
}

var ops = []op{
	{"get1", "GetRef, 1 thread", true, 0.6, 2.0},
	{"setclear", "SetRef + ClearRef", true, 0.9, 2.0},
	{"get2", "GetRef, 2 threads (aggregate)", true, 0.5, 1.5},
	{"generate", "GenerateContainerRef", false, 0.5, 1.0},
	{"lifecycle", "Lifecycle (generate, set, 3 gets, clear)", true, 0.6, 1.3},
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

// ratio formats a/b and, when target > 0, whether it is at most target.
func ratio(a, b, target float64) (string, bool) {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "—", true
	}
	r := a / b
	s := fmt.Sprintf("%.2f", r)
	if target > 0 {
		if r <= target {
			return fmt.Sprintf("%s ✓ (≤ %.1f)", s, target), true
		}
		return fmt.Sprintf("%s ✗ (≤ %.1f)", s, target), false
	}
	return s, true
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
			if len(fl) != 4 {
				continue
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
			if fl[1] != "generate" && fl[1] != "mem" {
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
		for impl := range impls {
			for _, o := range ops {
				if impl == implBound && o.name != "get1" && o.name != "get2" {
					continue // the bound is measured for GetRef only
				}
				ss := sizes
				if !o.sized {
					ss = []uint64{0}
				}
				for _, s := range ss {
					v := get(impl, o.name, s)
					if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
						fmt.Fprintf(os.Stderr, "missing or bad: %s %s %d\n", impl, o.name, s)
						bad++
					}
				}
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

	met, missed := 0, 0
	tally := func(ok bool, target float64) {
		if target <= 0 {
			return
		}
		if ok {
			met++
		} else {
			missed++
		}
	}
	n := 0
	for _, v := range samples {
		if len(v) > n {
			n = len(v)
		}
	}
	fmt.Printf("Median ns/op over up to %d samples per cell; ratios against upstream Go of the same run; ✓/✗: the target in brackets.\n\n", n)
	fmt.Println("| operation | stored refs | kuberef from C | kuberef from Go | upstream Go | Rust floor (no FFI) | C / Go | Go binding / Go | C / floor |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, o := range ops {
		ss := sizes
		if !o.sized {
			ss = []uint64{0}
		}
		for _, s := range ss {
			c, g, up, fl := get(implC, o.name, s), get(implGo, o.name, s), get(implUp, o.name, s), get(implFloor, o.name, s)
			rc, okc := ratio(c, up, o.targetC)
			rg, okg := ratio(g, up, o.targetGo)
			tally(okc, o.targetC*boolf(!math.IsNaN(c) && !math.IsNaN(up)))
			tally(okg, o.targetGo*boolf(!math.IsNaN(g) && !math.IsNaN(up)))
			floorTarget := 0.0
			if o.name == "get1" {
				floorTarget = 1.2
			}
			rf, okf := ratio(c, fl, floorTarget)
			tally(okf, floorTarget*boolf(!math.IsNaN(c) && !math.IsNaN(fl)))
			stored := "—"
			if o.sized {
				stored = fmtNum(s)
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				o.label, stored, ns(c), ns(g), ns(up), ns(fl), rc, rg, rf)
		}
	}
	if len(sizes) >= 2 {
		lo, hi := sizes[0], sizes[len(sizes)-1]
		fmt.Printf("\nScale, GetRef 1 thread, time at %s stored / time at %s:", fmtNum(hi), fmtNum(lo))
		for _, impl := range []string{implC, implGo, implUp, implFloor} {
			a, b := get(impl, "get1", hi), get(impl, "get1", lo)
			target := 0.0
			if impl == implC || impl == implGo {
				target = 2.0
			}
			r, ok := ratio(a, b, target)
			tally(ok, target*boolf(!math.IsNaN(a) && !math.IsNaN(b)))
			if r != "—" {
				fmt.Printf(" %s %s;", impl, r)
			}
		}
		fmt.Println()
	}
	if impls[implBound] {
		fmt.Printf("\nLower bound for GetRef (%s: the same keys in one hash table with no lock and no counters, a lookup that compares the key and copies the fields into a buffer, as kuberef_get_ref must, but safe only with no writer; not a target), ns/op and ratio to upstream Go:", implBound)
		for _, o := range []string{"get1", "get2"} {
			for _, s := range sizes {
				b, up := get(implBound, o, s), get(implUp, o, s)
				if r, _ := ratio(b, up, 0); r != "—" {
					fmt.Printf(" %s %s %s (%s);", o, fmtNum(s), ns(b), r)
				}
			}
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
	if memN > 0 {
		r, ok := ratio(memC, memUp, 0.7)
		tally(ok, 0.7*boolf(!math.IsNaN(memC) && !math.IsNaN(memUp)))
		fmt.Printf("\nMemory at %s stored refs, bytes per ref: kuberef %s (RSS growth), upstream Go %s (HeapInuse growth after GC); kuberef / Go %s.\n",
			fmtNum(memN), ns(memC), ns(memUp), r)
	}
	fmt.Printf("\nTargets: %d met, %d missed.\n", met, missed)
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
