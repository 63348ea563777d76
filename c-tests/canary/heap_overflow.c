/* Sanitizer canary: a one-byte heap overflow. `make sanitizer-canary`
 * requires the ASan build and valgrind, run as c-asan and c-valgrind run the
 * real tests, to FAIL on it. */
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  char *p = malloc(8);
  (void)argv;
  memset(p, 0, 8);
  p[8 + (argc - 1)] = 1; /* argc is 1: p[8] */
  free(p);
  return 0;
}
