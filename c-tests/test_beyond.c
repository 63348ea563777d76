/* The additions beyond upstream from C: leak control (clear_pod, retain),
 * enumeration (for_each), persistence (save, load and every load status),
 * event JSON and counters; each with its bad-input matrix and the rule that
 * a failed call changes nothing. Run plain, under ASan+UBSan and valgrind. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char dir[64];

static kuberef_container_id cid(const char *type, const char *id) {
  kuberef_container_id c;
  c.type = S(type);
  c.id = S(id);
  return c;
}

static kuberef_object_reference mkref(const char *name, const char *uid, const char *fp) {
  kuberef_object_reference r;
  r.kind = S("Pod");
  r.namespace_ = S("default");
  r.name = S(name);
  r.uid = S(uid);
  r.api_version = S("v1");
  r.resource_version = S("7");
  r.field_path = S(fp);
  return r;
}

/* Stores n refs "c<i>" with uid "pod-<i % pods>". */
static void fill(kuberef_manager *m, int n, int pods) {
  char id[32], uid[32], name[32];
  int i;
  for (i = 0; i < n; i++) {
    kuberef_container_id k;
    kuberef_object_reference r;
    sprintf(id, "c%d", i);
    sprintf(uid, "pod-%d", i % pods);
    sprintf(name, "name-%d", i);
    k = cid("containerd", id);
    r = mkref(name, uid, "spec.containers{app}");
    kuberef_set_ref(m, &k, &r);
  }
}

static int has(const kuberef_manager *m, const char *id) {
  kuberef_container_id k = cid("containerd", id);
  kuberef_object_reference out;
  char buf[256];
  return kuberef_get_ref(m, &k, &out, buf, sizeof buf, NULL) == KUBEREF_OK;
}

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

static int same_contents(kuberef_manager *a, kuberef_manager *b) {
  /* Same length, and every ref of a is in b with the same bytes. */
  char ba[512], bb[512];
  int i;
  if (kuberef_len(a) != kuberef_len(b)) return 0;
  memset(ba, 0, sizeof ba);
  memset(bb, 0, sizeof bb);
  for (i = 0; i < 2000; i++) {
    char id[32];
    kuberef_container_id k;
    kuberef_object_reference ra, rb;
    kuberef_status sa, sb;
    sprintf(id, "c%d", i);
    k = cid("containerd", id);
    sa = kuberef_get_ref(a, &k, &ra, ba, sizeof ba, NULL);
    sb = kuberef_get_ref(b, &k, &rb, bb, sizeof bb, NULL);
    if (sa != sb) return 0;
    if (sa == KUBEREF_OK && memcmp(ba, bb, sizeof ba) != 0) return 0;
  }
  return 1;
}

static void path_in(char *out, const char *name) { sprintf(out, "%s/%s", dir, name); }

static void write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) { perror(path); exit(2); }
  if (n) fwrite(data, 1, n, f);
  fclose(f);
}

static void test_save_load(void) {
  kuberef_manager *a = kuberef_manager_new(), *b = kuberef_manager_new();
  char path[128], tmp[160], missing[128];
  struct stat st;
  size_t n = 555;
  kuberef_str bad = {NULL, 1};
  char with_nul[] = "a\0b";
  kuberef_str nul_path;
  nul_path.ptr = with_nul;
  nul_path.len = 3;
  path_in(path, "refs");
  path_in(missing, "no-such-dir/refs");
  sprintf(tmp, "%s.kuberef-tmp", path);
  fill(a, 1500, 7);

  /* Bad input. */
  CHECK_STATUS(kuberef_save(NULL, S(path), &n), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_save(a, bad, &n), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_save(a, S(""), &n), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_save(a, nul_path, &n), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_save(a, S(missing), &n), KUBEREF_IO_ERROR);
  CHECK(n == 555 && stat(path, &st) != 0);
  CHECK_STATUS(kuberef_load(NULL, S(path), 0, &n), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_load(b, bad, 0, &n), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_load(b, S(path), 2, &n), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_load(b, S(path), 0, &n), KUBEREF_FILE_NOT_FOUND);
  CHECK_STATUS(kuberef_load(b, S(dir), 0, &n), KUBEREF_IO_ERROR); /* a directory */
  CHECK(n == 555 && kuberef_len(b) == 0);

  /* Round trip; mode 0600; no temporary file left. */
  CHECK_STATUS(kuberef_save(a, S(path), &n), KUBEREF_OK);
  CHECK(n == 1500);
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  CHECK(stat(tmp, &st) != 0);
  CHECK_STATUS(kuberef_load(b, S(path), 0, &n), KUBEREF_OK);
  CHECK(n == 1500 && same_contents(a, b));

  /* Merge keeps other refs; replace does not. */
  {
    kuberef_container_id k = cid("containerd", "extra");
    kuberef_object_reference r = mkref("x", "y", "z");
    kuberef_set_ref(b, &k, &r);
    CHECK_STATUS(kuberef_load(b, S(path), 0, NULL), KUBEREF_OK);
    CHECK(kuberef_len(b) == 1501);
    CHECK_STATUS(kuberef_load(b, S(path), KUBEREF_LOAD_REPLACE, &n), KUBEREF_OK);
    CHECK(n == 1500 && kuberef_len(b) == 1500 && same_contents(a, b));
  }

  /* Every kind of bad file: its own status, and b is unchanged. */
  {
    FILE *f = fopen(path, "rb");
    long size;
    unsigned char *good;
    unsigned char *copy;
    char other[128];
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    good = (unsigned char *)malloc((size_t)size);
    copy = (unsigned char *)malloc((size_t)size + 1);
    CHECK(fread(good, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    path_in(other, "bad");

    write_bytes(other, "", 0);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_TRUNCATED);
    write_bytes(other, "{\"kind\":\"Pod\"} this is JSON, not ours", 37);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_FOREIGN);
    memcpy(copy, good, (size_t)size);
    copy[8] = 9; /* version 9 */
    write_bytes(other, copy, (size_t)size);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_VERSION);
    write_bytes(other, good, (size_t)size - 1);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_TRUNCATED);
    write_bytes(other, good, (size_t)size / 2);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_TRUNCATED);
    write_bytes(other, good, 20);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_TRUNCATED);
    memcpy(copy, good, (size_t)size);
    copy[size / 2] ^= 1; /* one bit in a record */
    write_bytes(other, copy, (size_t)size);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_CORRUPT);
    memcpy(copy, good, (size_t)size);
    copy[16] ^= 1; /* the count, in the header */
    write_bytes(other, copy, (size_t)size);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_CORRUPT);
    memcpy(copy, good, (size_t)size);
    copy[size] = 0; /* one byte too many */
    write_bytes(other, copy, (size_t)size + 1);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_CORRUPT);
    CHECK(n == 1500 && same_contents(a, b));
    unlink(other);
    free(good);
    free(copy);
  }

  /* Saving over a file replaces it (still 0600, even if it was 0644). */
  chmod(path, 0644);
  kuberef_clear_pod(a, S("pod-0"), NULL);
  CHECK_STATUS(kuberef_save(a, S(path), &n), KUBEREF_OK);
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  CHECK_STATUS(kuberef_load(b, S(path), KUBEREF_LOAD_REPLACE, &n), KUBEREF_OK);
  CHECK(n == kuberef_len(a) && same_contents(a, b));
  unlink(path);
  kuberef_manager_free(a);
  kuberef_manager_free(b);
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
  sprintf(dir, "/tmp/kuberef-test-beyond-XXXXXX");
  if (mkdtemp(dir) == NULL) { perror("mkdtemp"); return 2; }
  test_clear_pod();
  test_retain();
  test_for_each();
  test_save_load();
  test_json();
  test_stats();
  CHECK(strcmp(kuberef_status_message(KUBEREF_FILE_CORRUPT), kuberef_status_message(1000)) != 0);
  {
    kuberef_status codes[] = {KUBEREF_IO_ERROR, KUBEREF_FILE_NOT_FOUND, KUBEREF_FILE_FOREIGN,
                              KUBEREF_FILE_VERSION, KUBEREF_FILE_TRUNCATED, KUBEREF_FILE_CORRUPT};
    size_t i, j;
    CHECK(KUBEREF_IO_ERROR == 7 && KUBEREF_FILE_NOT_FOUND == 8 && KUBEREF_FILE_FOREIGN == 9 &&
          KUBEREF_FILE_VERSION == 10 && KUBEREF_FILE_TRUNCATED == 11 && KUBEREF_FILE_CORRUPT == 12);
    for (i = 0; i < 6; i++)
      for (j = 0; j <= 12; j++)
        if (j != codes[i]) CHECK(strcmp(kuberef_status_message(codes[i]), kuberef_status_message((uint32_t)j)) != 0);
  }
  rmdir(dir);
  return check_finish("test_beyond");
}
