/* Leak control from C: kuberef_clear_pod and kuberef_retain, each with its
 * bad-input matrix and the rule that a failed call removes nothing. Run
 * plain, static, under ASan+UBSan and valgrind. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixtures.h"

static void test_clear_pod(void) {
  kuberef_manager *m = kuberef_manager_new();
  kuberef_str bad = {NULL, 3};
  size_t removed = 12345;
  fill(m, 300, 3);

  CHECK_STATUS(kuberef_clear_pod(NULL, S("pod-1"), &removed), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_clear_pod(m, bad, &removed), KUBEREF_INVALID_ARGUMENT);
  CHECK(removed == 12345 && kuberef_len(m) == 300);

  CHECK_STATUS(kuberef_clear_pod(m, S("pod-1"), &removed), KUBEREF_OK);
  CHECK(removed == 100 && kuberef_len(m) == 200);
  CHECK(has(m, "c0") && !has(m, "c1") && has(m, "c2") && !has(m, "c4"));
  CHECK_STATUS(kuberef_clear_pod(m, S("pod-1"), &removed), KUBEREF_OK);
  CHECK(removed == 0);
  CHECK_STATUS(kuberef_clear_pod(m, S("pod-"), &removed), KUBEREF_OK);
  CHECK(removed == 0); /* the whole uid must match */
  CHECK_STATUS(kuberef_clear_pod(m, S("pod-2"), NULL), KUBEREF_OK); /* count optional */
  CHECK(kuberef_len(m) == 100);
  kuberef_manager_free(m);
}

static void test_retain(void) {
  kuberef_manager *m = kuberef_manager_new();
  kuberef_container_id live[4];
  size_t removed = 777;
  fill(m, 50, 5);
  live[0] = cid("containerd", "c3");
  live[1] = cid("containerd", "c7");
  live[2] = cid("containerd", "no-such-container");
  live[3] = cid("docker", "c9"); /* another runtime: a different key */

  CHECK_STATUS(kuberef_retain(NULL, live, 4, &removed), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_retain(m, NULL, 4, &removed), KUBEREF_INVALID_ARGUMENT);
  live[3].id.ptr = NULL; /* one bad view anywhere: nothing is removed */
  CHECK_STATUS(kuberef_retain(m, live, 4, &removed), KUBEREF_INVALID_ARGUMENT);
  CHECK(removed == 777 && kuberef_len(m) == 50);
  live[3] = cid("docker", "c9");

  CHECK_STATUS(kuberef_retain(m, live, 4, &removed), KUBEREF_OK);
  CHECK(removed == 48 && kuberef_len(m) == 2);
  CHECK(has(m, "c3") && has(m, "c7") && !has(m, "c9"));
  CHECK_STATUS(kuberef_retain(m, live, 4, &removed), KUBEREF_OK);
  CHECK(removed == 0 && kuberef_len(m) == 2);
  CHECK_STATUS(kuberef_retain(m, NULL, 0, &removed), KUBEREF_OK); /* nothing is live */
  CHECK(removed == 2 && kuberef_len(m) == 0);
  kuberef_manager_free(m);
}

int main(void) {
  test_clear_pod();
  test_retain();
  return check_finish("test_prune");
}
