// Cosine-similarity vector index: exact (brute force) search below a size threshold, an HNSW
// graph (hnswlib, inner product on unit vectors) at or above it.
//
// Contract:
//  * Vectors must have the index's dimension and finite values; they are L2-normalised on add
//    (a zero vector is refused: it has no direction).
//  * The HNSW graph is built from every live vector when the live count reaches
//    exact_threshold, then updated on each add; remove marks the vector deleted in the graph.
//    search_exact() is always available (it is the reference for recall measurements).
//  * A filtered HNSW search asks the graph for 4k (then all) candidates and falls back to exact
//    search when the filter leaves fewer than k.
//  * save() writes the file envelope of bm25_index.hpp ("ENKRAGV\0", version, size, payload,
//    FNV-1a-64) to a temporary file renamed over `path`: options (with the embedding model's
//    name), every slot's ids and unit vector, and the HNSW graph when one is built, so load()
//    needs no rebuild. load() refuses a damaged file (kUnprocessable "index_corrupt"), a missing
//    one is kNotFound "index_missing". A caller compares options().model and dim() with its
//    embedder's and rebuilds on a mismatch.
//  * Memory: 4 * dim bytes per vector, plus (with the graph) as much again and 8 * M bytes of
//    links; save/load hold the file's bytes once more while they run.
//  * Thread safety: const methods may run concurrently; add/remove/set_ef_search need exclusive
//    access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "enkisys/core/expected.hpp"
#include "enkisys/rag/bm25_index.hpp"

namespace enkisys::rag {

struct VectorIndexOptions {
  std::size_t dim = 1024;
  std::size_t exact_threshold = 20000;
  std::size_t hnsw_m = 16;
  std::size_t ef_construction = 200;
  std::size_t ef_search = 512;  // recall@10 >= 0.95 at 100k chunks (README.md)
  // The embedding model the vectors come from ("builtin-hashing-v1", or a remote model's name);
  // recorded in the file so that an index of another model is not searched with its vectors.
  std::string model;
};

inline constexpr std::uint32_t kVectorFormatVersion = 1;

class VectorIndex {
 public:
  // kInvalidArgument "invalid_vector_options" when dim or hnsw_m is 0.
  static core::Expected<VectorIndex> create(VectorIndexOptions options);
  ~VectorIndex();
  VectorIndex(VectorIndex&&) noexcept;
  VectorIndex& operator=(VectorIndex&&) noexcept;

  // kInvalidArgument "invalid_vector" (dimension, non-finite, zero), kConflict "duplicate_chunk",
  // kResourceExhausted "index_memory" when the graph cannot grow.
  core::Status add(const std::string& chunk_id, const std::string& doc_id,
                   std::vector<float> vector);
  std::size_t remove_document(const std::string& doc_id);

  // Best k by cosine similarity (score), filtered by document ids (empty: all).
  std::vector<ScoredChunk> search(const std::vector<float>& query, std::size_t k,
                                  const std::unordered_set<std::string>& doc_ids = {}) const;
  std::vector<ScoredChunk> search_exact(const std::vector<float>& query, std::size_t k,
                                        const std::unordered_set<std::string>& doc_ids = {}) const;

  // The stored (unit) vector of a live chunk, or nullptr. Valid until the next add/remove.
  const float* vector_of(const std::string& chunk_id) const;

  std::size_t size() const { return live_; }
  std::size_t dim() const { return options_.dim; }
  bool uses_hnsw() const;
  const VectorIndexOptions& options() const { return options_; }
  // The HNSW search breadth (candidates kept per query); takes effect on the next search.
  void set_ef_search(std::size_t ef_search);

  // kUnavailable "index_write_failed" on an I/O error.
  core::Status save(const std::string& path) const;
  // kNotFound "index_missing", kUnprocessable "index_corrupt".
  static core::Expected<VectorIndex> load(const std::string& path);

 private:
  struct Graph;
  explicit VectorIndex(VectorIndexOptions options);
  void build_graph();

  VectorIndexOptions options_;
  std::vector<float> data_;  // slot-major, dim floats per slot
  std::vector<std::string> chunk_ids_;
  std::vector<std::string> doc_ids_;
  std::vector<bool> live_slots_;
  std::unordered_map<std::string, std::size_t> slot_of_chunk_;
  std::unordered_map<std::string, std::vector<std::size_t>> slots_of_doc_;
  std::size_t live_ = 0;
  std::unique_ptr<Graph> graph_;
};

}  // namespace enkisys::rag
