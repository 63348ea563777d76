/* Fixtures shared by the C tests of the bulk operations and persistence:
 * references "c<i>" with recognisable fields, and a comparison of two
 * managers' contents. Include after check.h. */
#ifndef KUBEREF_FIXTURES_H
#define KUBEREF_FIXTURES_H

#include <stdio.h>
#include <string.h>

#include "check.h"

static inline kuberef_container_id cid(const char *type, const char *id) {
  kuberef_container_id c;
  c.type = S(type);
  c.id = S(id);
  return c;
}

static inline kuberef_object_reference mkref(const char *name, const char *uid, const char *fp) {
  kuberef_object_reference r;
  r.kind = S("Pod");
  r.namespace_ = S("default");
  r.name = S(name);
  r.uid = S(uid);
  r.api_version = S("v1");
  r.resource_version = S("7");
  r.field_path = S(fp);
  return r;
}

/* Stores n refs: id "containerd://c<i>", name "name-<i>", uid "pod-<i % pods>". */
static inline void fill(kuberef_manager *m, int n, int pods) {
  char id[32], uid[32], name[32];
  int i;
  for (i = 0; i < n; i++) {
    kuberef_container_id k;
    kuberef_object_reference r;
    sprintf(id, "c%d", i);
    sprintf(uid, "pod-%d", i % pods);
    sprintf(name, "name-%d", i);
    k = cid("containerd", id);
    r = mkref(name, uid, "spec.containers{app}");
    kuberef_set_ref(m, &k, &r);
  }
}

/* Whether "containerd://<id>" has a reference in m. */
static inline int has(const kuberef_manager *m, const char *id) {
  kuberef_container_id k = cid("containerd", id);
  kuberef_object_reference out;
  char buf[256];
  return kuberef_get_ref(m, &k, &out, buf, sizeof buf, NULL) == KUBEREF_OK;
}

/* Same length, and every ref "c0" .. "c1999" of a is in b with the same bytes. */
static inline int same_contents(const kuberef_manager *a, const kuberef_manager *b) {
  char ba[512], bb[512];
  int i;
  if (kuberef_len(a) != kuberef_len(b)) return 0;
  memset(ba, 0, sizeof ba);
  memset(bb, 0, sizeof bb);
  for (i = 0; i < 2000; i++) {
    char id[32];
    kuberef_container_id k;
    kuberef_object_reference ra, rb;
    kuberef_status sa, sb;
    sprintf(id, "c%d", i);
    k = cid("containerd", id);
    sa = kuberef_get_ref(a, &k, &ra, ba, sizeof ba, NULL);
    sb = kuberef_get_ref(b, &k, &rb, bb, sizeof bb, NULL);
    if (sa != sb) return 0;
    if (sa == KUBEREF_OK && memcmp(ba, bb, sizeof ba) != 0) return 0;
  }
  return 1;
}

#endif
