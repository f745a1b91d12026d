/*
 * The libc malloc family, called from C through the shim: results, errno,
 * alignment, and libc's own allocations (strdup, asprintf, fopen) landing in
 * wasm-malloc. Prints one line per check, "name: value"; the test compares.
 *
 * Built with -fno-builtin: otherwise clang treats malloc as a builtin that
 * leaves errno alone and folds the errno reads below into the prior stores.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm_malloc.h"

int main(void) {
  void *p = malloc(100);
  printf("malloc aligned: %d\n", ((uintptr_t)p & 15) == 0);
  printf("usable >= 100: %d\n", malloc_usable_size(p) >= 100);
  char *big = malloc(300000);
  memset(big, 7, 300000);
  big = realloc(big, 600000);
  printf("realloc keeps contents: %d\n", big[0] == 7 && big[299999] == 7);
  free(big);
  int *zeros = calloc(1000, sizeof(int));
  int all_zero = 1;
  for (int i = 0; i < 1000; i++) all_zero &= zeros[i] == 0;
  printf("calloc zeroed: %d\n", all_zero);
  free(zeros);
  void *r;
  errno = 0;
  r = calloc(SIZE_MAX / 2, 4);
  printf("calloc overflow: %p errno ENOMEM %d\n", r, errno == ENOMEM);
  errno = 0;
  r = malloc(64u << 20); /* the host links with a 32 MiB limit */
  printf("malloc past the limit: %p errno ENOMEM %d\n", r, errno == ENOMEM);
  errno = 0;
  r = reallocarray(p, SIZE_MAX / 2, 4);
  printf("reallocarray overflow: %p errno ENOMEM %d\n", r, errno == ENOMEM);
  void *a = aligned_alloc(4096, 5000);
  printf("aligned_alloc 4096: %d\n", a != NULL && ((uintptr_t)a & 4095) == 0);
  free(a);
  volatile size_t not_a_power_of_two = 24;
  errno = 0;
  r = aligned_alloc(not_a_power_of_two, 10);
  printf("aligned_alloc bad alignment: %p errno EINVAL %d\n", r, errno == EINVAL);
  void *m = memalign(256, 10);
  printf("memalign 256: %d\n", m != NULL && ((uintptr_t)m & 255) == 0);
  free(m);
  void *out = NULL;
  int status = posix_memalign(&out, 64, 1000);
  printf("posix_memalign 64: %d %d\n", status, ((uintptr_t)out & 63) == 0);
  free(out);
  printf("posix_memalign bad alignment: %d\n", posix_memalign(&out, not_a_power_of_two + 3, 10));
  printf("realloc(p, 0): %p\n", realloc(p, 0));
  char *copy = strdup("duplicated by libc");
  char *text = NULL;
  int n = asprintf(&text, "%s and %d", copy, 42);
  printf("asprintf: %d %s\n", n, text);
  wasm_malloc_name_str(text, "asprintf result");
  FILE *f = fopen("/nonexistent/file", "r");
  printf("fopen missing: %d\n", f == NULL);
  printf("heap check: %u\n", wasm_heap_check());
  free(copy);
  /* text stays live, named, for the host to see. */
  return 0;
}
