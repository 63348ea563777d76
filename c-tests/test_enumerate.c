/* Enumeration from C: kuberef_for_each visits every pair once with whole,
 * NUL-terminated views, stops when asked, and holds no lock while the
 * callback runs (it may clear what it is shown). Run plain, static, under
 * ASan+UBSan and valgrind. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixtures.h"

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

/* Any non-zero return stops the enumeration, negative ones included. */
static int stop_with_minus_one(void *ctx, const kuberef_container_id *id,
                               const kuberef_object_reference *r) {
  (void)id;
  (void)r;
  ++*(size_t *)ctx;
  return -1;
}

static void test_negative_return_stops(void) {
  kuberef_manager *m = kuberef_manager_new();
  size_t calls = 0, visited = 999;
  fill(m, 100, 10);
  CHECK_STATUS(kuberef_for_each(m, stop_with_minus_one, &calls, &visited), KUBEREF_OK);
  CHECK(calls == 1 && visited == 1);
  kuberef_manager_free(m);
}

int main(void) {
  test_for_each();
  test_negative_return_stops();
  return check_finish("test_enumerate");
}
