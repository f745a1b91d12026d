/*
 * sqlite-workload: SQLite (the amalgamation, compiled beside this file) run
 * through a fixed, seeded workload on an in-memory database, printing what
 * it finds. Every result is deterministic: the output is the same under any
 * correct malloc, so two builds can be compared byte for byte.
 *
 *   1. 100,000 rows of random text (names 4..24 letters, payloads 10..300)
 *      inserted through one prepared statement, in one transaction
 *   2. two indexes; aggregates, a GROUP BY, index range counts, a sort of the
 *      whole table, a self-join through the index, group_concat
 *   3. updates that grow a third of the payloads, deletes of a fifth of the rows
 *   4. a checksum of every row left, in id order, and VACUUM
 *
 * SQLite allocates through malloc, realloc and free for every page of the
 * cache, every row it builds and every sort run: tens of thousands of live
 * blocks of many sizes, freed in orders no test here chose.
 *
 *   sqlite-workload [rows]     (default 100000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite3.h"

static sqlite3 *db;

static uint32_t rng_state = 1234567u;
static uint32_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static void fail(const char *what) {
  fprintf(stderr, "sqlite-workload: %s: %s\n", what, sqlite3_errmsg(db));
  exit(1);
}

static void exec(const char *sql) {
  char *error = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK) {
    fprintf(stderr, "sqlite-workload: %s: %s\n", sql, error ? error : "?");
    exit(1);
  }
}

static sqlite3_stmt *prepare(const char *sql) {
  sqlite3_stmt *statement;
  if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK) fail(sql);
  return statement;
}

/* Print every row of a query, columns separated by " | ". */
static void show(const char *title, const char *sql) {
  sqlite3_stmt *statement = prepare(sql);
  printf("%s:\n", title);
  int rc;
  while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
    printf(" ");
    for (int i = 0; i < sqlite3_column_count(statement); i++) {
      const unsigned char *text = sqlite3_column_text(statement, i);
      printf("%s %s", i ? " |" : "", text ? (const char *)text : "NULL");
    }
    printf("\n");
  }
  if (rc != SQLITE_DONE) fail(sql);
  sqlite3_finalize(statement);
}

/* One integer a query gives. */
static long long scalar(sqlite3_stmt *statement) {
  if (sqlite3_step(statement) != SQLITE_ROW) fail("scalar");
  long long value = sqlite3_column_int64(statement, 0);
  sqlite3_reset(statement);
  return value;
}

static const char NAME_LETTERS[] = "abcdefghijklmnopqrstuvwxyz";
static const char TEXT_LETTERS[] = "abcdefghijklmnopqrstuvwxyz      ETAOIN";

static void random_text(char *out, int length, const char *letters, size_t count) {
  for (int i = 0; i < length; i++) out[i] = letters[rng() % count];
  out[length] = 0;
}

/* FNV-1a over every column of every row, in id order. */
static uint32_t checksum(long long *rows) {
  sqlite3_stmt *statement = prepare("SELECT id, name, value, payload FROM t ORDER BY id");
  uint32_t hash = 2166136261u;
  *rows = 0;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    for (int i = 0; i < 4; i++) {
      const unsigned char *text = sqlite3_column_text(statement, i);
      int length = sqlite3_column_bytes(statement, i);
      for (int j = 0; j < length; j++) hash = (hash ^ text[j]) * 16777619u;
      hash = (hash ^ 0xff) * 16777619u;
    }
    (*rows)++;
  }
  sqlite3_finalize(statement);
  return hash;
}

int main(int argc, char **argv) {
  int rows = argc > 1 ? atoi(argv[1]) : 100000;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) fail("open");
  printf("SQLite %s, %d rows\n", sqlite3_libversion(), rows);
  exec("PRAGMA cache_size = -16384");
  exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER NOT NULL, payload TEXT NOT NULL)");

  /* 1. Inserts. */
  exec("BEGIN");
  sqlite3_stmt *insert = prepare("INSERT INTO t(name, value, payload) VALUES (?, ?, ?)");
  char name[32], payload[320];
  for (int i = 0; i < rows; i++) {
    random_text(name, 4 + rng() % 21, NAME_LETTERS, sizeof NAME_LETTERS - 1);
    random_text(payload, 10 + rng() % 291, TEXT_LETTERS, sizeof TEXT_LETTERS - 1);
    sqlite3_bind_text(insert, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(insert, 2, (int)(rng() % 1000000));
    sqlite3_bind_text(insert, 3, payload, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(insert) != SQLITE_DONE) fail("insert");
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  exec("COMMIT");

  /* 2. Indexes and queries. */
  exec("CREATE INDEX t_name ON t(name)");
  exec("CREATE INDEX t_value ON t(value)");
  show("totals", "SELECT count(*), sum(value), sum(length(payload)), min(name), max(name) FROM t");
  show("most common first letters",
       "SELECT substr(name, 1, 1) AS letter, count(*) AS n, avg(length(payload)) FROM t GROUP BY letter ORDER BY n DESC, letter LIMIT 5");
  sqlite3_stmt *range = prepare("SELECT count(*) FROM t WHERE value BETWEEN ? AND ?");
  long long in_ranges = 0;
  for (int i = 0; i < 2000; i++) {
    int low = (int)(rng() % 1000000);
    sqlite3_bind_int(range, 1, low);
    sqlite3_bind_int(range, 2, low + (int)(rng() % 5000));
    in_ranges += scalar(range);
  }
  sqlite3_finalize(range);
  printf("rows in 2000 value ranges: %lld\n", in_ranges);
  show("payload order", "SELECT id, substr(payload, 1, 20) FROM t ORDER BY payload, id LIMIT 3");
  show("names shared by two rows, through the index",
       "SELECT count(*), sum(a.value - b.value) FROM t AS a JOIN t AS b ON a.name = b.name AND a.id < b.id");
  show("group_concat", "SELECT length(group_concat(name, ',')), count(*) FROM (SELECT name FROM t WHERE value < 50000 ORDER BY name)");

  /* 3. Updates that grow rows, deletes. */
  exec("UPDATE t SET payload = payload || upper(payload) || name WHERE id % 3 = 0");
  exec("UPDATE t SET value = value / 2, name = name || 'x' WHERE id % 7 = 0");
  exec("DELETE FROM t WHERE value % 5 = 0");
  show("after updates and deletes", "SELECT count(*), sum(value), sum(length(payload)), max(length(payload)) FROM t");

  /* 4. What is left, checked. */
  long long left;
  uint32_t hash = checksum(&left);
  printf("checksum of %lld rows: %08x\n", left, hash);
  exec("VACUUM");
  long long again;
  if (checksum(&again) != hash || again != left) fail("the checksum changed across VACUUM");
  show("integrity", "PRAGMA integrity_check");
  sqlite3_close(db);
  printf("sqlite-workload: ok\n");
  return 0;
}
