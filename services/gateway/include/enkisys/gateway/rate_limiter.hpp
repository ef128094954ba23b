// Token-bucket rate limiting keyed by (policy, scope, client key).
//
// Contract:
//  * Thread-safe (sharded mutexes); acquire() does not allocate once a bucket exists.
//  * Memory is bounded: each shard holds at most max_buckets/shards buckets; when full, buckets
//    that have refilled completely (idle clients) are dropped first, then the shard is reset.
//  * The clock is injected through the `now` argument (tests advance it by hand).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "enkisys/gateway/config.hpp"

namespace enkisys::gateway {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(std::size_t max_buckets = 100'000, std::size_t shards = 16);

  // Takes one token. Returns 0 when allowed, else the whole seconds (>= 1) until a token is
  // available (the Retry-After value).
  int acquire(std::uint64_t key, const RateLimitPolicy& policy, Clock::time_point now);

  // Key of (policy index, scope id, client key such as an IP or API key).
  static std::uint64_t make_key(int policy, int scope, std::string_view client);

  std::size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point last;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::uint64_t, Bucket> buckets;
  };
  std::size_t per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace enkisys::gateway
