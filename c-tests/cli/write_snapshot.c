/* Writes a snapshot through the C ABI, for the kuberef tool's tests and
 * transcripts (mk/cli.mk):
 *
 *   write_snapshot FILE N VARIANT [EXPECTED]
 *
 * stores N references in a new manager and saves them to FILE with
 * kuberef_save. Pod p holds 1 + (7p mod 12) containers; every tenth pod's
 * run on docker, the others on containerd; container IDs are 64 hex digits.
 * VARIANT 1 is variant 0 one step later: reference i is gone when
 * i mod 1000 == 17, has a new resourceVersion when i mod 1000 == 500, and
 * N/1000 containers are new. With EXPECTED, it also writes one line per
 * stored reference there, as `kuberef dump --format json` must print it:
 * {"containerID":"TYPE://ID","reference":JSON} with JSON from
 * kuberef_ref_to_json (the IDs need no JSON escaping). Exit status 0 on
 * success. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kuberef.h"

static kuberef_str view(const char *s) {
  kuberef_str v;
  v.ptr = s;
  v.len = strlen(s);
  return v;
}

/* 64 hex digits derived from (salt, i): splitmix64 four times. */
static void hex_id(char out[65], uint64_t salt, uint64_t i) {
  uint64_t x = salt * 0x9e3779b97f4a7c15ULL + i;
  int k;
  for (k = 0; k < 4; k++) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    sprintf(out + 16 * k, "%016llx", (unsigned long long)z);
  }
}

static const char *namespaces[] = {"default", "kube-system", "monitoring", "payments", "web"};
static const char *apps[] = {"api", "worker", "cache", "proxy", "exporter", "frontend", "batch"};

static FILE *expected;
static char *json_buf;
static size_t json_cap;

static int store(kuberef_manager *m, const char *type, const char *id, const char *ns, const char *name,
                 const char *uid, const char *rv, const char *fp) {
  kuberef_container_id k;
  kuberef_object_reference r;
  size_t needed = 0;
  kuberef_status st;
  k.type = view(type);
  k.id = view(id);
  r.kind = view("Pod");
  r.namespace_ = view(ns);
  r.name = view(name);
  r.uid = view(uid);
  r.api_version = view("v1");
  r.resource_version = view(rv);
  r.field_path = view(fp);
  if (kuberef_set_ref(m, &k, &r) != KUBEREF_OK) return -1;
  if (!expected) return 0;
  while ((st = kuberef_ref_to_json(&r, json_buf, json_cap, &needed)) == KUBEREF_BUFFER_TOO_SMALL) {
    json_cap = needed;
    json_buf = realloc(json_buf, json_cap);
    if (!json_buf) return -1;
  }
  if (st != KUBEREF_OK) return -1;
  fprintf(expected, "{\"containerID\":\"%s://%s\",\"reference\":%s}\n", type, id, json_buf);
  return 0;
}

int main(int argc, char **argv) {
  kuberef_manager *m;
  long n, i, made = 0, p = 0, extra;
  int variant;
  size_t saved = 0;
  kuberef_status st;
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: write_snapshot FILE N VARIANT [EXPECTED]\n");
    return 2;
  }
  n = atol(argv[2]);
  variant = atoi(argv[3]);
  if (argc == 5 && !(expected = fopen(argv[4], "w"))) {
    perror(argv[4]);
    return 1;
  }
  m = kuberef_manager_new();
  if (!m) return 1;
  for (p = 0; made < n; p++) {
    char uid[40], name[64], rv[24], fp[64], id[65];
    const char *ns = namespaces[p % 5];
    const char *type = p % 10 == 9 ? "docker" : "containerd";
    long k, containers = 1 + (7 * p) % 12;
    sprintf(uid, "%08lx-%04lx-4%03lx-8%03lx-%012lx", (unsigned long)(p * 2654435761UL) & 0xffffffffUL,
            (unsigned long)p & 0xffff, (unsigned long)(p >> 16) & 0xfff, (unsigned long)(p * 13) & 0xfff,
            (unsigned long)p * 97);
    sprintf(name, "%s-%ld", apps[p % 7], p);
    for (k = 0; k < containers && made < n; k++, made++) {
      i = made;
      if (variant == 1 && i % 1000 == 17) continue;
      sprintf(rv, "%ld", 1000 + p + (variant == 1 && i % 1000 == 500 ? 1 : 0));
      if (k == 0 && containers > 3)
        sprintf(fp, "spec.initContainers{init}");
      else
        sprintf(fp, "spec.containers{%s-%ld}", apps[(p + k) % 7], k);
      hex_id(id, 1, (uint64_t)i);
      if (store(m, type, id, ns, name, uid, rv, fp) != 0) return 1;
    }
  }
  extra = variant == 1 ? n / 1000 : 0;
  for (i = 0; i < extra; i++) {
    char id[65], rv[24];
    hex_id(id, 2, (uint64_t)i);
    sprintf(rv, "%ld", 5000 + i);
    if (store(m, "containerd", id, "web", "frontend-new", "00000000-0000-4000-8000-00000000beef", rv,
              "spec.containers{frontend}") != 0)
      return 1;
  }
  st = kuberef_save(m, view(argv[1]), &saved);
  if (st != KUBEREF_OK) {
    fprintf(stderr, "write_snapshot: kuberef_save: %s\n", kuberef_status_message(st));
    return 1;
  }
  if (expected && fclose(expected) != 0) return 1;
  kuberef_manager_free(m);
  free(json_buf);
  fprintf(stderr, "write_snapshot: %zu references saved to %s\n", saved, argv[1]);
  return 0;
}
