/* Where output views point: every export that returns views, called with
 * empty inputs (given as {NULL, 0} and as a non-NULL pointer with length 0)
 * and with inputs whose outputs have empty parts. Every output view must
 * have a non-NULL ptr that lies in the caller's own input strings or buf,
 * or in the library's copy (kuberef_for_each), or is the library's static
 * empty string: a pointer outside all caller memory whose byte is a NUL,
 * the same address every time. Where the header promises a NUL (views in
 * buf, in the library's copy, the static empty string) or a byte of the
 * caller's text (parse's empty parts), one byte is read.
 *
 * Every input string and every buf is malloc'd at exactly its size, with no
 * NUL after it, so ASan (and valgrind) report a view one past its end when
 * the byte is read. Built with -std=c99 -Wall -Wextra -Werror -pedantic and
 * run plain, statically linked, under ASan+UBSan and under valgrind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* --- caller memory ---------------------------------------------------------- */

/* How an empty input string is given. */
enum empty_form { EMPTY_NULL, EMPTY_NONNULL };
static const char *const form_name[] = {"{NULL, 0}", "{non-NULL, 0}"};

struct region {
  const char *p;
  size_t n;
};

/* The caller memory of the current case: its input strings and its buf. */
static struct region inputs[64];
static size_t ninputs;
static struct region outbuf;
static void *owned[64];
static size_t nowned;

/* The library's static empty string, once an output view showed it. */
static const char *static_empty;

static void *xmalloc(size_t n) {
  /* malloc(0) may return NULL; glibc and ASan return a unique pointer. */
  void *p = malloc(n);
  if (p == NULL && n == 0) p = malloc(1);
  if (p == NULL) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}

/* s in a block of exactly strlen(s) bytes (no NUL after it), registered as
 * caller input; an empty s is {NULL, 0} or a malloc(0) pointer. */
static kuberef_str input(const char *s, enum empty_form form) {
  kuberef_str v;
  size_t n = strlen(s);
  v.len = n;
  v.ptr = NULL;
  if (n == 0 && form == EMPTY_NULL) return v;
  v.ptr = (const char *)xmalloc(n);
  memcpy((char *)v.ptr, s, n);
  owned[nowned++] = (void *)v.ptr;
  inputs[ninputs].p = v.ptr;
  inputs[ninputs].n = n;
  ninputs++;
  return v;
}

/* A buf of exactly n bytes (no spare byte), registered as caller memory. */
static char *output_buf(size_t n) {
  char *b = (char *)xmalloc(n);
  memset(b, 0x5A, n);
  owned[nowned++] = b;
  outbuf.p = b;
  outbuf.n = n;
  return b;
}

/* Frees the current case's memory. */
static void end_case(void) {
  size_t i;
  for (i = 0; i < nowned; i++) free(owned[i]);
  nowned = ninputs = 0;
  outbuf.p = NULL;
  outbuf.n = 0;
}

/* --- where a view points ------------------------------------------------------ */

enum where { W_NULL, W_UNREADABLE, W_INPUT, W_BUF, W_STATIC_EMPTY, W_ELSEWHERE };
static const char *const where_name[] = {"NULL", "the first page", "caller input", "buf",
                                         "the static empty string", "elsewhere"};

/* Whether [p, p + len) lies in r. An empty view lies in r only at a byte of
 * it, or at r's own pointer when r is empty: never one past r's end. */
static int in_region(const char *p, size_t len, struct region r) {
  uintptr_t a = (uintptr_t)p, b = (uintptr_t)r.p;
  if (r.p == NULL || a < b || a + len > b + r.n) return 0;
  return len > 0 || a < b + r.n || (r.n == 0 && a == b);
}

/* Whether p is in r or just past its end. */
static int touches(const char *p, struct region r) {
  uintptr_t a = (uintptr_t)p, b = (uintptr_t)r.p;
  return r.p != NULL && a >= b && a <= b + r.n;
}

/* Classifies v; checks the NUL the header promises for views in buf and for
 * the static empty string, and that the static empty string is one address. */
static enum where locate(kuberef_str v, const char *what) {
  size_t i;
  if (v.ptr == NULL) {
    fprintf(stderr, "%s: NULL output view\n", what);
    return W_NULL;
  }
  if ((uintptr_t)v.ptr < 4096) { /* no C object lives in the first page */
    fprintf(stderr, "%s: output view at %p\n", what, (const void *)v.ptr);
    return W_UNREADABLE;
  }
  if (in_region(v.ptr, v.len, outbuf)) {
    /* In buf, every view is followed by a NUL (there must be room for it). */
    CHECK(in_region(v.ptr, v.len + 1, outbuf) && v.ptr[v.len] == '\0');
    return W_BUF;
  }
  for (i = 0; i < ninputs; i++)
    if (in_region(v.ptr, v.len, inputs[i])) return W_INPUT;
  if (v.len > 0) return W_ELSEWHERE;
  /* An empty view outside the caller's memory: the static empty string. */
  for (i = 0; i < ninputs; i++) {
    if (touches(v.ptr, inputs[i])) {
      fprintf(stderr, "%s: empty view just past a caller input\n", what);
      CHECK(0);
    }
  }
  if (touches(v.ptr, outbuf)) {
    fprintf(stderr, "%s: empty view just past buf\n", what);
    CHECK(0);
  }
  CHECK(v.ptr[0] == '\0');
  if (static_empty == NULL) static_empty = v.ptr;
  if (v.ptr != static_empty) {
    fprintf(stderr, "%s: a second static empty string (%p, %p)\n", what, (const void *)v.ptr,
            (const void *)static_empty);
    CHECK(0);
  }
  return W_STATIC_EMPTY;
}

/* Checks that v holds want's bytes and lies where expected; for W_INPUT with
 * own != NULL, v must be exactly own (the caller's own pointer). */
static void expect(kuberef_str v, const char *want, enum where at, const char *own, const char *what) {
  enum where got = locate(v, what);
  size_t n = strlen(want);
  if (got != at) {
    fprintf(stderr, "%s: view in %s, want %s\n", what, where_name[got], where_name[at]);
    CHECK(0);
    return;
  }
  CHECK(v.len == n && (n == 0 || memcmp(v.ptr, want, n) == 0));
  if (own != NULL && v.ptr != own) {
    fprintf(stderr, "%s: not the caller's own pointer\n", what);
    CHECK(0);
  }
  check_passed++;
}

/* Where an empty output taken from an empty input field goes: the caller's
 * own pointer, or the static empty string for {NULL, 0}. */
static enum where empty_home(kuberef_str in) { return in.ptr != NULL ? W_INPUT : W_STATIC_EMPTY; }

/* --- kuberef_container_id_parse -------------------------------------------------- */

static void test_parse(void) {
  /* Each part's offset in text: an empty part's own place, or the last
   * byte of text when that place is its end. */
  static const struct {
    const char *text, *type;
    size_t type_at;
    const char *id;
    size_t id_at;
  } ok[] = {{"docker://", "docker", 0, "", 8},       {"://abc", "", 0, "abc", 3},
            {"://", "", 0, "", 2},                   {"\"docker://\"", "docker", 1, "", 10},
            {"\"://x\"", "", 1, "x", 4},             {"\"\"://\"\"", "", 2, "", 5},
            {"docker://abc", "docker", 0, "abc", 9}};
  int form;
  size_t i;
  char what[96];
  /* Empty text does not parse, in either form; out is untouched. */
  for (form = EMPTY_NULL; form <= EMPTY_NONNULL; form++) {
    kuberef_container_id out, before;
    memset(&before, 0xA5, sizeof before);
    out = before;
    CHECK_STATUS(kuberef_container_id_parse(input("", (enum empty_form)form), &out), KUBEREF_INVALID_CONTAINER_ID);
    CHECK(memcmp(&out, &before, sizeof out) == 0);
    end_case();
  }
  for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    kuberef_container_id out;
    kuberef_str text = input(ok[i].text, EMPTY_NULL);
    CHECK_STATUS(kuberef_container_id_parse(text, &out), KUBEREF_OK);
    snprintf(what, sizeof what, "parse(%s).type", ok[i].text);
    expect(out.type, ok[i].type, W_INPUT, text.ptr + ok[i].type_at, what);
    snprintf(what, sizeof what, "parse(%s).id", ok[i].text);
    expect(out.id, ok[i].id, W_INPUT, text.ptr + ok[i].id_at, what);
    /* An empty part's byte is text's: readable (ASan checks the read). */
    if (out.type.ptr == text.ptr + ok[i].type_at) CHECK(out.type.ptr[0] == ok[i].text[ok[i].type_at]);
    if (out.id.ptr == text.ptr + ok[i].id_at) CHECK(out.id.ptr[0] == ok[i].text[ok[i].id_at]);
    end_case();
  }
}

/* --- the generate functions ---------------------------------------------------- */

struct pod_case {
  const char *kind, *api_version;
  const char *meta; /* namespace, name, uid and resourceVersion ("" or not) */
  const char *container;
  int listed;   /* the container is spec.containers[0] */
  int fallback; /* kind and apiVersion are the scheme's "Pod" and "v1" */
  /* The reference upstream generates (kind and apiVersion when not fallback). */
  const char *want_api_version, *want_field_path;
};

static const struct pod_case pod_cases[] = {
    /* All empty: the scheme's Pod/v1, the implicit field path. */
    {"", "", "", "", 0, 1, "v1", "implicitly required container "},
    {"", "", "", "", 1, 1, "v1", "spec.containers[0]"},
    /* An apiVersion that parses to nothing, or to a group and a version. */
    {"Pod", "", "", "app", 1, 0, "", "spec.containers{app}"},
    {"Pod", "/", "", "app", 1, 0, "", "spec.containers{app}"},
    {"Pod", "a/b/c", "", "app", 1, 0, "", "spec.containers{app}"},
    {"Pod", "//", "m", "app", 1, 0, "", "spec.containers{app}"},
    {"Pod", "g/", "m", "app", 0, 0, "g/", "implicitly required container app"},
    {"Pod", "/v1", "m", "app", 1, 0, "v1", "spec.containers{app}"},
    /* An empty kind with an apiVersion that parses: no scheme fallback. */
    {"", "v1", "", "app", 1, 0, "v1", "spec.containers{app}"},
    {"", "g/", "m", "", 1, 0, "g/", "spec.containers[0]"},
    {"", "a/b", "", "app", 0, 0, "a/b", "implicitly required container app"},
    /* ...and with one that parses to nothing: the fallback. */
    {"", "/", "m", "app", 1, 1, "v1", "spec.containers{app}"},
    {"", "a/b/c", "", "app", 1, 1, "v1", "spec.containers{app}"},
    {"X", "a/b/c", "m", "app", 1, 0, "", "spec.containers{app}"},
};

struct pod_args {
  kuberef_pod pod;
  kuberef_str names[1];
  kuberef_str container;
};

static void make_pod(struct pod_args *a, const struct pod_case *c, enum empty_form form) {
  memset(a, 0, sizeof *a);
  a->pod.kind = input(c->kind, form);
  a->pod.api_version = input(c->api_version, form);
  a->pod.namespace_ = input(c->meta, form);
  a->pod.name = input(c->meta, form);
  a->pod.uid = input(c->meta, form);
  a->pod.resource_version = input(c->meta, form);
  a->container = input(c->container, form);
  if (c->listed) {
    a->names[0] = input(c->container, form);
    a->pod.containers = a->names;
    a->pod.containers_len = 1;
  }
}

/* The fields of r in upstream order. */
static void fields(const kuberef_object_reference *r, kuberef_str f[7]) {
  f[0] = r->kind;
  f[1] = r->namespace_;
  f[2] = r->name;
  f[3] = r->uid;
  f[4] = r->api_version;
  f[5] = r->resource_version;
  f[6] = r->field_path;
}

/* kuberef_generate_container_ref: every view in buf, at its NUL when empty. */
static void test_generate_copying(void) {
  size_t i, k;
  int form;
  char what[160];
  for (i = 0; i < sizeof pod_cases / sizeof pod_cases[0]; i++) {
    const struct pod_case *c = &pod_cases[i];
    for (form = EMPTY_NULL; form <= EMPTY_NONNULL; form++) {
      struct pod_args a;
      kuberef_object_reference out;
      kuberef_str got[7];
      const char *want[7];
      size_t needed = 0;
      char *buf;
      make_pod(&a, c, (enum empty_form)form);
      CHECK_STATUS(kuberef_generate_container_ref(&a.pod, a.container, 0, &out, NULL, 0, &needed),
                   KUBEREF_BUFFER_TOO_SMALL);
      buf = output_buf(needed);
      CHECK_STATUS(kuberef_generate_container_ref(&a.pod, a.container, 0, &out, buf, needed, NULL), KUBEREF_OK);
      want[0] = c->fallback ? "Pod" : c->kind;
      want[1] = want[2] = want[3] = want[5] = c->meta;
      want[4] = c->want_api_version;
      want[6] = c->want_field_path;
      fields(&out, got);
      for (k = 0; k < 7; k++) {
        snprintf(what, sizeof what, "generate(kind \"%s\", apiVersion \"%s\", %s) field %u", c->kind,
                 c->api_version, form_name[form], (unsigned)k);
        expect(got[k], want[k], W_BUF, NULL, what);
      }
      end_case();
    }
  }
}

/* kuberef_generate_container_ref_borrowed: the pod's own views (an empty
 * field: the pod's own empty view when it is not NULL), the constants of the
 * scheme fallback, the field path in buf, and the static empty string for
 * every other empty field. */
static void test_generate_borrowed(void) {
  size_t i, k;
  int form;
  char what[160];
  for (i = 0; i < sizeof pod_cases / sizeof pod_cases[0]; i++) {
    const struct pod_case *c = &pod_cases[i];
    for (form = EMPTY_NULL; form <= EMPTY_NONNULL; form++) {
      struct pod_args a;
      kuberef_object_reference out;
      kuberef_str got[7];
      const kuberef_str *meta[4];
      size_t needed = 0;
      char *buf;
      make_pod(&a, c, (enum empty_form)form);
      meta[0] = &a.pod.namespace_;
      meta[1] = &a.pod.name;
      meta[2] = &a.pod.uid;
      meta[3] = &a.pod.resource_version;
      CHECK_STATUS(kuberef_generate_container_ref_borrowed(&a.pod, a.container, 0, &out, NULL, 0, &needed),
                   KUBEREF_BUFFER_TOO_SMALL);
      buf = output_buf(needed);
      CHECK_STATUS(kuberef_generate_container_ref_borrowed(&a.pod, a.container, 0, &out, buf, needed, NULL),
                   KUBEREF_OK);
      fields(&out, got);
      snprintf(what, sizeof what, "borrowed(kind \"%s\", apiVersion \"%s\", %s)", c->kind, c->api_version,
               form_name[form]);
      /* kind */
      if (c->fallback)
        expect(got[0], "Pod", W_ELSEWHERE, NULL, what); /* the documented static "Pod" */
      else if (c->kind[0] == '\0')
        expect(got[0], "", empty_home(a.pod.kind), a.pod.kind.ptr, what);
      else
        expect(got[0], c->kind, W_INPUT, a.pod.kind.ptr, what);
      /* namespace, name, uid, resourceVersion: the pod's own views */
      for (k = 0; k < 4; k++) {
        if (c->meta[0] == '\0')
          expect(got[k == 3 ? 5 : k + 1], "", empty_home(*meta[k]), meta[k]->ptr, what);
        else
          expect(got[k == 3 ? 5 : k + 1], c->meta, W_INPUT, meta[k]->ptr, what);
      }
      /* apiVersion: a suffix of the pod's (the whole, or the version after
       * an empty group), "v1" of the fallback, or empty */
      if (c->fallback)
        expect(got[4], "v1", W_ELSEWHERE, NULL, what);
      else if (c->want_api_version[0] != '\0')
        expect(got[4], c->want_api_version, W_INPUT,
               a.pod.api_version.ptr + a.pod.api_version.len - strlen(c->want_api_version), what);
      else if (c->api_version[0] == '\0')
        expect(got[4], "", empty_home(a.pod.api_version), a.pod.api_version.ptr, what);
      else
        expect(got[4], "", W_STATIC_EMPTY, NULL, what); /* parsed to nothing */
      /* the field path: at the start of buf, NUL-terminated */
      expect(got[6], c->want_field_path, W_BUF, buf, what);
      end_case();
    }
  }
}

/* --- get_ref, get_ref_stamped and for_each -------------------------------------- */

/* A reference with every field empty, stored under an ID with both parts
 * empty, and one with fields whose neighbours are empty. */
static void store(kuberef_manager *m, enum empty_form form) {
  kuberef_container_id id;
  kuberef_object_reference r;
  id.type = input("", form);
  id.id = input("", form);
  r.kind = r.namespace_ = r.name = r.uid = input("", form);
  r.api_version = r.resource_version = r.field_path = input("", form);
  CHECK_STATUS(kuberef_set_ref(m, &id, &r), KUBEREF_OK);
  id.type = input("docker", form);
  r.name = input("web", form);
  r.field_path = input("spec.containers{app}", form);
  CHECK_STATUS(kuberef_set_ref(m, &id, &r), KUBEREF_OK);
  end_case();
}

static void test_get_ref(void) {
  int form, get_form, stamped;
  char what[96];
  for (form = EMPTY_NULL; form <= EMPTY_NONNULL; form++) {
    kuberef_manager *m = kuberef_manager_new();
    store(m, (enum empty_form)form);
    for (get_form = EMPTY_NULL; get_form <= EMPTY_NONNULL; get_form++) {
      for (stamped = 0; stamped < 2; stamped++) {
        kuberef_container_id id;
        kuberef_object_reference out;
        kuberef_str got[7];
        size_t needed = 0, k;
        uint64_t stamp = 0;
        char *buf;
        id.type = input("", (enum empty_form)get_form);
        id.id = input("", (enum empty_form)get_form);
        if (stamped) {
          CHECK_STATUS(kuberef_get_ref_stamped(m, &id, &out, NULL, 0, &needed, &stamp), KUBEREF_BUFFER_TOO_SMALL);
        } else {
          CHECK_STATUS(kuberef_get_ref(m, &id, &out, NULL, 0, &needed), KUBEREF_BUFFER_TOO_SMALL);
        }
        CHECK(needed == 7); /* seven NULs */
        buf = output_buf(needed);
        if (stamped) {
          CHECK_STATUS(kuberef_get_ref_stamped(m, &id, &out, buf, needed, NULL, &stamp), KUBEREF_OK);
        } else {
          CHECK_STATUS(kuberef_get_ref(m, &id, &out, buf, needed, NULL), KUBEREF_OK);
        }
        fields(&out, got);
        for (k = 0; k < 7; k++) {
          snprintf(what, sizeof what, "get_ref%s(%s) field %u", stamped ? "_stamped" : "",
                   form_name[get_form], (unsigned)k);
          expect(got[k], "", W_BUF, buf + k, what); /* each at its own NUL */
        }
        end_case();
      }
    }
    kuberef_manager_free(m);
  }
}

/* kuberef_for_each: views into the library's copy, each followed by a NUL. */
struct visit_state {
  size_t pairs, views;
};

static void expect_copy(kuberef_str v, struct visit_state *st) {
  /* No caller memory is live here (store() freed its inputs). */
  CHECK(ninputs == 0 && outbuf.p == NULL);
  CHECK(v.ptr != NULL && (uintptr_t)v.ptr >= 4096);
  if (v.ptr != NULL && (uintptr_t)v.ptr >= 4096) CHECK(v.ptr[v.len] == '\0');
  st->views++;
}

static int visit(void *ctx, const kuberef_container_id *id, const kuberef_object_reference *r) {
  struct visit_state *st = (struct visit_state *)ctx;
  kuberef_str f[7];
  size_t k;
  expect_copy(id->type, st);
  expect_copy(id->id, st);
  fields(r, f);
  for (k = 0; k < 7; k++) expect_copy(f[k], st);
  st->pairs++;
  return 0;
}

static void test_for_each(void) {
  int form;
  for (form = EMPTY_NULL; form <= EMPTY_NONNULL; form++) {
    kuberef_manager *m = kuberef_manager_new();
    struct visit_state st = {0, 0};
    size_t visited = 0;
    store(m, (enum empty_form)form);
    CHECK_STATUS(kuberef_for_each(m, visit, &st, &visited), KUBEREF_OK);
    CHECK(visited == 2 && st.pairs == 2 && st.views == 18);
    kuberef_manager_free(m);
  }
}

int main(void) {
  test_parse();
  test_generate_copying();
  test_generate_borrowed();
  test_get_ref();
  test_for_each();
  /* The static empty string was seen (the borrowed generate's {NULL, 0}
   * fields at least). */
  CHECK(static_empty != NULL);
  return check_finish("test_output_views");
}
