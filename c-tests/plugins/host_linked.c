/* A host that links kuberef itself and loads plugins with
 * dlopen(RTLD_NOW | RTLD_LOCAL).
 *
 *   host_linked PLUGIN_DIR [CYCLES] [RSS_BOUND_KIB]
 *
 * Built three ways (mk/plugins.mk):
 *   host_linked                  links libkuberef.so (the usual case)
 *   host_linked_static_exported  links libkuberef.a and exports its kuberef_*
 *                                symbols (-Wl,--export-dynamic-symbol=kuberef_*)
 *   host_linked_static_hidden    links libkuberef.a and exports nothing
 *                                (HOST_KUBEREF_HIDDEN)
 * In the first two the plugins that link libkuberef.so share the host's
 * manager: the dynamic linker binds their kuberef_* references in the
 * global scope first, where the host's definitions are. In the third the
 * host's copy is invisible to them, so they load libkuberef.so.1 and get a
 * separate manager: a host that links the static library must export the
 * kuberef_* symbols to share with plugins. */
#define _GNU_SOURCE
#include "host.h"

#ifdef HOST_KUBEREF_HIDDEN
#define SHARES 0
#else
#define SHARES 1
#endif

static kuberef_container_id cid(const char *type, const char *id) {
  kuberef_container_id c;
  c.type = S(type);
  c.id = S(id);
  return c;
}

static kuberef_status host_set(const char *type, const char *id, const char *pod_name) {
  kuberef_container_id c = cid(type, id);
  kuberef_object_reference r;
  memset(&r, 0, sizeof r);
  r.kind = S("Pod");
  r.api_version = S("v1");
  r.namespace_ = S("kube-system");
  r.name = S(pod_name);
  return kuberef_set_ref(kuberef_global(), &c, &r);
}

/* The pod name stored under type://id in the host's global, or "" on a miss. */
static const char *host_get(const char *type, const char *id) {
  static char buf[512];
  kuberef_container_id c = cid(type, id);
  kuberef_object_reference r;
  if (kuberef_get_ref(kuberef_global(), &c, &r, buf, sizeof buf, NULL) != KUBEREF_OK) return "";
  return r.name.ptr;
}

int main(int argc, char **argv) {
  void *ha, *hb, *hs, *hn;
  const refplugin *a, *b, *st, *naive;
  kuberef_manager *g = kuberef_global();
  char name[64];
  int cycles = argc > 2 ? atoi(argv[2]) : 300;
  long bound_kib = argc > 3 ? atol(argv[3]) : 256;

  if (argc < 2) {
    fprintf(stderr, "usage: %s PLUGIN_DIR [CYCLES] [RSS_BOUND_KIB]\n", argv[0]);
    return 2;
  }
  plugin_dir = argv[1];

  /* The host's own ABI check. */
  CHECK(kuberef_abi_version() == KUBEREF_ABI_VERSION);
  CHECK_STATUS(host_set("docker", "h1", "host-pod"), KUBEREF_OK);

  /* A plugin linking libkuberef.so: host -> plugin and plugin -> host. */
  a = plugin_must_load("plugin_a.so", &ha);
  b = plugin_must_load("plugin_b.so", &hb);
  /* One libkuberef.so in the process (in the static hosts, the one the
   * plugins' DT_NEEDED brought in, unused when the host exports its own). */
  CHECK(mapped_files("libkuberef.so") == 1);
  CHECK((a->global() == g) == SHARES);
  CHECK(a->global() == b->global());
  CHECK_STATUS(a->get("docker", "h1", name, sizeof name), SHARES ? KUBEREF_OK : KUBEREF_NOT_FOUND);
  if (SHARES) CHECK_STR(S(name), "host-pod");
  CHECK_STATUS(a->set("docker", "p1", "plugin-pod"), KUBEREF_OK);
  CHECK_STR(S(host_get("docker", "p1")), SHARES ? "plugin-pod" : "");
  CHECK_STATUS(b->get("docker", "p1", name, sizeof name), KUBEREF_OK);
  CHECK_STR(S(name), "plugin-pod");
  CHECK(kuberef_len(g) == (SHARES ? 2u : 1u));
  CHECK_STATUS(b->clear("docker", "h1"), SHARES ? KUBEREF_OK : KUBEREF_NOT_FOUND);
  CHECK_STR(S(host_get("docker", "h1")), SHARES ? "" : "host-pod");
  CHECK_STATUS(host_set("docker", "h1", "host-pod"), KUBEREF_OK);

  /* Its own static copy, symbols hidden: always a separate global. */
  st = plugin_must_load("plugin_static.so", &hs);
  CHECK(st->global() != g && st->global() != a->global());
  CHECK_STATUS(st->get("docker", "h1", name, sizeof name), KUBEREF_NOT_FOUND);
  CHECK_STATUS(st->set("docker", "s1", "static-only"), KUBEREF_OK);
  CHECK_STR(S(host_get("docker", "s1")), "");
  CHECK(st->len() == 1);

  /* Its own static copy, kuberef_* exported (the naive link): its calls
   * are interposed by the host's kuberef_* when the host's are in the
   * global scope, so it silently uses the host's manager; otherwise its
   * own copy. */
  naive = plugin_must_load("plugin_static_naive.so", &hn);
  CHECK((naive->global() == g) == SHARES);
  CHECK_STATUS(naive->get("docker", "h1", name, sizeof name), SHARES ? KUBEREF_OK : KUBEREF_NOT_FOUND);

  /* The static-copy plugins stay loaded (see static_cycles). */
  CHECK(dlclose(ha) == 0 && dlclose(hb) == 0);

  if (SHARES) {
    int unloaded;
    long growth = plugin_cycles("plugin_a.so", 20, cycles, "docker", "h1", "host-pod", &unloaded);
    printf("%s: %d dlopen/dlclose cycles of plugin_a.so: unloaded after %d, RSS growth %ld KiB "
           "(bound %ld KiB)\n",
           argv[0], cycles, unloaded, growth / 1024, bound_kib);
    CHECK(unloaded == cycles);
    CHECK(growth <= bound_kib * 1024);
    CHECK(kuberef_len(g) == 2);
    CHECK_STR(S(host_get("docker", "p1")), "plugin-pod");
  }

  printf("%s: plugins linking libkuberef.so see %s\n", argv[0],
         SHARES ? "the host's manager" : "a separate manager");
  return check_finish(argv[0]);
}
