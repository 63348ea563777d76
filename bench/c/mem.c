/* Memory per stored reference: the growth of this process's resident set
 * (/proc/self/statm) while N references are stored in a new manager, over N.
 * The inputs are built one at a time in reused buffers, so the growth is
 * the library's: entries, tables and allocator overhead.
 *
 *   mem_c [N]     (default 1,000,000) prints "kuberef-c mem N BYTES_PER_REF"
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kuberef.h"
#include "workload.h"

static long resident_pages(void) {
  long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2) {
    fprintf(stderr, "mem_c: cannot read /proc/self/statm\n");
    exit(1);
  }
  fclose(f);
  return resident;
}

int main(int argc, char **argv) {
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000, i;
  kuberef_manager *m = kuberef_manager_new();
  wl_pod p;
  wl_key k;
  kuberef_object_reference ref;
  char buf[512];
  long before, after;

  if (!m || n == 0) return 1;
  before = resident_pages();
  for (i = 0; i < n; i++) {
    wl_make_pod(i, &p);
    wl_make_key(i, &k);
    if (kuberef_generate_container_ref(&p.pod, p.container, 0, &ref, buf, sizeof buf, NULL) != KUBEREF_OK ||
        kuberef_set_ref(m, &k.id, &ref) != KUBEREF_OK) {
      fprintf(stderr, "mem_c: store %llu failed\n", (unsigned long long)i);
      return 1;
    }
  }
  after = resident_pages();
  if (kuberef_len(m) != n) {
    fprintf(stderr, "mem_c: len %zu, want %llu\n", kuberef_len(m), (unsigned long long)n);
    return 1;
  }
  printf("kuberef-c mem %llu %.1f\n", (unsigned long long)n,
         (double)(after - before) * (double)sysconf(_SC_PAGESIZE) / (double)n);
  kuberef_manager_free(m);
  return 0;
}
