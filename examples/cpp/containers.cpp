/*
 * containers: the C++ standard library's containers churning the heap.
 *
 * libc++'s operator new and delete call malloc and free, so with the shim
 * (c/wasm_malloc.c) every vector, map node and long string is a wasm-malloc
 * block. Rounds of a word index (std::map of std::string to a std::vector of
 * positions), a std::unordered_map of counts, strings grown by appending and
 * a std::vector of std::unique_ptr, each checked against a result computed
 * another way. Deterministic: the output is the same under any correct malloc.
 *
 * Built with clang++ --target=wasm32-wasi and Debian's libc++ for wasm32
 * (built without exceptions: a failed check prints and exits non-zero).
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

uint32_t rng_state = 2654435769u;
uint32_t rng() {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

[[noreturn]] void fail(const char *what, unsigned long detail) {
  std::fprintf(stderr, "containers: FAILED %s (%lu)\n", what, detail);
  std::exit(1);
}

/* A word of 1 to 40 letters from a small alphabet, so words repeat (and some outgrow the short-string buffer). */
std::string word() {
  std::string w;
  unsigned length = 1 + rng() % (rng() % 4 == 0 ? 40 : 6);
  for (unsigned i = 0; i < length; i++) w.push_back(static_cast<char>('a' + rng() % 4));
  return w;
}

uint32_t fnv(uint32_t h, const std::string &s) {
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

struct Record {
  std::string name;
  std::vector<uint32_t> values;
  explicit Record(std::string n) : name(std::move(n)) {}
};

}  // namespace

int main() {
  unsigned long total_words = 0;
  for (unsigned round = 0; round < 6; round++) {
    /* A word index: every position of every word, in a sorted map. */
    std::map<std::string, std::vector<unsigned>> index;
    std::unordered_map<std::string, unsigned> counts;
    std::vector<std::string> text;
    unsigned n = 20000 + round * 4000;
    for (unsigned i = 0; i < n; i++) {
      std::string w = word();
      index[w].push_back(i);
      counts[w]++;
      text.push_back(std::move(w));
    }
    total_words += n;
    unsigned long positions = 0;
    for (const auto &entry : index) {
      if (entry.second.size() != counts[entry.first]) fail("index and counts disagree", positions);
      for (unsigned at : entry.second) if (text[at] != entry.first) fail("index points at another word", at);
      positions += entry.second.size();
    }
    if (positions != n) fail("positions", positions);

    /* Drop every word of odd length from the index, and check what is left. */
    for (auto it = index.begin(); it != index.end();) it = it->first.size() % 2 ? index.erase(it) : std::next(it);
    unsigned long kept = 0;
    for (const auto &entry : index) {
      if (entry.first.size() % 2) fail("odd word kept", entry.first.size());
      kept += entry.second.size();
    }
    unsigned long even = 0;
    for (const auto &w : text) even += w.size() % 2 == 0;
    if (kept != even) fail("kept", kept);

    /* Strings grown by appending, and a hash of each computed as it grew. */
    std::vector<std::string> builders(64);
    std::vector<uint32_t> hashes(64, 2166136261u);
    for (unsigned i = 0; i < n; i++) {
      unsigned b = rng() % 64;
      builders[b] += text[i];
      hashes[b] = fnv(hashes[b], text[i]);
    }
    uint32_t all = 2166136261u;
    for (unsigned b = 0; b < 64; b++) {
      if (fnv(2166136261u, builders[b]) != hashes[b]) fail("builder contents", b);
      all = fnv(all, builders[b]);
    }

    /* Owned records, some dropped and replaced. */
    std::vector<std::unique_ptr<Record>> records;
    for (unsigned i = 0; i < 3000; i++) {
      auto record = std::make_unique<Record>(text[i % text.size()]);
      for (unsigned j = 0; j < rng() % 50; j++) record->values.push_back(rng());
      if (!records.empty() && rng() % 3 == 0) records[rng() % records.size()] = std::move(record);
      else records.push_back(std::move(record));
    }
    unsigned long values = 0;
    for (const auto &record : records) values += record->values.size();

    std::printf("round %u: %u words, %zu distinct, %lu kept, builders %08x, %zu records with %lu values\n", round, n,
                counts.size(), kept, static_cast<unsigned>(all), records.size(), values);
  }
  std::printf("containers: %lu words: ok\n", total_words);
  return 0;
}
