/* The benchmark workload, shared by bench.c and mem.c: realistic container
 * IDs and pods, generated deterministically from an index. The same
 * generator (splitmix64 and the same formatting rules) is written in Go
 * (bench/go/internal/workload) and Rust (benches/floor.rs), so every
 * implementation stores and looks up the same data.
 *
 *   container ID i: type "containerd", ID 64 lowercase hex digits
 *   pod i:          namespace from a list of 8, name "<app>-<10>-<5>" like a
 *                   Deployment's pod, a UUID, a decimal resourceVersion,
 *                   containers {app, "istio-proxy"}, init container "istio-init"
 *   reference i:    GenerateContainerRef(pod i, container i % 2)
 */
#ifndef KUBEREF_BENCH_WORKLOAD_H
#define KUBEREF_BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kuberef.h"

typedef struct {
  uint64_t s;
} wl_rng;

static inline uint64_t wl_next(wl_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* A generator for item `i` of stream `tag` (1: pods, 2: container IDs). */
static inline wl_rng wl_seed(uint64_t tag, uint64_t i) {
  wl_rng r;
  r.s = (tag << 56) ^ (i * 0xD1B54A32D192ED03ull);
  return r;
}

static const char *const WL_NAMESPACES[8] = {"default",   "kube-system", "monitoring",    "payments",
                                             "checkout",  "search",      "ingress-nginx", "data-pipeline"};
static const char *const WL_APPS[8] = {"web",     "api-gateway", "checkout", "redis",
                                       "postgres", "fluent-bit",  "coredns",  "kafka-broker"};
static const char WL_ALNUM[] = "bcdfghjklmnpqrstvwxz2456789"; /* what ReplicaSets use */
static const char WL_HEX[] = "0123456789abcdef";

#define WL_ID_LEN 64
#define WL_TYPE "containerd"

/* Writes container ID i's 64 hex digits into out (no NUL). */
static inline void wl_id(uint64_t i, char out[WL_ID_LEN]) {
  wl_rng r = wl_seed(2, i);
  int k, b;
  for (k = 0; k < 4; k++) {
    uint64_t v = wl_next(&r);
    for (b = 0; b < 16; b++) out[k * 16 + b] = WL_HEX[(v >> (4 * b)) & 15];
  }
}

typedef struct {
  char ns[16], name[48], uid[40], rv[24];
  size_t ns_len, name_len, uid_len, rv_len;
  const char *app;
  kuberef_str containers[2], init_containers[1];
  kuberef_pod pod;
  kuberef_str container; /* the container reference i is for */
} wl_pod;

static inline kuberef_str wl_str(const char *p, size_t n) {
  kuberef_str s;
  s.ptr = p;
  s.len = n;
  return s;
}

/* Fills p with pod i; p->pod views point into p. */
static inline void wl_make_pod(uint64_t i, wl_pod *p) {
  wl_rng r = wl_seed(1, i);
  uint64_t v;
  size_t n, k;
  const char *ns = WL_NAMESPACES[wl_next(&r) % 8];
  const char *app = WL_APPS[wl_next(&r) % 8];
  char digits[24];

  p->ns_len = strlen(ns);
  memcpy(p->ns, ns, p->ns_len);
  p->app = app;
  n = strlen(app);
  memcpy(p->name, app, n);
  p->name[n++] = '-';
  for (k = 0; k < 10; k++) p->name[n++] = WL_ALNUM[wl_next(&r) % 27];
  p->name[n++] = '-';
  for (k = 0; k < 5; k++) p->name[n++] = WL_ALNUM[wl_next(&r) % 27];
  p->name_len = n;

  n = 0;
  for (k = 0; k < 2; k++) {
    int b;
    v = wl_next(&r);
    for (b = 0; b < 16; b++) {
      if (n == 8 || n == 13 || n == 18 || n == 23) p->uid[n++] = '-';
      p->uid[n++] = WL_HEX[(v >> (4 * b)) & 15];
    }
  }
  p->uid_len = n; /* 36 */

  v = 100000 + wl_next(&r) % 90000000;
  n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (k = 0; k < n; k++) p->rv[k] = digits[n - 1 - k];
  p->rv_len = n;

  p->containers[0] = wl_str(app, strlen(app));
  p->containers[1] = wl_str("istio-proxy", 11);
  p->init_containers[0] = wl_str("istio-init", 10);
  memset(&p->pod, 0, sizeof p->pod);
  p->pod.kind = wl_str("Pod", 3);
  p->pod.api_version = wl_str("v1", 2);
  p->pod.namespace_ = wl_str(p->ns, p->ns_len);
  p->pod.name = wl_str(p->name, p->name_len);
  p->pod.uid = wl_str(p->uid, p->uid_len);
  p->pod.resource_version = wl_str(p->rv, p->rv_len);
  p->pod.containers = p->containers;
  p->pod.containers_len = 2;
  p->pod.init_containers = p->init_containers;
  p->pod.init_containers_len = 1;
  p->container = p->containers[i % 2];
}

/* A container ID with its own storage for the ID digits. */
typedef struct {
  char digits[WL_ID_LEN];
  kuberef_container_id id;
} wl_key;

static inline void wl_make_key(uint64_t i, wl_key *k) {
  wl_id(i, k->digits);
  k->id.type = wl_str(WL_TYPE, sizeof WL_TYPE - 1);
  k->id.id = wl_str(k->digits, WL_ID_LEN);
}

/* The index of the j-th of `count` distinct stored keys spread over [0, n). */
static inline uint64_t wl_hot_index(uint64_t j, uint64_t count, uint64_t n) {
  uint64_t stride = n / count;
  wl_rng r = wl_seed(3, j);
  return j * stride + wl_next(&r) % stride;
}

/* Keys that are never stored by the fill (for set + clear). */
#define WL_EXTRA_BASE (1ull << 40)

#endif
