/* How the C benchmark programs (bench.c, glib.c) time an operation, so that
 * their columns are measured alike: a clock, one calibrated sample, the
 * two-thread run, and each thread's order over the hot keys.
 *
 * A program defines the operation functions `double op(uint64_t n)` (run n
 * times, return ns per op) and, for the two-thread rows, a loop
 * `void loop(int t, uint64_t n)` that runs n lookups from thread t's hot
 * keys. */
#ifndef KUBEREF_BENCH_HARNESS_H
#define KUBEREF_BENCH_HARNESS_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "workload.h"

/* The keys the GetRef rows cycle through, and the fresh keys and pods the
 * writing rows cycle through. */
#define BENCH_HOT 1000
#define BENCH_POOL 1024

/* CLOCK_MONOTONIC, or CLOCK_THREAD_CPUTIME_ID for development on a busy
 * machine (never for the two-thread rows). */
static clockid_t bench_clock = CLOCK_MONOTONIC;
/* The target duration of one sample. */
static double bench_sample_ns = 50e6;
/* Non-zero: exactly this many operations per sample, no calibration. */
static uint64_t bench_fixed_iters;

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(bench_clock, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Runs op long enough for one sample of about bench_sample_ns, after a
 * calibration (and warm-up) of at least a tenth of that. */
static inline double bench_measure(double (*op)(uint64_t)) {
  uint64_t n = 16;
  double per;
  if (bench_fixed_iters) return op(bench_fixed_iters);
  for (;;) {
    double start = bench_now();
    per = op(n);
    if (bench_now() - start >= bench_sample_ns / 10 || n >= (1ull << 34)) break;
    n *= 4;
  }
  n = (uint64_t)(bench_sample_ns / (per > 0.1 ? per : 0.1));
  if (n < 16) n = 16;
  return op(n);
}

typedef struct {
  void (*loop)(int t, uint64_t n);
  uint64_t n;
  pthread_barrier_t *start;
  double t0, t1;
} bench_pair_arg;

static inline void *bench_pair_thread(void *p) {
  bench_pair_arg *a = (bench_pair_arg *)p;
  pthread_barrier_wait(a->start);
  a->t0 = bench_now();
  a->loop(1, a->n);
  a->t1 = bench_now();
  return NULL;
}

/* loop(0, n) here and loop(1, n) in a second thread, started together;
 * returns the aggregate ns per op (wall time over 2n). */
static inline double bench_two_threads(void (*loop)(int t, uint64_t n), uint64_t n) {
  pthread_barrier_t start;
  pthread_t th;
  bench_pair_arg a;
  double t0, t1;
  pthread_barrier_init(&start, NULL, 2);
  a.loop = loop;
  a.n = n;
  a.start = &start;
  if (pthread_create(&th, NULL, bench_pair_thread, &a) != 0) {
    fprintf(stderr, "bench: pthread_create failed\n");
    exit(1);
  }
  pthread_barrier_wait(&start);
  t0 = bench_now();
  loop(0, n);
  t1 = bench_now();
  pthread_join(th, NULL);
  pthread_barrier_destroy(&start);
  if (a.t0 < t0) t0 = a.t0;
  if (a.t1 > t1) t1 = a.t1;
  return (t1 - t0) / (double)(2 * n);
}

/* Thread t's order over the hot keys with `stored` references stored: the
 * workload indexes of BENCH_HOT keys spread over the table, shuffled. */
static inline void bench_hot_order(int t, uint64_t stored, uint64_t out[BENCH_HOT]) {
  uint64_t perm[BENCH_HOT];
  wl_rng r = wl_seed(4 + (uint64_t)t, stored);
  int j;
  for (j = 0; j < BENCH_HOT; j++) perm[j] = (uint64_t)j;
  for (j = BENCH_HOT - 1; j > 0; j--) {
    uint64_t x = wl_next(&r) % (uint64_t)(j + 1), tmp = perm[j];
    perm[j] = perm[x];
    perm[x] = tmp;
  }
  for (j = 0; j < BENCH_HOT; j++) out[j] = wl_hot_index(perm[j], BENCH_HOT, stored);
}

#endif
