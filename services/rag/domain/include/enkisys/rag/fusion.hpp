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

}  // namespace enkisys::rag
