/* Frees a pointer into the middle of a block: an invalid free, reported with its reason. */
#include <stdio.h>
#include <stdlib.h>

#include "wasm_malloc.h"

int main(void) {
  char *p = malloc(100);
  wasm_malloc_name_str(p, "record"); /* the block escapes: clang keeps the malloc and the frees */
  printf("before the invalid free\n");
  fflush(stdout);
  free(p + 32);
  printf("after the invalid free\n");
  free(p);
  return 0;
}
