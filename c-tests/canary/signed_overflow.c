/* Sanitizer canary: signed integer overflow, for UBSan (see heap_overflow.c). */
#include <limits.h>
#include <stdio.h>

int main(int argc, char **argv) {
  int x = INT_MAX - 1 + argc; /* INT_MAX */
  (void)argv;
  x += argc;
  printf("%d\n", x);
  return 0;
}
