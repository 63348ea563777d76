/* What unloading a plugin with its own static copy of kuberef does. A host
 * that does not link kuberef loads and unloads, CYCLES times each:
 *
 *   plugin_static.so         libkuberef.a linked in, symbols hidden: every
 *                            dlclose really unloads it, so every load starts
 *                            with a fresh, empty global; the old one's
 *                            references are lost and its memory is leaked
 *                            (the growth printed is that leak)
 *   plugin_static_pinned.so  the same plus -z nodelete: dlclose leaves it
 *                            loaded, its global and references survive, and
 *                            RSS does not grow beyond RSS_BOUND_KIB
 *
 *   static_cycles PLUGIN_DIR [CYCLES] [RSS_BOUND_KIB] */
#define _GNU_SOURCE
#include "host.h"

int main(int argc, char **argv) {
  int cycles = argc > 2 ? atoi(argv[2]) : 50;
  long bound_kib = argc > 3 ? atol(argv[3]) : 256;
  long before = 0, growth;
  int i, unloaded = 0, fresh = 0, kept = 0;
  char name[64];

  if (argc < 2) {
    fprintf(stderr, "usage: %s PLUGIN_DIR [CYCLES] [RSS_BOUND_KIB]\n", argv[0]);
    return 2;
  }
  plugin_dir = argv[1];

  for (i = -5; i < cycles; i++) {
    void *h;
    const refplugin *p;
    if (i == 0) before = rss_bytes();
    p = plugin_must_load("plugin_static.so", &h);
    if (i >= 0 && p->len() == 0 && p->get("containerd", "s", name, sizeof name) == KUBEREF_NOT_FOUND) fresh++;
    CHECK_CODE(p->set("containerd", "s", "static"), KUBEREF_OK);
    CHECK(dlclose(h) == 0);
    if (i >= 0 && !plugin_is_loaded("plugin_static.so")) unloaded++;
  }
  growth = rss_bytes() - before;
  printf("static_cycles: plugin_static.so: %d cycles, unloaded after %d, started empty %d times, "
         "RSS growth %ld KiB (%.1f KiB per cycle: each unload leaks its global)\n",
         cycles, unloaded, fresh, growth / 1024, (double)growth / 1024.0 / cycles);
  CHECK(unloaded == cycles);
  CHECK(fresh == cycles);

  unloaded = 0;
  for (i = -5; i < cycles; i++) {
    void *h;
    const refplugin *p;
    if (i == 0) before = rss_bytes();
    p = plugin_must_load("plugin_static_pinned.so", &h);
    if (i >= 0 && p->len() == 1 && p->get("containerd", "s", name, sizeof name) == KUBEREF_OK &&
        strcmp(name, "pinned") == 0)
      kept++;
    CHECK_CODE(p->set("containerd", "s", "pinned"), KUBEREF_OK);
    CHECK(dlclose(h) == 0);
    if (i >= 0 && !plugin_is_loaded("plugin_static_pinned.so")) unloaded++;
  }
  growth = rss_bytes() - before;
  printf("static_cycles: plugin_static_pinned.so: %d cycles, unloaded after %d, kept its references %d "
         "times, RSS growth %ld KiB (bound %ld KiB)\n",
         cycles, unloaded, kept, growth / 1024, bound_kib);
  CHECK(unloaded == 0);
  CHECK(kept == cycles);
  CHECK(growth <= bound_kib * 1024);
  return check_finish("static_cycles");
}
