/* A tiny test harness for the C tests: CHECK counts, reports and goes on;
 * FINISH prints the "N passed, N failed" line and sets the exit code. */
#ifndef KUBEREF_CHECK_H
#define KUBEREF_CHECK_H

#include <stdio.h>
#include <string.h>

#include "kuberef.h"

static unsigned long check_passed, check_failed;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (cond) {                                                                  \
      check_passed++;                                                            \
    } else {                                                                     \
      check_failed++;                                                            \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
    }                                                                            \
  } while (0)

#define CHECK_STATUS(expr, want)                                                 \
  do {                                                                           \
    kuberef_status check_got_ = (expr);                                          \
    if (check_got_ == (kuberef_status)(want)) {                                  \
      check_passed++;                                                            \
    } else {                                                                     \
      check_failed++;                                                            \
      fprintf(stderr, "%s:%d: %s returned %u (%s), want %u\n", __FILE__,         \
              __LINE__, #expr, (unsigned)check_got_,                             \
              kuberef_status_message(check_got_), (unsigned)(want));             \
    }                                                                            \
  } while (0)

/* A view of a NUL-terminated literal. */
static inline kuberef_str S(const char *s) {
  kuberef_str v;
  v.ptr = s;
  v.len = strlen(s);
  return v;
}

static inline int str_eq(kuberef_str v, const char *s) {
  size_t n = strlen(s);
  return v.len == n && v.ptr != NULL && memcmp(v.ptr, s, n) == 0 && v.ptr[n] == '\0';
}

#define CHECK_STR(view, want)                                                    \
  do {                                                                           \
    if (str_eq((view), (want))) {                                                \
      check_passed++;                                                            \
    } else {                                                                     \
      check_failed++;                                                            \
      fprintf(stderr, "%s:%d: %s is \"%.*s\", want \"%s\"\n", __FILE__,           \
              __LINE__, #view, (int)(view).len,                                  \
              (view).ptr ? (view).ptr : "(null)", (want));                       \
    }                                                                            \
  } while (0)

static inline int check_finish(const char *name) {
  printf("%s: %lu passed, %lu failed\n", name, check_passed, check_failed);
  return check_failed == 0 ? 0 : 1;
}

#endif
