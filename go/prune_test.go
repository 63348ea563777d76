package kuberef_test

import (
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
)

func TestClearPodAndRetain(t *testing.T) {
	m := kuberef.NewRefManager()
	defer m.Close()
	for i := 0; i < 300; i++ {
		m.SetRef(cid(i), podRef(i%3, i))
	}
	if n := m.ClearPod("uid-1"); n != 100 || m.Len() != 200 {
		t.Fatalf("ClearPod removed %d, len %d", n, m.Len())
	}
	if n := m.ClearPod("uid-1"); n != 0 {
		t.Fatalf("second ClearPod removed %d", n)
	}
	live := []kuberef.ContainerID{cid(0), cid(3), cid(1), {Type: "docker", ID: cid(6).ID}, {}}
	if n := m.Retain(live); n != 198 || m.Len() != 2 {
		t.Fatalf("Retain removed %d, len %d", n, m.Len())
	}
	for _, i := range []int{0, 3} {
		if ref, ok := m.GetRef(cid(i)); !ok || *ref != *podRef(i%3, i) {
			t.Errorf("ref %d after Retain: %+v %v", i, ref, ok)
		}
	}
	if n := m.Retain(nil); n != 2 || m.Len() != 0 {
		t.Fatalf("Retain(nil) removed %d, len %d", n, m.Len())
	}
	s := m.Stats()
	if s.Pruned != 300 || s.Count != 0 || s.Sets != 300 {
		t.Fatalf("stats %+v", s)
	}
}
