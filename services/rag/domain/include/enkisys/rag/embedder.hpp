// The built-in, model-free embedder: TF-IDF-weighted hashed features (analysed word terms and
// character n-grams of them) signed-hashed into `dim` dimensions (a sparse random projection),
// L2-normalised. No downloads, no keys, deterministic across runs and machines.
//
// Contract:
//  * IDF weights come from the collection: observe() each indexed unit's terms once, then
//    embed(). Before any observe() every feature has idf 1. Features are hashed into
//    `buckets` counters (df): 4 * buckets bytes, plus a cache of the observed terms' feature
//    buckets (up to 2^20 terms, ~40 bytes each).
//  * embed() returns `dim` floats of unit L2 norm, or all zeros when no feature exists (empty
//    or stop-word-only text): such a vector matches nothing (cosine 0).
//  * save() writes the options, the unit count and the df counters in the checksummed,
//    atomically renamed file format of bm25_index.hpp ("ENKRAGE\0"); load() refuses a damaged
//    file (kUnprocessable "index_corrupt"); a missing one is kNotFound "index_missing". The
//    term cache is not saved: it only saves time, embed() gives the same vectors without it.
//  * Thread safety: embed() is const and may run concurrently; observe() needs exclusive access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "enkisys/core/expected.hpp"

namespace enkisys::rag {

struct EmbedderOptions {
  std::size_t dim = 1024;
  std::uint32_t buckets = 1U << 18;
  std::size_t ngram_min = 3;  // character n-grams of "<term>" (boundary markers added)
  std::size_t ngram_max = 4;
  float ngram_weight = 0.5F;  // relative to a word feature
};

// The name recorded as VectorIndexOptions::model for vectors of this embedder.
inline constexpr const char* kBuiltinEmbedderModel = "builtin-hashing-v1";
inline constexpr std::uint32_t kEmbedderFormatVersion = 1;

// Scales `v` to unit length (cosine similarity becomes a dot product); a zero vector stays zero.
void l2_normalize(std::vector<float>& v);

class HashingEmbedder {
 public:
  // kInvalidArgument "invalid_embedder_options" (dim or buckets 0, ngram_min > ngram_max).
  static core::Expected<HashingEmbedder> create(EmbedderOptions options);

  void observe(const std::vector<std::string>& terms);
  std::vector<float> embed(const std::vector<std::string>& terms) const;

  std::size_t dim() const { return options_.dim; }
  std::uint64_t units() const { return units_; }
  const EmbedderOptions& options() const { return options_; }
  std::string model() const { return kBuiltinEmbedderModel; }

  // kUnavailable "index_write_failed" on an I/O error.
  core::Status save(const std::string& path) const;
  // kNotFound "index_missing", kUnprocessable "index_corrupt".
  static core::Expected<HashingEmbedder> load(const std::string& path);

 private:
  explicit HashingEmbedder(EmbedderOptions options);
  static constexpr std::size_t kMaxCachedTerms = 1U << 20;
  std::vector<std::uint32_t> term_features(const std::string& term) const;
  template <class Fn>
  void features(const std::vector<std::string>& terms, Fn&& fn) const;

  EmbedderOptions options_;
  std::vector<std::uint32_t> df_;
  std::uint64_t units_ = 0;
  std::unordered_map<std::string, std::vector<std::uint32_t>> cache_;  // term -> its buckets
  std::vector<std::uint32_t> seen_;  // observe(): the unit that last counted each bucket
};

}  // namespace enkisys::rag
