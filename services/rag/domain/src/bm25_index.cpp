#include "enkisys/rag/bm25_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "binary_io.hpp"

namespace enkisys::rag {

Bm25Index::Bm25Index(Bm25Params params) : params_(params) {}

std::uint32_t Bm25Index::term_id(const std::string& term) {
  const auto [it, inserted] =
      dictionary_.try_emplace(term, static_cast<std::uint32_t>(terms_.size()));
  if (inserted) {
    terms_.push_back(term);
    postings_.emplace_back();
  }
  return it->second;
}

core::Status Bm25Index::add(ChunkRecord record) {
  if (record.chunk_id.empty()) {
    return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_chunk",
                            "chunk id must not be empty", "/chunk_id");
  }
  if (slot_of_chunk_.count(record.chunk_id) != 0) {
    return core::make_error(core::ErrorKind::kConflict, "duplicate_chunk",
                            "chunk id already indexed", "/chunk_id");
  }
  const auto slot = static_cast<std::uint32_t>(slots_.size());
  std::unordered_map<std::uint32_t, float> tf;
  for (const auto& t : record.body_terms) tf[term_id(t)] += 1.0F;
  for (const auto& t : record.heading_terms) tf[term_id(t)] += params_.heading_boost;
  Slot s;
  s.length = static_cast<float>(record.body_terms.size()) +
             params_.heading_boost * static_cast<float>(record.heading_terms.size());
  s.terms.reserve(tf.size());
  for (const auto& [id, f] : tf) {
    s.terms.push_back(id);
    postings_[id].push_back({slot, f});  // slots grow: lists stay sorted
  }
  std::sort(s.terms.begin(), s.terms.end());
  s.chunk_id = std::move(record.chunk_id);
  s.doc_id = std::move(record.doc_id);
  s.metadata = std::move(record.metadata);
  s.live = true;
  total_length_ += static_cast<double>(s.length);
  ++live_;
  slot_of_chunk_[s.chunk_id] = slot;
  slots_of_doc_[s.doc_id].push_back(slot);
  slots_.push_back(std::move(s));
  return core::ok_status();
}

std::size_t Bm25Index::remove_document(const std::string& doc_id) {
  const auto it = slots_of_doc_.find(doc_id);
  if (it == slots_of_doc_.end()) return 0;
  std::size_t removed = 0;
  for (const std::uint32_t slot : it->second) {
    Slot& s = slots_[slot];
    if (!s.live) continue;
    for (const std::uint32_t id : s.terms) {
      auto& list = postings_[id];
      const auto p = std::lower_bound(list.begin(), list.end(), slot,
                                      [](const Posting& a, std::uint32_t v) { return a.slot < v; });
      if (p != list.end() && p->slot == slot) list.erase(p);
    }
    s.live = false;
    s.terms = {};
    s.metadata = {};
    total_length_ -= static_cast<double>(s.length);
    --live_;
    slot_of_chunk_.erase(s.chunk_id);
    ++removed;
  }
  slots_of_doc_.erase(it);
  return removed;
}

std::vector<ScoredChunk> Bm25Index::search(const std::vector<std::string>& query_terms,
                                           std::size_t k, const SearchFilter& filter) const {
  std::vector<ScoredChunk> out;
  if (live_ == 0 || k == 0) return out;
  const double n = static_cast<double>(live_);
  const float avg = static_cast<float>(total_length_ / n);
  std::vector<float> scores(slots_.size(), 0.0F);
  std::vector<std::uint32_t> touched;
  std::unordered_set<std::string> seen;
  for (const auto& term : query_terms) {
    if (!seen.insert(term).second) continue;
    const auto it = dictionary_.find(term);
    if (it == dictionary_.end()) continue;
    const auto& list = postings_[it->second];
    if (list.empty()) continue;
    const double df = static_cast<double>(list.size());
    const auto idf = static_cast<float>(std::log(1.0 + (n - df + 0.5) / (df + 0.5)));
    for (const auto& p : list) {
      const float norm = params_.k1 * (1.0F - params_.b + params_.b * slots_[p.slot].length / avg);
      if (scores[p.slot] == 0.0F) touched.push_back(p.slot);
      scores[p.slot] += idf * p.tf * (params_.k1 + 1.0F) / (p.tf + norm);
    }
  }
  auto passes = [&](std::uint32_t slot) {
    const Slot& s = slots_[slot];
    if (!filter.doc_ids.empty() && filter.doc_ids.count(s.doc_id) == 0) return false;
    for (const auto& [key, value] : filter.metadata) {
      const auto m = s.metadata.find(key);
      if (m == s.metadata.end() || m->second != value) return false;
    }
    return true;
  };
  std::vector<std::uint32_t> hits;
  for (const std::uint32_t slot : touched) {
    if (scores[slot] > 0.0F && passes(slot)) hits.push_back(slot);
  }
  const auto better = [&](std::uint32_t a, std::uint32_t b) {
    return scores[a] != scores[b] ? scores[a] > scores[b] : a < b;
  };
  const std::size_t top = std::min(k, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(top), hits.end(),
                    better);
  for (std::size_t i = 0; i < top; ++i) {
    out.push_back({slots_[hits[i]].chunk_id, slots_[hits[i]].doc_id, scores[hits[i]]});
  }
  return out;
}

core::Status Bm25Index::save(const std::string& path) const {
  detail::Writer w;
  w.f32(params_.k1);
  w.f32(params_.b);
  w.f32(params_.heading_boost);
  w.u32(static_cast<std::uint32_t>(terms_.size()));
  for (const auto& t : terms_) w.str(t);
  std::uint32_t live_slots = 0;
  for (const auto& s : slots_) live_slots += s.live ? 1 : 0;
  w.u32(live_slots);
  for (const auto& s : slots_) {
    if (!s.live) continue;
    w.str(s.chunk_id);
    w.str(s.doc_id);
    w.f32(s.length);
    w.u32(static_cast<std::uint32_t>(s.metadata.size()));
    for (const auto& [k, v] : s.metadata) {
      w.str(k);
      w.str(v);
    }
    // term frequencies of this chunk, looked up in the postings
    w.u32(static_cast<std::uint32_t>(s.terms.size()));
    const auto slot = static_cast<std::uint32_t>(&s - slots_.data());
    for (const std::uint32_t id : s.terms) {
      const auto& list = postings_[id];
      const auto p = std::lower_bound(list.begin(), list.end(), slot,
                                      [](const Posting& a, std::uint32_t v) { return a.slot < v; });
      w.u32(id);
      w.f32(p->tf);
    }
  }
  return detail::write_file(path, detail::kBm25Magic, kBm25FormatVersion, w.bytes());
}

core::Expected<Bm25Index> Bm25Index::load(const std::string& path) {
  auto payload = detail::read_file(path, detail::kBm25Magic, kBm25FormatVersion);
  if (!payload) return payload.error();
  detail::Reader r(*payload);
  Bm25Params params;
  params.k1 = r.f32();
  params.b = r.f32();
  params.heading_boost = r.f32();
  Bm25Index index(params);
  const std::uint32_t term_count = r.count(4);
  for (std::uint32_t i = 0; i < term_count && r.ok(); ++i) {
    const std::string t = r.str();
    if (index.dictionary_.count(t) != 0) break;  // duplicated term: corrupt (r.ok() stays true)
    index.term_id(t);
  }
  if (index.terms_.size() != term_count) return detail::corrupt("duplicated or missing terms");
  const std::uint32_t slot_count = r.count(16);
  for (std::uint32_t i = 0; i < slot_count && r.ok(); ++i) {
    Slot s;
    s.chunk_id = r.str();
    s.doc_id = r.str();
    s.length = r.f32();
    const std::uint32_t meta = r.count(8);
    for (std::uint32_t m = 0; m < meta && r.ok(); ++m) {
      std::string key = r.str();
      s.metadata[key] = r.str();
    }
    const std::uint32_t n = r.count(8);
    const auto slot = static_cast<std::uint32_t>(index.slots_.size());
    for (std::uint32_t t = 0; t < n && r.ok(); ++t) {
      const std::uint32_t id = r.u32();
      const float tf = r.f32();
      if (id >= term_count || !(tf > 0.0F) || (!s.terms.empty() && id <= s.terms.back())) {
        return detail::corrupt("bad posting");
      }
      s.terms.push_back(id);
      index.postings_[id].push_back({slot, tf});
    }
    if (!r.ok() || s.chunk_id.empty() || !(s.length >= 0.0F) ||
        index.slot_of_chunk_.count(s.chunk_id) != 0) {
      return detail::corrupt("bad chunk record");
    }
    s.live = true;
    index.total_length_ += static_cast<double>(s.length);
    ++index.live_;
    index.slot_of_chunk_[s.chunk_id] = slot;
    index.slots_of_doc_[s.doc_id].push_back(slot);
    index.slots_.push_back(std::move(s));
  }
  if (!r.ok() || !r.at_end()) return detail::corrupt("truncated or trailing data");
  return index;
}

}  // namespace enkisys::rag
