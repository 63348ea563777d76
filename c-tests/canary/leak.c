/* Sanitizer canary: a definite leak (see heap_overflow.c). */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  char *p = malloc(64);
  p[0] = 'x';
  printf("%c\n", p[0]);
  p = NULL;
  return 0;
}
