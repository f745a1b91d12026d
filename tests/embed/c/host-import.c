/* Imports a function of its own host (env.host_value): not something a linked module can give. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((import_module("env"), import_name("host_value"))) int host_value(void);

int main(void) {
  int *p = malloc(sizeof(int));
  *p = host_value();
  printf("host value %d\n", *p);
  free(p);
  return 0;
}
