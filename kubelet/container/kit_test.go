package container

// The kit's own tests, run in the kuberef repository against the real
// Kubernetes v1.18.6 pkg/kubelet/container (imported as upstream). fork.sh
// does not install this file in a fork.

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	_ "k8s.io/kubernetes/pkg/apis/core/install" // core/v1 in the kubelet's scheme, as in the kubelet
	"k8s.io/kubernetes/pkg/features"
	upstream "k8s.io/kubernetes/pkg/kubelet/container"
)

// The kit's names have the types of the names they replace, so callers
// compile unchanged.
var (
	_ func(string, string) ContainerID                          = BuildContainerID
	_ func(string) ContainerID                                  = ParseContainerID
	_ func() *RefManager                                        = NewRefManager
	_ func(*v1.Pod, *v1.Container) (*v1.ObjectReference, error) = GenerateContainerRef
	_ string                                                    = ImplicitContainerPrefix
	_ interface {
		SetRef(ContainerID, *v1.ObjectReference)
		GetRef(ContainerID) (*v1.ObjectReference, bool)
		ClearRef(ContainerID)
	} = NewRefManager()
	_ = upstream.ContainerID(ContainerID{})
)

// setGate sets the EphemeralContainers gate through Kubernetes' own feature
// gate (what --feature-gates does), and kuberef's process-wide switch to the
// opposite, which the kit must not follow.
func setGate(t *testing.T, on bool) {
	t.Helper()
	if err := utilfeature.DefaultMutableFeatureGate.Set(fmt.Sprintf("%s=%t", features.EphemeralContainers, on)); err != nil {
		t.Fatal(err)
	}
	if utilfeature.DefaultFeatureGate.Enabled(features.EphemeralContainers) != on {
		t.Fatalf("the feature gate did not take %v", on)
	}
	kuberef.SetEphemeralContainersEnabled(!on)
}

var (
	kinds       = []string{"", "Pod", "v1", "Deployment"}
	apiVersions = []string{"", "v1", "apps/v1", "/", "v1beta1"}
	metas       = []string{"", "ok", "test-ns", "kube-system", "42", "5f1c2a9e-3b7d-4c1e-9a2f-8e6d4c2b1a09", "ü"}
	names       = []string{"", "app", "sidecar", "setup", "debug", "shared", "é", "a{b}", strings.Repeat("n", 63)}
)

func pick(r *rand.Rand, s []string) string { return s[r.Intn(len(s))] }

func randomPod(r *rand.Rand) *v1.Pod {
	pod := &v1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: pick(r, kinds), APIVersion: pick(r, apiVersions)},
		ObjectMeta: metav1.ObjectMeta{Name: pick(r, metas), Namespace: pick(r, metas),
			UID: types.UID(pick(r, metas)), ResourceVersion: pick(r, metas)},
	}
	for i, n := 0, r.Intn(4); i < n; i++ {
		pod.Spec.Containers = append(pod.Spec.Containers, v1.Container{Name: pick(r, names)})
	}
	for i, n := 0, r.Intn(3); i < n; i++ {
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, v1.Container{Name: pick(r, names)})
	}
	for i, n := 0, r.Intn(4); i < n; i++ {
		pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers,
			v1.EphemeralContainer{EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: pick(r, names)}})
	}
	return pod
}

// With the EphemeralContainers gate off and then on through Kubernetes'
// feature gate, and nothing else set, the kit's GenerateContainerRef and
// fieldPath give upstream's references for random pods, ephemeral
// containers included.
func TestGenerateContainerRefFollowsFeatureGate(t *testing.T) {
	defer setGate(t, false)
	r := rand.New(rand.NewSource(13))
	for _, gate := range []bool{false, true} {
		setGate(t, gate)
		ephemeral, mismatches := 0, 0
		for i := 0; i < 20000; i++ {
			pod := randomPod(r)
			c := &v1.Container{Name: pick(r, names)}
			if n := len(pod.Spec.EphemeralContainers); n > 0 && r.Intn(3) == 0 {
				c = (*v1.Container)(&pod.Spec.EphemeralContainers[r.Intn(n)].EphemeralContainerCommon)
			}
			want, werr := upstream.GenerateContainerRef(pod, c)
			got, gerr := GenerateContainerRef(pod, c)
			path, perr := fieldPath(pod, c)
			switch {
			case werr != nil || gerr != nil:
				t.Fatalf("gate %v, pod %+v, container %q: upstream error %v, kit error %v", gate, pod, c.Name, werr, gerr)
			case *got != *want:
				mismatches++
				if mismatches <= 10 {
					t.Errorf("gate %v, container %q:\n upstream %+v\n      kit %+v", gate, c.Name, *want, *got)
				}
			case strings.HasPrefix(want.FieldPath, upstream.ImplicitContainerPrefix) != (perr != nil),
				perr == nil && path != want.FieldPath:
				mismatches++
				t.Errorf("gate %v, container %q: fieldPath %q, %v; upstream's reference has %q", gate, c.Name, path, perr, want.FieldPath)
			}
			if strings.HasPrefix(want.FieldPath, "spec.ephemeralContainers") {
				ephemeral++
			}
		}
		t.Logf("gate %v: 20000 references, %d of them in spec.ephemeralContainers, %d mismatches", gate, ephemeral, mismatches)
		if gate && ephemeral == 0 || !gate && ephemeral != 0 {
			t.Errorf("gate %v: %d references in spec.ephemeralContainers", gate, ephemeral)
		}
	}
}

// The kit's names used the way kubelet.go, kuberuntime and the prober use
// them: one manager, shared with everything that uses kuberef.Global().
func TestKitAsTheKubeletUsesIt(t *testing.T) {
	if ImplicitContainerPrefix != upstream.ImplicitContainerPrefix {
		t.Fatalf("ImplicitContainerPrefix %q, upstream %q", ImplicitContainerPrefix, upstream.ImplicitContainerPrefix)
	}
	refs := NewRefManager() // kubelet.go
	if refs != kuberef.Global() || NewRefManager() != refs {
		t.Fatal("NewRefManager is not the process-wide manager")
	}
	pod := &v1.Pod{Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app"}}}}
	pod.Name, pod.Namespace, pod.UID = "web", "default", "u1"
	ref, err := GenerateContainerRef(pod, &pod.Spec.Containers[0]) // kuberuntime startContainer
	if err != nil {
		t.Fatal(err)
	}
	id := ContainerID{Type: "containerd", ID: "kit-1"}
	refs.SetRef(id, ref)
	if got, ok := refs.GetRef(ParseContainerID(id.String())); !ok || got != ref { // prober
		t.Fatalf("GetRef = %+v %v", got, ok)
	}
	if got, ok := kuberef.Global().GetRef(kuberef.ContainerID(upstream.ContainerID(id))); !ok || *got != *ref {
		t.Fatalf("the global manager has %+v %v", got, ok)
	}
	refs.ClearRef(BuildContainerID("containerd", "kit-1")) // killContainer
	if _, ok := kuberef.Global().GetRef(id); ok {
		t.Fatal("not cleared from the global manager")
	}
}

// ParseContainerID gives upstream's results, the zero value on bad text
// included.
func TestParseContainerIDAsUpstream(t *testing.T) {
	for _, s := range []string{"docker://abc", `"containerd://x"`, "abc", "a://b://c", "://", "", "docker://"} {
		if got, want := ParseContainerID(s), upstream.ParseContainerID(s); upstream.ContainerID(got) != want {
			t.Errorf("ParseContainerID(%q) = %+v, upstream %+v", s, got, want)
		}
	}
}
