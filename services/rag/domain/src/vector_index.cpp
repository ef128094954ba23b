#include "enkisys/rag/vector_index.hpp"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <exception>

namespace enkisys::rag {

namespace {

// Eight independent partial sums: lets the compiler use SIMD without -ffast-math.
float dot(const float* a, const float* b, std::size_t n) {
  float acc[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (std::size_t j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float sum = 0;
  for (; i < n; ++i) sum += a[i] * b[i];
  for (const float x : acc) sum += x;
  return sum;
}

}  // namespace

struct VectorIndex::Graph {
  hnswlib::InnerProductSpace space;
  hnswlib::HierarchicalNSW<float> hnsw;
  Graph(std::size_t dim, std::size_t capacity, std::size_t m, std::size_t ef_construction)
      : space(dim), hnsw(&space, capacity, m, ef_construction) {}
};

VectorIndex::VectorIndex(VectorIndexOptions options) : options_(options) {}
VectorIndex::~VectorIndex() = default;
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;

core::Expected<VectorIndex> VectorIndex::create(VectorIndexOptions options) {
  if (options.dim == 0 || options.hnsw_m == 0) {
    return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_vector_options",
                            "need dim > 0 and hnsw_m > 0");
  }
  return VectorIndex(options);
}

bool VectorIndex::uses_hnsw() const {
  return graph_ != nullptr;
}

const float* VectorIndex::vector_of(const std::string& chunk_id) const {
  const auto it = slot_of_chunk_.find(chunk_id);
  return it == slot_of_chunk_.end() ? nullptr : &data_[it->second * options_.dim];
}

void VectorIndex::build_graph() {
  graph_ = std::make_unique<Graph>(options_.dim, std::max<std::size_t>(2 * live_, 1024),
                                   options_.hnsw_m, options_.ef_construction);
  graph_->hnsw.setEf(options_.ef_search);
  for (std::size_t slot = 0; slot < chunk_ids_.size(); ++slot) {
    if (live_slots_[slot]) graph_->hnsw.addPoint(&data_[slot * options_.dim], slot);
  }
}

core::Status VectorIndex::add(const std::string& chunk_id, const std::string& doc_id,
                              std::vector<float> vector) {
  double norm = 0;
  bool finite = vector.size() == options_.dim;
  for (const float x : vector) {
    finite = finite && std::isfinite(x);
    norm += static_cast<double>(x) * static_cast<double>(x);
  }
  if (!finite || !(norm > 0)) {
    return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_vector",
                            "vector must have the index dimension, finite values, non-zero norm");
  }
  if (slot_of_chunk_.count(chunk_id) != 0) {
    return core::make_error(core::ErrorKind::kConflict, "duplicate_chunk",
                            "chunk id already indexed");
  }
  const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& x : vector) x *= inv;
  const std::size_t slot = chunk_ids_.size();
  try {
    data_.insert(data_.end(), vector.begin(), vector.end());
    chunk_ids_.push_back(chunk_id);
    doc_ids_.push_back(doc_id);
    live_slots_.push_back(true);
    slot_of_chunk_[chunk_id] = slot;
    slots_of_doc_[doc_id].push_back(slot);
    ++live_;
    if (graph_ == nullptr && live_ >= options_.exact_threshold) {
      build_graph();
    } else if (graph_ != nullptr) {
      if (graph_->hnsw.cur_element_count >= graph_->hnsw.max_elements_) {
        graph_->hnsw.resizeIndex(2 * graph_->hnsw.max_elements_);
      }
      graph_->hnsw.addPoint(&data_[slot * options_.dim], slot);
    }
  } catch (const std::exception& e) {  // hnswlib reports allocation failures by throwing
    return core::make_error(core::ErrorKind::kResourceExhausted, "index_memory", e.what());
  }
  return core::ok_status();
}

std::size_t VectorIndex::remove_document(const std::string& doc_id) {
  const auto it = slots_of_doc_.find(doc_id);
  if (it == slots_of_doc_.end()) return 0;
  std::size_t removed = 0;
  for (const std::size_t slot : it->second) {
    if (!live_slots_[slot]) continue;
    live_slots_[slot] = false;
    slot_of_chunk_.erase(chunk_ids_[slot]);
    if (graph_ != nullptr) graph_->hnsw.markDelete(slot);
    --live_;
    ++removed;
  }
  slots_of_doc_.erase(it);
  return removed;
}

std::vector<ScoredChunk> VectorIndex::search_exact(
    const std::vector<float>& query, std::size_t k,
    const std::unordered_set<std::string>& doc_ids) const {
  std::vector<ScoredChunk> out;
  if (query.size() != options_.dim || k == 0) return out;
  std::vector<std::pair<float, std::size_t>> scored;
  scored.reserve(live_);
  for (std::size_t slot = 0; slot < chunk_ids_.size(); ++slot) {
    if (!live_slots_[slot]) continue;
    if (!doc_ids.empty() && doc_ids.count(doc_ids_[slot]) == 0) continue;
    scored.emplace_back(dot(&data_[slot * options_.dim], query.data(), options_.dim), slot);
  }
  const std::size_t top = std::min(k, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(top), scored.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first : a.second < b.second;
                    });
  for (std::size_t i = 0; i < top; ++i) {
    out.push_back({chunk_ids_[scored[i].second], doc_ids_[scored[i].second], scored[i].first});
  }
  return out;
}

std::vector<ScoredChunk> VectorIndex::search(const std::vector<float>& query, std::size_t k,
                                             const std::unordered_set<std::string>& doc_ids) const {
  if (graph_ == nullptr || query.size() != options_.dim || k == 0) {
    return search_exact(query, k, doc_ids);
  }
  const std::size_t want = doc_ids.empty() ? k : std::min(live_, 4 * k);
  auto heap = graph_->hnsw.searchKnn(query.data(), want);
  std::vector<ScoredChunk> out;
  std::vector<std::pair<float, std::size_t>> found;
  while (!heap.empty()) {
    found.emplace_back(1.0F - heap.top().first, heap.top().second);  // distance = 1 - ip
    heap.pop();
  }
  std::reverse(found.begin(), found.end());
  for (const auto& [score, slot] : found) {
    if (!doc_ids.empty() && doc_ids.count(doc_ids_[slot]) == 0) continue;
    out.push_back({chunk_ids_[slot], doc_ids_[slot], score});
    if (out.size() == k) break;
  }
  if (out.size() < k && !doc_ids.empty()) return search_exact(query, k, doc_ids);
  return out;
}

}  // namespace enkisys::rag
