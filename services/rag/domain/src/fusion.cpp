#include "enkisys/rag/fusion.hpp"

#include <algorithm>
#include <unordered_map>

#include "enkisys/rag/embedder.hpp"

namespace enkisys::rag {

std::vector<FusedChunk> reciprocal_rank_fusion(
    const std::vector<std::vector<ScoredChunk>>& rankings, double k, std::size_t top,
    const std::vector<double>& weights) {
  std::vector<FusedChunk> fused;
  std::unordered_map<std::string, std::size_t> at;
  for (std::size_t r = 0; r < rankings.size(); ++r) {
    const double weight = r < weights.size() ? weights[r] : 1.0;
    for (std::size_t i = 0; i < rankings[r].size(); ++i) {
      const auto& hit = rankings[r][i];
      auto [it, inserted] = at.try_emplace(hit.chunk_id, fused.size());
      if (inserted) {
        fused.push_back({hit.chunk_id, hit.doc_id, 0.0, std::vector<std::size_t>(rankings.size())});
      }
      FusedChunk& f = fused[it->second];
      if (f.ranks[r] != 0) continue;  // a retriever listing a chunk twice: first rank counts
      f.ranks[r] = i + 1;
      f.score += weight / (k + static_cast<double>(i + 1));
    }
  }
  std::stable_sort(fused.begin(), fused.end(),
                   [](const FusedChunk& a, const FusedChunk& b) { return a.score > b.score; });
  if (fused.size() > top) fused.resize(top);
  return fused;
}

std::vector<float> rocchio(const std::vector<float>& query,
                           const std::vector<const float*>& feedback, float beta) {
  std::vector<float> out = query;
  std::size_t used = 0;
  for (const float* v : feedback) used += v != nullptr ? 1 : 0;
  if (used == 0) return out;
  const float w = beta / static_cast<float>(used);
  for (const float* v : feedback) {
    if (v == nullptr) continue;
    for (std::size_t i = 0; i < out.size(); ++i) out[i] += w * v[i];
  }
  l2_normalize(out);
  return out;
}

std::vector<ScoredChunk> merge_by_score(std::vector<std::vector<ScoredChunk>> lists,
                                        std::size_t depth) {
  if (lists.size() == 1) {
    if (lists[0].size() > depth) lists[0].resize(depth);
    return std::move(lists[0]);
  }
  std::vector<ScoredChunk> all;
  for (auto& l : lists) {
    for (auto& c : l) all.push_back(std::move(c));
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const ScoredChunk& a, const ScoredChunk& b) { return a.score > b.score; });
  if (all.size() > depth) all.resize(depth);
  return all;
}

std::vector<FusedChunk> hybrid_search(const std::vector<HybridShard>& shards,
                                      const std::vector<std::string>& terms, std::size_t k,
                                      const HybridSettings& settings) {
  std::vector<std::vector<ScoredChunk>> lexical;
  std::vector<std::vector<ScoredChunk>> semantic;
  for (const auto& shard : shards) {
    lexical.push_back(shard.bm25->search(terms, settings.depth, shard.filter));
    const auto& q = shard.query_vector;
    if (shard.vectors == nullptr || shard.vectors->size() == 0 ||
        q.size() != shard.vectors->dim() ||
        std::none_of(q.begin(), q.end(), [](float x) { return x != 0.0F; })) {
      continue;
    }
    std::vector<const float*> feedback;
    const auto& top = lexical.back();
    for (std::size_t i = 0; i < std::min(settings.feedback, top.size()); ++i) {
      feedback.push_back(shard.vectors->vector_of(top[i].chunk_id));
    }
    const auto moved = rocchio(q, feedback, settings.feedback_beta);
    semantic.push_back(shard.vectors->search(moved, settings.depth, shard.filter.doc_ids));
  }
  std::vector<std::vector<ScoredChunk>> rankings{
      merge_by_score(std::move(lexical), settings.depth)};
  if (!semantic.empty()) rankings.push_back(merge_by_score(std::move(semantic), settings.depth));
  return reciprocal_rank_fusion(rankings, settings.rrf_k, k, {1.0, settings.vector_weight});
}

std::vector<FusedChunk> hybrid_search(const Bm25Index& bm25, const VectorIndex& vectors,
                                      const std::vector<std::string>& terms,
                                      const std::vector<float>& query_vector, std::size_t k,
                                      const HybridSettings& settings, const SearchFilter& filter) {
  return hybrid_search({HybridShard{&bm25, &vectors, query_vector, filter}}, terms, k, settings);
}

}  // namespace enkisys::rag
