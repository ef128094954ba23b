#include "enkisys/rag/vector_index.hpp"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <utility>

#include "binary_io.hpp"

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

using hnswlib::linklistsizeint;
using hnswlib::tableint;

// A link list: a 16-bit count (the next byte holds the deleted mark) then `max` neighbour ids.
bool links_ok(const char* list, std::size_t max, std::size_t elements) {
  std::uint16_t count = 0;
  std::memcpy(&count, list, sizeof count);
  if (count > max) return false;
  for (std::size_t i = 0; i < count; ++i) {
    tableint id = 0;
    std::memcpy(&id, list + sizeof(linklistsizeint) + i * sizeof(tableint), sizeof id);
    if (id >= elements) return false;
  }
  return true;
}

// Appends the graph: element count, entry point, level-0 block, upper-level link lists.
void write_graph(const hnswlib::HierarchicalNSW<float>& h, detail::Writer& w) {
  w.u64(h.cur_element_count);
  w.u32(static_cast<std::uint32_t>(h.maxlevel_));
  w.u32(h.enterpoint_node_);
  w.u64(h.size_data_per_element_);
  w.raw(h.data_level0_memory_, h.cur_element_count * h.size_data_per_element_);
  for (std::size_t i = 0; i < h.cur_element_count; ++i) {
    const auto level = static_cast<std::uint32_t>(h.element_levels_[i]);
    w.u32(level);
    if (level > 0) w.raw(h.linkLists_[i], h.size_links_per_element_ * level);
  }
}

// Fills `h`, freshly constructed with the saved dimension, M and ef_construction and a capacity
// of at least `slots`, from `r`. Every link, level and label is checked (labels < `slots`);
// false when anything is out of range or the reader overran.
bool read_graph(detail::Reader& r, std::size_t slots, hnswlib::HierarchicalNSW<float>& h) {
  const std::uint64_t count = r.u64();
  const auto maxlevel = static_cast<int>(r.u32());
  const std::uint32_t entry = r.u32();
  const std::uint64_t per_element = r.u64();
  if (!r.ok() || count > slots || count > h.max_elements_ ||
      per_element != h.size_data_per_element_ || (count == 0) != (maxlevel == -1) ||
      (count > 0 && (entry >= count || maxlevel < 0))) {
    return false;
  }
  if (!r.raw(h.data_level0_memory_, count * per_element)) return false;
  h.cur_element_count = count;  // from here on the destructor frees linkLists_[0..count)
  for (std::size_t i = 0; i < count; ++i) {
    h.element_levels_[i] = 0;
    h.linkLists_[i] = nullptr;
  }
  bool ok = true;
  for (std::size_t i = 0; i < count && ok; ++i) {
    const char* base = h.data_level0_memory_ + i * per_element;
    hnswlib::labeltype label = 0;
    std::memcpy(&label, base + h.label_offset_, sizeof label);
    ok = label < slots && links_ok(base + h.offsetLevel0_, h.maxM0_, count) &&
         h.label_lookup_.emplace(label, static_cast<tableint>(i)).second;
    if (h.isMarkedDeleted(static_cast<tableint>(i))) ++h.num_deleted_;
    const std::uint32_t level = r.u32();
    if (!ok || !r.ok() || level > static_cast<std::uint32_t>(maxlevel)) return false;
    if (level == 0) continue;
    const std::size_t bytes = h.size_links_per_element_ * level;
    h.linkLists_[i] = static_cast<char*>(std::malloc(bytes));
    if (h.linkLists_[i] == nullptr) return false;
    h.element_levels_[i] = static_cast<int>(level);  // the destructor frees it from here on
    if (!r.raw(h.linkLists_[i], bytes)) return false;
    for (std::uint32_t l = 0; l < level && ok; ++l) {
      ok = links_ok(h.linkLists_[i] + l * h.size_links_per_element_, h.maxM_, count);
    }
  }
  if (!ok || (count > 0 && h.element_levels_[entry] != maxlevel)) return false;
  h.maxlevel_ = maxlevel;
  h.enterpoint_node_ = count > 0 ? entry : static_cast<tableint>(-1);
  return true;
}

}  // namespace

struct VectorIndex::Graph {
  hnswlib::InnerProductSpace space;
  hnswlib::HierarchicalNSW<float> hnsw;
  Graph(std::size_t dim, std::size_t capacity, std::size_t m, std::size_t ef_construction)
      : space(dim), hnsw(&space, capacity, m, ef_construction) {}
};

VectorIndex::VectorIndex(VectorIndexOptions options) : options_(std::move(options)) {}
VectorIndex::~VectorIndex() = default;
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;

core::Expected<VectorIndex> VectorIndex::create(VectorIndexOptions options) {
  if (options.dim == 0 || options.hnsw_m == 0) {
    return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_vector_options",
                            "need dim > 0 and hnsw_m > 0");
  }
  return VectorIndex(std::move(options));
}

bool VectorIndex::uses_hnsw() const {
  return graph_ != nullptr;
}

void VectorIndex::set_ef_search(std::size_t ef_search) {
  options_.ef_search = ef_search;
  if (graph_ != nullptr) graph_->hnsw.setEf(ef_search);
}

const float* VectorIndex::slot_vector(std::size_t slot) const {
  if (graph_ == nullptr) return &data_[slot * options_.dim];
  return reinterpret_cast<const float*>(graph_->hnsw.getDataByInternalId(node_of_slot_[slot]));
}

const float* VectorIndex::vector_of(const std::string& chunk_id) const {
  const auto it = slot_of_chunk_.find(chunk_id);
  return it == slot_of_chunk_.end() ? nullptr : slot_vector(it->second);
}

bool VectorIndex::build_graph() {
  std::unique_ptr<Graph> graph;
  std::vector<std::uint32_t> nodes;
  try {
    graph = std::make_unique<Graph>(options_.dim, std::max<std::size_t>(2 * live_, 1024),
                                    options_.hnsw_m, options_.ef_construction);
    graph->hnsw.setEf(options_.ef_search);
    nodes.assign(chunk_ids_.size(), kNoNode);
    for (std::size_t slot = 0; slot < chunk_ids_.size(); ++slot) {
      if (!live_slots_[slot]) continue;
      graph->hnsw.addPoint(&data_[slot * options_.dim], slot);
      nodes[slot] = graph->hnsw.label_lookup_.at(slot);
    }
  } catch (const std::exception&) {  // no memory for the graph: stay exact, retry on next add
    return false;
  }
  graph_ = std::move(graph);
  node_of_slot_ = std::move(nodes);
  std::vector<float>().swap(data_);  // the graph holds the only copy of the vectors from here on
  return true;
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
  // First a dead slot (undone if that fails), then its vector and lookups: a failure there
  // leaves the slot dead, like a removed chunk, so slots and graph labels stay in step.
  try {
    if (graph_ == nullptr) data_.insert(data_.end(), vector.begin(), vector.end());
    chunk_ids_.push_back(chunk_id);
    doc_ids_.push_back(doc_id);
    live_slots_.push_back(false);
    if (graph_ != nullptr) node_of_slot_.push_back(kNoNode);
  } catch (const std::exception& e) {
    if (graph_ == nullptr) data_.resize(std::min(data_.size(), slot * options_.dim));
    chunk_ids_.resize(std::min(chunk_ids_.size(), slot));
    doc_ids_.resize(std::min(doc_ids_.size(), slot));
    live_slots_.resize(std::min(live_slots_.size(), slot));
    return core::make_error(core::ErrorKind::kResourceExhausted, "index_memory", e.what());
  }
  try {
    if (graph_ != nullptr) {
      auto& h = graph_->hnsw;
      if (h.cur_element_count >= h.max_elements_) h.resizeIndex(2 * h.max_elements_);
      h.addPoint(vector.data(), slot);  // copies the vector into the graph
      node_of_slot_[slot] = h.label_lookup_.at(slot);
    }
    slot_of_chunk_[chunk_id] = slot;
    slots_of_doc_[doc_id].push_back(slot);
  } catch (const std::exception& e) {  // hnswlib reports allocation failures by throwing
    slot_of_chunk_.erase(chunk_id);
    const auto doc = slots_of_doc_.find(doc_id);
    if (doc != slots_of_doc_.end() && !doc->second.empty() && doc->second.back() == slot) {
      doc->second.pop_back();
    }
    if (graph_ != nullptr) {
      const auto node = graph_->hnsw.label_lookup_.find(slot);
      if (node != graph_->hnsw.label_lookup_.end()) {
        node_of_slot_[slot] = node->second;
        if (!graph_->hnsw.isMarkedDeleted(node->second)) {
          graph_->hnsw.markDeletedInternal(node->second);
        }
      }
    }
    return core::make_error(core::ErrorKind::kResourceExhausted, "index_memory", e.what());
  }
  live_slots_[slot] = true;
  ++live_;
  if (graph_ == nullptr && live_ >= options_.exact_threshold) build_graph();
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
    if (graph_ != nullptr) graph_->hnsw.markDeletedInternal(node_of_slot_[slot]);
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
    scored.emplace_back(dot(slot_vector(slot), query.data(), options_.dim), slot);
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

core::Status VectorIndex::save(const std::string& path) const {
  detail::Writer w;
  w.reserve(chunk_ids_.size() * 64 + data_.size() * sizeof(float) +
            (graph_ == nullptr
                 ? 0
                 : graph_->hnsw.cur_element_count * (graph_->hnsw.size_data_per_element_ + 8)));
  for (const std::size_t v : {options_.dim, options_.exact_threshold, options_.hnsw_m,
                              options_.ef_construction, options_.ef_search}) {
    w.u64(v);
  }
  w.str(options_.model);
  w.u32(graph_ != nullptr ? 1 : 0);
  w.u32(static_cast<std::uint32_t>(chunk_ids_.size()));
  for (std::size_t slot = 0; slot < chunk_ids_.size(); ++slot) {
    w.str(chunk_ids_[slot]);
    w.str(doc_ids_[slot]);
    w.u32(live_slots_[slot] ? 1 : 0);
    if (graph_ == nullptr) w.raw(&data_[slot * options_.dim], options_.dim * sizeof(float));
  }
  if (graph_ != nullptr) write_graph(graph_->hnsw, w);
  return detail::write_file(path, detail::kVectorMagic, kVectorFormatVersion, w.bytes());
}

core::Expected<VectorIndex> VectorIndex::load(const std::string& path) {
  auto payload = detail::read_file(path, detail::kVectorMagic, kVectorFormatVersion);
  if (!payload) return payload.error();
  detail::Reader r(*payload);
  VectorIndexOptions o;
  o.dim = r.u64();
  o.exact_threshold = r.u64();
  o.hnsw_m = r.u64();
  o.ef_construction = r.u64();
  o.ef_search = r.u64();
  o.model = r.str();
  const std::uint32_t has_graph = r.u32();
  constexpr std::size_t kMaxDim = 1U << 16;
  constexpr std::size_t kMaxM = 1U << 10;
  if (!r.ok() || o.dim == 0 || o.dim > kMaxDim || o.hnsw_m == 0 || o.hnsw_m > kMaxM ||
      o.ef_construction > (1U << 20) || o.ef_search > (1U << 20) || has_graph > 1) {
    return detail::corrupt("bad vector index options");
  }
  VectorIndex index(o);
  const std::size_t vector_bytes = has_graph == 1 ? 0 : o.dim * sizeof(float);
  const std::uint32_t slots = r.count(12 + vector_bytes);
  index.data_.resize(has_graph == 1 ? 0 : slots * o.dim);
  index.chunk_ids_.reserve(slots);
  index.doc_ids_.reserve(slots);
  for (std::uint32_t slot = 0; slot < slots && r.ok(); ++slot) {
    index.chunk_ids_.push_back(r.str());
    index.doc_ids_.push_back(r.str());
    const std::uint32_t live = r.u32();
    if (live > 1) return detail::corrupt("bad vector record");
    if (has_graph == 0) {
      float* v = &index.data_[slot * o.dim];
      if (!r.raw(v, vector_bytes) ||
          !std::all_of(v, v + o.dim, [](float x) { return std::isfinite(x); })) {
        return detail::corrupt("bad vector record");
      }
    }
    index.live_slots_.push_back(live == 1);
    if (live == 0) continue;
    if (!index.slot_of_chunk_.emplace(index.chunk_ids_.back(), slot).second) {
      return detail::corrupt("duplicated chunk id");
    }
    index.slots_of_doc_[index.doc_ids_.back()].push_back(slot);
    ++index.live_;
  }
  if (!r.ok()) return detail::corrupt("bad vector records");
  if (has_graph == 1) {
    try {
      index.graph_ = std::make_unique<Graph>(o.dim, std::max<std::size_t>(2 * slots, 1024),
                                             o.hnsw_m, o.ef_construction);
      index.node_of_slot_.assign(slots, kNoNode);
    } catch (const std::exception& e) {
      return core::make_error(core::ErrorKind::kResourceExhausted, "index_memory", e.what());
    }
    if (!read_graph(r, slots, index.graph_->hnsw) || !index.adopt_graph_nodes()) {
      return detail::corrupt("bad HNSW graph");
    }
    index.graph_->hnsw.setEf(o.ef_search);
  }
  if (!r.ok() || !r.at_end()) return detail::corrupt("truncated or trailing data");
  return index;
}

bool VectorIndex::adopt_graph_nodes() {
  const auto& h = graph_->hnsw;
  for (const auto& [label, node] : h.label_lookup_) {
    node_of_slot_[label] = node;  // labels are checked < slots, each once, by read_graph
    const float* v = slot_vector(label);
    if (live_slots_[label] == h.isMarkedDeleted(node) ||
        !std::all_of(v, v + options_.dim, [](float x) { return std::isfinite(x); })) {
      return false;  // a live chunk must be a node not deleted, a removed one a deleted node
    }
  }
  for (std::size_t slot = 0; slot < live_slots_.size(); ++slot) {
    if (live_slots_[slot] && node_of_slot_[slot] == kNoNode) return false;
  }
  return true;
}

}  // namespace enkisys::rag
