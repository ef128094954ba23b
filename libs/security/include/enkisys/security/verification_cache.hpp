// VerificationCache: bounded, sharded cache of successful JWT verifications.
//
// Contract:
// * Thread safe; meant to be shared by all gateway threads. get() takes a shard's shared
//   lock and does not allocate: it hashes the token, finds the entry, marks it referenced and
//   copies a std::shared_ptr<const Claims>. put() takes the shard's exclusive lock.
// * Key: 128-bit keyed SipHash (libsodium crypto_shorthash_siphashx24) of the whole token with
//   a random per-cache key, so an attacker cannot aim for a collision with another user's token.
// * An entry lives until min(exp, inserted + ttl); get() never returns an expired entry.
// * Capacity is split over the shards; a full shard evicts with CLOCK (second chance),
//   preferring expired entries. size() <= capacity always.
// * Only successful verifications belong here. A hit is still checked against the asking
//   route's rules (verify_cached() re-runs check_claims() and confirms the signing key is still
//   in the KeySet), so one cache can serve routes with different audiences or issuers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "enkisys/security/clock.hpp"
#include "enkisys/security/jwt.hpp"

namespace enkisys::security {

class VerificationCache {
 public:
  struct Options {
    std::size_t capacity = 10000;
    std::chrono::seconds ttl{300};
    std::size_t shards = 16;
  };
  struct Stats {
    std::uint64_t hits = 0, misses = 0, evictions = 0;
  };

  VerificationCache();
  explicit VerificationCache(Options options);
  ~VerificationCache();
  VerificationCache(const VerificationCache&) = delete;
  VerificationCache& operator=(const VerificationCache&) = delete;

  // Claims cached for exactly this token, or nullptr (absent or expired at `now`).
  std::shared_ptr<const Claims> get(std::string_view token, Clock::time_point now) const;
  // Caches `claims` (REQUIRES: the result of a successful verify of `token`).
  void put(std::string_view token, std::shared_ptr<const Claims> claims, Clock::time_point now);

  std::size_t size() const;
  std::size_t capacity() const;
  Stats stats() const;
  void clear();

 private:
  struct Shard;
  std::size_t shard_of(std::uint64_t h) const { return h % shards_.size(); }
  unsigned char key_[16] = {};  // SipHash key, random per cache
  std::chrono::seconds ttl_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

// verify() behind the cache: a hit re-checks alg, key presence and check_claims(); a miss runs
// the full verify() and caches a success.
Expected<std::shared_ptr<const Claims>, VerifyError> verify_cached(std::string_view token,
                                                                   const KeySet& keys,
                                                                   const VerifyOptions& options,
                                                                   const Clock& clock,
                                                                   VerificationCache& cache);

}  // namespace enkisys::security
