#include "enkisys/gateway/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace enkisys::gateway {

RateLimiter::RateLimiter(std::size_t max_buckets, std::size_t shards)
    : per_shard_(std::max<std::size_t>(1, max_buckets / std::max<std::size_t>(1, shards))) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, shards); ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
}

std::uint64_t RateLimiter::make_key(int policy, int scope, std::string_view client) {
  // FNV-1a 64 over the client key, mixed with policy/scope (a collision only merges buckets).
  std::uint64_t h = 1469598103934665603ULL ^ (static_cast<std::uint64_t>(policy) << 32) ^
                    static_cast<std::uint64_t>(static_cast<std::uint32_t>(scope));
  for (unsigned char c : client) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

int RateLimiter::acquire(std::uint64_t key, const RateLimitPolicy& policy, Clock::time_point now) {
  Shard& s = *shards_[key % shards_.size()];
  std::lock_guard lock(s.mu);
  auto it = s.buckets.find(key);
  if (it == s.buckets.end()) {
    if (s.buckets.size() >= per_shard_) {
      std::erase_if(s.buckets, [&](const auto& kv) {
        const double dt = std::chrono::duration<double>(now - kv.second.last).count();
        return kv.second.tokens + dt * policy.rate_per_s >= policy.burst;
      });
      if (s.buckets.size() >= per_shard_) s.buckets.clear();
    }
    it = s.buckets.emplace(key, Bucket{policy.burst, now}).first;
  }
  Bucket& b = it->second;
  const double dt = std::chrono::duration<double>(now - b.last).count();
  if (dt > 0) {
    b.tokens = std::min(policy.burst, b.tokens + dt * policy.rate_per_s);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / policy.rate_per_s)));
}

std::size_t RateLimiter::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mu);
    n += s->buckets.size();
  }
  return n;
}

}  // namespace enkisys::gateway
