/* Times kuberef's C ABI on the benchmark's operations, against libkuberef.so.
 *
 *   bench_c [--quick] [--cpu-clock] [--iters N] [--reps R] [--sample-ms MS] [--sizes N,N,...]
 *
 * Prints one line per sample: "kuberef-c OP STORED NS_PER_OP" (STORED is 0
 * for GenerateContainerRef, which does not touch a manager). bench/go/table
 * takes the medians and prints the table. Exits non-zero if any call fails.
 *
 * Operations (the same in every implementation):
 *   get1      GetRef, 1 thread, cycling over 1,000 stored keys (all of them
 *             at 1,000 stored; spread over the whole table otherwise)
 *   get2      the same from 2 threads at once; aggregate ns/op = wall / ops
 *   setclear  SetRef of a key that is not stored, then ClearRef of it
 *   generate  GenerateContainerRef into a caller buffer
 *   lifecycle generate (borrowed) + SetRef + 3 x GetRef + ClearRef of a fresh key
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kuberef.h"
#include "workload.h"

#define HOT BENCH_HOT
#define POOL BENCH_POOL /* extra keys / pods cycled through by setclear, generate, lifecycle */

static kuberef_manager *M;
static wl_key *hot_keys[2];       /* per thread, in that thread's visiting order */
static wl_key *extra_keys;        /* never stored by the fill */
static kuberef_object_reference *extra_refs; /* generated refs for extra_keys */
static char *extra_bufs;          /* their strings */
static wl_pod *pods;              /* pods[k] is pod WL_EXTRA_BASE + k */
static volatile size_t sink;

static void die(const char *what, kuberef_status s) {
  fprintf(stderr, "bench_c: %s: %s (%u)\n", what, kuberef_status_message(s), (unsigned)s);
  exit(1);
}

/* --- operations: each runs n times and returns ns per op --------------------- */

static void get_loop(int t, uint64_t n) {
  kuberef_object_reference out;
  char buf[512];
  size_t acc = 0, j = 0;
  uint64_t i;
  const wl_key *keys = hot_keys[t];
  for (i = 0; i < n; i++) {
    kuberef_status s = kuberef_get_ref(M, &keys[j].id, &out, buf, sizeof buf, NULL);
    if (s != KUBEREF_OK) die("get_ref", s);
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
    kuberef_status s = kuberef_set_ref(M, &extra_keys[k].id, &extra_refs[k]);
    if (s != KUBEREF_OK) die("set_ref", s);
    s = kuberef_clear_ref(M, &extra_keys[k].id);
    if (s != KUBEREF_OK) die("clear_ref", s);
    if (++k == POOL) k = 0;
  }
  return (bench_now() - t0) / (double)n;
}

__attribute__((noinline)) static double op_generate(uint64_t n) {
  kuberef_object_reference out;
  char buf[512];
  size_t acc = 0, k = 0;
  uint64_t i;
  double t0 = bench_now();
  for (i = 0; i < n; i++) {
    kuberef_status s = kuberef_generate_container_ref(&pods[k].pod, pods[k].container, 0, &out, buf,
                                                      sizeof buf, NULL);
    if (s != KUBEREF_OK) die("generate", s);
    acc += out.field_path.len;
    if (++k == POOL) k = 0;
  }
  sink += acc;
  return (bench_now() - t0) / (double)n;
}

__attribute__((noinline)) static double op_lifecycle(uint64_t n) {
  kuberef_object_reference ref, got;
  char buf[512], gbuf[512];
  size_t acc = 0, k = 0;
  uint64_t i;
  int g;
  double t0 = bench_now();
  for (i = 0; i < n; i++) {
    const kuberef_container_id *id = &extra_keys[k].id;
    /* Borrowed, as upstream's: the reference views the pod's strings until
     * kuberef_set_ref copies it. */
    kuberef_status s = kuberef_generate_container_ref_borrowed(&pods[k].pod, pods[k].container, 0, &ref, buf,
                                                               sizeof buf, NULL);
    if (s != KUBEREF_OK) die("generate", s);
    s = kuberef_set_ref(M, id, &ref);
    if (s != KUBEREF_OK) die("set_ref", s);
    for (g = 0; g < 3; g++) {
      s = kuberef_get_ref(M, id, &got, gbuf, sizeof gbuf, NULL);
      if (s != KUBEREF_OK) die("get_ref", s);
      acc += got.name.len;
    }
    s = kuberef_clear_ref(M, id);
    if (s != KUBEREF_OK) die("clear_ref", s);
    if (++k == POOL) k = 0;
  }
  sink += acc;
  return (bench_now() - t0) / (double)n;
}

/* --- setup ---------------------------------------------------------------- */

static void fill(uint64_t from, uint64_t to) {
  wl_pod p;
  wl_key k;
  kuberef_object_reference ref;
  char buf[512];
  uint64_t i;
  for (i = from; i < to; i++) {
    kuberef_status s;
    wl_make_pod(i, &p);
    wl_make_key(i, &k);
    s = kuberef_generate_container_ref(&p.pod, p.container, 0, &ref, buf, sizeof buf, NULL);
    if (s != KUBEREF_OK) die("generate (fill)", s);
    s = kuberef_set_ref(M, &k.id, &ref);
    if (s != KUBEREF_OK) die("set_ref (fill)", s);
  }
}

/* Hot keys for `stored` refs, each thread in its own shuffled order. */
static void choose_hot(uint64_t stored) {
  int t, j;
  for (t = 0; t < 2; t++) {
    uint64_t order[HOT];
    bench_hot_order(t, stored, order);
    for (j = 0; j < HOT; j++) wl_make_key(order[j], &hot_keys[t][j]);
  }
}

static void setup_pool(void) {
  kuberef_status s;
  int k;
  extra_keys = calloc(POOL, sizeof *extra_keys);
  extra_refs = calloc(POOL, sizeof *extra_refs);
  extra_bufs = calloc(POOL, 512);
  pods = calloc(POOL, sizeof *pods);
  hot_keys[0] = calloc(HOT, sizeof(wl_key));
  hot_keys[1] = calloc(HOT, sizeof(wl_key));
  if (!extra_keys || !extra_refs || !extra_bufs || !pods || !hot_keys[0] || !hot_keys[1]) die("calloc", 0);
  for (k = 0; k < POOL; k++) {
    wl_make_key(WL_EXTRA_BASE + (uint64_t)k, &extra_keys[k]);
    wl_make_pod(WL_EXTRA_BASE + (uint64_t)k, &pods[k]);
    s = kuberef_generate_container_ref(&pods[k].pod, pods[k].container, 0, &extra_refs[k],
                                       extra_bufs + 512 * k, 512, NULL);
    if (s != KUBEREF_OK) die("generate (pool)", s);
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
    } else if (!strcmp(argv[i], "--cpu-clock")) {
      bench_clock = CLOCK_THREAD_CPUTIME_ID; /* for development on a busy machine; not for get2 */
    } else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
      bench_fixed_iters = strtoull(argv[++i], NULL, 10);
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
    } else {
      fprintf(stderr, "usage: %s [--quick] [--cpu-clock] [--iters N] [--reps R] [--sample-ms MS] [--sizes N,N,...]\n", argv[0]);
      return 2;
    }
  }
  if (kuberef_abi_version() != KUBEREF_ABI_VERSION) die("ABI mismatch", 0);

  M = kuberef_manager_new();
  if (!M) die("manager_new", 0);
  setup_pool();
  for (i = 0; i < nsizes; i++) {
    if (sizes[i] < HOT || sizes[i] < stored) {
      fprintf(stderr, "bench_c: sizes must grow and be at least %d\n", HOT);
      return 2;
    }
    fill(stored, sizes[i]);
    stored = sizes[i];
    if (kuberef_len(M) != stored) die("len after fill", 0);
    choose_hot(stored);
    for (r = 0; r < reps; r++) {
      printf("kuberef-c get1 %llu %.2f\n", (unsigned long long)stored, bench_measure(op_get1));
      printf("kuberef-c get2 %llu %.2f\n", (unsigned long long)stored, bench_measure(op_get2));
      printf("kuberef-c setclear %llu %.2f\n", (unsigned long long)stored, bench_measure(op_setclear));
      printf("kuberef-c lifecycle %llu %.2f\n", (unsigned long long)stored, bench_measure(op_lifecycle));
      printf("kuberef-c generate 0 %.2f\n", bench_measure(op_generate));
      fflush(stdout);
    }
    if (kuberef_len(M) != stored) die("len after the operations", 0);
  }
  kuberef_manager_free(M);
  return 0;
}
