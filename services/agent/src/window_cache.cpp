#include "enkisys/agent/window_cache.hpp"

#include <algorithm>

namespace enkisys::agent {

std::size_t WindowCache::bytes_of(const WindowMessage& m) {
  // The message's block with its text and tool fields, malloc's header of the block, the
  // entry's pointer.
  return m.footprint() + 8 + sizeof(Messages::value_type);
}

std::int64_t WindowCache::read(const std::string& id, std::int64_t after, Messages* out) {
  if (max_bytes_ == 0) return after;
  std::lock_guard lock(mu_);
  const auto it = entries_.find(id);
  if (it == entries_.end()) return after;
  Entry& e = it->second;
  if (e.lo > after || e.hi < after) return after;
  const auto first =
      std::upper_bound(e.messages.begin(), e.messages.end(), after,
                       [](std::int64_t seq, const HistoryPtr& m) { return seq < m->seq(); });
  out->insert(out->end(), first, e.messages.end());
  touch(e);
  return e.hi;
}

void WindowCache::store(const std::string& id, std::int64_t lo, std::int64_t hi,
                        Messages messages) {
  if (max_bytes_ == 0 || hi < lo) return;
  std::erase_if(messages, [&](const auto& m) { return m->seq() <= lo; });
  std::lock_guard lock(mu_);
  auto [it, fresh] = entries_.try_emplace(id);
  Entry& e = it->second;
  if (fresh) {
    lru_.push_front(id);
    e.lru = lru_.begin();
  } else if (e.hi > hi) {
    touch(e);
    return;  // a concurrent turn already stored a longer range
  }
  held_ -= e.messages.size();
  held_bytes_ -= e.bytes;
  e.lo = lo;
  e.hi = hi;
  e.messages = std::move(messages);
  e.messages.shrink_to_fit();
  e.bytes = 0;
  for (const auto& m : e.messages) e.bytes += bytes_of(*m);
  held_ += e.messages.size();
  held_bytes_ += e.bytes;
  touch(e);
  trim();
}

void WindowCache::extend(const std::string& id, const std::vector<StoredMessage>& messages) {
  if (max_bytes_ == 0 || messages.empty()) return;
  std::lock_guard lock(mu_);
  const auto it = entries_.find(id);
  if (it == entries_.end() || it->second.hi + 1 != messages.front().seq) return;
  Entry& e = it->second;
  // Exactly: a turn appends one or two messages to an entry store() just shrank, and doubling
  // would leave most entries half empty.
  e.messages.reserve(e.messages.size() + messages.size());
  for (const auto& m : messages) {
    auto kept = window_message_of(m);  // what the memory reads, nothing more
    const std::size_t n = bytes_of(*kept);
    e.bytes += n;
    held_bytes_ += n;
    e.messages.push_back(std::move(kept));
    e.hi = m.seq;
  }
  held_ += messages.size();
  touch(e);
  trim();
}

void WindowCache::erase(const std::string& id) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;
  held_ -= it->second.messages.size();
  held_bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

std::size_t WindowCache::size() const {
  std::lock_guard lock(mu_);
  return held_;
}

std::size_t WindowCache::bytes() const {
  std::lock_guard lock(mu_);
  return held_bytes_;
}

void WindowCache::touch(Entry& e) {
  lru_.splice(lru_.begin(), lru_, e.lru);
}

void WindowCache::trim() {
  while (held_bytes_ > max_bytes_ && !lru_.empty()) {
    const auto it = entries_.find(lru_.back());
    held_ -= it->second.messages.size();
    held_bytes_ -= it->second.bytes;
    entries_.erase(it);
    lru_.pop_back();
  }
}

}  // namespace enkisys::agent
