/* Every function of ABI 1 from C: upstream cases, the buffer protocol and
 * the bad-input matrix. Built with -std=c99 -Wall -Wextra -Werror -pedantic
 * and run plain, under ASan+UBSan and under valgrind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static kuberef_container_id cid(const char *type, const char *id) {
  kuberef_container_id c;
  c.type = S(type);
  c.id = S(id);
  return c;
}

static kuberef_object_reference mkref(const char *name, const char *fp) {
  kuberef_object_reference r;
  r.kind = S("Pod");
  r.namespace_ = S("test-ns");
  r.name = S(name);
  r.uid = S("7d0b5a3c-2f55-4f6e-9d52-3c1d6b0c1a11");
  r.api_version = S("v1");
  r.resource_version = S("42");
  r.field_path = S(fp);
  return r;
}

static kuberef_object_reference sentinel_out(void) {
  kuberef_object_reference r;
  memset(&r, 0xA5, sizeof r);
  return r;
}

static int untouched(const kuberef_object_reference *r) {
  kuberef_object_reference s = sentinel_out();
  return memcmp(r, &s, sizeof s) == 0;
}

/* GetRef into a fresh buffer; returns the status, fills *out and buf. */
static kuberef_status get(const kuberef_manager *m, kuberef_container_id id,
                          kuberef_object_reference *out, char *buf, size_t len) {
  return kuberef_get_ref(m, &id, out, buf, len, NULL);
}

static void test_versions_and_messages(void) {
  kuberef_status codes[] = {KUBEREF_OK, KUBEREF_NOT_FOUND, KUBEREF_NULL_ARGUMENT,
                            KUBEREF_INVALID_ARGUMENT, KUBEREF_BUFFER_TOO_SMALL,
                            KUBEREF_INVALID_CONTAINER_ID, KUBEREF_PANIC};
  size_t i, j;
  CHECK(kuberef_abi_version() == KUBEREF_ABI_VERSION);
  CHECK(KUBEREF_ABI_VERSION == 1);
  CHECK(kuberef_version() != NULL && strlen(kuberef_version()) > 0);
  /* The numbers are the contract. */
  CHECK(KUBEREF_OK == 0 && KUBEREF_NOT_FOUND == 1 && KUBEREF_NULL_ARGUMENT == 2 &&
        KUBEREF_INVALID_ARGUMENT == 3 && KUBEREF_BUFFER_TOO_SMALL == 4 &&
        KUBEREF_INVALID_CONTAINER_ID == 5 && KUBEREF_PANIC == 6);
  CHECK(KUBEREF_GENERATE_EPHEMERAL_CONTAINERS == 1u);
  for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *msg = kuberef_status_message(codes[i]);
    CHECK(msg != NULL && strlen(msg) > 0);
    for (j = 0; j < i; j++) CHECK(strcmp(msg, kuberef_status_message(codes[j])) != 0);
  }
  /* 7..14 are the persistence statuses (test_persist.c). */
  CHECK(strcmp(kuberef_status_message(1000), kuberef_status_message(0xFFFFFFFFu)) == 0);
  CHECK(strcmp(kuberef_status_message(1000), kuberef_status_message(KUBEREF_OK)) != 0);
}

static void test_managers(void) {
  kuberef_manager *g = kuberef_global();
  kuberef_manager *a = kuberef_manager_new();
  kuberef_manager *b = kuberef_manager_new();
  kuberef_container_id id = cid("containerd", "only-in-a");
  kuberef_object_reference r = mkref("ok", "spec.containers{app}"), out;
  char buf[512];

  CHECK(g != NULL && g == kuberef_global());
  CHECK(a != NULL && b != NULL && a != b && a != g);
  CHECK(kuberef_len(a) == 0 && kuberef_len(NULL) == 0);
  CHECK_STATUS(kuberef_set_ref(a, &id, &r), KUBEREF_OK);
  CHECK(kuberef_len(a) == 1 && kuberef_len(b) == 0);
  CHECK_STATUS(get(b, id, &out, buf, sizeof buf), KUBEREF_NOT_FOUND);
  CHECK_STATUS(get(g, id, &out, buf, sizeof buf), KUBEREF_NOT_FOUND);

  /* The global manager survives a free and keeps its contents. */
  CHECK_STATUS(kuberef_set_ref(g, &id, &r), KUBEREF_OK);
  kuberef_manager_free(g);
  kuberef_manager_free(NULL);
  CHECK(kuberef_global() == g);
  CHECK_STATUS(get(g, id, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STATUS(kuberef_clear_ref(g, &id), KUBEREF_OK);
  CHECK(kuberef_len(g) == 0);

  kuberef_manager_free(a); /* frees the stored reference too (valgrind checks) */
  kuberef_manager_free(b);
}

static void test_set_get_clear(void) {
  kuberef_manager *m = kuberef_manager_new();
  kuberef_container_id id = cid("containerd", "4f2b8d1e9c0a");
  kuberef_object_reference r = mkref("ok", "spec.containers{by-name}"), out;
  char buf[512];

  CHECK_STATUS(get(m, id, &out, buf, sizeof buf), KUBEREF_NOT_FOUND);
  CHECK_STATUS(kuberef_set_ref(m, &id, &r), KUBEREF_OK);
  CHECK(kuberef_len(m) == 1);
  CHECK_STATUS(get(m, id, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STR(out.kind, "Pod");
  CHECK_STR(out.namespace_, "test-ns");
  CHECK_STR(out.name, "ok");
  CHECK_STR(out.uid, "7d0b5a3c-2f55-4f6e-9d52-3c1d6b0c1a11");
  CHECK_STR(out.api_version, "v1");
  CHECK_STR(out.resource_version, "42");
  CHECK_STR(out.field_path, "spec.containers{by-name}");
  CHECK(out.kind.ptr >= buf && out.field_path.ptr < buf + sizeof buf);

  /* SetRef copies: changing the caller's bytes afterwards changes nothing. */
  {
    char name[] = "mutable";
    kuberef_object_reference r2 = mkref("x", "p");
    r2.name.ptr = name;
    r2.name.len = strlen(name);
    CHECK_STATUS(kuberef_set_ref(m, &id, &r2), KUBEREF_OK);
    name[0] = 'X';
    CHECK_STATUS(get(m, id, &out, buf, sizeof buf), KUBEREF_OK);
    CHECK_STR(out.name, "mutable");
    CHECK(kuberef_len(m) == 1); /* overwrite, not a second entry */
  }

  CHECK_STATUS(kuberef_clear_ref(m, &id), KUBEREF_OK);
  CHECK_STATUS(kuberef_clear_ref(m, &id), KUBEREF_NOT_FOUND);
  CHECK_STATUS(get(m, id, &out, buf, sizeof buf), KUBEREF_NOT_FOUND);
  CHECK(kuberef_len(m) == 0);
  kuberef_manager_free(m);
}

static void test_keys_are_bytes(void) {
  kuberef_manager *m = kuberef_manager_new();
  /* {"a","bc"} and {"ab","c"} differ; embedded NULs count; "" is a key. */
  kuberef_container_id ids[7];
  const char *names[7] = {"0", "1", "2", "3", "4", "5", "6"};
  kuberef_object_reference out;
  char buf[256];
  size_t i;
  ids[0] = cid("a", "bc");
  ids[1] = cid("ab", "c");
  ids[2] = cid("", "");
  ids[3] = cid("docker", "abc");
  ids[4] = cid("containerd", "abc");
  ids[5].type.ptr = "a\0b";
  ids[5].type.len = 3;
  ids[5].id = S("c");
  ids[6].type.ptr = "a\0b";
  ids[6].type.len = 2;
  ids[6].id.ptr = "\0bc";
  ids[6].id.len = 3;
  for (i = 0; i < 7; i++) {
    kuberef_object_reference r = mkref(names[i], "f");
    CHECK_STATUS(kuberef_set_ref(m, &ids[i], &r), KUBEREF_OK);
  }
  CHECK(kuberef_len(m) == 7);
  for (i = 0; i < 7; i++) {
    CHECK_STATUS(kuberef_get_ref(m, &ids[i], &out, buf, sizeof buf, NULL), KUBEREF_OK);
    CHECK_STR(out.name, names[i]);
  }
  {
    kuberef_container_id a = cid("a", "b"); /* prefix of ids[5]'s type */
    CHECK_STATUS(get(m, a, &out, buf, sizeof buf), KUBEREF_NOT_FOUND);
  }
  kuberef_manager_free(m);
}

static void test_buffer_protocol(void) {
  kuberef_manager *m = kuberef_manager_new();
  kuberef_container_id id = cid("containerd", "buf");
  kuberef_object_reference r = mkref("ok", "spec.containers[1]"), out;
  kuberef_object_reference empty;
  size_t needed = 0, want, i;
  char *buf;

  want = 3 + 7 + 2 + 36 + 2 + 2 + 18 + 7; /* seven fields and seven NULs */
  CHECK_STATUS(kuberef_set_ref(m, &id, &r), KUBEREF_OK);
  out = sentinel_out();
  CHECK_STATUS(kuberef_get_ref(m, &id, &out, NULL, 0, &needed), KUBEREF_BUFFER_TOO_SMALL);
  CHECK(needed == want);
  CHECK(untouched(&out));

  buf = (char *)malloc(want);
  memset(buf, 'Z', want);
  needed = 0;
  CHECK_STATUS(kuberef_get_ref(m, &id, &out, buf, want - 1, &needed), KUBEREF_BUFFER_TOO_SMALL);
  CHECK(needed == want && untouched(&out));
  for (i = 0; i < want; i++) CHECK(buf[i] == 'Z'); /* nothing written */
  needed = 0;
  CHECK_STATUS(kuberef_get_ref(m, &id, &out, buf, want, &needed), KUBEREF_OK);
  CHECK(needed == want);
  CHECK_STR(out.field_path, "spec.containers[1]");
  CHECK(buf[want - 1] == '\0');
  free(buf);

  /* Empty fields get a non-NULL pointer to a NUL inside buf. */
  memset(&empty, 0, sizeof empty);
  CHECK_STATUS(kuberef_set_ref(m, &id, &empty), KUBEREF_OK);
  {
    char small[7];
    CHECK_STATUS(kuberef_get_ref(m, &id, &out, small, sizeof small, &needed), KUBEREF_OK);
    CHECK(needed == 7);
    CHECK(out.kind.ptr == small && out.kind.len == 0 && out.kind.ptr[0] == '\0');
    CHECK(out.field_path.ptr == small + 6 && out.field_path.len == 0);
    CHECK(out.namespace_.ptr != NULL && out.uid.ptr != NULL);
  }
  /* A miss does not look at the buffer at all. */
  {
    kuberef_container_id other = cid("containerd", "missing");
    needed = 12345;
    CHECK_STATUS(kuberef_get_ref(m, &other, &out, NULL, 0, &needed), KUBEREF_NOT_FOUND);
  }
  kuberef_manager_free(m);
}

static void test_bad_input(void) {
  kuberef_manager *m = kuberef_manager_new();
  kuberef_container_id id = cid("containerd", "keep"), bad_id;
  kuberef_object_reference r = mkref("ok", "spec.containers{c}"), bad_ref, out;
  kuberef_str null_view;
  char buf[512];
  size_t i, needed;

  null_view.ptr = NULL;
  null_view.len = 1;
  CHECK_STATUS(kuberef_set_ref(m, &id, &r), KUBEREF_OK);

  /* NULL pointers. */
  CHECK_STATUS(kuberef_set_ref(NULL, &id, &r), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_set_ref(m, NULL, &r), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_set_ref(m, &id, NULL), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_get_ref(NULL, &id, &out, buf, sizeof buf, NULL), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_get_ref(m, NULL, &out, buf, sizeof buf, NULL), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_get_ref(m, &id, NULL, buf, sizeof buf, NULL), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_clear_ref(NULL, &id), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_clear_ref(m, NULL), KUBEREF_NULL_ARGUMENT);

  /* A view with ptr == NULL and len > 0, in each key part and each field. */
  bad_id = id;
  bad_id.type = null_view;
  CHECK_STATUS(kuberef_set_ref(m, &bad_id, &r), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_get_ref(m, &bad_id, &out, buf, sizeof buf, NULL), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_clear_ref(m, &bad_id), KUBEREF_INVALID_ARGUMENT);
  bad_id = id;
  bad_id.id = null_view;
  CHECK_STATUS(kuberef_set_ref(m, &bad_id, &r), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_clear_ref(m, &bad_id), KUBEREF_INVALID_ARGUMENT);
  for (i = 0; i < 7; i++) {
    kuberef_str *fields = (kuberef_str *)&bad_ref;
    bad_ref = mkref("changed", "changed");
    fields[i] = null_view;
    CHECK_STATUS(kuberef_set_ref(m, &id, &bad_ref), KUBEREF_INVALID_ARGUMENT);
  }
  /* Strings over the documented limit (never read: the length is checked first). */
  bad_ref = mkref("changed", "changed");
  bad_ref.uid.len = (size_t)KUBEREF_MAX_STR_LEN + 1;
  CHECK_STATUS(kuberef_set_ref(m, &id, &bad_ref), KUBEREF_INVALID_ARGUMENT);
  bad_id = id;
  bad_id.id.len = (size_t)-1;
  CHECK_STATUS(kuberef_set_ref(m, &bad_id, &r), KUBEREF_INVALID_ARGUMENT);
  /* buf NULL with buf_len > 0. */
  out = sentinel_out();
  CHECK_STATUS(kuberef_get_ref(m, &id, &out, NULL, 10, &needed), KUBEREF_INVALID_ARGUMENT);
  CHECK(untouched(&out));

  /* The manager is exactly as before. */
  CHECK(kuberef_len(m) == 1);
  CHECK_STATUS(get(m, id, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STR(out.name, "ok");
  CHECK_STR(out.field_path, "spec.containers{c}");
  kuberef_manager_free(m);
}

static void test_big_strings(void) {
  /* 16 MiB strings round-trip; nothing crashes. */
  kuberef_manager *m = kuberef_manager_new();
  size_t big = (size_t)16 << 20, needed = 0;
  char *s = (char *)malloc(big), *buf;
  kuberef_container_id id;
  kuberef_object_reference r = mkref("ok", "f"), out;
  memset(s, 'q', big);
  id.type = S("containerd");
  id.id.ptr = s;
  id.id.len = big;
  r.name.ptr = s;
  r.name.len = big;
  CHECK_STATUS(kuberef_set_ref(m, &id, &r), KUBEREF_OK);
  CHECK_STATUS(kuberef_get_ref(m, &id, &out, NULL, 0, &needed), KUBEREF_BUFFER_TOO_SMALL);
  CHECK(needed == big + 3 + 7 + 36 + 2 + 2 + 1 + 7);
  buf = (char *)malloc(needed);
  CHECK_STATUS(kuberef_get_ref(m, &id, &out, buf, needed, NULL), KUBEREF_OK);
  CHECK(out.name.len == big && memcmp(out.name.ptr, s, big) == 0 && out.name.ptr[big] == '\0');
  CHECK_STATUS(kuberef_clear_ref(m, &id), KUBEREF_OK);
  free(buf);
  free(s);
  kuberef_manager_free(m);
}

static void test_strings_at_the_limit(void) {
  /* The limit is inclusive: a field or an ID of exactly KUBEREF_MAX_STR_LEN
   * bytes is accepted by every export that takes one; a byte more is not. */
  kuberef_manager *m = kuberef_manager_new();
  size_t max = (size_t)KUBEREF_MAX_STR_LEN;
  char *s = (char *)malloc(max);
  kuberef_container_id id;
  kuberef_object_reference r = mkref("ok", "f");
  uint64_t stamp = 0;
  memset(s, 'm', max);
  id.type = S("containerd");
  id.id = S("at-the-limit");
  r.uid.ptr = s;
  r.uid.len = max;
  CHECK_STATUS(kuberef_set_ref(m, &id, &r), KUBEREF_OK);
  CHECK_STATUS(kuberef_get_stamp(m, &id, &stamp), KUBEREF_OK);
  CHECK(kuberef_len(m) == 1);
  id.id.ptr = s;
  id.id.len = max;
  CHECK_STATUS(kuberef_clear_ref(m, &id), KUBEREF_NOT_FOUND);
  r.uid.len = max + 1;
  id.id = S("over-the-limit");
  CHECK_STATUS(kuberef_set_ref(m, &id, &r), KUBEREF_INVALID_ARGUMENT);
  CHECK(kuberef_len(m) == 1);
  free(s);
  kuberef_manager_free(m);
}

/* Whether view v lies inside view in (both non-empty). */
static int inside(kuberef_str v, kuberef_str in) {
  return v.len > 0 && in.len > 0 && v.ptr >= in.ptr && v.ptr + v.len <= in.ptr + in.len;
}

/* The borrowed generate of the same call gave b (fields in bbuf, *needed
 * bytes): the same bytes as the copying one's out, each field a view of the
 * pod's own field, of a constant, or of bbuf (then NUL-terminated). */
static void check_borrowed(const kuberef_pod *pod, const kuberef_object_reference *out,
                           const kuberef_object_reference *b, const char *bbuf, size_t needed) {
  const kuberef_str *want = (const kuberef_str *)out, *got = (const kuberef_str *)b;
  const kuberef_str in[7] = {pod->kind, pod->namespace_, pod->name, pod->uid,
                             pod->api_version, pod->resource_version, {NULL, 0}};
  kuberef_str all;
  size_t i, written = 0;
  all.ptr = bbuf;
  all.len = needed;
  for (i = 0; i < 7; i++) {
    CHECK(got[i].len == want[i].len && (got[i].len == 0 || memcmp(got[i].ptr, want[i].ptr, got[i].len) == 0));
    if (got[i].len == 0) continue;
    if (inside(got[i], all)) {
      CHECK(got[i].ptr[got[i].len] == '\0');
      written += got[i].len + 1;
    } else if (i == 0 && !inside(got[i], in[i])) {
      CHECK(got[i].len == 3 && memcmp(got[i].ptr, "Pod", 3) == 0); /* the scheme's constant */
    } else if (i == 4 && !inside(got[i], in[i])) {
      CHECK(got[i].len == 2 && memcmp(got[i].ptr, "v1", 2) == 0);
    } else {
      CHECK(i < 6 && inside(got[i], in[i])); /* the pod's own bytes */
    }
  }
  CHECK(inside(b->field_path, all) || (b->field_path.len == 0 && needed >= 1));
  CHECK(written + (b->field_path.len == 0) == needed);
}

/* Generates into a fixed buffer; returns the status. The borrowed variant
 * runs too, with the same arguments, and must agree (see check_borrowed). */
static kuberef_status gen(const kuberef_pod *pod, const char *container, uint32_t flags,
                          kuberef_object_reference *out, char *buf, size_t len) {
  kuberef_object_reference b = sentinel_out();
  char bbuf[512];
  size_t needed = 0;
  kuberef_status s = kuberef_generate_container_ref(pod, S(container), flags, out, buf, len, NULL);
  kuberef_status sb = kuberef_generate_container_ref_borrowed(pod, S(container), flags, out ? &b : NULL,
                                                              buf ? bbuf : NULL, buf ? sizeof bbuf : len, &needed);
  if (s == KUBEREF_OK) {
    CHECK_STATUS(sb, KUBEREF_OK);
    if (sb == KUBEREF_OK) check_borrowed(pod, out, &b, bbuf, needed);
  } else if (s != KUBEREF_BUFFER_TOO_SMALL) {
    CHECK_STATUS(sb, s);
    CHECK(untouched(&b));
  }
  return s;
}

static kuberef_pod mkpod(const char *kind, const char *api_version) {
  kuberef_pod p;
  memset(&p, 0, sizeof p);
  p.kind = S(kind);
  p.api_version = S(api_version);
  p.namespace_ = S("test-ns");
  p.name = S("ok");
  p.uid = S("bar");
  p.resource_version = S("42");
  return p;
}

/* ref_test.go TestFieldPath, through the public function: the pod has
 * containers foo, bar, "", baz and empty metadata. */
static void test_upstream_field_path(void) {
  kuberef_str cs[4];
  kuberef_pod p;
  kuberef_object_reference out;
  char buf[256];
  memset(&p, 0, sizeof p);
  cs[0] = S("foo");
  cs[1] = S("bar");
  cs[2] = S("");
  cs[3] = S("baz");
  p.containers = cs;
  p.containers_len = 4;
  CHECK_STATUS(gen(&p, "foo", 0, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STR(out.field_path, "spec.containers{foo}");
  CHECK_STATUS(gen(&p, "baz", 0, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STR(out.field_path, "spec.containers{baz}");
  CHECK_STATUS(gen(&p, "", 0, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STR(out.field_path, "spec.containers[2]");
  /* basicSamePointer: the name view points into the pod's own array. */
  CHECK_STATUS(kuberef_generate_container_ref(&p, cs[0], 0, &out, buf, sizeof buf, NULL), KUBEREF_OK);
  CHECK_STR(out.field_path, "spec.containers{foo}");
  /* missing: fieldPath fails upstream, GenerateContainerRef falls back. */
  CHECK_STATUS(gen(&p, "qux", 0, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STR(out.field_path, "implicitly required container qux");
  /* Empty TypeMeta: the scheme fallback. */
  CHECK_STR(out.kind, "Pod");
  CHECK_STR(out.api_version, "v1");
  CHECK_STR(out.name, "");
}

/* ref_test.go TestGenerateContainerRef (v1.16-v1.23 form), with the real
 * field paths (the test's own ".spec..." expectations are never compared). */
static void test_upstream_generate(void) {
  kuberef_str cs[2];
  kuberef_pod p = mkpod("Pod", "v1");
  kuberef_object_reference out;
  char buf[256];
  const char *cases[3][2] = {{"by-name", "spec.containers{by-name}"},
                             {"", "spec.containers[1]"},
                             {"net", "implicitly required container net"}};
  size_t i;
  cs[0] = S("by-name");
  cs[1] = S("");
  p.containers = cs;
  p.containers_len = 2;
  for (i = 0; i < 3; i++) {
    CHECK_STATUS(gen(&p, cases[i][0], 0, &out, buf, sizeof buf), KUBEREF_OK);
    CHECK_STR(out.kind, "Pod");
    CHECK_STR(out.api_version, "v1");
    CHECK_STR(out.name, "ok");
    CHECK_STR(out.namespace_, "test-ns");
    CHECK_STR(out.uid, "bar");
    CHECK_STR(out.resource_version, "42");
    CHECK_STR(out.field_path, cases[i][1]);
  }
}

static void test_generate_lists_and_gate(void) {
  kuberef_str cs[2], init[3], eph[3];
  kuberef_pod p = mkpod("Pod", "v1");
  kuberef_object_reference out;
  char buf[256];
  size_t needed;
  cs[0] = S("app");
  cs[1] = S("dup");
  init[0] = S("dup");
  init[1] = S("setup");
  init[2] = S("");
  eph[0] = S("debug");
  eph[1] = S("");
  eph[2] = S("setup");
  p.containers = cs;
  p.containers_len = 2;
  p.init_containers = init;
  p.init_containers_len = 3;
  p.ephemeral_containers = eph;
  p.ephemeral_containers_len = 3;
  CHECK_STATUS(gen(&p, "dup", 0, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STR(out.field_path, "spec.containers{dup}");
  CHECK_STATUS(gen(&p, "setup", KUBEREF_GENERATE_EPHEMERAL_CONTAINERS, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STR(out.field_path, "spec.initContainers{setup}");
  CHECK_STATUS(gen(&p, "", 0, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STR(out.field_path, "spec.initContainers[2]");
  /* Gate off (the v1.18 default): ephemeral containers are not searched. */
  CHECK_STATUS(gen(&p, "debug", 0, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STR(out.field_path, "implicitly required container debug");
  CHECK_STATUS(gen(&p, "debug", KUBEREF_GENERATE_EPHEMERAL_CONTAINERS, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STR(out.field_path, "spec.ephemeralContainers{debug}");
  p.init_containers_len = 0;
  CHECK_STATUS(gen(&p, "", KUBEREF_GENERATE_EPHEMERAL_CONTAINERS, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STR(out.field_path, "spec.ephemeralContainers[1]");
  CHECK_STATUS(gen(&p, "", 0, &out, buf, sizeof buf), KUBEREF_OK);
  CHECK_STR(out.field_path, "implicitly required container ");

  /* Buffer protocol. */
  out = sentinel_out();
  CHECK_STATUS(kuberef_generate_container_ref(&p, S("app"), 0, &out, NULL, 0, &needed), KUBEREF_BUFFER_TOO_SMALL);
  CHECK(needed == 3 + 7 + 2 + 3 + 2 + 2 + 20 + 7 && untouched(&out));
  CHECK_STATUS(kuberef_generate_container_ref(&p, S("app"), 0, &out, buf, needed, &needed), KUBEREF_OK);
  CHECK_STR(out.field_path, "spec.containers{app}");
  /* The borrowed variant needs room for the field path only. */
  out = sentinel_out();
  needed = 0;
  CHECK_STATUS(kuberef_generate_container_ref_borrowed(&p, S("app"), 0, &out, NULL, 0, &needed),
               KUBEREF_BUFFER_TOO_SMALL);
  CHECK(needed == 20 + 1 && untouched(&out));
  CHECK_STATUS(kuberef_generate_container_ref_borrowed(&p, S("app"), 0, &out, buf, needed - 1, NULL),
               KUBEREF_BUFFER_TOO_SMALL);
  CHECK(untouched(&out));
  memset(buf, 'x', sizeof buf);
  CHECK_STATUS(kuberef_generate_container_ref_borrowed(&p, S("app"), 0, &out, buf, needed, &needed), KUBEREF_OK);
  CHECK(needed == 21 && out.field_path.ptr == buf && buf[21] == 'x');
  CHECK_STR(out.field_path, "spec.containers{app}");
  CHECK(out.namespace_.ptr == p.namespace_.ptr && out.name.ptr == p.name.ptr && out.uid.ptr == p.uid.ptr &&
        out.resource_version.ptr == p.resource_version.ptr && out.kind.ptr == p.kind.ptr &&
        out.api_version.ptr == p.api_version.ptr);
}

static void test_generate_type_meta(void) {
  /* {kind, apiVersion} -> {Kind, APIVersion}: only a wholly empty
   * GroupVersionKind gets the scheme's Pod/v1. */
  const char *cases[][4] = {
      {"", "", "Pod", "v1"},       {"", "/", "Pod", "v1"},       {"", "a/b/c", "Pod", "v1"},
      {"Pod", "", "Pod", ""},      {"", "v1", "", "v1"},         {"Pod", "/v1", "Pod", "v1"},
      {"Pod", "g/", "Pod", "g/"},  {"X", "apps/v1", "X", "apps/v1"},
      {"X", "a/b/c", "X", ""},     {"", "//", "Pod", "v1"},
  };
  kuberef_object_reference out;
  char buf[256];
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    kuberef_pod p = mkpod(cases[i][0], cases[i][1]);
    CHECK_STATUS(gen(&p, "c", 0, &out, buf, sizeof buf), KUBEREF_OK);
    CHECK_STR(out.kind, cases[i][2]);
    CHECK_STR(out.api_version, cases[i][3]);
  }
}

static void test_generate_bad_input(void) {
  kuberef_pod p = mkpod("Pod", "v1");
  kuberef_str cs[2];
  kuberef_object_reference out;
  char buf[256];
  kuberef_str null_view;
  null_view.ptr = NULL;
  null_view.len = 3;
  cs[0] = S("a");
  cs[1] = null_view;
  CHECK_STATUS(gen(NULL, "c", 0, &out, buf, sizeof buf), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(gen(&p, "c", 0, NULL, buf, sizeof buf), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_generate_container_ref(&p, null_view, 0, &out, buf, sizeof buf, NULL), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(gen(&p, "c", 2, &out, buf, sizeof buf), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(gen(&p, "c", 0x80000001u, &out, buf, sizeof buf), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(gen(&p, "c", 0, &out, NULL, 5), KUBEREF_INVALID_ARGUMENT);
  p.containers_len = 1; /* NULL array, non-zero length */
  CHECK_STATUS(gen(&p, "c", 0, &out, buf, sizeof buf), KUBEREF_INVALID_ARGUMENT);
  p.containers_len = 0;
  p.init_containers_len = 2;
  CHECK_STATUS(gen(&p, "c", 0, &out, buf, sizeof buf), KUBEREF_INVALID_ARGUMENT);
  p.init_containers_len = 0;
  p.ephemeral_containers_len = 2; /* checked even with the gate off */
  CHECK_STATUS(gen(&p, "c", 0, &out, buf, sizeof buf), KUBEREF_INVALID_ARGUMENT);
  p.ephemeral_containers_len = 0;
  p.containers = cs; /* an invalid view inside an array, after the match */
  p.containers_len = 2;
  CHECK_STATUS(gen(&p, "a", 0, &out, buf, sizeof buf), KUBEREF_INVALID_ARGUMENT);
  p.containers_len = 1;
  p.uid = null_view;
  CHECK_STATUS(gen(&p, "a", 0, &out, buf, sizeof buf), KUBEREF_INVALID_ARGUMENT);
}

static void test_parse(void) {
  struct {
    const char *text, *type, *id;
  } ok[] = {{"docker://abc", "docker", "abc"},
            {"\"docker://abc\"", "docker", "abc"},
            {"\"\"\"containerd://x\"", "containerd", "x"},
            {"://", "", ""},
            {"docker://", "docker", ""},
            {"://abc", "", "abc"},
            {":///", "", "/"},
            {" a://b ", " a", "b "}};
  const char *bad[] = {"", "\"\"", "abc", "docker:/abc", "a://b://c", "://://", "a:/ /b"};
  kuberef_container_id out;
  size_t i;
  for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    kuberef_str text = S(ok[i].text);
    CHECK_STATUS(kuberef_container_id_parse(text, &out), KUBEREF_OK);
    CHECK(out.type.len == strlen(ok[i].type) && memcmp(out.type.ptr, ok[i].type, out.type.len) == 0);
    CHECK(out.id.len == strlen(ok[i].id) && memcmp(out.id.ptr, ok[i].id, out.id.len) == 0);
    /* Both parts point at bytes of text, an empty one too (never one past
     * its end; test_output_views.c checks where exactly). */
    CHECK(out.type.ptr >= text.ptr && out.type.ptr < text.ptr + text.len &&
          out.type.ptr + out.type.len <= text.ptr + text.len);
    CHECK(out.id.ptr >= text.ptr && out.id.ptr < text.ptr + text.len && out.id.ptr + out.id.len <= text.ptr + text.len);
  }
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    kuberef_container_id before = cid("keep", "me");
    out = before;
    CHECK_STATUS(kuberef_container_id_parse(S(bad[i]), &out), KUBEREF_INVALID_CONTAINER_ID);
    CHECK(memcmp(&out, &before, sizeof out) == 0);
  }
  {
    kuberef_str nv;
    nv.ptr = NULL;
    nv.len = 4;
    CHECK_STATUS(kuberef_container_id_parse(S("a://b"), NULL), KUBEREF_NULL_ARGUMENT);
    CHECK_STATUS(kuberef_container_id_parse(nv, &out), KUBEREF_INVALID_ARGUMENT);
    nv.len = 0; /* an empty view may be NULL: it is "" and does not parse */
    CHECK_STATUS(kuberef_container_id_parse(nv, &out), KUBEREF_INVALID_CONTAINER_ID);
  }
}

static void test_format(void) {
  kuberef_container_id id = cid("containerd", "0123abcd"), zero;
  char buf[64];
  size_t needed = 0;
  CHECK_STATUS(kuberef_container_id_format(&id, buf, sizeof buf, &needed), KUBEREF_OK);
  CHECK(needed == strlen("containerd://0123abcd") + 1);
  CHECK(strcmp(buf, "containerd://0123abcd") == 0);
  memset(&zero, 0, sizeof zero);
  CHECK_STATUS(kuberef_container_id_format(&zero, buf, sizeof buf, NULL), KUBEREF_OK);
  CHECK(strcmp(buf, "://") == 0);
  memset(buf, 'Z', sizeof buf);
  CHECK_STATUS(kuberef_container_id_format(&id, buf, 21, &needed), KUBEREF_BUFFER_TOO_SMALL);
  CHECK(needed == 22 && buf[0] == 'Z');
  CHECK_STATUS(kuberef_container_id_format(&id, NULL, 0, &needed), KUBEREF_BUFFER_TOO_SMALL);
  CHECK_STATUS(kuberef_container_id_format(&id, NULL, 3, &needed), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_container_id_format(NULL, buf, sizeof buf, &needed), KUBEREF_NULL_ARGUMENT);
  /* Round trip through parse. */
  {
    kuberef_container_id back;
    CHECK_STATUS(kuberef_container_id_format(&id, buf, sizeof buf, NULL), KUBEREF_OK);
    CHECK_STATUS(kuberef_container_id_parse(S(buf), &back), KUBEREF_OK);
    CHECK(back.type.len == 10 && back.id.len == 8 && memcmp(back.id.ptr, "0123abcd", 8) == 0);
  }
}

/* Stamps (kuberef_set_ref_stamped, kuberef_get_stamp, kuberef_get_ref_stamped,
 * kuberef_clear_ref_stamped):
 * nonzero, new on every store, unique across keys, stable while the stored
 * reference is, gone with it; the bad-input matrix leaves everything as it
 * was, outputs included. */
static void test_stamps(void) {
  kuberef_manager *m = kuberef_manager_new();
  kuberef_container_id a = cid("containerd", "stamp-a"), b = cid("containerd", "stamp-b"), bad_id;
  kuberef_object_reference r = mkref("ok", "spec.containers{c}"), out, bad_ref;
  kuberef_str null_view;
  char buf[512];
  size_t needed = 0;
  uint64_t sa = 0, sb = 0, s2 = 0, got = 0, keep;

  null_view.ptr = NULL;
  null_view.len = 1;
  CHECK_STATUS(kuberef_get_stamp(m, &a, &got), KUBEREF_NOT_FOUND);
  CHECK(got == 0);
  CHECK_STATUS(kuberef_set_ref_stamped(m, &a, &r, &sa), KUBEREF_OK);
  CHECK_STATUS(kuberef_set_ref_stamped(m, &b, &r, &sb), KUBEREF_OK);
  CHECK(sa != 0 && sb != 0 && sa != sb);
  CHECK_STATUS(kuberef_get_stamp(m, &a, &got), KUBEREF_OK);
  CHECK(got == sa);
  got = 0;
  out = sentinel_out();
  CHECK_STATUS(kuberef_get_ref_stamped(m, &a, &out, buf, sizeof buf, &needed, &got), KUBEREF_OK);
  CHECK(got == sa);
  CHECK_STR(out.name, "ok");
  CHECK_STR(out.field_path, "spec.containers{c}");
  CHECK(needed == strlen("Pod") + strlen("test-ns") + 2 + 36 + 2 + 2 + strlen("spec.containers{c}") + 7);

  /* A plain kuberef_set_ref stores a new reference: a new stamp. */
  CHECK_STATUS(kuberef_set_ref(m, &a, &r), KUBEREF_OK);
  CHECK_STATUS(kuberef_get_stamp(m, &a, &got), KUBEREF_OK);
  CHECK(got != sa && got != sb && got != 0);
  s2 = got;
  CHECK_STATUS(kuberef_get_stamp(m, &a, &got), KUBEREF_OK);
  CHECK(got == s2);
  CHECK_STATUS(kuberef_get_stamp(m, &b, &got), KUBEREF_OK);
  CHECK(got == sb);

  /* Outputs untouched on NOT_FOUND and BUFFER_TOO_SMALL. */
  CHECK_STATUS(kuberef_clear_ref(m, &a), KUBEREF_OK);
  got = 7;
  out = sentinel_out();
  CHECK_STATUS(kuberef_get_stamp(m, &a, &got), KUBEREF_NOT_FOUND);
  CHECK_STATUS(kuberef_get_ref_stamped(m, &a, &out, buf, sizeof buf, NULL, &got), KUBEREF_NOT_FOUND);
  CHECK(got == 7 && untouched(&out));
  needed = 0;
  CHECK_STATUS(kuberef_get_ref_stamped(m, &b, &out, buf, 3, &needed, &got), KUBEREF_BUFFER_TOO_SMALL);
  CHECK(got == 7 && untouched(&out) && needed > 3);
  CHECK_STATUS(kuberef_get_ref_stamped(m, &b, &out, buf, needed, NULL, &got), KUBEREF_OK);
  CHECK(got == sb);

  /* Bad input: statuses, and nothing changes. */
  keep = got = 7;
  out = sentinel_out();
  CHECK_STATUS(kuberef_set_ref_stamped(NULL, &a, &r, &got), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_set_ref_stamped(m, NULL, &r, &got), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_set_ref_stamped(m, &a, NULL, &got), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_set_ref_stamped(m, &a, &r, NULL), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_get_stamp(NULL, &b, &got), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_get_stamp(m, NULL, &got), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_get_stamp(m, &b, NULL), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_get_ref_stamped(NULL, &b, &out, buf, sizeof buf, NULL, &got), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_get_ref_stamped(m, NULL, &out, buf, sizeof buf, NULL, &got), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_get_ref_stamped(m, &b, NULL, buf, sizeof buf, NULL, &got), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_get_ref_stamped(m, &b, &out, buf, sizeof buf, NULL, NULL), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_get_ref_stamped(m, &b, &out, NULL, 10, NULL, &got), KUBEREF_INVALID_ARGUMENT);
  bad_id = b;
  bad_id.id = null_view;
  CHECK_STATUS(kuberef_set_ref_stamped(m, &bad_id, &r, &got), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_get_stamp(m, &bad_id, &got), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_get_ref_stamped(m, &bad_id, &out, buf, sizeof buf, NULL, &got), KUBEREF_INVALID_ARGUMENT);
  bad_ref = mkref("changed", "changed");
  bad_ref.kind = null_view;
  CHECK_STATUS(kuberef_set_ref_stamped(m, &b, &bad_ref, &got), KUBEREF_INVALID_ARGUMENT);
  bad_ref.kind.ptr = "x";
  bad_ref.kind.len = (size_t)KUBEREF_MAX_STR_LEN + 1;
  CHECK_STATUS(kuberef_set_ref_stamped(m, &b, &bad_ref, &got), KUBEREF_INVALID_ARGUMENT);
  CHECK(got == keep && untouched(&out));
  CHECK(kuberef_len(m) == 1);
  CHECK_STATUS(kuberef_get_stamp(m, &b, &got), KUBEREF_OK);
  CHECK(got == sb);
  CHECK_STATUS(kuberef_get_stamp(m, &a, &got), KUBEREF_NOT_FOUND);

  /* kuberef_clear_ref_stamped: the removed reference's stamp. */
  got = 9;
  CHECK_STATUS(kuberef_clear_ref_stamped(NULL, &b, &got), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_clear_ref_stamped(m, NULL, &got), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_clear_ref_stamped(m, &b, NULL), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_clear_ref_stamped(m, &bad_id, &got), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_clear_ref_stamped(m, &a, &got), KUBEREF_NOT_FOUND);
  CHECK(got == 9 && kuberef_len(m) == 1);
  CHECK_STATUS(kuberef_clear_ref_stamped(m, &b, &got), KUBEREF_OK);
  CHECK(got == sb && kuberef_len(m) == 0);
  CHECK_STATUS(kuberef_clear_ref_stamped(m, &b, &got), KUBEREF_NOT_FOUND);

  /* Many keys: every stamp distinct (a sorted list without neighbours equal). */
  {
    enum { N = 2000 };
    static uint64_t seen[N];
    char idbuf[32];
    int i, j, dup = 0;
    for (i = 0; i < N; i++) {
      kuberef_container_id k;
      snprintf(idbuf, sizeof idbuf, "k%d", i % 1000); /* each key stored twice */
      k = cid("docker", idbuf);
      CHECK_STATUS(kuberef_set_ref_stamped(m, &k, &r, &seen[i]), KUBEREF_OK);
    }
    for (i = 0; i < N; i++) {
      dup += seen[i] == sb || seen[i] == sa;
      for (j = i + 1; j < N; j++) dup += seen[i] == seen[j];
    }
    CHECK(dup == 0);
  }
  kuberef_manager_free(m);
}


/* The change counter (kuberef_change_counter): one address per manager,
 * stable; grows with every change (set, clear, bulk removal) and with
 * nothing else: reads, misses and rejected input leave it as it was. */
static uint64_t counter_now(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

static void test_change_counter(void) {
  kuberef_manager *m = kuberef_manager_new(), *m2 = kuberef_manager_new();
  kuberef_container_id a = cid("containerd", "cc-a"), b = cid("containerd", "cc-b"), bad_id = a;
  kuberef_object_reference r = mkref("ok", "spec.containers{c}"), out, bad_ref = r;
  const uint64_t *p = kuberef_change_counter(m), *p2 = kuberef_change_counter(m2);
  const uint64_t *g = kuberef_change_counter(kuberef_global());
  char buf[512];
  uint64_t v, w, stamp, other;
  size_t n;

  CHECK(kuberef_change_counter(NULL) == NULL);
  CHECK(p != NULL && p2 != NULL && g != NULL);
  CHECK(p != p2 && p != g && p2 != g);
  CHECK(kuberef_change_counter(m) == p && kuberef_change_counter(kuberef_global()) == g);
  CHECK(((uintptr_t)p & 7) == 0);

  v = counter_now(p);
  other = counter_now(p2);
  CHECK_STATUS(kuberef_set_ref(m, &a, &r), KUBEREF_OK);
  w = counter_now(p);
  CHECK(w > v);
  CHECK(counter_now(p2) == other); /* another manager's is its own */

  /* Reads, misses and bad input change nothing, the counter included. */
  v = w;
  out = sentinel_out();
  CHECK_STATUS(kuberef_get_ref(m, &a, &out, buf, sizeof buf, NULL), KUBEREF_OK);
  CHECK_STATUS(kuberef_get_ref(m, &b, &out, buf, sizeof buf, NULL), KUBEREF_NOT_FOUND);
  CHECK_STATUS(kuberef_get_stamp(m, &a, &stamp), KUBEREF_OK);
  CHECK(kuberef_len(m) == 1);
  bad_id.id.ptr = NULL;
  bad_id.id.len = 1;
  bad_ref.uid.ptr = NULL;
  bad_ref.uid.len = 3;
  CHECK_STATUS(kuberef_set_ref(m, &bad_id, &r), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_set_ref(m, &a, &bad_ref), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_set_ref(m, NULL, &r), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_clear_ref(m, &bad_id), KUBEREF_INVALID_ARGUMENT);
  CHECK(counter_now(p) == v);

  /* Every kind of change counts. */
  CHECK_STATUS(kuberef_set_ref(m, &a, &r), KUBEREF_OK); /* an equal reference */
  CHECK((w = counter_now(p)) > v);
  CHECK_STATUS(kuberef_set_ref_stamped(m, &b, &r, &stamp), KUBEREF_OK);
  CHECK((v = counter_now(p)) > w);
  CHECK_STATUS(kuberef_clear_ref(m, &b), KUBEREF_OK);
  CHECK((w = counter_now(p)) > v);
  CHECK_STATUS(kuberef_set_ref(m, &b, &r), KUBEREF_OK);
  v = counter_now(p);
  CHECK_STATUS(kuberef_clear_ref_stamped(m, &b, &stamp), KUBEREF_OK);
  CHECK((w = counter_now(p)) > v);
  CHECK_STATUS(kuberef_clear_pod(m, r.uid, &n), KUBEREF_OK);
  CHECK(n == 1 && kuberef_len(m) == 0);
  CHECK((v = counter_now(p)) > w);
  CHECK(counter_now(p2) == other);

  kuberef_manager_free(m);
  kuberef_manager_free(m2);
}

int main(void) {
  test_versions_and_messages();
  test_managers();
  test_set_get_clear();
  test_keys_are_bytes();
  test_buffer_protocol();
  test_bad_input();
  test_big_strings();
  test_strings_at_the_limit();
  test_upstream_field_path();
  test_upstream_generate();
  test_generate_lists_and_gate();
  test_generate_type_meta();
  test_generate_bad_input();
  test_parse();
  test_format();
  test_stamps();
  test_change_counter();
  return check_finish("test_api");
}
