/*
 * strbuild: string builders that grow with realloc.
 *
 * Many builders are alive at once and grow in small appends (so realloc
 * sometimes grows in place and sometimes moves), one grows to megabytes, and
 * each is shrunk to fit at the end. Every builder's text is checked against a
 * hash computed as it was built. Deterministic output under any correct malloc.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *data;
  size_t length;
  size_t capacity;
  uint32_t hash;       /* FNV-1a of everything appended */
} Builder;

static uint32_t rng_state = 88172645u;
static uint32_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static void fail(const char *what, size_t i) {
  fprintf(stderr, "strbuild: FAILED %s (%zu)\n", what, i);
  exit(1);
}

static uint32_t fnv(uint32_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static unsigned moves = 0;

static void append(Builder *b, const char *s, size_t n) {
  if (b->length + n + 1 > b->capacity) {
    /* Grow by half (not doubling), so realloc is called often. */
    size_t capacity = b->capacity + b->capacity / 2 + n + 1;
    char *data = realloc(b->data, capacity);
    if (!data) fail("realloc", capacity);
    if (data != b->data && b->data != NULL) moves++;
    b->data = data;
    b->capacity = capacity;
  }
  memcpy(b->data + b->length, s, n);
  b->length += n;
  b->data[b->length] = 0;
  b->hash = fnv(b->hash, s, n);
}

static void check(const Builder *b, size_t i) {
  if (fnv(2166136261u, b->data, b->length) != b->hash) fail("contents", i);
  if (strlen(b->data) != b->length) fail("length", i);
}

#define BUILDERS 300

int main(void) {
  /* The array of builders itself grows with reallocarray. */
  Builder *builders = NULL;
  size_t count = 0;
  static const char *words[] = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
    "a", "longer piece of text that takes up more room", "\n", ", " };
  char number[24];
  size_t total = 0;
  for (unsigned step = 0; step < 120000; step++) {
    if (count < BUILDERS && (count == 0 || rng() % 50 == 0)) {
      Builder *grown = reallocarray(builders, count + 1, sizeof(Builder));
      if (!grown) fail("reallocarray", count);
      builders = grown;
      builders[count] = (Builder){ NULL, 0, 0, 2166136261u };
      count++;
    }
    Builder *b = &builders[rng() % count];
    if (rng() % 4 == 0) {
      int n = snprintf(number, sizeof number, "%u", rng() % 100000);
      append(b, number, (size_t)n);
    } else {
      const char *w = words[rng() % (sizeof words / sizeof *words)];
      append(b, w, strlen(w));
    }
    /* Now and then a builder is consumed: checked, freed, started over. */
    if (rng() % 1000 == 0) {
      check(b, (size_t)(b - builders));
      total += b->length;
      free(b->data);
      *b = (Builder){ NULL, 0, 0, 2166136261u };
    }
  }
  /* One big builder: megabytes, in small appends. */
  Builder big = { NULL, 0, 0, 2166136261u };
  for (unsigned i = 0; i < 200000; i++) {
    int n = snprintf(number, sizeof number, "%u;", i);
    append(&big, number, (size_t)n);
  }
  check(&big, 0);
  /* Shrink every builder to fit; the contents must survive. */
  uint32_t combined = 2166136261u;
  for (size_t i = 0; i < count; i++) {
    Builder *b = &builders[i];
    if (!b->data) continue;
    char *fit = realloc(b->data, b->length + 1);
    if (!fit) fail("shrink", i);
    b->data = fit;
    b->capacity = b->length + 1;
    check(b, i);
    total += b->length;
    combined = fnv(combined, b->data, b->length);
    free(b->data);
  }
  free(builders);
  printf("strbuild: %zu builders, %zu bytes built, big %zu bytes (hash %08x), combined hash %08x\n",
         count, total, big.length, big.hash, combined);
  free(big.data);
  printf("strbuild: reallocs moved %s: ok\n", moves > 0 ? "sometimes" : "never");
  return 0;
}
