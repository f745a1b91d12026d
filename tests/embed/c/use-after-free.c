/*
 * Writes into a block after freeing it, over the link the allocator keeps
 * there. The next malloc of that size notices, rebuilds its list without the
 * link, and goes on: a report, never a stop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm_malloc.h"

int main(void) {
  char *keep = malloc(40);
  char *p = malloc(40);
  char *q = malloc(40);
  wasm_malloc_name_str(p, "p"); /* the blocks escape: clang keeps every call */
  wasm_malloc_name_str(q, "q");
  free(p);
  free(q);
  volatile unsigned *stale = (volatile unsigned *)q;
  stale[0] = 0x41414141u; /* a use after free: q's link to p */
  printf("wrote after free\n");
  fflush(stdout);
  char *r = malloc(40);
  strcpy(r, "still works");
  printf("%s, r %s q\n", r, r == q ? "is" : "is not");
  free(r);
  free(keep);
  return 0;
}
