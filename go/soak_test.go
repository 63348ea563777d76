package kuberef_test

// The Go soak: goroutines run mixed operations on one shared
// RefManager over a bounded key set; every GetRef must return one whole
// reference written for that key. Short by default (it runs in every
// go-test mode, -race included); make go-soak runs it bigger with the RSS
// check, make go-soak-long much bigger.
//
//   KUBEREF_SOAK_GOROUTINES  (default 8)
//   KUBEREF_SOAK_OPS         operations per goroutine (default 5000)
//   KUBEREF_SOAK_KEYS        shared keys (default 1024)
//   KUBEREF_SOAK_ROUNDS      rounds; RSS is sampled after each (default 5)
//   KUBEREF_SOAK_RSS=1       check RSS: after the first 30% of the rounds
//                            (warm-up), no sample may exceed the warm-up RSS
//                            by more than 25% + 16 MiB (Go's heap grows in
//                            steps with the GC's pacing, hence a wider bound
//                            than the C soak's).

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func soakEnv(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

func rssKiB(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatalf("statm: %v", err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("statm %q: %v", b, err)
	}
	return pages * os.Getpagesize() / 1024
}

// soakRef is the reference writer `serial` stores under key k: every field
// encodes both, with a length that varies with the serial.
func soakRef(k, serial uint64) *v1.ObjectReference {
	f := func(i int) string {
		pad := int((serial*7 + uint64(i)*13) % 96)
		return fmt.Sprintf("%d:%d:%d:", i, k, serial) + strings.Repeat(string(rune('a'+i)), pad)
	}
	return &v1.ObjectReference{
		Kind: f(0), Namespace: f(1), Name: f(2), UID: types.UID(f(3)),
		APIVersion: f(4), ResourceVersion: f(5), FieldPath: f(6),
	}
}

func soakWhole(r *v1.ObjectReference, k uint64) bool {
	var rk, serial uint64
	if _, err := fmt.Sscanf(r.Kind, "0:%d:%d:", &rk, &serial); err != nil || rk != k {
		return false
	}
	return *r == *soakRef(k, serial)
}

func TestSoak(t *testing.T) {
	goroutines := soakEnv(t, "KUBEREF_SOAK_GOROUTINES", 8)
	ops := soakEnv(t, "KUBEREF_SOAK_OPS", 5000)
	keys := soakEnv(t, "KUBEREF_SOAK_KEYS", 1024)
	rounds := soakEnv(t, "KUBEREF_SOAK_ROUNDS", 5)
	checkRSS := os.Getenv("KUBEREF_SOAK_RSS") == "1"
	warmup := rounds * 3 / 10
	if warmup < 1 {
		warmup = 1
	}
	if rounds <= warmup {
		t.Fatalf("KUBEREF_SOAK_ROUNDS=%d: need more than %d", rounds, warmup)
	}

	m := kuberef.NewRefManager()
	defer m.Close()
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "soak", Name: "web", UID: "uid"},
		Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "app"}, {Name: ""}}},
	}
	var bad, reads, hits atomic.Uint64
	fail := func(format string, args ...interface{}) {
		if bad.Add(1) <= 5 {
			t.Errorf(format, args...)
		}
	}
	perRound := ops / rounds
	base, maxAfter := 0, 0
	t.Logf("soak: %d goroutines x %d ops, %d keys, %d rounds (%d warm-up); rss at start %d KiB",
		goroutines, perRound*rounds, keys, rounds, warmup, rssKiB(t))
	for r := 0; r < rounds; r++ {
		var wg sync.WaitGroup
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				seed := uint64(g)*0x9E3779B97F4A7C15 + uint64(r)*0x632BE59BD9B4E019 + 1
				next := func() uint64 {
					seed = seed*6364136223846793005 + 1442695040888963407
					return seed >> 33
				}
				for i := 0; i < perRound; i++ {
					k, op := next()%uint64(keys), next()%100
					serial := uint64(g)<<40 | uint64(r*perRound+i)
					id := kuberef.ContainerID{Type: "containerd", ID: fmt.Sprintf("soak-%05d", k)}
					switch {
					case op < 30:
						m.SetRef(id, soakRef(k, serial))
					case op < 75:
						reads.Add(1)
						if got, ok := m.GetRef(id); ok {
							hits.Add(1)
							if !soakWhole(got, k) {
								fail("GetRef(%v) = %+v: not one whole reference for key %d", id, got, k)
							}
						}
					case op < 90:
						m.ClearRef(id)
					case op < 94:
						if n := m.Len(); n > keys {
							fail("Len = %d > %d keys", n, keys)
						}
					case op < 97:
						c := &pod.Spec.Containers[op&1]
						ref, err := kuberef.GenerateContainerRef(pod, c)
						want := "spec.containers{app}"
						if c.Name == "" {
							want = "spec.containers[1]"
						}
						if err != nil || ref.FieldPath != want || ref.Kind != "Pod" || ref.APIVersion != "v1" {
							fail("GenerateContainerRef(%q) = %+v, %v", c.Name, ref, err)
						}
					case op < 99:
						if got := kuberef.ParseContainerID(id.String()); got != id {
							fail("ParseContainerID(%q) = %v", id.String(), got)
						}
					default:
						p := kuberef.NewRefManager()
						for j := uint64(0); j < 16; j++ {
							p.SetRef(kuberef.ContainerID{Type: "cri-o", ID: fmt.Sprint(j)}, soakRef(j, serial))
						}
						if p.Len() != 16 {
							fail("private manager Len = %d, want 16", p.Len())
						}
						p.Close()
					}
				}
			}(g)
		}
		wg.Wait()
		rss := rssKiB(t)
		t.Logf("soak: round %d/%d: %d ops, %d references, rss %d KiB",
			r+1, rounds, (r+1)*perRound*goroutines, m.Len(), rss)
		if r+1 == warmup {
			base = rss
		} else if r+1 > warmup && rss > maxAfter {
			maxAfter = rss
		}
	}
	limit := base + base/4 + 16*1024
	t.Logf("soak: %d ops in all, %d reads (%d hits), %d bad; rss after warm-up %d KiB, max after %d KiB (limit %d KiB, checked: %v)",
		goroutines*perRound*rounds, reads.Load(), hits.Load(), bad.Load(), base, maxAfter, limit, checkRSS)
	if hits.Load() == 0 {
		t.Error("no GetRef hit")
	}
	if m.Len() > keys {
		t.Errorf("Len = %d > %d keys", m.Len(), keys)
	}
	if checkRSS && maxAfter > limit {
		t.Errorf("RSS grew after warm-up: %d KiB > %d KiB", maxAfter, limit)
	}
}
