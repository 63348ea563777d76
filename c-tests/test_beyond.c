/* The additions beyond upstream from C: leak control (clear_pod, retain),
 * enumeration (for_each), event JSON and counters; each with its bad-input
 * matrix and the rule that a failed call changes nothing. Persistence is in
 * test_persist.c. Run plain, under ASan+UBSan and valgrind. */
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

struct visit_state {
  kuberef_manager *m;
  size_t calls, bad, stop_after;
  int clear_while_visiting;
};

static int visit(void *ctx, const kuberef_container_id *id, const kuberef_object_reference *r) {
  struct visit_state *st = (struct visit_state *)ctx;
  int n;
  char want[32];
  st->calls++;
  /* Views are NUL-terminated and whole. */
  if (id->type.ptr[id->type.len] != '\0' || id->id.ptr[id->id.len] != '\0' ||
      r->field_path.ptr[r->field_path.len] != '\0')
    st->bad++;
  if (sscanf(id->id.ptr, "c%d", &n) != 1) {
    st->bad++;
  } else {
    sprintf(want, "name-%d", n);
    if (!str_eq(r->name, want) || !str_eq(r->kind, "Pod")) st->bad++;
  }
  /* No lock is held: calling back into the same manager works. */
  if (st->clear_while_visiting && kuberef_clear_ref(st->m, id) != KUBEREF_OK) st->bad++;
  return st->stop_after != 0 && st->calls >= st->stop_after;
}

static void test_for_each(void) {
  kuberef_manager *m = kuberef_manager_new();
  struct visit_state st;
  size_t visited = 999;
  fill(m, 1000, 10);

  memset(&st, 0, sizeof st);
  st.m = m;
  CHECK_STATUS(kuberef_for_each(NULL, visit, &st, &visited), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_for_each(m, NULL, &st, &visited), KUBEREF_NULL_ARGUMENT);
  CHECK(visited == 999 && st.calls == 0);

  CHECK_STATUS(kuberef_for_each(m, visit, &st, &visited), KUBEREF_OK);
  CHECK(visited == 1000 && st.calls == 1000 && st.bad == 0);

  memset(&st, 0, sizeof st);
  st.stop_after = 10;
  CHECK_STATUS(kuberef_for_each(m, visit, &st, &visited), KUBEREF_OK);
  CHECK(visited == 10 && st.calls == 10);

  memset(&st, 0, sizeof st);
  st.m = m;
  st.clear_while_visiting = 1;
  CHECK_STATUS(kuberef_for_each(m, visit, &st, NULL), KUBEREF_OK);
  CHECK(st.calls == 1000 && st.bad == 0 && kuberef_len(m) == 0);

  memset(&st, 0, sizeof st);
  CHECK_STATUS(kuberef_for_each(m, visit, &st, &visited), KUBEREF_OK);
  CHECK(visited == 0 && st.calls == 0);
  kuberef_manager_free(m);
}

static void test_json(void) {
  kuberef_object_reference r = mkref("web-0", "u-1", "spec.containers{app}");
  kuberef_object_reference empty;
  const char *want =
      "{\"kind\":\"Pod\",\"namespace\":\"default\",\"name\":\"web-0\",\"uid\":\"u-1\","
      "\"apiVersion\":\"v1\",\"resourceVersion\":\"7\",\"fieldPath\":\"spec.containers{app}\"}";
  char buf[512];
  size_t needed = 0;
  memset(&empty, 0, sizeof empty);

  CHECK_STATUS(kuberef_ref_to_json(NULL, buf, sizeof buf, &needed), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_ref_to_json(&r, NULL, 5, &needed), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_ref_to_json(&r, NULL, 0, &needed), KUBEREF_BUFFER_TOO_SMALL);
  CHECK(needed == strlen(want) + 1);
  memset(buf, 'x', sizeof buf);
  CHECK_STATUS(kuberef_ref_to_json(&r, buf, needed - 1, &needed), KUBEREF_BUFFER_TOO_SMALL);
  CHECK(buf[0] == 'x'); /* untouched */
  CHECK_STATUS(kuberef_ref_to_json(&r, buf, needed, &needed), KUBEREF_OK);
  CHECK(strcmp(buf, want) == 0);
  CHECK_STATUS(kuberef_ref_to_json(&empty, buf, sizeof buf, NULL), KUBEREF_OK);
  CHECK(strcmp(buf, "{}") == 0);

  /* Go's escaping (the differential test in tests/json-diff covers much more). */
  {
    kuberef_object_reference e;
    static const char name[] = "<a&b>\"\\\n\x01\x7f\xe2\x80\xa8\xff";
    memset(&e, 0, sizeof e);
    e.name.ptr = name;
    e.name.len = sizeof name - 1;
    CHECK_STATUS(kuberef_ref_to_json(&e, buf, sizeof buf, NULL), KUBEREF_OK);
    CHECK(strcmp(buf, "{\"name\":\"\\u003ca\\u0026b\\u003e\\\"\\\\\\n\\u0001\x7f\\u2028\\ufffd\"}") == 0);
    e.uid.ptr = NULL;
    e.uid.len = 1;
    CHECK_STATUS(kuberef_ref_to_json(&e, buf, sizeof buf, NULL), KUBEREF_INVALID_ARGUMENT);
  }
}

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
  test_clear_pod();
  test_retain();
  test_for_each();
  test_json();
  test_stats();
  return check_finish("test_beyond");
}
