/* GetRef from C with N references stored, timed in thread CPU time (robust
 * on a loaded machine, unlike bench.c's wall time): the median over 9 runs
 * of thread CPU time and of wall time per call. It uses only the oldest ABI 1
 * calls, so the same program can be linked against another build of the
 * library (say, without the counters) to compare the two.
 *
 *   get_cpu_time [N]      (default 1000) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kuberef.h"

static double now(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000, i;
  const size_t iters = 3000000;
  kuberef_manager *m = kuberef_manager_new();
  char *keys = malloc(n * 65);
  kuberef_container_id *ids = malloc(n * sizeof *ids);
  kuberef_object_reference r, out;
  char buf[512];
  double cpu[9], wall[9];
  int run;
  r.kind.ptr = "Pod"; r.kind.len = 3;
  r.namespace_.ptr = "default"; r.namespace_.len = 7;
  r.name.ptr = "web-0"; r.name.len = 5;
  r.uid.ptr = "7d0b5a3c-2f55-4f6e-9d52-3c1d6b0c1a11"; r.uid.len = 36;
  r.api_version.ptr = "v1"; r.api_version.len = 2;
  r.resource_version.ptr = "123456"; r.resource_version.len = 6;
  r.field_path.ptr = "spec.containers{app}"; r.field_path.len = 20;
  for (i = 0; i < n; i++) {
    sprintf(keys + i * 65, "%016lx%016lx%016lx%016lx", (unsigned long)i * 2654435761u, (unsigned long)i,
            (unsigned long)~i, (unsigned long)i * 40503u);
    ids[i].type.ptr = "containerd"; ids[i].type.len = 10;
    ids[i].id.ptr = keys + i * 65; ids[i].id.len = 64;
    kuberef_set_ref(m, &ids[i], &r);
  }
  for (run = 0; run < 9; run++) {
    double c0 = now(CLOCK_THREAD_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
    size_t k;
    for (k = 0; k < iters; k++) {
      if (kuberef_get_ref(m, &ids[k % n], &out, buf, sizeof buf, NULL) != KUBEREF_OK) return 1;
    }
    cpu[run] = (now(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)iters;
    wall[run] = (now(CLOCK_MONOTONIC) - w0) / (double)iters;
  }
  qsort(cpu, 9, sizeof cpu[0], cmp);
  qsort(wall, 9, sizeof wall[0], cmp);
  printf("GetRef from C, %zu refs: median %.1f ns/op CPU (min %.1f), %.1f ns/op wall\n", n, cpu[4], cpu[0],
         wall[4]);
  kuberef_manager_free(m);
  free(ids);
  free(keys);
  return 0;
}
