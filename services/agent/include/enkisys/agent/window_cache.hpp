// WindowCache: the recent messages of conversations kept in memory, so that a turn reads from
// the database only the messages it has not seen (issue "agent benchmarks": a turn used to read
// its whole memory window, hundreds of rows, every time).
//
// Why it is correct: a conversation's messages are append-only and immutable (never edited;
// removed only with the conversation, whose random id is never reused), and `seq` is assigned
// MAX(seq) + 1 inside the writing transaction, so once seq N is committed every seq below it
// is too. An entry therefore records a complete range — every message with lo < seq <= hi —
// and stays true for every instance of the service sharing the database; a reader only has to
// fetch seq > hi. Ownership is never decided here: callers check it in their transaction first.
//
// Contract:
//  * Thread-safe (one mutex). Messages are shared, immutable snapshots.
//  * Bounded in bytes: at most `max_bytes` in all, estimated by bytes_of() (the structs, their
//    text and their place in the entry); the least recently used conversations are dropped
//    first. A conversation's entry is itself bounded by the memory's token budget (older
//    messages are summarized and no longer read). max_bytes == 0 disables the cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "enkisys/agent/store.hpp"

namespace enkisys::agent {

class WindowCache {
 public:
  using Messages = std::vector<HistoryPtr>;

  explicit WindowCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // The estimated bytes one cached message holds.
  static std::size_t bytes_of(const WindowMessage& m);

  // The cached messages of `id` with seq > `after` appended to *out (by seq); returns the seq
  // up to which they are complete, or `after` when the cache cannot serve the range.
  std::int64_t read(const std::string& id, std::int64_t after, Messages* out);
  // Records that `messages` are all of `id`'s messages with lo < seq <= hi (by seq), replacing
  // a narrower entry. Messages with seq <= lo are not kept.
  void store(const std::string& id, std::int64_t lo, std::int64_t hi, Messages messages);
  // Adds `messages` (consecutive seqs, just appended) when they continue `id`'s entry; only
  // the fields begin_turn() returns are kept.
  void extend(const std::string& id, const std::vector<StoredMessage>& messages);
  void erase(const std::string& id);

  std::size_t size() const;   // messages held (for tests)
  std::size_t bytes() const;  // estimated bytes held (for tests)

 private:
  struct Entry {
    std::int64_t lo = 0, hi = 0;
    Messages messages;
    std::size_t bytes = 0;  // bytes_of() of the messages
    std::list<std::string>::iterator lru;
  };
  void touch(Entry& e);
  void trim();

  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
  std::list<std::string> lru_;                      // most recent first; guarded by mu_
  std::size_t held_ = 0;                            // messages; guarded by mu_
  std::size_t held_bytes_ = 0;                      // guarded by mu_
};

}  // namespace enkisys::agent
