// Reciprocal rank fusion of several retrievers' rankings (Cormack et al., SIGIR 2009).
//
// score(c) = sum over retrievers r that returned c of weight_r / (k + rank_r(c)), ranks 1-based.
// Each fused result carries the rank every retriever gave it (0 = not returned). Ties keep the
// order of first appearance (retriever 0 first). Pure and thread safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "enkisys/rag/bm25_index.hpp"
#include "enkisys/rag/vector_index.hpp"

namespace enkisys::rag {

struct FusedChunk {
  std::string chunk_id;
  std::string doc_id;
  double score = 0;
  std::vector<std::size_t> ranks;  // one per retriever, 1-based, 0 when absent
};

// `weights` empty: 1 for every retriever; else one weight per ranking.
std::vector<FusedChunk> reciprocal_rank_fusion(
    const std::vector<std::vector<ScoredChunk>>& rankings, double k = 60.0, std::size_t top = 10,
    const std::vector<double>& weights = {});

// Pseudo-relevance feedback for the vector retriever (Rocchio): the unit-norm direction of
// query + beta * mean(feedback), where feedback are the vectors of the top lexical hits (nullptr
// entries skipped). REQUIRES: every non-null feedback vector has query.size() floats.
std::vector<float> rocchio(const std::vector<float>& query,
                           const std::vector<const float*>& feedback, float beta);

// The hybrid retriever's settings, one for every language; measured on the judged set of
// bench/rag (README.md there and in this library): Rocchio feedback from the top 5 lexical
// hits with beta 0.3, then RRF k 60 with both retrievers weighted 1, over 100 chunks each.
struct HybridSettings {
  std::size_t depth = 100;  // chunks fetched from each retriever
  double rrf_k = 60.0;
  double vector_weight = 1.0;  // the lexical retriever's weight is 1
  std::size_t feedback = 5;    // top lexical hits whose vectors move the query (0: none)
  float feedback_beta = 0.3F;
};

// One part of a search: a pair of indexes (a collection of the service), the query vector in
// their space (built-in embedder statistics differ per collection) and the documents allowed.
struct HybridShard {
  const Bm25Index* bm25 = nullptr;
  const VectorIndex* vectors = nullptr;  // nullptr: lexical only
  std::vector<float> query_vector;       // empty or all-zero: lexical only
  SearchFilter filter;
};

// The candidates of several shards as one ranking: every list's entries by score, best first
// (stable: earlier lists win ties), the best `depth`.
std::vector<ScoredChunk> merge_by_score(std::vector<std::vector<ScoredChunk>> lists,
                                        std::size_t depth);

// The hybrid retriever (the one definition the service and the benchmarks run). Per shard: BM25
// top `depth` for `terms`, and the vector index's top `depth` for rocchio(query_vector, the
// vectors of the shard's top `feedback` lexical hits). Lexical and vector candidates of all
// shards are merged by score (merge_by_score), then fused by RRF; the best `k`. A shard's
// filter document ids restrict both retrievers, its metadata only the lexical one (vectors carry
// no metadata: resolve metadata to document ids to filter both).
// Thread safety: as the indexes' const methods (the caller keeps them from changing meanwhile).
std::vector<FusedChunk> hybrid_search(const std::vector<HybridShard>& shards,
                                      const std::vector<std::string>& terms, std::size_t k,
                                      const HybridSettings& settings = {});

// The single-index form of the above.
std::vector<FusedChunk> hybrid_search(const Bm25Index& bm25, const VectorIndex& vectors,
                                      const std::vector<std::string>& terms,
                                      const std::vector<float>& query_vector, std::size_t k,
                                      const HybridSettings& settings = {},
                                      const SearchFilter& filter = {});

}  // namespace enkisys::rag
