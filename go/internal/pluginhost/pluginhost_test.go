package pluginhost

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kuberef/kuberef/go"
)

// buildPlugin compiles c-tests/plugins/plugin.c into a shared object that
// links libkuberef.so (found through pkg-config, as the binding is, with an
// rpath to the same directory), like the C tests' plugin_a.so.
func buildPlugin(t *testing.T) string {
	t.Helper()
	pc := func(args ...string) []string {
		out, err := exec.Command("pkg-config", append(args, "kuberef")...).Output()
		if err != nil {
			t.Fatalf("pkg-config %v kuberef: %v (set PKG_CONFIG_PATH to build/lib/pkgconfig; `make go-plugin-test` does)", args, err)
		}
		return strings.Fields(string(out))
	}
	libdir := strings.TrimSpace(strings.Join(pc("--variable=libdir"), " "))
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	so := filepath.Join(t.TempDir(), "plugin_go.so")
	args := []string{"-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fPIC", "-shared",
		"-DPLUGIN_NAME=\"plugin_go\"", "-I../../../c-tests/plugins"}
	args = append(args, pc("--cflags")...)
	args = append(args, "-o", so, "../../../c-tests/plugins/plugin.c")
	args = append(args, pc("--libs")...)
	args = append(args, "-Wl,-rpath,"+libdir)
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("building the plugin: %v\n%s", err, out)
	}
	return so
}

// expectShared is whether a plugin that links libkuberef.so must see this
// program's Global(): true when the program exports its kuberef_* symbols
// (always when dynamically linked; statically linked only with
// -Wl,--export-dynamic-symbol=kuberef_*). KUBEREF_PLUGIN_EXPECT_SHARED=1 or 0
// (what `make go-plugin-test` sets for each build) pins the expectation, so
// a build that should share and does not fails.
func expectShared(t *testing.T) bool {
	exported := HostExportsKuberef()
	switch os.Getenv("KUBEREF_PLUGIN_EXPECT_SHARED") {
	case "1":
		if !exported {
			t.Fatal("this test binary does not export kuberef_* to plugins, but KUBEREF_PLUGIN_EXPECT_SHARED=1")
		}
	case "0":
		if exported {
			t.Fatal("this test binary exports kuberef_* to plugins, but KUBEREF_PLUGIN_EXPECT_SHARED=0")
		}
	}
	t.Logf("host exports kuberef_* to plugins: %v", exported)
	return exported
}

func podRef(name string) *v1.ObjectReference {
	return &v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: "kube-system", Name: name,
		FieldPath: "spec.containers{app}"}
}

// The kubelet-fork scenario: the Go program stores references in Global(),
// a C plugin it dlopens reads and writes the same ones.
func TestCPluginSharesGlobal(t *testing.T) {
	shared := expectShared(t)
	so := buildPlugin(t)
	g := kuberef.Global()
	goID := kuberef.ContainerID{Type: "containerd", ID: "from-go"}
	cID := kuberef.ContainerID{Type: "containerd", ID: "from-c"}
	g.SetRef(goID, podRef("go-pod"))

	p, err := Load(so)
	if err != nil {
		t.Fatal(err)
	}
	if built, rt := p.ABI(); built != 1 || rt != 1 {
		t.Fatalf("plugin ABI: built %d, runtime %d", built, rt)
	}

	// Go -> C.
	name, s := p.Get("containerd", "from-go")
	if shared && (s != OK || name != "go-pod") {
		t.Fatalf("plugin does not see Go's reference: %q, status %d", name, s)
	}
	if !shared && s != NotFound {
		t.Fatalf("separate instance expected, plugin sees %q (status %d)", name, s)
	}

	// C -> Go.
	if s := p.Set("containerd", "from-c", "c-pod"); s != OK {
		t.Fatalf("plugin Set: %d", s)
	}
	ref, ok := g.GetRef(cID)
	if shared {
		if !ok || ref.Name != "c-pod" || ref.Kind != "Pod" || ref.Namespace != "default" ||
			ref.FieldPath != "spec.containers{app}" {
			t.Fatalf("Global() does not see the plugin's reference: %+v, %v", ref, ok)
		}
		if g.Len() != 2 || p.Len() != 2 {
			t.Fatalf("Len: Go %d, plugin %d; want 2", g.Len(), p.Len())
		}
		// Clears cross too.
		g.ClearRef(cID)
		if _, s := p.Get("containerd", "from-c"); s != NotFound {
			t.Fatalf("plugin still sees a reference Go cleared (status %d)", s)
		}
		if s := p.Clear("containerd", "from-go"); s != OK {
			t.Fatalf("plugin Clear: %d", s)
		}
		if _, ok := g.GetRef(goID); ok {
			t.Fatal("Go still sees a reference the plugin cleared")
		}
	} else if ok {
		t.Fatalf("separate instance expected, Global() sees %+v", ref)
	}

	// Many goroutines write through Go while the plugin writes from C.
	if shared {
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					if w%2 == 0 {
						g.SetRef(kuberef.ContainerID{Type: "go", ID: fmt.Sprintf("%d-%d", w, i)}, podRef("p"))
					} else if s := p.Set("c", fmt.Sprintf("%d-%d", w, i), "p"); s != OK {
						t.Errorf("plugin Set: %d", s)
						return
					}
				}
			}(w)
		}
		wg.Wait()
		if g.Len() != 1600 {
			t.Fatalf("after concurrent writes: Len %d, want 1600", g.Len())
		}
		if _, ok := g.GetRef(kuberef.ContainerID{Type: "c", ID: "7-199"}); !ok {
			t.Fatal("Go misses a reference the plugin wrote concurrently")
		}
		if name, s := p.Get("go", "6-199"); s != OK || name != "p" {
			t.Fatalf("plugin misses a reference Go wrote concurrently: %q %d", name, s)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	// The plugin comes and goes; the references stay.
	g.SetRef(goID, podRef("go-pod"))
	for i := 0; i < 50; i++ {
		p, err := Load(so)
		if err != nil {
			t.Fatal(err)
		}
		name, s := p.Get("containerd", "from-go")
		if shared && (s != OK || name != "go-pod") {
			t.Fatalf("cycle %d: plugin does not see Go's reference: %q %d", i, name, s)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if ref, ok := g.GetRef(goID); !ok || ref.Name != "go-pod" {
		t.Fatalf("after the cycles: %+v %v", ref, ok)
	}
}
