// The programs whose malloc traffic traces/real/ holds, and exactly how each
// is run. Every input is a file a Debian package installs (named in
// `packages`) or a script in workloads/ beside this file, so anyone with
// the same packages records the same traces (tools/malloc-tracer/record.mjs).
//
//   name        the trace's file: traces/real/NAME.rep.gz
//   kind        what sort of program, for the README
//   argv        the command (absolute paths: the Debian binaries, not a
//               pyenv or nvm shim earlier in PATH)
//   stdin       a file to read as standard input (compressors)
//   env         extra environment: hash seeds fixed so that dict and hash
//               orders, and so allocation orders, repeat from run to run
//   executable  the process to trace, by its executable's name
//               (WASM_MALLOC_TRACE_ONLY): gcc's cc1, not the gcc driver
//   maxOps      the trace keeps the run's first maxOps operations (omitted:
//               the whole run)
import path from "node:path";
import { fileURLToPath } from "node:url";

const WORKLOADS = path.join(path.dirname(fileURLToPath(import.meta.url)), "workloads");
const MIME_XML = "/usr/share/mime/packages/freedesktop.org.xml";

export const PROGRAMS = [
  {
    name: "sqlite-orders",
    kind: "database",
    what: "SQLite's shell on an in-memory database: tables of customers, products and 15,000 orders with notes of 0.2–2.8 KB filled from recursive CTEs, three indexes, joins, group-by reports, a window function, updates, deletes, CREATE TABLE AS and VACUUM (workloads/orders.sql). The whole run.",
    argv: ["/usr/bin/sqlite3", "-bail", ":memory:", "-init", "WORKLOADS/orders.sql", ".quit"],
    executable: "sqlite3",
    packages: ["sqlite3"],
  },
  {
    name: "cc1-pngtest",
    kind: "compiler",
    what: "GCC 12 compiling libpng's test program at -O2: the traced process is cc1, which the gcc driver runs (the driver and the assembler are not traced). The whole run.",
    argv: ["/usr/bin/gcc", "-O2", "-c", "/usr/share/doc/libpng-dev/examples/pngtest.c", "-o", "TMP/pngtest.o"],
    executable: "cc1",
    packages: ["gcc", "cpp-12", "libpng-dev"],
  },
  {
    name: "python-ast",
    kind: "interpreter",
    what: "Python 3.11 parsing the stdlib's _pydecimal.py and printing its syntax tree (python3 -m ast), with PYTHONMALLOC=malloc so that every object, small ones too, comes from malloc (as in an interpreter built without its own small-object allocator). The first 400,000 operations: the parse and the start of the printing.",
    argv: ["/usr/bin/python3", "-m", "ast", "/usr/lib/python3.11/_pydecimal.py"],
    env: { PYTHONMALLOC: "malloc", PYTHONHASHSEED: "0", PYTHONDONTWRITEBYTECODE: "1" },
    executable: "python3.11",
    maxOps: 400_000,
    packages: ["python3.11-minimal", "libpython3.11-stdlib"],
  },
  {
    name: "python-json",
    kind: "interpreter",
    what: "Python 3.11 as Debian ships it (its own allocator for objects up to 512 bytes, malloc for the rest) pretty-printing ISO 639-3's language records with sorted keys (python3 -m json.tool). The whole run.",
    argv: ["/usr/bin/python3", "-m", "json.tool", "--sort-keys", "/usr/share/iso-codes/json/iso_639-3.json"],
    env: { PYTHONHASHSEED: "0", PYTHONDONTWRITEBYTECODE: "1" },
    executable: "python3.11",
    packages: ["python3.11-minimal", "libpython3.11-stdlib", "iso-codes"],
  },
  {
    name: "perl-index",
    kind: "interpreter",
    what: "Perl 5.36 building a word index of its own library: each identifier in the .pm files of perl-modules-5.36 mapped to its file:line places, then the 100 most frequent printed (workloads/index-words.pl). The first 400,000 operations: the index growing.",
    argv: ["/usr/bin/perl", "WORKLOADS/index-words.pl", "/usr/share/perl/5.36.0"],
    env: { PERL_HASH_SEED: "0", PERL_PERTURB_KEYS: "0" },
    executable: "perl",
    maxOps: 400_000,
    packages: ["perl-base", "perl-modules-5.36"],
  },
  {
    name: "jq-languages",
    kind: "data tool",
    what: "jq grouping ISO 639-3's living languages by scope, with each group's names sorted. The whole run.",
    argv: ["/usr/bin/jq", "-c", '[."639-3"[] | select(.type == "L")] | group_by(.scope) | map({scope: .[0].scope, count: length, names: (map(.name) | sort)})', "/usr/share/iso-codes/json/iso_639-3.json"],
    executable: "jq",
    packages: ["jq", "iso-codes"],
  },
  {
    name: "xmllint-mime",
    kind: "text tool",
    what: "xmllint parsing the shared MIME database (2.4 MB of XML) into a tree and writing it out re-indented (--format). The first 400,000 operations: the whole parse (the peak) and the start of freeing the tree.",
    argv: ["/usr/bin/xmllint", "--format", MIME_XML],
    executable: "xmllint",
    maxOps: 400_000,
    packages: ["libxml2-utils", "shared-mime-info"],
  },
  {
    name: "xz-mime",
    kind: "compression",
    what: "xz -6 compressing the shared MIME database (one thread): the encoder's few large blocks. The whole run.",
    argv: ["/usr/bin/xz", "-6", "-T1", "-c"],
    stdin: MIME_XML,
    executable: "xz",
    packages: ["xz-utils", "shared-mime-info"],
  },
  {
    name: "zstd-mime",
    kind: "compression",
    what: "zstd -19 compressing the shared MIME database: its strongest level's window and tables. The whole run.",
    argv: ["/usr/bin/zstd", "-19", "-c"],
    stdin: MIME_XML,
    executable: "zstd",
    packages: ["zstd", "shared-mime-info"],
  },
  {
    name: "bzip2-mime",
    kind: "compression",
    what: "bzip2 -9 compressing the shared MIME database: a handful of block buffers. The whole run.",
    argv: ["/usr/bin/bzip2", "-9", "-c"],
    stdin: MIME_XML,
    executable: "bzip2",
    packages: ["bzip2", "shared-mime-info"],
  },
];

/** `argv` with WORKLOADS and TMP filled in. */
export function resolvedArgv(program, tmp) {
  return program.argv.map((a) => a.replace(/^WORKLOADS\//, `${WORKLOADS}/`).replace(/^TMP\//, `${tmp}/`));
}

/** The command as a person would type it (relative to the repository for the workloads). */
export function shownCommand(program) {
  const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const env = Object.entries(program.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const argv = program.argv.map((a) => a.replace(/^WORKLOADS\//, "tools/malloc-tracer/workloads/").replace(/^TMP\//, "/tmp/"));
  return [...env, ...argv.map(quote)].join(" ") + (program.stdin ? ` < ${program.stdin}` : "") + " > /dev/null";
}
