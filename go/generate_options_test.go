package kuberef_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
)

// gatePod has a container in each of the three lists, an ephemeral container
// without a name, and a name ("shared") that is in spec.containers and again
// in spec.ephemeralContainers.
func gatePod() *v1.Pod {
	pod := genPod("Pod", "v1", "app", "shared")
	pod.Spec.InitContainers = []v1.Container{{Name: "setup"}}
	for _, name := range []string{"shared", "debug", ""} {
		pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers,
			v1.EphemeralContainer{EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: name}})
	}
	return pod
}

// The field paths upstream gives gatePod's containers with the gate off and on.
var gateCases = []struct {
	container string
	off, on   string
}{
	{"app", "spec.containers{app}", "spec.containers{app}"},
	{"shared", "spec.containers{shared}", "spec.containers{shared}"},
	{"setup", "spec.initContainers{setup}", "spec.initContainers{setup}"},
	{"debug", "implicitly required container debug", "spec.ephemeralContainers{debug}"},
	{"", "implicitly required container ", "spec.ephemeralContainers[2]"},
}

// GenerateContainerRefWith searches the ephemeral containers exactly when its
// options say so, whatever the process-wide switch is.
func TestGenerateContainerRefWithIgnoresProcessSwitch(t *testing.T) {
	defer kuberef.SetEphemeralContainersEnabled(false)
	pod := gatePod()
	for _, process := range []bool{false, true} {
		kuberef.SetEphemeralContainersEnabled(process)
		for _, gate := range []bool{false, true} {
			for _, c := range gateCases {
				ref, err := kuberef.GenerateContainerRefWith(pod, &v1.Container{Name: c.container},
					kuberef.GenerateOptions{EphemeralContainers: gate})
				if err != nil {
					t.Fatal(err)
				}
				want := c.off
				if gate {
					want = c.on
				}
				if ref.FieldPath != want {
					t.Errorf("process switch %v, option %v, container %q: FieldPath %q, want %q",
						process, gate, c.container, ref.FieldPath, want)
				}
			}
		}
	}
}

// With the same setting, GenerateContainerRefWith and GenerateContainerRef
// return equal references.
func TestGenerateContainerRefWithMatchesGenerateContainerRef(t *testing.T) {
	defer kuberef.SetEphemeralContainersEnabled(false)
	pods := []*v1.Pod{gatePod(), genPod("", "", "a", "b", "c", "d", "e", "f"), {}}
	pods[1].Spec.EphemeralContainers = []v1.EphemeralContainer{{EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: "z"}}}
	names := []string{"app", "shared", "setup", "debug", "", "a", "f", "z", "absent"}
	for _, gate := range []bool{false, true} {
		kuberef.SetEphemeralContainersEnabled(gate)
		for _, pod := range pods {
			for _, name := range names {
				c := &v1.Container{Name: name}
				want, werr := kuberef.GenerateContainerRef(pod, c)
				got, gerr := kuberef.GenerateContainerRefWith(pod, c, kuberef.GenerateOptions{EphemeralContainers: gate})
				if werr != nil || gerr != nil || *got != *want {
					t.Errorf("gate %v, container %q: With %+v %v, GenerateContainerRef %+v %v", gate, name, got, gerr, want, werr)
				}
			}
		}
	}
}

// Calls with different options at the same time each get their own answer,
// while another goroutine flips the process-wide switch.
func TestGenerateContainerRefWithConcurrentOptions(t *testing.T) {
	defer kuberef.SetEphemeralContainersEnabled(false)
	pod := gatePod()
	stop := make(chan struct{})
	var flipper sync.WaitGroup
	flipper.Add(1)
	go func() {
		defer flipper.Done()
		for on := false; ; on = !on {
			select {
			case <-stop:
				return
			default:
				kuberef.SetEphemeralContainersEnabled(on)
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		gate := g%2 == 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				c := gateCases[i%len(gateCases)]
				ref, err := kuberef.GenerateContainerRefWith(pod, &v1.Container{Name: c.container},
					kuberef.GenerateOptions{EphemeralContainers: gate})
				want := c.off
				if gate {
					want = c.on
				}
				if err != nil || ref.FieldPath != want {
					errs <- fmt.Errorf("option %v, container %q: %+v %v, want FieldPath %q", gate, c.container, ref, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	flipper.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestGenerateContainerRefWithNil(t *testing.T) {
	if _, err := kuberef.GenerateContainerRefWith(nil, &v1.Container{}, kuberef.GenerateOptions{}); !errors.Is(err, kuberef.ErrNilPod) {
		t.Errorf("nil pod: %v", err)
	}
	if _, err := kuberef.GenerateContainerRefWith(&v1.Pod{}, nil, kuberef.GenerateOptions{EphemeralContainers: true}); !errors.Is(err, kuberef.ErrNilContainer) {
		t.Errorf("nil container: %v", err)
	}
}
