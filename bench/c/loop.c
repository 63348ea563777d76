/* One operation in a tight loop, for comparing two builds of the library
 * (bench/ab.sh runs it against each, interleaved): no table, no peers, one
 * number.
 *
 *   loop_c OP N [STORED [THREADS [LIVE]]]
 *
 * Stores STORED references (default 1,000), then lets THREADS threads
 * (default 0) each do one GetRef and exit, one after another (as thread
 * pools and the two-thread benchmarks do), then starts LIVE threads
 * (default 0) that each do one GetRef and then wait, alive and idle, until
 * the loop is over (as the many threads of a Go program that calls the
 * library do; past 16, writers retire what they unlink into the limbo
 * instead of freeing it at once). Then it times N operations and prints
 * the nanoseconds per operation on standard output. OP is
 *   get       GetRef, cycling over the first 1,000 stored keys
 *   setclear  SetRef of a key that is not stored, then ClearRef of it,
 *             cycling over 1,024 such keys
 * Exits non-zero if any call fails.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "workload.h"

static kuberef_manager *M;
static wl_key *keys;
static wl_key extra_keys[BENCH_POOL];
static kuberef_object_reference extra_refs[BENCH_POOL];
static char extra_bufs[BENCH_POOL][512];

static void die(const char *what, kuberef_status s) {
  fprintf(stderr, "loop_c: %s: status %d\n", what, (int)s);
  exit(1);
}

static void *one_get(void *arg) {
  kuberef_object_reference out;
  char buf[512];
  kuberef_status s = kuberef_get_ref(M, &keys[0].id, &out, buf, sizeof buf, NULL);
  (void)arg;
  if (s != KUBEREF_OK) die("get_ref (thread)", s);
  return NULL;
}

static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_cv = PTHREAD_COND_INITIALIZER;
static unsigned long live_ready;
static int loop_done;

static void *one_get_and_wait(void *arg) {
  one_get(arg);
  pthread_mutex_lock(&live_mu);
  live_ready++;
  pthread_cond_broadcast(&live_cv);
  while (!loop_done) pthread_cond_wait(&live_cv, &live_mu);
  pthread_mutex_unlock(&live_mu);
  return NULL;
}

static void loop_get(uint64_t n) {
  kuberef_object_reference out;
  char buf[512];
  uint64_t i;
  size_t acc = 0;
  for (i = 0; i < n; i++) {
    kuberef_status s = kuberef_get_ref(M, &keys[i % BENCH_HOT].id, &out, buf, sizeof buf, NULL);
    if (s != KUBEREF_OK) die("get_ref", s);
    acc += out.name.len;
  }
  if (acc == 1) puts("");
}

static void loop_setclear(uint64_t n) {
  uint64_t i;
  for (i = 0; i < n; i++) {
    uint64_t k = i % BENCH_POOL;
    kuberef_status s = kuberef_set_ref(M, &extra_keys[k].id, &extra_refs[k]);
    if (s != KUBEREF_OK) die("set_ref", s);
    s = kuberef_clear_ref(M, &extra_keys[k].id);
    if (s != KUBEREF_OK) die("clear_ref", s);
  }
}

static void store(uint64_t i, wl_key *key, kuberef_object_reference *ref, char *buf, size_t len) {
  wl_pod p;
  kuberef_status s;
  wl_make_pod(i, &p);
  wl_make_key(i, key);
  s = kuberef_generate_container_ref(&p.pod, p.container, 0, ref, buf, len, NULL);
  if (s != KUBEREF_OK) die("generate_container_ref", s);
}

int main(int argc, char **argv) {
  uint64_t n, stored, i;
  unsigned long threads, live, t;
  pthread_t *live_threads;
  double t0;
  int get;
  if (argc < 3 || (strcmp(argv[1], "get") != 0 && strcmp(argv[1], "setclear") != 0)) {
    fprintf(stderr, "usage: loop_c get|setclear N [STORED [THREADS [LIVE]]]\n");
    return 2;
  }
  get = strcmp(argv[1], "get") == 0;
  n = strtoull(argv[2], NULL, 10);
  stored = argc > 3 ? strtoull(argv[3], NULL, 10) : BENCH_HOT;
  threads = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;
  live = argc > 5 ? strtoul(argv[5], NULL, 10) : 0;
  if (stored < BENCH_HOT) stored = BENCH_HOT;

  M = kuberef_manager_new();
  if (M == NULL) die("manager_new", KUBEREF_PANIC);
  keys = malloc(sizeof *keys * stored);
  if (keys == NULL) die("malloc", KUBEREF_PANIC);
  for (i = 0; i < stored; i++) {
    kuberef_object_reference ref;
    char buf[512];
    kuberef_status s;
    store(i, &keys[i], &ref, buf, sizeof buf);
    s = kuberef_set_ref(M, &keys[i].id, &ref);
    if (s != KUBEREF_OK) die("set_ref (fill)", s);
  }
  for (i = 0; i < BENCH_POOL; i++) store(WL_EXTRA_BASE + i, &extra_keys[i], &extra_refs[i], extra_bufs[i], 512);
  for (t = 0; t < threads; t++) {
    pthread_t th;
    if (pthread_create(&th, NULL, one_get, NULL) != 0 || pthread_join(th, NULL) != 0) die("thread", KUBEREF_PANIC);
  }
  live_threads = malloc(sizeof *live_threads * (live + 1));
  if (live_threads == NULL) die("malloc", KUBEREF_PANIC);
  for (t = 0; t < live; t++)
    if (pthread_create(&live_threads[t], NULL, one_get_and_wait, NULL) != 0) die("thread", KUBEREF_PANIC);
  pthread_mutex_lock(&live_mu);
  while (live_ready < live) pthread_cond_wait(&live_cv, &live_mu);
  pthread_mutex_unlock(&live_mu);

  t0 = bench_now();
  if (get)
    loop_get(n);
  else
    loop_setclear(n);
  printf("%.2f\n", (bench_now() - t0) / (double)n);
  pthread_mutex_lock(&live_mu);
  loop_done = 1;
  pthread_cond_broadcast(&live_cv);
  pthread_mutex_unlock(&live_mu);
  for (t = 0; t < live; t++)
    if (pthread_join(live_threads[t], NULL) != 0) die("thread", KUBEREF_PANIC);
  free(live_threads);
  kuberef_manager_free(M);
  free(keys);
  return 0;
}
