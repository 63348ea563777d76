/* A host that does NOT link libkuberef (only -ldl): it loads plugins with
 * dlopen(RTLD_NOW | RTLD_LOCAL) and never calls a kuberef_* function.
 *
 *   host_nolink PLUGIN_DIR [CYCLES] [RSS_BOUND_KIB]
 *
 * Checks: two plugins that link libkuberef.so share one instance, found
 * by its SONAME; the library stays loaded (load-once) after every plugin
 * that needed it is closed, with its references intact; a plugin with its
 * own static copy has its own separate global; a plugin built for another
 * ABI refuses to load; CYCLES dlopen/dlclose cycles of a plugin keep the
 * shared state and grow the host's RSS by at most RSS_BOUND_KIB. */
#define _GNU_SOURCE
#include "host.h"

static int contains(const char *s, const char *needle) { return strstr(s, needle) != NULL; }

int main(int argc, char **argv) {
  void *ha, *hb, *hs, *hn, *h2;
  (void)hs;
  (void)hn;
  const refplugin *a, *b, *st, *naive;
  char name[64], err[512];
  int cycles = argc > 2 ? atoi(argv[2]) : 300;
  long bound_kib = argc > 3 ? atol(argv[3]) : 256;
  long growth;
  int unloaded;

  if (argc < 2) {
    fprintf(stderr, "usage: %s PLUGIN_DIR [CYCLES] [RSS_BOUND_KIB]\n", argv[0]);
    return 2;
  }
  plugin_dir = argv[1];

  /* Nothing of kuberef is in the process yet. */
  CHECK(!is_loaded("libkuberef.so.1"));
  CHECK(mapped_files("libkuberef") == 0);

  /* Two plugins, each with DT_NEEDED libkuberef.so.1: one library, one
   * global manager. */
  a = plugin_must_load("plugin_a.so", &ha);
  b = plugin_must_load("plugin_b.so", &hb);
  CHECK(is_loaded("libkuberef.so.1"));
  CHECK(mapped_files("libkuberef") == 1);
  CHECK(a->built_abi == KUBEREF_ABI_VERSION && a->runtime_abi == KUBEREF_ABI_VERSION);
  CHECK(a->global() == b->global());
  CHECK_CODE(a->len(), 0);
  CHECK_CODE(a->set("containerd", "c1", "web"), KUBEREF_OK);
  CHECK_CODE(b->get("containerd", "c1", name, sizeof name), KUBEREF_OK);
  CHECK_STR(S(name), "web");
  CHECK_CODE(b->set("containerd", "c2", "db"), KUBEREF_OK);
  CHECK_CODE(a->get("containerd", "c2", name, sizeof name), KUBEREF_OK);
  CHECK_STR(S(name), "db");
  CHECK_CODE(a->len(), 2);
  CHECK_CODE(b->len(), 2);
  CHECK_CODE(b->clear("containerd", "c2"), KUBEREF_OK);
  CHECK_CODE(a->get("containerd", "c2", name, sizeof name), KUBEREF_NOT_FOUND);
  CHECK_CODE(a->set("containerd", "c2", "db"), KUBEREF_OK);

  /* A plugin with its own static copy, symbols hidden: its own global. */
  st = plugin_must_load("plugin_static.so", &hs);
  CHECK(st->global() != a->global());
  CHECK_CODE(st->len(), 0);
  CHECK_CODE(st->get("containerd", "c1", name, sizeof name), KUBEREF_NOT_FOUND);
  CHECK_CODE(st->set("containerd", "s1", "static-only"), KUBEREF_OK);
  CHECK_CODE(a->get("containerd", "s1", name, sizeof name), KUBEREF_NOT_FOUND);
  CHECK_CODE(a->len(), 2);
  CHECK(mapped_files("libkuberef") == 1);

  /* The same copy with its kuberef_* symbols exported: with no libkuberef
   * in the global scope (this host does not link it, and plugins are
   * RTLD_LOCAL) its calls bind to its own copy: separate too. */
  naive = plugin_must_load("plugin_static_naive.so", &hn);
  CHECK(naive->global() != a->global());
  CHECK(naive->global() != st->global());
  CHECK_CODE(naive->get("containerd", "c1", name, sizeof name), KUBEREF_NOT_FOUND);

  /* A plugin compiled against another ABI refuses to load. */
  CHECK(plugin_load("plugin_abi2.so", &h2, err, sizeof err) == NULL);
  CHECK(contains(err, "built for kuberef ABI 2") && contains(err, "has ABI 1"));
  if (h2 != NULL) dlclose(h2);

  /* Close the plugins that link libkuberef.so: they go, libkuberef.so
   * stays (load-once, DF_1_NODELETE), and so do its references. (The two
   * static-copy plugins stay loaded: unloading one loses and leaks its
   * private global, which static_cycles measures.) */
  CHECK(dlclose(ha) == 0 && dlclose(hb) == 0);
  CHECK(!plugin_is_loaded("plugin_a.so") && !plugin_is_loaded("plugin_b.so"));
  CHECK(is_loaded("libkuberef.so.1"));
  CHECK(mapped_files("libkuberef") == 1);
  a = plugin_must_load("plugin_a.so", &ha);
  CHECK_CODE(a->len(), 2);
  CHECK_CODE(a->get("containerd", "c1", name, sizeof name), KUBEREF_OK);
  CHECK_STR(S(name), "web");
  CHECK(dlclose(ha) == 0);

  /* Many load/unload cycles of a plugin. */
  growth = plugin_cycles("plugin_b.so", 20, cycles, "containerd", "c1", "web", &unloaded);
  printf("host_nolink: %d dlopen/dlclose cycles of plugin_b.so: unloaded after %d, RSS growth %ld KiB "
         "(bound %ld KiB)\n",
         cycles, unloaded, growth / 1024, bound_kib);
  CHECK(unloaded == cycles);
  CHECK(growth <= bound_kib * 1024);
  b = plugin_must_load("plugin_b.so", &hb);
  CHECK_CODE(b->len(), 2);
  CHECK_CODE(b->get("containerd", "c2", name, sizeof name), KUBEREF_OK);
  CHECK_STR(S(name), "db");
  CHECK(dlclose(hb) == 0);

  return check_finish("host_nolink");
}
