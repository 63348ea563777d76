/* The process's memory, for tests that bound what a call allocates: its
 * peak resident set (VmHWM), a reset of that peak, and whether valgrind or
 * a sanitizer runs the process (they count their own memory in it, so such
 * a test only reports there). Needs _POSIX_C_SOURCE 200809L. */
#ifndef KUBEREF_MEMORY_H
#define KUBEREF_MEMORY_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The peak resident set (VmHWM) in KiB, or -1. */
static inline long peak_rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
  if (f) fclose(f);
  return kib;
}

/* Resets the peak to the current resident set (Linux 4.0 and later);
 * returns 0 if it could not, and the peak then stays the earlier one. */
static inline int reset_peak_rss(void) {
  int fd = open("/proc/self/clear_refs", O_WRONLY);
  int ok = fd >= 0 && write(fd, "5", 1) == 1;
  if (fd >= 0) close(fd);
  return ok;
}

/* Whether valgrind or AddressSanitizer runs the process. */
static inline int instrumented(void) {
  const char *p = getenv("LD_PRELOAD");
#if defined(__SANITIZE_ADDRESS__)
  return 1;
#endif
  return p != NULL && strstr(p, "vgpreload") != NULL;
}

#endif
