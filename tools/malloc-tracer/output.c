// The trace text: configuration from the environment, a static buffer of .rep
// lines, the file it goes to and the header written last.
//
//   WASM_MALLOC_TRACE          where the trace goes; %p is the process id, %e the
//                              executable's name, %% a percent sign
//                              (default malloc-trace.%e.%p.rep, in the starting folder)
//   WASM_MALLOC_TRACE_ONLY     comma-separated executable names: other programs
//                              (a compiler driver, a shell) run untraced
//   WASM_MALLOC_TRACE_MAX_OPS  the trace ends after this many operations (blocks
//                              live then are never freed in it); the calls after
//                              are still counted, for the .stats file
//
// The file is written as NAME.partial while the program runs and renamed to
// NAME when the trace is complete (at exit, or at MAX_OPS): a file without the
// suffix is always a whole trace. It is opened for each write and closed again,
// so a program that closes or reuses every descriptor cannot make the tracer
// write into one of its own files. The header's counts are unknown until the
// end: it is written first as four space-padded placeholders (the format reads
// numbers with leading spaces) and overwritten in place.
//
// Callers hold the tracer's lock (hooks.c).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tracer.h"

trace_counts counts;

enum { UNCONFIGURED, TRACING, OFF };
static int state = UNCONFIGURED;

static char pattern[2048];
static char path[4096];
static char partial[4096 + 16];
static char exe[4096];
static uint64_t max_ops;
static int file_started;
static int cut;   // MAX_OPS reached: the file is complete, calls are only counted

#define BUFFER_BYTES (1 << 20)
#define LONGEST_LINE 48   // "r 4294967295 18446744073709551615\n" with room to spare
static char buffer[BUFFER_BYTES];
static size_t buffered;

#define HEADER_WIDTH 12   // digits per header number, as src/trace-log.ts writes them
#define HEADER_BYTES (4 * (HEADER_WIDTH + 1))

// ── Small helpers that allocate nothing ─────────────────────────────────────
static void say(const char *a, const char *b, const char *c) {
  const char *parts[] = { "malloc-tracer: ", a, b, c, "\n" };
  for (int i = 0; i < 5; i++) if (parts[i]) (void)!write(2, parts[i], strlen(parts[i]));
}

/** `n` in decimal at `to`; returns the number of characters written. */
static size_t put_u64(char *to, uint64_t n) {
  char digits[20];
  size_t count = 0;
  do { digits[count++] = (char)('0' + n % 10); n /= 10; } while (n);
  for (size_t i = 0; i < count; i++) to[i] = digits[count - 1 - i];
  return count;
}

static int write_all(int fd, const char *bytes, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, bytes, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    bytes += n;
    length -= (size_t)n;
  }
  return 0;
}

/** Stop tracing after a failed write: the program runs on, untraced. */
static void give_up(const char *what) {
  say(what, partial, ": tracing stopped (the program goes on untraced)");
  state = OFF;
}

// ── Configuration ───────────────────────────────────────────────────────────
static void read_exe_name(void) {
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = 0;
  if (n <= 0) memcpy(exe, "unknown", 8);
}

static const char *exe_base(void) {
  const char *slash = strrchr(exe, '/');
  return slash ? slash + 1 : exe;
}

/** Whether the comma-separated `list` names this executable. */
static int listed(const char *list) {
  const char *name = exe_base();
  size_t length = strlen(name);
  for (const char *p = list; *p;) {
    const char *end = strchr(p, ',');
    size_t item = end ? (size_t)(end - p) : strlen(p);
    if (item == length && memcmp(p, name, length) == 0) return 1;
    if (!end) break;
    p = end + 1;
  }
  return 0;
}

/** `pattern` with %p and %e filled in, into `path` and `partial`. */
static void expand_path(void) {
  size_t at = 0;
  char pid[24];
  pid[put_u64(pid, (uint64_t)getpid())] = 0;
  for (const char *p = pattern; *p && at < sizeof path - 32; p++) {
    const char *insert = NULL;
    if (p[0] == '%' && p[1] == 'p') insert = pid;
    else if (p[0] == '%' && p[1] == 'e') insert = exe_base();
    else if (p[0] == '%' && p[1] == '%') insert = "%";
    if (insert) {
      size_t n = strlen(insert);
      if (at + n >= sizeof path - 32) break;
      memcpy(path + at, insert, n);
      at += n;
      p++;
    } else {
      path[at++] = *p;
    }
  }
  path[at] = 0;
  memcpy(partial, path, at);
  memcpy(partial + at, ".partial", 9);
}

void output_configure(void) {
  if (state != UNCONFIGURED) return;
  read_exe_name();
  const char *only = getenv("WASM_MALLOC_TRACE_ONLY");
  if (only && *only && !listed(only)) {
    state = OFF;
    return;
  }
  const char *max = getenv("WASM_MALLOC_TRACE_MAX_OPS");
  if (max && *max) max_ops = strtoull(max, NULL, 10);
  const char *given = getenv("WASM_MALLOC_TRACE");
  if (!given || !*given) given = "malloc-trace.%e.%p.rep";
  // Relative to the folder the program started in, whatever it changes to later.
  size_t at = 0;
  if (given[0] != '/' && getcwd(pattern, sizeof pattern - 2)) {
    at = strlen(pattern);
    pattern[at++] = '/';
  }
  size_t length = strlen(given);
  if (at + length >= sizeof pattern) {
    say("WASM_MALLOC_TRACE is too long: ", given, "");
    state = OFF;
    return;
  }
  memcpy(pattern + at, given, length + 1);
  expand_path();
  state = TRACING;
}

int output_enabled(void) {
  // The environment is there once libc has started (before any constructor of
  // the program); allocations before that are traced and kept provisionally.
  if (state == UNCONFIGURED && environ) output_configure();
  return state != OFF;
}

// ── The file ────────────────────────────────────────────────────────────────
static void header_text(char *to) {
  uint64_t numbers[4] = {
    // Suggested heap size (ignored by readers): the peak live payload, within the format's 32 bits.
    counts.peak_live_bytes > 0xffffffffull ? 0xffffffffull : counts.peak_live_bytes,
    blocks_id_count(),
    counts.ops,
    1,
  };
  for (int i = 0; i < 4; i++) {
    char digits[24];
    size_t n = put_u64(digits, numbers[i]);
    char *line = to + i * (HEADER_WIDTH + 1);
    memset(line, ' ', HEADER_WIDTH);
    memcpy(line + HEADER_WIDTH - n, digits, n);
    line[HEADER_WIDTH] = '\n';
  }
}

static void flush(void) {
  if (state == UNCONFIGURED) output_configure();
  if (state == OFF) { buffered = 0; return; }
  int fd = file_started ? open(partial, O_WRONLY | O_APPEND | O_CLOEXEC)
                        : open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) { give_up("cannot open "); buffered = 0; return; }
  int failed = 0;
  if (!file_started) {
    char header[HEADER_BYTES];
    header_text(header);
    failed = write_all(fd, header, HEADER_BYTES);
    file_started = 1;
  }
  if (!failed) failed = write_all(fd, buffer, buffered);
  close(fd);
  buffered = 0;
  if (failed) give_up("cannot write ");
}

static void complete_file(void);

void output_op(char kind, uint32_t id, uint64_t size) {
  counts.run_ops++;
  if (cut) return;
  if (buffered + LONGEST_LINE > BUFFER_BYTES) flush();
  char *line = buffer + buffered;
  size_t n = 0;
  line[n++] = kind;
  line[n++] = ' ';
  n += put_u64(line + n, id);
  if (kind != 'f') {
    line[n++] = ' ';
    n += put_u64(line + n, size);
  }
  line[n++] = '\n';
  buffered += n;
  counts.ops++;
  if (max_ops && counts.ops >= max_ops) {
    complete_file();
    cut = 1;
  }
}

/** NAME.stats: what the .rep cannot say (which call each "a" was, frees of untraced blocks). */
static void write_stats(void) {
  char name[sizeof path + 8];
  size_t at = strlen(path);
  memcpy(name, path, at);
  memcpy(name + at, ".stats", 7);
  int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  char text[8192];
  size_t n = 0;
  const struct { const char *key; uint64_t value; } rows[] = {
    { "operations_written", counts.ops }, { "operations_in_run", counts.run_ops },
    { "peak_live_bytes_in_run", counts.peak_live_bytes }, { "live_bytes_at_exit", counts.live_bytes },
    { "malloc", counts.mallocs }, { "calloc", counts.callocs }, { "realloc", counts.reallocs },
    { "realloc_from_null", counts.realloc_from_null }, { "realloc_to_zero", counts.realloc_to_zero },
    { "aligned", counts.aligned }, { "free", counts.frees },
    { "untraced_frees", counts.unknown_frees }, { "malloc_usable_size_calls", counts.usable_size_calls },
    { "inherited_from_parent", counts.inherited }, { "pid", (uint64_t)getpid() },
  };
  n += (size_t)(stpcpy(text, "executable ") - text);
  size_t e = strlen(exe) < 2048 ? strlen(exe) : 2048;
  memcpy(text + n, exe, e);
  n += e;
  text[n++] = '\n';
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    n += (size_t)(stpcpy(text + n, rows[i].key) - (text + n));
    text[n++] = ' ';
    n += put_u64(text + n, rows[i].value);
    text[n++] = '\n';
  }
  (void)write_all(fd, text, n);
  close(fd);
}

/** The buffered text written, the header's final counts, NAME.partial renamed to NAME. */
static void complete_file(void) {
  flush();
  if (state != TRACING) return;
  int fd = open(partial, O_WRONLY | O_CLOEXEC);
  char header[HEADER_BYTES];
  header_text(header);
  if (fd < 0 || pwrite(fd, header, HEADER_BYTES, 0) != HEADER_BYTES) {
    if (fd >= 0) close(fd);
    give_up("cannot write the header of ");
    return;
  }
  close(fd);
  if (rename(partial, path) != 0) give_up("cannot rename ");
}

void output_finish(void) {
  if (state == UNCONFIGURED) output_configure();
  if (state != TRACING) return;
  if (!cut) complete_file();
  if (state != TRACING) return;
  write_stats();
  state = OFF;
}

static void inherited(uint32_t id, uint64_t size) {
  output_op('a', id, size);
  counts.live_bytes += size;
}

void output_restart_after_fork(void) {
  buffered = 0;
  file_started = 0;
  cut = 0;
  memset(&counts, 0, sizeof counts);
  if (state == OFF) return;
  if (state == TRACING) expand_path();
  // The child's heap holds the parent's live blocks: its trace allocates them
  // first (same ids), so the child's frees of them replay.
  blocks_each(inherited);
  counts.inherited = counts.ops;
  counts.peak_live_bytes = counts.live_bytes;
}
