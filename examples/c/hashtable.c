/*
 * hashtable: a string-keyed hash table with chaining, deletions and resizing.
 *
 * Every key and every entry is its own allocation; the bucket array grows
 * (calloc + rehash) and shrinks as the load changes. A shadow array says which
 * keys must be present, and every lookup is checked against it. Deterministic:
 * the output is the same under any correct malloc.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Entry {
  struct Entry *next;
  char *key;
  uint32_t value;
} Entry;

typedef struct {
  Entry **buckets;
  size_t capacity;   /* a power of two */
  size_t count;
  unsigned resizes;
} Table;

static uint32_t rng_state = 2463534242u;
static uint32_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static uint32_t hash(const char *s) {
  uint32_t h = 2166136261u;
  while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
  return h;
}

static void fail(const char *what, unsigned i) {
  fprintf(stderr, "hashtable: FAILED %s (%u)\n", what, i);
  exit(1);
}

static void resize(Table *t, size_t capacity) {
  Entry **buckets = calloc(capacity, sizeof(Entry *));
  if (!buckets) fail("calloc buckets", (unsigned)capacity);
  for (size_t i = 0; i < t->capacity; i++) {
    Entry *e = t->buckets[i];
    while (e) {
      Entry *next = e->next;
      size_t b = hash(e->key) & (capacity - 1);
      e->next = buckets[b];
      buckets[b] = e;
      e = next;
    }
  }
  free(t->buckets);
  t->buckets = buckets;
  t->capacity = capacity;
  t->resizes++;
}

static Entry **find(Table *t, const char *key) {
  Entry **at = &t->buckets[hash(key) & (t->capacity - 1)];
  while (*at && strcmp((*at)->key, key) != 0) at = &(*at)->next;
  return at;
}

static void put(Table *t, const char *key, uint32_t value) {
  Entry **at = find(t, key);
  if (*at) { (*at)->value = value; return; }
  Entry *e = malloc(sizeof *e);
  if (!e) fail("malloc entry", 0);
  e->key = strdup(key);
  if (!e->key) fail("strdup key", 0);
  e->value = value;
  e->next = NULL;
  *at = e;
  if (++t->count > t->capacity * 3 / 4) resize(t, t->capacity * 2);
}

static int del(Table *t, const char *key) {
  Entry **at = find(t, key);
  Entry *e = *at;
  if (!e) return 0;
  *at = e->next;
  free(e->key);
  free(e);
  if (--t->count < t->capacity / 8 && t->capacity > 16) resize(t, t->capacity / 2);
  return 1;
}

#define KEYS 40000u

int main(void) {
  Table t = { calloc(16, sizeof(Entry *)), 16, 0, 0 };
  uint32_t *expected = calloc(KEYS, sizeof(uint32_t)); /* 0 = absent, else value */
  if (!t.buckets || !expected) fail("calloc", 0);
  char key[32];
  unsigned inserts = 0, deletes = 0, misses = 0;
  for (unsigned round = 0; round < 6; round++) {
    for (unsigned n = 0; n < KEYS; n++) {
      uint32_t i = rng() % KEYS;
      snprintf(key, sizeof key, "key-%u-%s", i, i % 7 ? "short" : "a-rather-longer-suffix-for-some-keys");
      if (rng() % 3 == 0) {
        int removed = del(&t, key);
        if (removed != (expected[i] != 0)) fail("delete result", i);
        if (removed) deletes++; else misses++;
        expected[i] = 0;
      } else {
        uint32_t value = (rng() | 1) & 0x7fffffff;
        put(&t, key, value);
        expected[i] = value;
        inserts++;
      }
    }
    /* Every key: present exactly when expected, with the expected value. */
    size_t present = 0;
    for (uint32_t i = 0; i < KEYS; i++) {
      snprintf(key, sizeof key, "key-%u-%s", i, i % 7 ? "short" : "a-rather-longer-suffix-for-some-keys");
      Entry *e = *find(&t, key);
      if ((e != NULL) != (expected[i] != 0)) fail("lookup presence", i);
      if (e && e->value != expected[i]) fail("lookup value", i);
      present += e != NULL;
    }
    if (present != t.count) fail("count", round);
    /* Every third round, empty the table almost completely. */
    if (round % 3 == 2) {
      for (uint32_t i = 0; i < KEYS; i++) {
        if (i % 10 == 0 || !expected[i]) continue;
        snprintf(key, sizeof key, "key-%u-%s", i, i % 7 ? "short" : "a-rather-longer-suffix-for-some-keys");
        if (!del(&t, key)) fail("bulk delete", i);
        expected[i] = 0;
        deletes++;
      }
    }
    uint32_t sum = 0;
    for (uint32_t i = 0; i < KEYS; i++) sum += expected[i] * (i + 1);
    printf("round %u: %zu keys, %zu buckets, checksum %08x\n", round, t.count, t.capacity, sum);
  }
  for (size_t i = 0; i < t.capacity; i++) {
    while (t.buckets[i]) {
      Entry *e = t.buckets[i];
      t.buckets[i] = e->next;
      free(e->key);
      free(e);
    }
  }
  free(t.buckets);
  free(expected);
  printf("hashtable: %u inserts, %u deletes, %u misses, %u resizes: ok\n", inserts, deletes, misses, t.resizes);
  return 0;
}
