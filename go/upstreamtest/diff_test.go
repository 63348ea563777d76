package upstreamtest

import (
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/reference"
	"k8s.io/klog"
	// The kubelet registers core/v1 in legacyscheme through this import (as
	// upstream's ref_test.go does); without it upstream fails on a pod
	// with empty TypeMeta.
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	kubecontainer "k8s.io/kubernetes/pkg/kubelet/container"
)

func TestMain(m *testing.M) {
	// Upstream ParseContainerID logs every bad ID through klog; keep the
	// test output readable.
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	klog.SetOutput(io.Discard)
	os.Exit(m.Run())
}

// randomCases is how many random inputs each differential test draws
// (KUBEREF_DIFF_CASES overrides it for long runs).
func randomCases(def int) int {
	if s := os.Getenv("KUBEREF_DIFF_CASES"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return def
}

func setGate(t testing.TB, on bool) {
	t.Helper()
	if err := utilfeature.DefaultMutableFeatureGate.Set(fmt.Sprintf("EphemeralContainers=%t", on)); err != nil {
		t.Fatal(err)
	}
	kuberef.SetEphemeralContainersEnabled(on)
}

// compareGenerate checks the binding against kubelet v1.18.6's own
// GenerateContainerRef and against client-go v0.18.6's GetPartialReference
// (with client-go's scheme and the field path the kubelet chose). It returns
// a description of the mismatch, or "".
func compareGenerate(pod *v1.Pod, c *v1.Container) string {
	want, wantErr := kubecontainer.GenerateContainerRef(pod, c)
	got, gotErr := kuberef.GenerateContainerRef(pod, c)
	if (wantErr != nil) != (gotErr != nil) {
		return fmt.Sprintf("error: upstream %v, kuberef %v", wantErr, gotErr)
	}
	if wantErr != nil {
		return ""
	}
	if *want != *got {
		return fmt.Sprintf("upstream %#v\n kuberef %#v", *want, *got)
	}
	cg, err := reference.GetPartialReference(scheme.Scheme, pod, want.FieldPath)
	if err != nil || *cg != *got {
		return fmt.Sprintf("client-go GetPartialReference %#v, %v\n kuberef %#v", cg, err, *got)
	}
	return ""
}

// The table of upstream's pkg/kubelet/container/ref_test.go (v1.18.6):
// TestFieldPath's pod and containers, and TestGenerateContainerRef's pods.
func TestGenerateContainerRefUpstreamTable(t *testing.T) {
	fieldPathPod := &v1.Pod{Spec: v1.PodSpec{Containers: []v1.Container{{Name: "foo"}, {Name: "bar"}, {Name: ""}, {Name: "baz"}}}}
	okPod := v1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "ok", Namespace: "test-ns", UID: "bar", ResourceVersion: "42", SelfLink: "/api/v1/pods/foo"},
		Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "by-name"}, {}}},
	}
	noSelfLinkPod := okPod
	noSelfLinkPod.Kind, noSelfLinkPod.APIVersion, noSelfLinkPod.SelfLink = "", "", ""
	defaultedSelfLinkPod := okPod
	defaultedSelfLinkPod.SelfLink = "/api/v1/pods/ok"
	cases := []struct {
		name string
		pod  *v1.Pod
		c    *v1.Container
	}{
		{"fieldPath basic", fieldPathPod, &v1.Container{Name: "foo"}},
		{"fieldPath basic2", fieldPathPod, &v1.Container{Name: "baz"}},
		{"fieldPath emptyName", fieldPathPod, &v1.Container{Name: ""}},
		{"fieldPath basicSamePointer", fieldPathPod, &fieldPathPod.Spec.Containers[0]},
		{"fieldPath missing", fieldPathPod, &v1.Container{Name: "qux"}},
		{"by-name", &okPod, &v1.Container{Name: "by-name"}},
		{"no-name", &okPod, &v1.Container{}},
		{"defaulted-selflink", &defaultedSelfLinkPod, &v1.Container{Name: "by-name"}},
		{"implicitly-required", &okPod, &v1.Container{Name: "net"}},
		{"no-selflink (pre-1.16 form)", &noSelfLinkPod, &v1.Container{}},
	}
	for _, gate := range []bool{false, true} {
		setGate(t, gate)
		for _, c := range cases {
			if d := compareGenerate(c.pod, c.c); d != "" {
				t.Errorf("%s (gate %v): %s", c.name, gate, d)
			}
		}
	}
	setGate(t, false)
	t.Logf("upstream table: %d cases x 2 gate settings, 0 mismatches unless reported above", len(cases))
}

var (
	kinds       = []string{"", "Pod", "pod", "Deployment", "Ünïcode", "a\x00b"}
	apiVersions = []string{"", "v1", "/", "/v1", "v1/", "g/", "g/v", "apps/v1", "a/b/c", "//", "a//", "v1beta1", "ü/\x00",
		"/v2", "/" + strings.Repeat("v", 70)}
	metaStrings = []string{"", "ok", "test-ns", "bar", "42", "kube-system", "5f1c2a9e-0000-4000-8000-000000000000",
		"ü", "a b", "x\x00y", "{}", "[0]", strings.Repeat("n", 253)}
	containerNames = []string{"", "", "app", "app", "sidecar", "init", "debug", "a{b}", "[1]", "é", "x\x00", "implicitly required container app",
		strings.Repeat("s", 34), strings.Repeat("s", 35), strings.Repeat("l", 47), strings.Repeat("l", 48)}
)

func pick(r *rand.Rand, s []string) string { return s[r.Intn(len(s))] }

func randomPod(r *rand.Rand) *v1.Pod {
	pod := &v1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: pick(r, kinds), APIVersion: pick(r, apiVersions)},
		ObjectMeta: metav1.ObjectMeta{Name: pick(r, metaStrings), Namespace: pick(r, metaStrings),
			UID: types.UID(pick(r, metaStrings)), ResourceVersion: pick(r, metaStrings), SelfLink: pick(r, metaStrings)},
	}
	for i, n := 0, r.Intn(5); i < n; i++ {
		pod.Spec.Containers = append(pod.Spec.Containers, v1.Container{Name: pick(r, containerNames), Image: "img"})
	}
	for i, n := 0, r.Intn(4); i < n; i++ {
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, v1.Container{Name: pick(r, containerNames)})
	}
	for i, n := 0, r.Intn(4); i < n; i++ {
		pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers,
			v1.EphemeralContainer{EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: pick(r, containerNames)}})
	}
	if r.Intn(20) == 0 { // a pod with many containers
		for i := 0; i < 40; i++ {
			pod.Spec.Containers = append(pod.Spec.Containers, v1.Container{Name: fmt.Sprintf("c%d", r.Intn(60))})
		}
	}
	return pod
}

func TestGenerateContainerRefRandomized(t *testing.T) {
	const seed = 20260701
	r := rand.New(rand.NewSource(seed))
	n := randomCases(20000)
	cases, mismatches := 0, 0
	for _, gate := range []bool{false, true} {
		setGate(t, gate)
		for i := 0; i < n; i++ {
			pod := randomPod(r)
			name := pick(r, containerNames)
			if r.Intn(3) == 0 {
				name = fmt.Sprintf("c%d", r.Intn(60))
			}
			c := &v1.Container{Name: name}
			if r.Intn(4) == 0 && len(pod.Spec.Containers) > 0 { // a pointer into the pod
				c = &pod.Spec.Containers[r.Intn(len(pod.Spec.Containers))]
			}
			cases++
			if d := compareGenerate(pod, c); d != "" {
				mismatches++
				if mismatches <= 10 {
					t.Errorf("seed %d case %d gate %v: %s", seed, i, gate, d)
				}
			}
		}
	}
	setGate(t, false)
	t.Logf("GenerateContainerRef: %d random cases (gate off and on), %d mismatches", cases, mismatches)
}

var idPieces = []string{`"`, `""`, ":", "/", "//", "://", ":/", "docker", "containerd", "abc", "9b1e4c7d", "é", "\x00", " ", "\\", "\n", "\xff", "a"}

func randomIDText(r *rand.Rand) string {
	var b strings.Builder
	for i, n := 0, r.Intn(7); i < n; i++ {
		b.WriteString(pick(r, idPieces))
	}
	return b.String()
}

func TestContainerIDRandomized(t *testing.T) {
	const seed = 7
	r := rand.New(rand.NewSource(seed))
	n := randomCases(20000)
	cases, mismatches := 0, 0
	fail := func(format string, args ...interface{}) {
		mismatches++
		if mismatches <= 10 {
			t.Errorf(format, args...)
		}
	}
	for i := 0; i < n; i++ {
		text := randomIDText(r)
		start := kubecontainer.ContainerID{Type: "old", ID: randomIDText(r)}

		// ParseString: the result, the error text, and "unchanged on error".
		want, got := start, kuberef.ContainerID(start)
		werr, gerr := want.ParseString(text), got.ParseString(text)
		cases++
		if kubecontainer.ContainerID(got) != want || fmt.Sprint(werr) != fmt.Sprint(gerr) {
			fail("ParseString(%q): upstream %#v %v, kuberef %#v %v", text, want, werr, got, gerr)
		}
		// ParseContainerID (zero value on error).
		cases++
		if u, k := kubecontainer.ParseContainerID(text), kuberef.ParseContainerID(text); kubecontainer.ContainerID(k) != u {
			fail("ParseContainerID(%q): upstream %#v, kuberef %#v", text, u, k)
		}
		// UnmarshalJSON on raw bytes (no JSON unescaping upstream).
		uj, kj := start, kuberef.ContainerID(start)
		uerr, kerr := uj.UnmarshalJSON([]byte(text)), kj.UnmarshalJSON([]byte(text))
		cases++
		if kubecontainer.ContainerID(kj) != uj || fmt.Sprint(uerr) != fmt.Sprint(kerr) {
			fail("UnmarshalJSON(%q): upstream %#v %v, kuberef %#v %v", text, uj, uerr, kj, kerr)
		}
		// String, IsEmpty and MarshalJSON on arbitrary fields.
		id := kubecontainer.ContainerID{Type: randomIDText(r), ID: randomIDText(r)}
		if r.Intn(10) == 0 {
			id = kubecontainer.ContainerID{}
		}
		kid := kuberef.ContainerID(id)
		cases++
		if id.String() != kid.String() || id.IsEmpty() != kid.IsEmpty() {
			fail("String/IsEmpty(%#v): upstream %q %v, kuberef %q %v", id, id.String(), id.IsEmpty(), kid.String(), kid.IsEmpty())
		}
		ub, uerr2 := id.MarshalJSON()
		kb, kerr2 := kid.MarshalJSON()
		cases++
		if string(ub) != string(kb) || fmt.Sprint(uerr2) != fmt.Sprint(kerr2) {
			fail("MarshalJSON(%#v): upstream %s, kuberef %s", id, ub, kb)
		}
		// Round trip through each other's JSON.
		var back kuberef.ContainerID
		uback := kubecontainer.ContainerID{}
		e1, e2 := back.UnmarshalJSON(ub), uback.UnmarshalJSON(kb)
		cases++
		if kubecontainer.ContainerID(back) != uback || fmt.Sprint(e1) != fmt.Sprint(e2) {
			fail("JSON round trip of %#v: upstream %#v %v, kuberef %#v %v", id, uback, e2, back, e1)
		}
	}
	t.Logf("ContainerID: %d comparisons over %d random inputs, %d mismatches", cases, n, mismatches)
}
