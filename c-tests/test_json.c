/* Event JSON from C: kuberef_ref_to_json's buffer protocol and Go's
 * escaping (tests/json-diff compares it with Go itself). Run plain, static,
 * under ASan+UBSan and valgrind. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixtures.h"
#include "memory.h"

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

/* A size query computes the length without building the text: seven
 * 8 MiB fields of '<' (each byte six in JSON, 336 MiB in all) cost no
 * memory to size. */
static void test_size_query_allocates_nothing(void) {
  const size_t big = (size_t)8 << 20;
  char *lt = malloc(big);
  kuberef_object_reference r;
  size_t one = 0, needed = 0;
  long before;
  CHECK(lt != NULL);
  if (lt == NULL) return;
  memset(lt, '<', big);
  r = mkref("n", "u", "f");
  r.kind.ptr = r.namespace_.ptr = r.name.ptr = r.uid.ptr = lt;
  r.api_version.ptr = r.resource_version.ptr = r.field_path.ptr = lt;
  r.kind.len = r.namespace_.len = r.name.len = r.uid.len = 1;
  r.api_version.len = r.resource_version.len = r.field_path.len = 1;
  CHECK_STATUS(kuberef_ref_to_json(&r, NULL, 0, &one), KUBEREF_BUFFER_TOO_SMALL);
  r.kind.len = r.namespace_.len = r.name.len = r.uid.len = big;
  r.api_version.len = r.resource_version.len = r.field_path.len = big;
  if (!reset_peak_rss()) printf("test_json: the peak RSS was not reset\n");
  before = peak_rss_kib();
  CHECK_STATUS(kuberef_ref_to_json(&r, NULL, 0, &needed), KUBEREF_BUFFER_TOO_SMALL);
  CHECK(needed == one + 7 * (big - 1) * 6);
  printf("test_json: sizing %zu bytes of JSON grew the peak RSS by %ld KiB\n", needed,
         peak_rss_kib() - before);
  if (!instrumented()) CHECK(before > 0 && peak_rss_kib() - before < 4096);
  free(lt);
}

int main(void) {
  test_json();
  test_size_query_allocates_nothing();
  return check_finish("test_json");
}
