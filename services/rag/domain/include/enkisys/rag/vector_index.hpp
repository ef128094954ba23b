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
//  * One copy of each vector: in a slot-major array while the search is exact, in the graph's
//    level-0 block once the graph is built (the array is then released). search_exact(),
//    vector_of(), the filtered fallback and save() read whichever holds them.
//  * save() writes the file envelope of bm25_index.hpp ("ENKRAGV\0", version, size, payload,
//    FNV-1a-64) to a temporary file renamed over `path`: options (with the embedding model's
//    name), every slot's ids (and its unit vector while there is no graph), and the HNSW graph
//    (which holds the vectors) when one is built, so load() needs no rebuild. load() refuses a
//    damaged file, or one of another format version (version 1 stored the vectors twice), as
//    kUnprocessable "index_corrupt": the caller rebuilds; a missing one is kNotFound
//    "index_missing". A caller compares options().model and dim() with its embedder's and
//    rebuilds on a mismatch.
//  * Memory: 4 * dim bytes per vector; with the graph, 8 * M + 12 bytes more per vector (level-0
//    links, label) and 4 * M per upper level, for as many nodes as slots added since the graph
//    was built (a removed chunk's node stays, marked deleted), in a block of up to twice that
//    capacity (untouched pages cost no RSS). save/load hold the file's bytes once more while
//    they run.
//  * If the graph cannot be allocated when the threshold is reached, the index stays exact and
//    tries again on the next add.
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

// 2: the vectors are stored once (in the graph when there is one). 1 is refused as corrupt.
inline constexpr std::uint32_t kVectorFormatVersion = 2;

class VectorIndex {
 public:
  // kInvalidArgument "invalid_vector_options" when dim or hnsw_m is 0.
  static core::Expected<VectorIndex> create(VectorIndexOptions options);
  ~VectorIndex();
  VectorIndex(VectorIndex&&) noexcept;
  VectorIndex& operator=(VectorIndex&&) noexcept;

  // kInvalidArgument "invalid_vector" (dimension, non-finite, zero), kConflict "duplicate_chunk",
  // kResourceExhausted "index_memory" when the vector cannot be stored (nothing is added).
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
  static constexpr std::uint32_t kNoNode = 0xffffffffU;

  explicit VectorIndex(VectorIndexOptions options);
  // Builds the graph from the live slots and releases data_; false (nothing changed) when the
  // graph cannot be allocated.
  bool build_graph();
  // After load() read the graph: fills node_of_slot_ from its labels; false when a live slot
  // has no node, a node's deleted mark disagrees with its slot, or a vector is not finite.
  bool adopt_graph_nodes();
  // REQUIRES: the slot holds a vector (live, or removed after the graph was built).
  const float* slot_vector(std::size_t slot) const;

  VectorIndexOptions options_;
  std::vector<float> data_;  // slot-major, dim floats per slot; empty once the graph is built
  std::vector<std::uint32_t> node_of_slot_;  // the graph's node of each slot, or kNoNode
  std::vector<std::string> chunk_ids_;
  std::vector<std::string> doc_ids_;
  std::vector<bool> live_slots_;
  std::unordered_map<std::string, std::size_t> slot_of_chunk_;
  std::unordered_map<std::string, std::vector<std::size_t>> slots_of_doc_;
  std::size_t live_ = 0;
  std::unique_ptr<Graph> graph_;
};

}  // namespace enkisys::rag
