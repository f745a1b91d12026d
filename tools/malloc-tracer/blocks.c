// Live blocks: pointer -> (trace id, size), and the ids of freed blocks.
//
// An open-addressing hash table with linear probing, at most half full, in
// memory from mmap (never from malloc: the tracer must not call what it
// traces). Removal shifts the following entries back instead of leaving
// tombstones, so a long run of frees does not slow later lookups.
//
// Ids: a freed block's id goes on a stack and the next allocation takes it
// (last freed, first reused), so the trace's id count is the peak number of
// live blocks, not the number of allocations. The format allows either; a
// reader that sizes a table by the id count (a C driver, the bench's slot
// table) needs this.
//
// Callers hold the tracer's lock (hooks.c).
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "tracer.h"

typedef struct {
  uintptr_t ptr;   // 0: empty
  uint64_t size;
  uint32_t id;
} slot;

static slot *table;
static size_t capacity;   // a power of two (0 before the first block)
static size_t used;

static uint32_t *free_ids;
static size_t free_ids_capacity;
static size_t free_ids_count;
static uint32_t next_id;

/** Fresh zeroed pages, or a crash with a message: a tracer without memory cannot go on. */
static void *pages(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    static const char message[] = "malloc-tracer: mmap failed for its block table; aborting\n";
    (void)!write(2, message, sizeof message - 1);
    __builtin_trap();
  }
  return p;
}

// Pointers are 16-byte aligned in practice; Fibonacci hashing spreads the rest.
static size_t home(uintptr_t ptr) {
  return (size_t)(((uint64_t)(ptr >> 4) * 0x9E3779B97F4A7C15ull) >> 20) & (capacity - 1);
}

static void insert(uintptr_t ptr, uint32_t id, uint64_t size) {
  size_t i = home(ptr);
  while (table[i].ptr != 0) i = (i + 1) & (capacity - 1);
  table[i].ptr = ptr;
  table[i].id = id;
  table[i].size = size;
  used++;
}

static void grow(void) {
  slot *old = table;
  size_t old_capacity = capacity;
  capacity = capacity ? capacity * 2 : 1 << 16;
  table = pages(capacity * sizeof(slot));
  used = 0;
  for (size_t i = 0; i < old_capacity; i++) {
    if (old[i].ptr != 0) insert(old[i].ptr, old[i].id, old[i].size);
  }
  if (old) munmap(old, old_capacity * sizeof(slot));
}

static uint32_t take_id(void) {
  if (free_ids_count > 0) return free_ids[--free_ids_count];
  return next_id++;
}

void blocks_release_id(uint32_t id) {
  if (free_ids_count == free_ids_capacity) {
    size_t bigger = free_ids_capacity ? free_ids_capacity * 2 : 1 << 14;
    uint32_t *moved = pages(bigger * sizeof(uint32_t));
    if (free_ids) {
      memcpy(moved, free_ids, free_ids_count * sizeof(uint32_t));
      munmap(free_ids, free_ids_capacity * sizeof(uint32_t));
    }
    free_ids = moved;
    free_ids_capacity = bigger;
  }
  free_ids[free_ids_count++] = id;
}

uint32_t blocks_add(uintptr_t ptr, uint64_t size) {
  if (2 * (used + 1) > capacity) grow();
  uint32_t id = take_id();
  insert(ptr, id, size);
  return id;
}

void blocks_move(uintptr_t moved, uint32_t id, uint64_t size) {
  if (2 * (used + 1) > capacity) grow();
  insert(moved, id, size);
}

int blocks_remove(uintptr_t ptr, block_info *out) {
  if (capacity == 0) return 0;
  size_t i = home(ptr);
  while (table[i].ptr != ptr) {
    if (table[i].ptr == 0) return 0;
    i = (i + 1) & (capacity - 1);
  }
  out->id = table[i].id;
  out->size = table[i].size;
  // Backward shift: move up each later entry of the run that may sit in the hole.
  size_t hole = i;
  for (size_t j = (i + 1) & (capacity - 1); table[j].ptr != 0; j = (j + 1) & (capacity - 1)) {
    size_t want = home(table[j].ptr);
    // j's entry may move to the hole unless its home lies cyclically in (hole, j].
    int stays = hole <= j ? (want > hole && want <= j) : (want > hole || want <= j);
    if (!stays) {
      table[hole] = table[j];
      hole = j;
    }
  }
  table[hole].ptr = 0;
  used--;
  return 1;
}

uint32_t blocks_id_count(void) { return next_id; }

void blocks_each(void (*each)(uint32_t id, uint64_t size)) {
  for (size_t i = 0; i < capacity; i++) {
    if (table[i].ptr != 0) each(table[i].id, table[i].size);
  }
}

