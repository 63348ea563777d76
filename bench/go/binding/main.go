// Command binding times the kuberef Go binding (go/, through cgo into
// libkuberef.so) on the benchmark's operations, with the same workload and the
// same loops as bench/go/upstream, so the two columns differ only in the
// implementation called.
//
// Output lines are "kuberef-go OP STORED NS_PER_OP".
package main

import (
	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"

	"kuberef.local/bench/internal/harness"
	"kuberef.local/bench/internal/workload"
)

const impl = "kuberef-go"

var sink int

func key(i uint64) kuberef.ContainerID {
	return kuberef.ContainerID{Type: workload.Type, ID: workload.ID(i)}
}

func generate(i uint64) *v1.ObjectReference {
	pod, c := workload.Pod(i)
	ref, err := kuberef.GenerateContainerRef(pod, c)
	if err != nil {
		harness.Die("GenerateContainerRef: %v", err)
	}
	return ref
}

func fill(m *kuberef.RefManager, from, to uint64) {
	for i := from; i < to; i++ {
		m.SetRef(key(i), generate(i))
	}
}

func main() {
	cfg := harness.Parse()
	if cfg.Mem > 0 {
		harness.Die("the binding stores into the C library: bench/c/mem.c measures that")
	}
	m := kuberef.NewRefManager()
	defer m.Close()
	extraKeys := make([]kuberef.ContainerID, workload.Pool)
	extraRefs := make([]*v1.ObjectReference, workload.Pool)
	pods := make([]*v1.Pod, workload.Pool)
	containers := make([]*v1.Container, workload.Pool)
	for k := range extraKeys {
		i := workload.ExtraBase + uint64(k)
		extraKeys[k] = key(i)
		extraRefs[k] = generate(i)
		pods[k], containers[k] = workload.Pod(i)
	}
	var hot [2][]kuberef.ContainerID

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
				ref, err := kuberef.GenerateContainerRef(pods[k], containers[k])
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
				ref, err := kuberef.GenerateContainerRef(pods[k], containers[k])
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
				ref, err := kuberef.GenerateContainerRef(pods[k], containers[k])
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

	cgo2 := func(n int) float64 {
		return harness.Loop(n, func(n int) {
			acc := uint32(0)
			for i := 0; i < n; i++ {
				acc += cgoPair()
			}
			sink += int(acc)
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
			cfg.Run(impl, "cgo2", 0, cgo2)
		}
	}
	_ = sink
}
