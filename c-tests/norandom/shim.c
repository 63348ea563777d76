/* An LD_PRELOAD shim that takes the operating system's random generator
 * away, as a sandbox may: getrandom(2) fails with ENOSYS, and opening any
 * path that names "random" (/dev/urandom, /dev/random) fails with EACCES.
 * The test beside it (test_no_random.c) runs the library under it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/types.h>

ssize_t getrandom(void *buf, size_t len, unsigned flags) {
  (void)buf;
  (void)len;
  (void)flags;
  errno = ENOSYS;
  return -1;
}

static int denied(const char *path) { return path != NULL && strstr(path, "random") != NULL; }

/* The mode argument, present when the flags create a file. */
#define MODE_ARG(flags, mode)                                                    \
  do {                                                                           \
    if ((flags) & (O_CREAT | O_TMPFILE)) {                                       \
      va_list ap;                                                                \
      va_start(ap, flags);                                                       \
      mode = va_arg(ap, int);                                                    \
      va_end(ap);                                                                \
    }                                                                            \
  } while (0)

#define OPEN_SHIM(name)                                                          \
  int name(const char *path, int flags, ...) {                                   \
    int mode = 0;                                                                \
    int (*next)(const char *, int, ...);                                         \
    MODE_ARG(flags, mode);                                                       \
    if (denied(path)) {                                                          \
      errno = EACCES;                                                            \
      return -1;                                                                 \
    }                                                                            \
    *(void **)&next = dlsym(RTLD_NEXT, #name);                                   \
    return next(path, flags, mode);                                              \
  }

#define OPENAT_SHIM(name)                                                        \
  int name(int dir, const char *path, int flags, ...) {                          \
    int mode = 0;                                                                \
    int (*next)(int, const char *, int, ...);                                    \
    MODE_ARG(flags, mode);                                                       \
    if (denied(path)) {                                                          \
      errno = EACCES;                                                            \
      return -1;                                                                 \
    }                                                                            \
    *(void **)&next = dlsym(RTLD_NEXT, #name);                                   \
    return next(dir, path, flags, mode);                                         \
  }

OPEN_SHIM(open)
OPEN_SHIM(open64)
OPENAT_SHIM(openat)
OPENAT_SHIM(openat64)
