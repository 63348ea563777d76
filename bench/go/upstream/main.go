// Command upstream times the upstream pure-Go kubelet code on the benchmark's
// operations: the real k8s.io/kubernetes v1.18.6 pkg/kubelet/container
// RefManager and GenerateContainerRef (which calls client-go v0.18.6
// tools/reference.GetPartialReference), as a dependency, not a copy.
//
// Output lines are "upstream-go OP STORED NS_PER_OP", as bench/c/bench.c
// prints them; with -mem N it prints "upstream-go mem N BYTES_PER_REF"
// (HeapInuse growth after GC, over N refs).
package main

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	kubecontainer "k8s.io/kubernetes/pkg/kubelet/container"

	"kuberef.local/bench/internal/harness"
	"kuberef.local/bench/internal/workload"
)

const impl = "upstream-go"

var sink int

func key(i uint64) kubecontainer.ContainerID {
	return kubecontainer.ContainerID{Type: workload.Type, ID: workload.ID(i)}
}

func generate(i uint64) *v1.ObjectReference {
	pod, c := workload.Pod(i)
	ref, err := kubecontainer.GenerateContainerRef(pod, c)
	if err != nil {
		harness.Die("GenerateContainerRef: %v", err)
	}
	return ref
}

func fill(m *kubecontainer.RefManager, from, to uint64) {
	for i := from; i < to; i++ {
		m.SetRef(key(i), generate(i))
	}
}

func memory(n uint64) {
	before := harness.HeapInuse()
	m := kubecontainer.NewRefManager()
	fill(m, 0, n)
	after := harness.HeapInuse()
	if _, ok := m.GetRef(key(n - 1)); !ok {
		harness.Die("ref %d missing", n-1)
	}
	fmt.Printf("%s mem %d %.1f\n", impl, n, float64(after-before)/float64(n))
}

func main() {
	cfg := harness.Parse()
	if cfg.Mem > 0 {
		memory(cfg.Mem)
		return
	}
	m := kubecontainer.NewRefManager()
	extraKeys := make([]kubecontainer.ContainerID, workload.Pool)
	extraRefs := make([]*v1.ObjectReference, workload.Pool)
	pods := make([]*v1.Pod, workload.Pool)
	containers := make([]*v1.Container, workload.Pool)
	for k := range extraKeys {
		i := workload.ExtraBase + uint64(k)
		extraKeys[k] = key(i)
		extraRefs[k] = generate(i)
		pods[k], containers[k] = workload.Pod(i)
	}
	var hot [2][]kubecontainer.ContainerID

	getLoop := func(t, n int) {
		keys := hot[t]
		acc, j := 0, 0
		for i := 0; i < n; i++ {
			ref, ok := m.GetRef(keys[j])
			if !ok {
				harness.Die("GetRef: not found")
			}
			acc += len(ref.FieldPath)
			if j++; j == len(keys) {
				j = 0
			}
		}
		sink += acc
	}
	// probeLoop is the prober's event path (recordContainerEvent): GetRef,
	// and on a miss GenerateContainerRef. One probe in 8 is of a container
	// with no stored reference (started before a kubelet restart).
	probeLoop := func(t, n int) {
		keys := hot[t]
		acc, j, k := 0, 0, t*workload.Pool/2
		for i := 0; i < n; i++ {
			if i&7 == 7 {
				if _, ok := m.GetRef(extraKeys[k]); ok {
					harness.Die("GetRef: a fresh key is stored")
				}
				ref, err := kubecontainer.GenerateContainerRef(pods[k], containers[k])
				if err != nil {
					harness.Die("GenerateContainerRef: %v", err)
				}
				acc += len(ref.FieldPath)
				if k++; k == workload.Pool {
					k = 0
				}
				continue
			}
			ref, ok := m.GetRef(keys[j])
			if !ok {
				harness.Die("GetRef: not found")
			}
			acc += len(ref.FieldPath)
			if j++; j == len(keys) {
				j = 0
			}
		}
		sink += acc
	}
	get1 := func(n int) float64 { return harness.Loop(n, func(n int) { getLoop(0, n) }) }
	probe := func(n int) float64 { return harness.Parallel2(n, probeLoop) }
	get2 := func(n int) float64 { return harness.Parallel2(n, getLoop) }
	setclear := func(n int) float64 {
		return harness.Loop(n, func(n int) {
			k := 0
			for i := 0; i < n; i++ {
				m.SetRef(extraKeys[k], extraRefs[k])
				m.ClearRef(extraKeys[k])
				if k++; k == workload.Pool {
					k = 0
				}
			}
		})
	}
	generateOp := func(n int) float64 {
		return harness.Loop(n, func(n int) {
			acc, k := 0, 0
			for i := 0; i < n; i++ {
				ref, err := kubecontainer.GenerateContainerRef(pods[k], containers[k])
				if err != nil {
					harness.Die("GenerateContainerRef: %v", err)
				}
				acc += len(ref.FieldPath)
				if k++; k == workload.Pool {
					k = 0
				}
			}
			sink += acc
		})
	}
	lifecycle := func(n int) float64 {
		return harness.Loop(n, func(n int) {
			acc, k := 0, 0
			for i := 0; i < n; i++ {
				id := extraKeys[k]
				ref, err := kubecontainer.GenerateContainerRef(pods[k], containers[k])
				if err != nil {
					harness.Die("GenerateContainerRef: %v", err)
				}
				m.SetRef(id, ref)
				for g := 0; g < 3; g++ {
					got, ok := m.GetRef(id)
					if !ok {
						harness.Die("GetRef: not found")
					}
					acc += len(got.Name)
				}
				m.ClearRef(id)
				if k++; k == workload.Pool {
					k = 0
				}
			}
			sink += acc
		})
	}

	stored := uint64(0)
	for _, size := range cfg.Sizes {
		if size < workload.Hot || size < stored {
			harness.Die("sizes must grow and be at least %d", workload.Hot)
		}
		fill(m, stored, size)
		stored = size
		for t := range hot {
			hot[t] = hot[t][:0]
			for _, i := range workload.HotOrder(t, stored) {
				hot[t] = append(hot[t], key(i))
			}
		}
		for r := 0; r < cfg.Reps; r++ {
			cfg.Run(impl, "get1", stored, get1)
			cfg.Run(impl, "get2", stored, get2)
			cfg.Run(impl, "setclear", stored, setclear)
			cfg.Run(impl, "lifecycle", stored, lifecycle)
			cfg.Run(impl, "probe", stored, probe)
			cfg.Run(impl, "generate", 0, generateOp)
		}
	}
	_ = sink
}
