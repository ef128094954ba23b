// BM25 inverted index over chunks, with a boosted heading field (BM25F-style: a heading term
// counts `heading_boost` times in term frequency and length), incremental add/remove, filtered
// top-k search and a checksummed file format.
//
// Contract:
//  * Terms come from an Analyzer (text.hpp); the index never analyses text itself.
//  * score(q, c) = sum over distinct query terms t of
//      idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(c) / avg_len)),
//    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)), tf = body_tf + heading_boost * heading_tf.
//    Ties are broken by insertion order (earlier first).
//  * Memory: ~8 bytes per (term, chunk) posting + 4 bytes per distinct term of a chunk (kept for
//    removal) + the ids and metadata; ~100 MB for 100k chunks of ~900 bytes.
//  * save() writes "ENKRAGB\0", format version, payload size, payload, FNV-1a-64 checksum to a
//    temporary file renamed over `path` (no half-written file). load() refuses a file whose
//    magic, version, size or checksum does not match (kUnprocessable "index_corrupt").
//  * Thread safety: const methods may run concurrently; add/remove need exclusive access.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "enkisys/core/expected.hpp"

namespace enkisys::rag {

struct Bm25Params {
  float k1 = 1.2F;
  float b = 0.75F;
  float heading_boost = 2.0F;
};

struct ChunkRecord {
  std::string chunk_id;  // unique in the index
  std::string doc_id;
  std::map<std::string, std::string> metadata;
  std::vector<std::string> body_terms;
  std::vector<std::string> heading_terms;  // title + heading path
};

struct SearchFilter {
  std::unordered_set<std::string> doc_ids;      // empty: any document
  std::map<std::string, std::string> metadata;  // every pair must match
};

struct ScoredChunk {
  std::string chunk_id;
  std::string doc_id;
  float score = 0;
};

inline constexpr std::uint32_t kBm25FormatVersion = 1;

class Bm25Index {
 public:
  explicit Bm25Index(Bm25Params params = {});

  // kInvalidArgument "invalid_chunk" (empty chunk_id), kConflict "duplicate_chunk".
  core::Status add(ChunkRecord record);
  // Removes every chunk of the document; returns how many.
  std::size_t remove_document(const std::string& doc_id);

  std::vector<ScoredChunk> search(const std::vector<std::string>& query_terms, std::size_t k,
                                  const SearchFilter& filter = {}) const;

  std::size_t size() const { return live_; }
  const Bm25Params& params() const { return params_; }

  // kUnavailable "index_write_failed" on an I/O error.
  core::Status save(const std::string& path) const;
  // kNotFound "index_missing", kUnprocessable "index_corrupt".
  static core::Expected<Bm25Index> load(const std::string& path);

 private:
  struct Posting {
    std::uint32_t slot;
    float tf;
  };
  struct Slot {
    std::string chunk_id;
    std::string doc_id;
    std::map<std::string, std::string> metadata;
    std::vector<std::uint32_t> terms;  // distinct term ids
    float length = 0;
    bool live = false;
  };

  std::uint32_t term_id(const std::string& term);

  Bm25Params params_;
  std::unordered_map<std::string, std::uint32_t> dictionary_;
  std::vector<std::string> terms_;
  std::vector<std::vector<Posting>> postings_;  // by term id, sorted by slot
  std::vector<Slot> slots_;
  std::unordered_map<std::string, std::uint32_t> slot_of_chunk_;
  std::unordered_map<std::string, std::vector<std::uint32_t>> slots_of_doc_;
  std::size_t live_ = 0;
  double total_length_ = 0;
};

}  // namespace enkisys::rag
