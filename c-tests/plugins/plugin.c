/* A test plugin: a shared object that uses kuberef and is loaded with
 * dlopen. Built several ways from this one file (see mk/plugins.mk):
 *
 *   plugin_a.so, plugin_b.so   link libkuberef.so (DT_NEEDED libkuberef.so.1,
 *                              found through RUNPATH $ORIGIN/../../lib)
 *   plugin_static.so           links its own copy, libkuberef.a, with every
 *                              archive symbol hidden (--exclude-libs,ALL and
 *                              a version script exporting only refplugin_init)
 *   plugin_static_naive.so     links libkuberef.a with no hiding, so its
 *                              kuberef_* symbols are exported and preemptible
 *   plugin_abi2.so             pretends it was compiled against ABI 2, to
 *                              exercise the load-time ABI check
 *
 * PLUGIN_NAME names the build; PLUGIN_BUILT_ABI overrides the compile-time
 * ABI (only plugin_abi2 sets it). */
#include <stdio.h>
#include <string.h>

#include "plugin.h"

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "plugin"
#endif
#ifndef PLUGIN_BUILT_ABI
#define PLUGIN_BUILT_ABI KUBEREF_ABI_VERSION
#endif

static kuberef_str view(const char *s) {
  kuberef_str v;
  v.ptr = s;
  v.len = strlen(s);
  return v;
}

static kuberef_container_id cid(const char *type, const char *id) {
  kuberef_container_id c;
  c.type = view(type);
  c.id = view(id);
  return c;
}

static kuberef_manager *p_global(void) { return kuberef_global(); }

static kuberef_status p_set(const char *type, const char *id, const char *pod_name) {
  kuberef_container_id c = cid(type, id);
  kuberef_object_reference r;
  memset(&r, 0, sizeof r);
  r.kind = view("Pod");
  r.api_version = view("v1");
  r.namespace_ = view("default");
  r.name = view(pod_name);
  r.field_path = view("spec.containers{app}");
  return kuberef_set_ref(kuberef_global(), &c, &r);
}

static kuberef_status p_get(const char *type, const char *id, char *pod_name, size_t pod_name_len) {
  kuberef_container_id c = cid(type, id);
  kuberef_object_reference r;
  char buf[512];
  size_t needed = 0;
  kuberef_status s = kuberef_get_ref(kuberef_global(), &c, &r, buf, sizeof buf, &needed);
  if (s != KUBEREF_OK) return s;
  if (r.name.len + 1 > pod_name_len) return KUBEREF_BUFFER_TOO_SMALL;
  memcpy(pod_name, r.name.ptr, r.name.len + 1);
  return KUBEREF_OK;
}

static kuberef_status p_clear(const char *type, const char *id) {
  kuberef_container_id c = cid(type, id);
  return kuberef_clear_ref(kuberef_global(), &c);
}

static size_t p_len(void) { return kuberef_len(kuberef_global()); }

static refplugin self = {PLUGIN_NAME, 0, 0, p_global, p_set, p_get, p_clear, p_len};

/* The load-time ABI check every plugin should do: the header it was
 * compiled against (KUBEREF_ABI_VERSION) must describe the library the
 * dynamic linker found (kuberef_abi_version()). */
int refplugin_init(const refplugin **out, char *err, size_t err_len) {
  uint32_t built = PLUGIN_BUILT_ABI;
  uint32_t runtime = kuberef_abi_version();
  if (runtime != built) {
    snprintf(err, err_len, "%s: built for kuberef ABI %u, but the loaded library (%s) has ABI %u",
             PLUGIN_NAME, (unsigned)built, kuberef_version(), (unsigned)runtime);
    return -1;
  }
  self.built_abi = built;
  self.runtime_abi = runtime;
  *out = &self;
  return 0;
}
