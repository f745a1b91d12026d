/* Frees a block twice. wasm-malloc reports it to the host; by default the host throws. */
#include <stdio.h>
#include <stdlib.h>

#include "wasm_malloc.h"

int main(void) {
  char *p = malloc(40);
  wasm_malloc_name_str(p, "parser buffer");
  printf("first free\n");
  fflush(stdout);
  free(p);
  free(p);
  printf("after the double free\n");
  return 0;
}
