package upstreamtest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	kubecontainer "k8s.io/kubernetes/pkg/kubelet/container"
)

// refStore is what the kubelet's kuberuntime and prober use of a RefManager;
// both kubecontainer.RefManager and kuberef.RefManager satisfy it once the
// container ID type is converted.
type refStore interface {
	set(id kubecontainer.ContainerID, ref *v1.ObjectReference)
	get(id kubecontainer.ContainerID) (*v1.ObjectReference, bool)
	clear(id kubecontainer.ContainerID)
	generate(pod *v1.Pod, c *v1.Container) (*v1.ObjectReference, error)
}

type upstreamStore struct{ m *kubecontainer.RefManager }

func (s upstreamStore) set(id kubecontainer.ContainerID, ref *v1.ObjectReference) {
	s.m.SetRef(id, ref)
}
func (s upstreamStore) get(id kubecontainer.ContainerID) (*v1.ObjectReference, bool) {
	return s.m.GetRef(id)
}
func (s upstreamStore) clear(id kubecontainer.ContainerID) { s.m.ClearRef(id) }
func (s upstreamStore) generate(pod *v1.Pod, c *v1.Container) (*v1.ObjectReference, error) {
	return kubecontainer.GenerateContainerRef(pod, c)
}

type kuberefStore struct{ m *kuberef.RefManager }

func (s kuberefStore) set(id kubecontainer.ContainerID, ref *v1.ObjectReference) {
	s.m.SetRef(kuberef.ContainerID(id), ref)
}
func (s kuberefStore) get(id kubecontainer.ContainerID) (*v1.ObjectReference, bool) {
	return s.m.GetRef(kuberef.ContainerID(id))
}
func (s kuberefStore) clear(id kubecontainer.ContainerID) { s.m.ClearRef(kuberef.ContainerID(id)) }
func (s kuberefStore) generate(pod *v1.Pod, c *v1.Container) (*v1.ObjectReference, error) {
	return kuberef.GenerateContainerRef(pod, c)
}

// startContainer is kuberuntime's startContainer as far as references go:
// generate, then SetRef under the runtime's container ID if that worked.
func startContainer(s refStore, pod *v1.Pod, c *v1.Container, id kubecontainer.ContainerID) {
	ref, err := s.generate(pod, c)
	if err != nil {
		return // upstream logs "Can't make a ref" and goes on without one
	}
	if ref != nil {
		s.set(id, ref)
	}
}

// probeFailed is the v1.18 prober's recordContainerEvent: GetRef, or
// generate on a miss (after a kubelet restart), then record the event.
func probeFailed(s refStore, rec record.EventRecorder, pod *v1.Pod, c *v1.Container, id kubecontainer.ContainerID) bool {
	ref, ok := s.get(id)
	if !ok {
		var err error
		if ref, err = s.generate(pod, c); err != nil {
			return false
		}
	}
	rec.Eventf(ref, v1.EventTypeWarning, "Unhealthy", "Liveness probe failed: %s %s/%s uid=%s rv=%s",
		ref.FieldPath, ref.Namespace, ref.Name, ref.UID, ref.ResourceVersion)
	return ok
}

// killContainer is kuberuntime's killContainer: ClearRef after stopping.
func killContainer(s refStore, id kubecontainer.ContainerID) { s.clear(id) }

// lifecycle runs one worker's pods through start, probes (before and after
// a simulated kubelet restart that forgets one container) and kill, and
// returns the event stream it produced and how many probes hit the store.
func lifecycle(s refStore, worker, pods int) (events []string, hits int) {
	rec := record.NewFakeRecorder(64)
	drain := func() {
		for {
			select {
			case e := <-rec.Events:
				events = append(events, e)
			default:
				return
			}
		}
	}
	for p := 0; p < pods; p++ {
		pod := &v1.Pod{
			TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d-%d", worker, p), Namespace: "default",
				UID: types.UID(fmt.Sprintf("uid-%d-%d", worker, p)), ResourceVersion: fmt.Sprint(100 + p)},
			Spec: v1.PodSpec{
				InitContainers: []v1.Container{{Name: "migrate"}},
				Containers:     []v1.Container{{Name: "app"}, {Name: "sidecar"}, {}},
			},
		}
		if p%3 == 0 {
			pod.TypeMeta = metav1.TypeMeta{} // as the kubelet often sees pods
		}
		all := append(append([]v1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
		ids := make([]kubecontainer.ContainerID, len(all))
		for i := range all {
			ids[i] = kubecontainer.ContainerID{Type: "containerd", ID: fmt.Sprintf("%d-%d-%d", worker, p, i)}
			startContainer(s, pod, &all[i], ids[i])
		}
		for round := 0; round < 3; round++ {
			for i := range all {
				if probeFailed(s, rec, pod, &all[i], ids[i]) {
					hits++
				}
			}
			drain()
			if round == 0 {
				// A pod update bumps the resource version: stored refs keep the
				// old one, regenerated ones (on a miss) get the new one.
				pod.ResourceVersion = fmt.Sprint(1000 + p)
				s.clear(ids[1]) // "restart": this container's ref is gone
			}
		}
		for i := range all {
			killContainer(s, ids[i])
			if _, ok := s.get(ids[i]); ok {
				events = append(events, "ERROR: reference still stored after kill")
			}
		}
	}
	drain()
	return events, hits
}

// TestKubeletScenario runs the kubelet-shaped lifecycle in many goroutines
// at once on one shared kuberef manager (Global and a NewRefManager), and
// checks each worker's events against the same lifecycle run on upstream's
// own RefManager and GenerateContainerRef.
func TestKubeletScenario(t *testing.T) {
	const workers, pods = 16, 40
	for _, mgr := range []struct {
		name string
		m    *kuberef.RefManager
	}{{"Global", kuberef.Global()}, {"NewRefManager", kuberef.NewRefManager()}} {
		before := mgr.m.Len()
		var wg sync.WaitGroup
		var events, hits atomic.Int64
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				got, gotHits := lifecycle(kuberefStore{mgr.m}, w, pods)
				want, wantHits := lifecycle(upstreamStore{kubecontainer.NewRefManager()}, w, pods)
				if gotHits != wantHits || strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s worker %d: %d events (%d hits), upstream %d events (%d hits)\nfirst: %q\nupstream first: %q",
						mgr.name, w, len(got), gotHits, len(want), wantHits, first(got), first(want))
				}
				events.Add(int64(len(got)))
				hits.Add(int64(gotHits))
			}(w)
		}
		wg.Wait()
		if n := mgr.m.Len(); n != before {
			t.Errorf("%s: %d references left after every container was killed (had %d)", mgr.name, n, before)
		}
		t.Logf("%s: %d workers x %d pods: %d events, %d probes served from the store, rest regenerated",
			mgr.name, workers, pods, events.Load(), hits.Load())
		if mgr.m != kuberef.Global() {
			mgr.m.Close()
		}
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
