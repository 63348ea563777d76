package kuberef_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func genPod(kind, apiVersion string, containers ...string) *v1.Pod {
	pod := &v1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: kind, APIVersion: apiVersion},
		ObjectMeta: metav1.ObjectMeta{Name: "web-7d4b9c8f6d-x2k9p", Namespace: "default",
			UID: "5f1c2a9e-3b7d-4c1e-9a2f-8e6d4c2b1a09", ResourceVersion: "120734"},
	}
	for _, c := range containers {
		pod.Spec.Containers = append(pod.Spec.Containers, v1.Container{Name: c})
	}
	return pod
}

func sameBytes(a, b string) bool {
	return len(a) == len(b) && (len(a) == 0 || unsafe.StringData(a) == unsafe.StringData(b))
}

// Like upstream's, the reference shares the pod's strings instead of
// copying them.
func TestGenerateContainerRefSharesPodStrings(t *testing.T) {
	pod := genPod(strings.Clone("Pod"), strings.Clone("v1"), "app", "log-shipper")
	ref, err := kuberef.GenerateContainerRef(pod, &pod.Spec.Containers[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ name, got, pod string }{
		{"Kind", ref.Kind, pod.Kind}, {"APIVersion", ref.APIVersion, pod.APIVersion},
		{"Namespace", ref.Namespace, pod.Namespace}, {"Name", ref.Name, pod.Name},
		{"UID", string(ref.UID), string(pod.UID)}, {"ResourceVersion", ref.ResourceVersion, pod.ResourceVersion},
	} {
		if !sameBytes(f.got, f.pod) {
			t.Errorf("%s = %q does not share the pod's string %q", f.name, f.got, f.pod)
		}
	}
	if ref.FieldPath != "spec.containers{log-shipper}" {
		t.Errorf("FieldPath = %q", ref.FieldPath)
	}
	empty := genPod("", "", "app")
	ref, err = kuberef.GenerateContainerRef(empty, &empty.Spec.Containers[0])
	if err != nil || ref.Kind != "Pod" || ref.APIVersion != "v1" || !sameBytes(ref.Name, empty.Name) {
		t.Errorf("empty TypeMeta: %+v, %v", ref, err)
	}
}

// A typical call allocates the returned ObjectReference and nothing else:
// the field path of a container name seen before is reused.
func TestGenerateContainerRefAllocatesOnce(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation changes allocation counts")
	}
	pods := []*v1.Pod{genPod("Pod", "v1", "app", "log-shipper"), genPod("", "", "api-gateway", "istio-proxy")}
	pods[1].Spec.InitContainers = []v1.Container{{Name: "istio-init"}}
	for _, pod := range pods {
		for _, c := range []*v1.Container{&pod.Spec.Containers[0], &pod.Spec.Containers[1], {Name: "absent"}} {
			if _, err := kuberef.GenerateContainerRef(pod, c); err != nil { // warms the intern table
				t.Fatal(err)
			}
			n := testing.AllocsPerRun(100, func() {
				if _, err := kuberef.GenerateContainerRef(pod, c); err != nil {
					t.Fatal(err)
				}
			})
			if n != 1 {
				t.Errorf("container %q: %v allocations per call, want 1 (the reference)", c.Name, n)
			}
		}
	}
}

// Output fields that equal no pod field and no constant are copied out of
// the library's output, the buffer grows when they do not fit, and long
// container names take the heap path; every result is checked by value.
func TestGenerateContainerRefCopiedFields(t *testing.T) {
	long := strings.Repeat("v", 70)
	name35 := strings.Repeat("n", 35)
	cases := []struct {
		kind, apiVersion, container string
		wantKind, wantAPIVersion    string
		wantPath                    string
	}{
		{"X", "/v2", "app", "X", "v2", "spec.containers{app}"},
		{"Pod", "/v1", "app", "Pod", "v1", "spec.containers{app}"},
		{"X", "/" + long, "app", "X", long, "spec.containers{app}"},
		{"X", "/" + long, name35, "X", long, kuberef.ImplicitContainerPrefix + name35},
		{"X", "/v2", name35, "X", "v2", kuberef.ImplicitContainerPrefix + name35},
		{"X", "a/b/c", "app", "X", "", "spec.containers{app}"},
		{"", "a/b/c", "app", "Pod", "v1", "spec.containers{app}"},
		{"", "", strings.Repeat("c", 47), "Pod", "v1", "spec.containers{" + strings.Repeat("c", 47) + "}"},
		{"", "", strings.Repeat("c", 48), "Pod", "v1", "spec.containers{" + strings.Repeat("c", 48) + "}"},
		{"", "", strings.Repeat("i", 34), "Pod", "v1", kuberef.ImplicitContainerPrefix + strings.Repeat("i", 34)},
	}
	for _, c := range cases {
		pod := genPod(c.kind, c.apiVersion, "app", strings.Repeat("c", 47), strings.Repeat("c", 48))
		for round := 0; round < 2; round++ { // the second finds the field path interned
			ref, err := kuberef.GenerateContainerRef(pod, &v1.Container{Name: c.container})
			want := v1.ObjectReference{Kind: c.wantKind, APIVersion: c.wantAPIVersion, Namespace: pod.Namespace,
				Name: pod.Name, UID: pod.UID, ResourceVersion: pod.ResourceVersion, FieldPath: c.wantPath}
			if err != nil || *ref != want {
				t.Errorf("kind %q apiVersion %q container %q: %+v, %v; want %+v", c.kind, c.apiVersion, c.container, ref, err, want)
			}
		}
	}
}

// Pods with more searched containers than the helper takes as arguments:
// their names go through the scratch buffer (on the stack, then on the heap
// for a large pod); each list is searched in order.
func TestGenerateContainerRefContainerCounts(t *testing.T) {
	defer kuberef.SetEphemeralContainersEnabled(false)
	for _, n := range []int{0, 1, 3, 4, 5, 8, 16, 17, 40} {
		pod := genPod("", "")
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("c%d", i)
			switch i % 3 {
			case 0:
				pod.Spec.Containers = append(pod.Spec.Containers, v1.Container{Name: name})
			case 1:
				pod.Spec.InitContainers = append(pod.Spec.InitContainers, v1.Container{Name: name})
			case 2:
				pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers,
					v1.EphemeralContainer{EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: name}})
			}
		}
		for _, gate := range []bool{false, true} {
			kuberef.SetEphemeralContainersEnabled(gate)
			for i := 0; i <= n; i++ {
				name := fmt.Sprintf("c%d", i)
				var want string
				switch {
				case i == n:
					want = kuberef.ImplicitContainerPrefix + name
				case i%3 == 0:
					want = "spec.containers{" + name + "}"
				case i%3 == 1:
					want = "spec.initContainers{" + name + "}"
				case gate:
					want = "spec.ephemeralContainers{" + name + "}"
				default:
					want = kuberef.ImplicitContainerPrefix + name
				}
				ref, err := kuberef.GenerateContainerRef(pod, &v1.Container{Name: name})
				if err != nil || ref.FieldPath != want {
					t.Errorf("%d containers, gate %v, %q: %+v, %v; want field path %q", n, gate, name, ref, err, want)
				}
			}
		}
	}
}

// Many distinct field paths, more than the intern table has slots, from
// several goroutines: every result is right (slots are replaced, never
// mixed up), and the race detector watches the table.
func TestGenerateContainerRefInternTable(t *testing.T) {
	const names = 1000
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 3*names; i++ {
				k := (i*7 + g*131) % names
				name := fmt.Sprintf("container-%d", k)
				pod := genPod("Pod", "v1", "app", name)
				pod.UID = types.UID(fmt.Sprintf("uid-%d", g))
				want := "spec.containers{" + name + "}"
				if k%2 == 1 {
					name += "-absent"
					want = kuberef.ImplicitContainerPrefix + name
				}
				ref, err := kuberef.GenerateContainerRef(pod, &v1.Container{Name: name})
				if err != nil || ref.FieldPath != want || ref.UID != pod.UID {
					select {
					case errs <- fmt.Sprintf("goroutine %d, %q: %+v, %v; want field path %q", g, name, ref, err, want):
					default:
					}
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// The cases of upstream's ref_test.go (v1.18.6) with the field paths the
// real code produces (the test's own expected field paths are never compared
// upstream and are wrong).
func TestGenerateContainerRefUpstreamCases(t *testing.T) {
	base := v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Name: "ok", Namespace: "test-ns", UID: "bar", ResourceVersion: "42"}
	defaulted := okPod()
	defaulted.SelfLink = "/api/v1/pods/ok"
	cases := []struct {
		name      string
		pod       *v1.Pod
		container *v1.Container
		fieldPath string
	}{
		{"by-name", okPod(), &v1.Container{Name: "by-name"}, "spec.containers{by-name}"},
		{"no-name", okPod(), &v1.Container{}, "spec.containers[1]"},
		{"defaulted-selflink", defaulted, &v1.Container{Name: "by-name"}, "spec.containers{by-name}"},
		{"implicitly-required", okPod(), &v1.Container{Name: "net"}, kuberef.ImplicitContainerPrefix + "net"},
	}
	for _, c := range cases {
		got, err := kuberef.GenerateContainerRef(c.pod, c.container)
		want := base
		want.FieldPath = c.fieldPath
		if err != nil || *got != want {
			t.Errorf("%s: GenerateContainerRef = %+v, %v; want %+v", c.name, got, err, want)
		}
	}
}

func TestGenerateContainerRefShapes(t *testing.T) {
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "n", UID: "u", ResourceVersion: "1"},
		Spec: v1.PodSpec{
			Containers:     []v1.Container{{Name: "foo"}, {Name: "bar"}, {Name: ""}, {Name: "baz"}},
			InitContainers: []v1.Container{{Name: "init"}, {Name: ""}, {Name: "foo"}},
			EphemeralContainers: []v1.EphemeralContainer{
				{EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: "debug"}},
			},
		},
	}
	check := func(name, wantPath, wantKind, wantAV string) {
		t.Helper()
		got, err := kuberef.GenerateContainerRef(pod, &v1.Container{Name: name})
		if err != nil || got.FieldPath != wantPath || got.Kind != wantKind || got.APIVersion != wantAV ||
			got.Name != "p" || got.Namespace != "n" || got.UID != "u" || got.ResourceVersion != "1" {
			t.Errorf("container %q: %+v, %v; want path %q kind %q apiVersion %q", name, got, err, wantPath, wantKind, wantAV)
		}
	}
	// Empty TypeMeta: the kubelet's scheme gives Pod/v1.
	check("foo", "spec.containers{foo}", "Pod", "v1")
	check("", "spec.containers[2]", "Pod", "v1")
	check("init", "spec.initContainers{init}", "Pod", "v1")
	check("debug", "implicitly required container debug", "Pod", "v1")
	kuberef.SetEphemeralContainersEnabled(true)
	check("debug", "spec.ephemeralContainers{debug}", "Pod", "v1")
	kuberef.SetEphemeralContainersEnabled(false)
	if kuberef.EphemeralContainersEnabled() {
		t.Fatal("gate still on")
	}
	pod.TypeMeta = metav1.TypeMeta{Kind: "Thing", APIVersion: "apps/v1beta1"}
	check("baz", "spec.containers{baz}", "Thing", "apps/v1beta1")
	// An unparsable APIVersion drops the version; with no Kind left the
	// scheme decides.
	pod.TypeMeta = metav1.TypeMeta{Kind: "X", APIVersion: "a/b/c"}
	check("baz", "spec.containers{baz}", "X", "")
	pod.TypeMeta = metav1.TypeMeta{Kind: "", APIVersion: "a/b/c"}
	check("baz", "spec.containers{baz}", "Pod", "v1")
	// Many containers (more than the helper keeps on its stack) and long names.
	big := &v1.Pod{}
	for i := 0; i < 100; i++ {
		big.Spec.Containers = append(big.Spec.Containers, v1.Container{Name: fmt.Sprintf("c%03d-%s", i, strings.Repeat("x", i))})
	}
	name := big.Spec.Containers[99].Name
	got, err := kuberef.GenerateContainerRef(big, &v1.Container{Name: name})
	if err != nil || got.FieldPath != "spec.containers{"+name+"}" {
		t.Errorf("big pod: %+v %v", got, err)
	}
	long := strings.Repeat("z", 5000)
	got, err = kuberef.GenerateContainerRef(big, &v1.Container{Name: long})
	if err != nil || got.FieldPath != kuberef.ImplicitContainerPrefix+long {
		t.Errorf("long name: %v", err)
	}
	if _, err := kuberef.GenerateContainerRef(nil, &v1.Container{}); err != kuberef.ErrNilPod {
		t.Errorf("nil pod: %v", err)
	}
	if _, err := kuberef.GenerateContainerRef(pod, nil); err != kuberef.ErrNilContainer {
		t.Errorf("nil container: %v", err)
	}
}
