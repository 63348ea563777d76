/* Counters from C: kuberef_get_stats's size protocol, and what each
 * operation counts. Run plain, static, under ASan+UBSan and valgrind. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixtures.h"

static void test_stats(void) {
  kuberef_manager *m = kuberef_manager_new();
  kuberef_stats s, before;
  char buf[512];
  kuberef_object_reference out;
  int i;

  memset(&s, 0, sizeof s);
  s.size = sizeof s;
  CHECK_STATUS(kuberef_get_stats(NULL, &s), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_get_stats(m, NULL), KUBEREF_NULL_ARGUMENT);
  s.size = 8;
  CHECK_STATUS(kuberef_get_stats(m, &s), KUBEREF_INVALID_ARGUMENT);
  CHECK(s.version == 0);
  s.size = sizeof s - 1;
  CHECK_STATUS(kuberef_get_stats(m, &s), KUBEREF_INVALID_ARGUMENT);
  CHECK(s.version == 0);
  /* A caller built against a later header passes a larger struct: only
   * this version's bytes are written, the rest is left alone. */
  {
    union {
      kuberef_stats s;
      unsigned char b[sizeof(kuberef_stats) + 24];
    } big;
    size_t k;
    int rest_untouched = 1;
    memset(&big, 0xab, sizeof big);
    big.s.size = sizeof big;
    CHECK_STATUS(kuberef_get_stats(m, &big.s), KUBEREF_OK);
    CHECK(big.s.size == sizeof big && big.s.version == KUBEREF_STATS_VERSION && big.s.count == 0);
    for (k = sizeof(kuberef_stats); k < sizeof big; k++) rest_untouched &= big.b[k] == 0xab;
    CHECK(rest_untouched);
  }
  s.size = sizeof s;
  CHECK_STATUS(kuberef_get_stats(m, &s), KUBEREF_OK);
  CHECK(s.size == sizeof s && s.version == KUBEREF_STATS_VERSION);
  CHECK(s.sets == 0 && s.gets == 0 && s.count == 0);
  before = s;

  fill(m, 100, 4);
  for (i = 0; i < 150; i++) {
    char id[32];
    kuberef_container_id k;
    sprintf(id, "c%d", i);
    k = cid("containerd", id);
    kuberef_get_ref(m, &k, &out, buf, sizeof buf, NULL);
  }
  {
    kuberef_container_id k = cid("containerd", "c1");
    kuberef_clear_ref(m, &k);
    kuberef_clear_ref(m, &k); /* not found: not counted */
  }
  kuberef_clear_pod(m, S("pod-0"), NULL); /* c0, c4, ..., c96: 25 */
  CHECK_STATUS(kuberef_get_stats(m, &s), KUBEREF_OK);
  CHECK(s.sets == 100 && s.gets == 150 && s.hits == 100 && s.misses == 50);
  CHECK(s.clears == 1 && s.pruned == 25 && s.count == 74 && s.count == kuberef_len(m));
  CHECK(s.bytes > before.bytes + 74 * 60);
  kuberef_manager_free(m);
}

int main(void) {
  test_stats();
  return check_finish("test_stats");
}
