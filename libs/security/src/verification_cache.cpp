#include "enkisys/security/verification_cache.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "enkisys/security/secrets.hpp"

namespace enkisys::security {
namespace {

struct Key128 {
  std::uint64_t lo = 0, hi = 0;
  bool operator==(const Key128&) const = default;
};
struct Key128Hash {
  std::size_t operator()(const Key128& k) const { return static_cast<std::size_t>(k.lo); }
};

}  // namespace

struct alignas(64) VerificationCache::Shard {
  struct Slot {
    Key128 key;
    std::shared_ptr<const Claims> claims;
    std::int64_t expires_at = 0;
    std::atomic<bool> referenced{false};
  };

  explicit Shard(std::size_t cap) : slots(new Slot[cap]), capacity(cap) { index.reserve(cap); }

  mutable std::shared_mutex mu;
  std::unordered_map<Key128, std::size_t, Key128Hash> index;  // key -> slot
  std::unique_ptr<Slot[]> slots;
  std::size_t capacity;
  std::size_t used = 0;  // slots [0, used) hold entries
  std::size_t hand = 0;  // CLOCK hand
  mutable std::atomic<std::uint64_t> hits{0}, misses{0}, evictions{0};
};

namespace {

Key128 token_key(const unsigned char* secret, std::string_view token) {
  unsigned char out[crypto_shorthash_siphashx24_BYTES];
  crypto_shorthash_siphashx24(out, reinterpret_cast<const unsigned char*>(token.data()),
                              token.size(), secret);
  Key128 k;
  std::memcpy(&k.lo, out, 8);
  std::memcpy(&k.hi, out + 8, 8);
  return k;
}

}  // namespace

VerificationCache::VerificationCache() : VerificationCache(Options{}) {}

VerificationCache::VerificationCache(Options options) : ttl_(options.ttl) {
  static_assert(sizeof key_ == crypto_shorthash_siphashx24_KEYBYTES);
  ensure_sodium();
  randombytes_buf(key_, sizeof key_);
  const std::size_t capacity = std::max<std::size_t>(options.capacity, 1);
  const std::size_t shards = std::clamp<std::size_t>(options.shards, 1, capacity);
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i) {
    // Spread the capacity; the sum is exactly `capacity`.
    shards_.push_back(std::make_unique<Shard>(capacity / shards + (i < capacity % shards)));
  }
}

VerificationCache::~VerificationCache() {
  sodium_memzero(key_, sizeof key_);
}

std::shared_ptr<const Claims> VerificationCache::get(std::string_view token,
                                                     Clock::time_point now) const {
  const Key128 key = token_key(key_, token);
  Shard& s = *shards_[shard_of(key.hi)];
  std::shared_lock lock(s.mu);
  auto it = s.index.find(key);
  if (it != s.index.end()) {
    Shard::Slot& slot = s.slots[it->second];
    if (slot.expires_at > unix_seconds(now)) {
      slot.referenced.store(true, std::memory_order_relaxed);
      s.hits.fetch_add(1, std::memory_order_relaxed);
      return slot.claims;
    }
  }
  s.misses.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void VerificationCache::put(std::string_view token, std::shared_ptr<const Claims> claims,
                            Clock::time_point now) {
  if (!claims) {
    return;
  }
  const std::int64_t now_s = unix_seconds(now);
  std::int64_t expires_at = now_s + ttl_.count();
  if (claims->has_exp) {
    expires_at = std::min(expires_at, claims->exp);
  }
  if (expires_at <= now_s) {
    return;  // would never be served
  }

  const Key128 key = token_key(key_, token);
  Shard& s = *shards_[shard_of(key.hi)];
  std::unique_lock lock(s.mu);
  std::size_t victim = 0;
  if (auto it = s.index.find(key); it != s.index.end()) {
    victim = it->second;  // refresh in place
  } else if (s.used < s.capacity) {
    victim = s.used++;
    s.index.emplace(key, victim);
  } else {
    // CLOCK: give referenced entries a second chance; expired entries go first. Two sweeps
    // always find a victim because the first one clears every reference bit.
    for (std::size_t step = 0; step < 2 * s.capacity; ++step) {
      Shard::Slot& slot = s.slots[s.hand];
      const std::size_t at = s.hand;
      s.hand = (s.hand + 1) % s.capacity;
      if (slot.expires_at <= now_s || !slot.referenced.exchange(false, std::memory_order_relaxed)) {
        victim = at;
        break;
      }
    }
    s.index.erase(s.slots[victim].key);
    s.index.emplace(key, victim);
    s.evictions.fetch_add(1, std::memory_order_relaxed);
  }
  Shard::Slot& slot = s.slots[victim];
  slot.key = key;
  slot.claims = std::move(claims);
  slot.expires_at = expires_at;
  slot.referenced.store(false, std::memory_order_relaxed);
}

std::size_t VerificationCache::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::shared_lock lock(s->mu);
    n += s->index.size();
  }
  return n;
}

std::size_t VerificationCache::capacity() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    n += s->capacity;
  }
  return n;
}

VerificationCache::Stats VerificationCache::stats() const {
  Stats st;
  for (const auto& s : shards_) {
    st.hits += s->hits.load(std::memory_order_relaxed);
    st.misses += s->misses.load(std::memory_order_relaxed);
    st.evictions += s->evictions.load(std::memory_order_relaxed);
  }
  return st;
}

void VerificationCache::clear() {
  for (auto& s : shards_) {
    std::unique_lock lock(s->mu);
    s->index.clear();
    for (std::size_t i = 0; i < s->used; ++i) {
      s->slots[i].claims.reset();
    }
    s->used = 0;
    s->hand = 0;
  }
}

Expected<std::shared_ptr<const Claims>, VerifyError> verify_cached(std::string_view token,
                                                                   const KeySet& keys,
                                                                   const VerifyOptions& options,
                                                                   const Clock& clock,
                                                                   VerificationCache& cache) {
  if (token.size() > options.max_token_bytes) {
    return unexpected(VerifyError{VerifyError::kMalformed, "token too large"});
  }
  const Clock::time_point now = clock.now();
  if (std::shared_ptr<const Claims> hit = cache.get(token, now)) {
    // The signature was checked once; the signing key must still be trusted and the asking
    // route's own rules must hold.
    const VerifyKey* key = keys.find(hit->key_id);
    if (!key || key->alg() != hit->alg) {
      return unexpected(VerifyError{VerifyError::kUnknownKid, "signing key is no longer trusted"});
    }
    if (auto err = check_claims(*hit, options, unix_seconds(now))) {
      return unexpected(*err);
    }
    return hit;
  }
  VerifyResult fresh = verify(token, keys, options, clock);
  if (!fresh) {
    return unexpected(fresh.error());
  }
  auto claims = std::make_shared<const Claims>(std::move(fresh).value());
  cache.put(token, claims, now);
  return std::shared_ptr<const Claims>(std::move(claims));
}

}  // namespace enkisys::security
