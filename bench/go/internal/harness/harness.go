// Package harness times benchmark operations the way bench/c/bench.c does:
// calibrate on at least a tenth of a sample, then one sample of about
// -sample-ms, printing "IMPL OP STORED NS_PER_OP" per sample.
package harness

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// cpuClock: -cpu-clock times single-threaded loops with the thread's CPU
// clock (for development on a busy machine; the table uses wall time).
var cpuClock bool

func threadCPUNanos() int64 {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

// Config is what the command line chose.
type Config struct {
	Only   string // -only OP: run just that operation (development)
	Sizes  []uint64
	Reps   int
	Sample time.Duration
	Mem    uint64 // > 0: run the memory benchmark with this many refs instead
}

// Parse reads the flags shared by the Go benchmark programs.
func Parse() Config {
	quick := flag.Bool("quick", false, "smoke run: tiny sizes and samples")
	reps := flag.Int("reps", 3, "samples per operation and size")
	sampleMs := flag.Float64("sample-ms", 50, "target duration of one sample")
	sizes := flag.String("sizes", "1000,100000,1000000", "stored-ref counts, growing")
	mem := flag.Uint64("mem", 0, "memory benchmark: bytes per ref with this many refs stored")
	only := flag.String("only", "", "run only this operation (development)")
	flag.BoolVar(&cpuClock, "cpu-clock", false, "time 1-thread loops with the thread CPU clock (development only)")
	flag.Parse()
	if cpuClock {
		runtime.LockOSThread()
	}
	c := Config{Reps: *reps, Sample: time.Duration(*sampleMs * 1e6), Mem: *mem, Only: *only}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			Die("bad -sizes: %v", err)
		}
		c.Sizes = append(c.Sizes, n)
	}
	if *quick {
		c.Sizes, c.Reps, c.Sample = []uint64{1000, 5000}, 1, time.Millisecond
	}
	return c
}

// Die reports a failed check and exits non-zero.
func Die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// Measure runs op (which runs its operation n times and returns ns/op) for
// one sample of about target.
func Measure(target time.Duration, op func(n int) float64) float64 {
	n := 16
	var per float64
	for {
		start := time.Now()
		per = op(n)
		if time.Since(start) >= target/10 || n >= 1<<34 {
			break
		}
		n *= 4
	}
	if per < 0.1 {
		per = 0.1
	}
	n = int(float64(target.Nanoseconds()) / per)
	if n < 16 {
		n = 16
	}
	return op(n)
}

// Loop times f(n) and returns ns per op.
func Loop(n int, f func(n int)) float64 {
	if cpuClock {
		t0 := threadCPUNanos()
		f(n)
		return float64(threadCPUNanos()-t0) / float64(n)
	}
	start := time.Now()
	f(n)
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// Parallel2 runs f(0, n) and f(1, n) in two goroutines started together and
// returns the aggregate ns per op (wall time over 2n).
func Parallel2(n int, f func(t, n int)) float64 {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(2)
	done.Add(2)
	for t := 0; t < 2; t++ {
		go func(t int) {
			defer done.Done()
			ready.Done()
			<-start
			f(t, n)
		}(t)
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(2*n)
}

// Run measures op and prints one sample line, unless -only chose another.
func (c Config) Run(impl, op string, stored uint64, f func(n int) float64) {
	if c.Only != "" && c.Only != op {
		return
	}
	fmt.Printf("%s %s %d %.2f\n", impl, op, stored, Measure(c.Sample, f))
}

// HeapInuse is runtime.MemStats.HeapInuse after two full collections.
func HeapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
