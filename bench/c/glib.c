/* What a C user would pick instead of kuberef: GLib's GHashTable behind a
 * pthread_rwlock_t, keyed by the container ID as "type://id" (g_str_hash,
 * g_str_equal, GLib's defaults for string keys), each value one allocation
 * holding the seven NUL-terminated fields. A get read-locks, looks the key
 * up and copies the seven fields into the caller's buffer with the views
 * kuberef_get_ref gives; a set copies the key and the reference into new
 * allocations and replaces under the write lock; a clear removes under it
 * (GLib frees the key and value through the table's destroy functions).
 * The same workload and operations as bench.c:
 *
 *   glib_c [--quick] [--cpu-clock] [--iters N] [--reps R] [--sample-ms MS] [--sizes N,N,...]
 *
 * Prints "glib-c OP STORED NS_PER_OP" for get1, get2 and setclear. The
 * references are generated once by kuberef (setup only), so both tables
 * hold the same bytes. */
#define _GNU_SOURCE
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kuberef.h"
#include "workload.h"

#define HOT BENCH_HOT
#define POOL BENCH_POOL
#define KEY_MAX 160 /* "containerd://" + 64 hex digits, with room */

/* A stored reference: the seven fields back to back, each followed by a NUL. */
typedef struct {
  size_t len[7];
  char bytes[];
} glib_ref;

static GHashTable *table;
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static char (*hot_keys[2])[KEY_MAX]; /* per thread, in that thread's visiting order */
static char (*extra_keys)[KEY_MAX];  /* never stored by the fill */
static kuberef_object_reference *extra_refs;
static char *extra_bufs;
static volatile size_t sink;

static void die(const char *what) {
  fprintf(stderr, "glib_c: %s\n", what);
  exit(1);
}

/* "type://id" of a workload key, NUL-terminated, into out. */
static void key_text(const wl_key *k, char out[KEY_MAX]) {
  size_t tl = k->id.type.len, il = k->id.id.len;
  if (tl + 3 + il + 1 > KEY_MAX) die("key too long");
  memcpy(out, k->id.type.ptr, tl);
  memcpy(out + tl, "://", 3);
  memcpy(out + tl + 3, k->id.id.ptr, il);
  out[tl + 3 + il] = '\0';
}

static glib_ref *ref_copy(const kuberef_object_reference *r) {
  const kuberef_str f[7] = {r->kind, r->namespace_, r->name, r->uid, r->api_version, r->resource_version,
                            r->field_path};
  size_t total = 0, at = 0;
  glib_ref *g;
  int i;
  for (i = 0; i < 7; i++) total += f[i].len + 1;
  g = g_malloc(sizeof *g + total);
  for (i = 0; i < 7; i++) {
    g->len[i] = f[i].len;
    memcpy(g->bytes + at, f[i].ptr, f[i].len);
    g->bytes[at + f[i].len] = '\0';
    at += f[i].len + 1;
  }
  return g;
}

static void set_ref(const char *key, const kuberef_object_reference *r) {
  gchar *k = g_strdup(key);
  glib_ref *v = ref_copy(r);
  pthread_rwlock_wrlock(&lock);
  g_hash_table_replace(table, k, v);
  pthread_rwlock_unlock(&lock);
}

/* Copies the reference stored under key into buf and out, as kuberef_get_ref
 * does; returns 0 if there is none or buf is too small. */
static int get_ref(const char *key, kuberef_object_reference *out, char *buf, size_t buf_len) {
  const glib_ref *g;
  size_t total = 0, at = 0;
  kuberef_str *f[7];
  int i, ok = 0;
  f[0] = &out->kind;
  f[1] = &out->namespace_;
  f[2] = &out->name;
  f[3] = &out->uid;
  f[4] = &out->api_version;
  f[5] = &out->resource_version;
  f[6] = &out->field_path;
  pthread_rwlock_rdlock(&lock);
  g = g_hash_table_lookup(table, key);
  if (g != NULL) {
    for (i = 0; i < 7; i++) total += g->len[i] + 1;
    if (total <= buf_len) {
      memcpy(buf, g->bytes, total);
      for (i = 0; i < 7; i++) {
        f[i]->ptr = buf + at;
        f[i]->len = g->len[i];
        at += g->len[i] + 1;
      }
      ok = 1;
    }
  }
  pthread_rwlock_unlock(&lock);
  return ok;
}

static int clear_ref(const char *key) {
  int removed;
  pthread_rwlock_wrlock(&lock);
  removed = g_hash_table_remove(table, key);
  pthread_rwlock_unlock(&lock);
  return removed;
}

static void get_loop(int t, uint64_t n) {
  kuberef_object_reference out;
  char buf[512];
  size_t acc = 0, j = 0;
  uint64_t i;
  char(*keys)[KEY_MAX] = hot_keys[t];
  for (i = 0; i < n; i++) {
    if (!get_ref(keys[j], &out, buf, sizeof buf)) die("get");
    acc += out.field_path.len;
    if (++j == HOT) j = 0;
  }
  sink += acc;
}

__attribute__((noinline)) static double op_get1(uint64_t n) {
  double t0 = bench_now();
  get_loop(0, n);
  return (bench_now() - t0) / (double)n;
}

__attribute__((noinline)) static double op_get2(uint64_t n) { return bench_two_threads(get_loop, n); }

__attribute__((noinline)) static double op_setclear(uint64_t n) {
  size_t k = 0;
  uint64_t i;
  double t0 = bench_now();
  for (i = 0; i < n; i++) {
    set_ref(extra_keys[k], &extra_refs[k]);
    if (!clear_ref(extra_keys[k])) die("clear");
    if (++k == POOL) k = 0;
  }
  return (bench_now() - t0) / (double)n;
}

static void fill(uint64_t from, uint64_t to) {
  wl_pod p;
  wl_key k;
  kuberef_object_reference ref;
  char buf[512], key[KEY_MAX];
  uint64_t i;
  for (i = from; i < to; i++) {
    wl_make_pod(i, &p);
    wl_make_key(i, &k);
    if (kuberef_generate_container_ref(&p.pod, p.container, 0, &ref, buf, sizeof buf, NULL) != KUBEREF_OK)
      die("generate (fill)");
    key_text(&k, key);
    set_ref(key, &ref);
  }
}

static void choose_hot(uint64_t stored) {
  int t, j;
  for (t = 0; t < 2; t++) {
    uint64_t order[HOT];
    bench_hot_order(t, stored, order);
    for (j = 0; j < HOT; j++) {
      wl_key k;
      wl_make_key(order[j], &k);
      key_text(&k, hot_keys[t][j]);
    }
  }
}

static void setup_pool(void) {
  int k;
  extra_keys = calloc(POOL, sizeof *extra_keys);
  extra_refs = calloc(POOL, sizeof *extra_refs);
  extra_bufs = calloc(POOL, 512);
  hot_keys[0] = calloc(HOT, sizeof *hot_keys[0]);
  hot_keys[1] = calloc(HOT, sizeof *hot_keys[1]);
  if (!extra_keys || !extra_refs || !extra_bufs || !hot_keys[0] || !hot_keys[1]) die("calloc");
  for (k = 0; k < POOL; k++) {
    wl_key key;
    wl_pod p;
    wl_make_key(WL_EXTRA_BASE + (uint64_t)k, &key);
    wl_make_pod(WL_EXTRA_BASE + (uint64_t)k, &p);
    key_text(&key, extra_keys[k]);
    if (kuberef_generate_container_ref(&p.pod, p.container, 0, &extra_refs[k], extra_bufs + 512 * k, 512,
                                       NULL) != KUBEREF_OK)
      die("generate (pool)");
  }
}

int main(int argc, char **argv) {
  uint64_t sizes[8] = {1000, 100000, 1000000};
  int nsizes = 3, reps = 3, i, r;
  uint64_t stored = 0;
  for (i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) {
      sizes[0] = 1000;
      sizes[1] = 5000;
      nsizes = 2;
      reps = 1;
      bench_sample_ns = 1e6;
    } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--sample-ms") && i + 1 < argc) {
      bench_sample_ns = atof(argv[++i]) * 1e6;
    } else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
      char *p = argv[++i];
      nsizes = 0;
      while (*p && nsizes < 8) {
        sizes[nsizes++] = strtoull(p, &p, 10);
        if (*p == ',') p++;
      }
    } else if (!strcmp(argv[i], "--cpu-clock")) {
      bench_clock = CLOCK_THREAD_CPUTIME_ID; /* for development on a busy machine; not for get2 */
    } else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
      bench_fixed_iters = strtoull(argv[++i], NULL, 10);
    } else {
      fprintf(stderr, "usage: %s [--quick] [--cpu-clock] [--iters N] [--reps R] [--sample-ms MS] [--sizes N,N,...]\n",
              argv[0]);
      return 2;
    }
  }
  table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  setup_pool();
  for (i = 0; i < nsizes; i++) {
    if (sizes[i] < HOT || sizes[i] < stored) die("sizes must grow and be at least 1000");
    fill(stored, sizes[i]);
    stored = sizes[i];
    if (g_hash_table_size(table) != stored) die("size after fill");
    choose_hot(stored);
    for (r = 0; r < reps; r++) {
      printf("glib-c get1 %llu %.2f\n", (unsigned long long)stored, bench_measure(op_get1));
      printf("glib-c get2 %llu %.2f\n", (unsigned long long)stored, bench_measure(op_get2));
      printf("glib-c setclear %llu %.2f\n", (unsigned long long)stored, bench_measure(op_setclear));
      fflush(stdout);
    }
  }
  g_hash_table_destroy(table);
  return 0;
}
