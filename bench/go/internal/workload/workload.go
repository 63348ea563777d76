// Package workload generates the benchmark data, exactly as bench/c/workload.h
// does (same splitmix64 streams, same formatting), so that every
// implementation stores and looks up the same container IDs and references.
package workload

import (
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Rng is splitmix64.
type Rng struct{ s uint64 }

// Next returns the next value.
func (r *Rng) Next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// Seed is the generator for item i of stream tag (1: pods, 2: container IDs).
func Seed(tag, i uint64) Rng { return Rng{s: (tag << 56) ^ (i * 0xD1B54A32D192ED03)} }

var (
	namespaces = [8]string{"default", "kube-system", "monitoring", "payments",
		"checkout", "search", "ingress-nginx", "data-pipeline"}
	apps = [8]string{"web", "api-gateway", "checkout", "redis",
		"postgres", "fluent-bit", "coredns", "kafka-broker"}
)

const (
	alnum = "bcdfghjklmnpqrstvwxz2456789"
	hex   = "0123456789abcdef"
	// Type is every container ID's runtime.
	Type = "containerd"
	// ExtraBase is the first index of the keys the fill never stores.
	ExtraBase = uint64(1) << 40
	// Hot is the number of keys the GetRef benchmarks cycle through.
	Hot = 1000
	// Pool is the number of fresh keys and pods cycled through by set+clear,
	// generate and lifecycle.
	Pool = 1024
)

// ID returns container ID i's 64 hex digits (a fresh string).
func ID(i uint64) string {
	r := Seed(2, i)
	var b [64]byte
	for k := 0; k < 4; k++ {
		v := r.Next()
		for d := 0; d < 16; d++ {
			b[k*16+d] = hex[(v>>(4*d))&15]
		}
	}
	return string(b[:])
}

// Pod returns pod i (every string freshly allocated, like a decoded pod)
// and the container that reference i is for.
func Pod(i uint64) (*v1.Pod, *v1.Container) {
	r := Seed(1, i)
	ns := namespaces[r.Next()%8]
	app := apps[r.Next()%8]
	var name strings.Builder
	name.Grow(len(app) + 17)
	name.WriteString(app)
	name.WriteByte('-')
	for k := 0; k < 10; k++ {
		name.WriteByte(alnum[r.Next()%27])
	}
	name.WriteByte('-')
	for k := 0; k < 5; k++ {
		name.WriteByte(alnum[r.Next()%27])
	}
	var uid [36]byte
	n := 0
	for k := 0; k < 2; k++ {
		v := r.Next()
		for d := 0; d < 16; d++ {
			if n == 8 || n == 13 || n == 18 || n == 23 {
				uid[n] = '-'
				n++
			}
			uid[n] = hex[(v>>(4*d))&15]
			n++
		}
	}
	rv := strconv.FormatUint(100000+r.Next()%90000000, 10)
	pod := &v1.Pod{}
	pod.Kind = "Pod"
	pod.APIVersion = "v1"
	pod.Namespace = strings.Clone(ns)
	pod.Name = name.String()
	pod.UID = types.UID(uid[:])
	pod.ResourceVersion = rv
	pod.Spec.Containers = []v1.Container{{Name: strings.Clone(app)}, {Name: strings.Clone("istio-proxy")}}
	pod.Spec.InitContainers = []v1.Container{{Name: strings.Clone("istio-init")}}
	return pod, &pod.Spec.Containers[i%2]
}

// HotIndex is the index of the j-th of count distinct stored keys spread over [0, n).
func HotIndex(j, count, n uint64) uint64 {
	stride := n / count
	r := Seed(3, j)
	return j*stride + r.Next()%stride
}

// HotOrder is the order in which thread t visits the hot keys with n stored.
func HotOrder(t int, n uint64) []uint64 {
	perm := make([]uint64, Hot)
	for j := range perm {
		perm[j] = uint64(j)
	}
	r := Seed(4+uint64(t), n)
	for j := Hot - 1; j > 0; j-- {
		x := r.Next() % uint64(j+1)
		perm[j], perm[x] = perm[x], perm[j]
	}
	for j := range perm {
		perm[j] = HotIndex(perm[j], Hot, n)
	}
	return perm
}
