/* Helpers shared by the plugin hosts: loading a plugin the way a real host
 * does (dlopen RTLD_NOW | RTLD_LOCAL, dlsym the init function, let the
 * plugin run its ABI check), and looking at the process from inside
 * (/proc/self/maps, /proc/self/statm). Nothing here calls kuberef, so a
 * host that does not link the library can use it. */
#ifndef KUBEREF_TEST_HOST_H
#define KUBEREF_TEST_HOST_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "plugin.h"

/* CHECK_STATUS without kuberef_status_message, for hosts that do not link
 * the library. */
#define CHECK_CODE(expr, want)                                                   \
  do {                                                                           \
    unsigned check_code_ = (unsigned)(expr);                                     \
    if (check_code_ == (unsigned)(want)) {                                       \
      check_passed++;                                                            \
    } else {                                                                     \
      check_failed++;                                                            \
      fprintf(stderr, "%s:%d: %s returned %u, want %u\n", __FILE__, __LINE__,    \
              #expr, check_code_, (unsigned)(want));                             \
    }                                                                            \
  } while (0)

/* The directory the plugins were built into: argv[1] of every host. */
static const char *plugin_dir = ".";

static inline void plugin_path(char *out, size_t len, const char *file) {
  snprintf(out, len, "%s/%s", plugin_dir, file);
}

/* dlopen + init. Returns the plugin, or NULL with the reason in err (a
 * dlerror text or the plugin's ABI-check message). *handle is NULL unless
 * the dlopen succeeded. */
static inline const refplugin *plugin_load(const char *file, void **handle, char *err, size_t err_len) {
  char path[4096];
  const refplugin *p = NULL;
  refplugin_init_fn init;
  void *sym;
  plugin_path(path, sizeof path, file);
  *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (*handle == NULL) {
    snprintf(err, err_len, "%s", dlerror());
    return NULL;
  }
  sym = dlsym(*handle, REFPLUGIN_INIT_SYMBOL);
  if (sym == NULL) {
    snprintf(err, err_len, "%s", dlerror());
    return NULL;
  }
  /* ISO C forbids object-to-function pointer casts; POSIX guarantees this. */
  memcpy(&init, &sym, sizeof init);
  if (init(&p, err, err_len) != 0) return NULL;
  return p;
}

/* Loads a plugin that must load; reports and exits otherwise. */
static inline const refplugin *plugin_must_load(const char *file, void **handle) {
  char err[512];
  const refplugin *p = plugin_load(file, handle, err, sizeof err);
  if (p == NULL) {
    fprintf(stderr, "cannot load %s: %s\n", file, err);
    exit(2);
  }
  return p;
}

/* Is an object whose name or SONAME is `name` loaded? RTLD_NOLOAD takes a
 * reference when it succeeds, so give it back at once. */
static inline int is_loaded(const char *name) {
  void *h = dlopen(name, RTLD_NOW | RTLD_NOLOAD);
  if (h == NULL) return 0;
  dlclose(h);
  return 1;
}

static inline int plugin_is_loaded(const char *file) {
  char path[4096];
  plugin_path(path, sizeof path, file);
  return is_loaded(path);
}

/* How many distinct files whose name contains `needle` are mapped into
 * the process (one per loaded copy of a library). */
static inline int mapped_files(const char *needle) {
  char line[4352], seen[16][4096];
  int n = 0, i;
  FILE *f = fopen("/proc/self/maps", "r");
  if (f == NULL) return -1;
  while (fgets(line, sizeof line, f) != NULL) {
    char *path = strchr(line, '/');
    if (path == NULL || strstr(path, needle) == NULL) continue;
    path[strcspn(path, "\n")] = '\0';
    for (i = 0; i < n && strcmp(seen[i], path) != 0; i++) {
    }
    if (i == n && n < 16) snprintf(seen[n++], sizeof seen[0], "%s", path);
  }
  fclose(f);
  return n;
}

/* Resident set size in bytes, from /proc/self/statm (second field, pages). */
static inline long rss_bytes(void) {
  long size = 0, resident = -1;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL) return -1;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* The load/unload cycle test: `cycles` times, dlopen `file`, check that
 * the shared state is there (the reference type://id names `pod`), write
 * and clear a reference of its own, and dlclose it again. `warmup` cycles
 * run first (the dynamic linker's and malloc's one-time growth), then RSS
 * is measured before and after the counted cycles. Returns the growth in
 * bytes; *unloaded counts the cycles after which the plugin was really
 * gone (dlopen RTLD_NOLOAD failed). */
static inline long plugin_cycles(const char *file, int warmup, int cycles, const char *type, const char *id,
                          const char *pod, int *unloaded) {
  long before = 0, after;
  int i, bad = 0;
  *unloaded = 0;
  for (i = -warmup; i < cycles; i++) {
    void *h;
    char name[64], cid[32];
    const refplugin *p;
    if (i == 0) before = rss_bytes();
    p = plugin_must_load(file, &h);
    snprintf(cid, sizeof cid, "cycle-%d", i);
    if (p->get(type, id, name, sizeof name) != KUBEREF_OK || strcmp(name, pod) != 0) bad++;
    if (p->set("cycle", cid, "cycling") != KUBEREF_OK) bad++;
    if (p->get("cycle", cid, name, sizeof name) != KUBEREF_OK || strcmp(name, "cycling") != 0) bad++;
    if (p->clear("cycle", cid) != KUBEREF_OK) bad++;
    if (dlclose(h) != 0) bad++;
    if (i >= 0 && !plugin_is_loaded(file)) (*unloaded)++;
  }
  after = rss_bytes();
  CHECK(bad == 0);
  if (bad != 0) fprintf(stderr, "%s: %d failed operations during the cycles\n", file, bad);
  return after - before;
}

#endif
