/*
 * tree: binary search trees and n-ary trees, built and freed, round after round.
 *
 * A binary search tree of random keys (with duplicates counted) is built,
 * walked in order (must be sorted, must count every insert), half deleted,
 * walked again, and freed. An n-ary tree whose children arrays grow with
 * realloc is built to a fixed shape and freed recursively; its leaf nodes come
 * from posix_memalign (64-byte aligned) and aligned_alloc. Deterministic output
 * under any correct malloc.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng_state = 521288629u;
static uint32_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static void fail(const char *what, long i) {
  fprintf(stderr, "tree: FAILED %s (%ld)\n", what, i);
  exit(1);
}

/* ── Binary search tree ─────────────────────────────────────────────── */
typedef struct Node {
  struct Node *left, *right;
  uint32_t key;
  uint32_t count;
  char label[12];
} Node;

static Node *insert(Node *root, uint32_t key) {
  Node **at = &root;
  while (*at) {
    if (key == (*at)->key) { (*at)->count++; return root; }
    at = key < (*at)->key ? &(*at)->left : &(*at)->right;
  }
  Node *n = calloc(1, sizeof *n);
  if (!n) fail("calloc node", key);
  n->key = key;
  n->count = 1;
  snprintf(n->label, sizeof n->label, "k%u", key % 100000);
  *at = n;
  return root;
}

static Node *delete_min(Node *root, Node **min) {
  if (!root->left) { *min = root; return root->right; }
  root->left = delete_min(root->left, min);
  return root;
}

static Node *erase(Node *root, uint32_t key, int *found) {
  if (!root) return NULL;
  if (key < root->key) root->left = erase(root->left, key, found);
  else if (key > root->key) root->right = erase(root->right, key, found);
  else {
    *found = 1;
    Node *rest;
    if (!root->left) rest = root->right;
    else if (!root->right) rest = root->left;
    else {
      Node *min;
      Node *right = delete_min(root->right, &min);
      min->left = root->left;
      min->right = right;
      rest = min;
    }
    if (strcmp(root->label + 1, "") == 0) fail("label", key);
    free(root);
    return rest;
  }
  return root;
}

typedef struct { uint64_t nodes, inserts, sum; uint32_t last; int sorted; } Walk;

static void walk(const Node *n, Walk *w) {
  while (n) {
    walk(n->left, w);
    if (w->nodes && n->key <= w->last) w->sorted = 0;
    char expected[12];
    snprintf(expected, sizeof expected, "k%u", n->key % 100000);
    if (strcmp(expected, n->label) != 0) fail("label contents", n->key);
    w->last = n->key;
    w->nodes++;
    w->inserts += n->count;
    w->sum += (uint64_t)n->key * n->count;
    n = n->right;
  }
}

static void destroy(Node *n) {
  while (n) {
    destroy(n->left);
    Node *right = n->right;
    free(n);
    n = right;
  }
}

/* ── N-ary tree ──────────────────────────────────────────────────────── */
typedef struct Tree {
  struct Tree **children;
  size_t count;
  uint64_t value;
  double payload[4];   /* leaves: aligned */
} Tree;

static unsigned aligned_leaves = 0;

static Tree *make(unsigned depth, uint64_t value) {
  Tree *t;
  if (depth == 0) {
    void *p = NULL;
    if (value & 1) {
      if (posix_memalign(&p, 64, sizeof(Tree)) != 0) fail("posix_memalign", (long)value);
    } else {
      p = aligned_alloc(32, (sizeof(Tree) + 31) & ~(size_t)31);
      if (!p) fail("aligned_alloc", (long)value);
    }
    if (((uintptr_t)p & ((value & 1) ? 63 : 31)) != 0) fail("alignment", (long)value);
    aligned_leaves++;
    t = p;
    memset(t, 0, sizeof *t);
  } else {
    t = malloc(sizeof *t);
    if (!t) fail("malloc tree", depth);
    t->children = NULL;
    t->count = 0;
  }
  t->value = value;
  for (int i = 0; i < 4; i++) t->payload[i] = (double)value * (i + 1);
  if (depth > 0) {
    unsigned fanout = 2 + (unsigned)(value % 5);
    for (unsigned i = 0; i < fanout; i++) {
      Tree **grown = realloc(t->children, (t->count + 1) * sizeof(Tree *));
      if (!grown) fail("realloc children", (long)t->count);
      t->children = grown;
      t->children[t->count++] = make(depth - 1, value * 7 + i + 1);
    }
  }
  return t;
}

static uint64_t sum_tree(const Tree *t, uint64_t *nodes) {
  uint64_t sum = t->value;
  (*nodes)++;
  for (int i = 0; i < 4; i++) if (t->payload[i] != (double)t->value * (i + 1)) fail("payload", (long)t->value);
  for (size_t i = 0; i < t->count; i++) sum += sum_tree(t->children[i], nodes);
  return sum;
}

static void free_tree(Tree *t) {
  for (size_t i = 0; i < t->count; i++) free_tree(t->children[i]);
  free(t->children);
  free(t);
}

int main(void) {
  for (unsigned round = 0; round < 5; round++) {
    Node *root = NULL;
    unsigned n = 20000 + round * 5000;
    for (unsigned i = 0; i < n; i++) root = insert(root, rng() % (n * 2));
    Walk w = { 0, 0, 0, 0, 1 };
    walk(root, &w);
    if (!w.sorted) fail("in-order walk not sorted", round);
    if (w.inserts != n) fail("insert count", (long)w.inserts);
    unsigned erased = 0;
    for (unsigned i = 0; i < n; i++) {
      int found = 0;
      root = erase(root, rng() % (n * 2), &found);
      erased += found;
    }
    Walk after = { 0, 0, 0, 0, 1 };
    walk(root, &after);
    if (!after.sorted) fail("walk after erase not sorted", round);
    if (after.nodes + erased != w.nodes) fail("erase count", round);
    destroy(root);

    uint64_t nodes = 0;
    Tree *t = make(4 + round % 2, round + 1);
    uint64_t sum = sum_tree(t, &nodes);
    free_tree(t);
    printf("round %u: bst %llu nodes (%llu keys, sum %llu), %u erased; n-ary %llu nodes, sum %llu\n", round,
           (unsigned long long)w.nodes, (unsigned long long)w.inserts, (unsigned long long)w.sum, erased,
           (unsigned long long)nodes, (unsigned long long)sum);
  }
  printf("tree: %u aligned leaves: ok\n", aligned_leaves);
  return 0;
}
