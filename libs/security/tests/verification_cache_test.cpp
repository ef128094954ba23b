#include "enkisys/security/verification_cache.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace enkisys::security {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

constexpr std::int64_t kNow = 1'700'000'000;

class CacheTest : public ::testing::Test {
 protected:
  CacheTest()
      : clock_(std::chrono::sys_seconds(seconds(kNow))),
        key_(SigningKey::generate(Alg::kHS256)),
        keys_({key_.verify_key()}) {
    opts_.audiences = {"enkisys-api"};
    opts_.allowed_algs = {Alg::kHS256, Alg::kEdDSA};
  }
  std::string token(const std::string& sub, std::int64_t exp_offset = 600) const {
    return sign(key_,
                json::object{{"sub", sub}, {"aud", "enkisys-api"}, {"exp", kNow + exp_offset}});
  }
  std::shared_ptr<const Claims> claims_of(const std::string& t) const {
    return std::make_shared<const Claims>(verify(t, keys_, opts_, clock_).value());
  }
  Clock::time_point at(std::int64_t offset) const {
    return Clock::time_point(seconds(kNow + offset));
  }

  ManualClock clock_;
  SigningKey key_;
  KeySet keys_;
  VerifyOptions opts_;
};

TEST_F(CacheTest, SecondVerificationIsAHitSharingTheClaims) {
  VerificationCache cache;
  const std::string t = token("alice");
  auto first = verify_cached(t, keys_, opts_, clock_, cache);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = verify_cached(t, keys_, opts_, clock_, cache);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->get(), second->get());  // same object, no copy on a hit
  EXPECT_EQ((*second)->sub, "alice");
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(cache.stats().misses, 1u);
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(CacheTest, DifferentTokensDoNotShareEntries) {
  VerificationCache cache;
  cache.put(token("alice"), claims_of(token("alice")), at(0));
  EXPECT_EQ(cache.get(token("bob"), at(0)), nullptr);
  EXPECT_EQ(cache.get(token("alice"), at(0))->sub, "alice");
}

TEST_F(CacheTest, EntryExpiresAtTokenExpiry) {
  VerificationCache cache(VerificationCache::Options{.capacity = 10, .ttl = seconds(300)});
  const std::string t = token("alice", 60);
  cache.put(t, claims_of(t), at(0));
  EXPECT_NE(cache.get(t, at(59)), nullptr);
  EXPECT_EQ(cache.get(t, at(60)), nullptr);
}

TEST_F(CacheTest, EntryExpiresAfterTtlEvenIfTokenLivesLonger) {
  VerificationCache cache(VerificationCache::Options{.capacity = 10, .ttl = seconds(10)});
  const std::string t = token("alice", 3600);
  cache.put(t, claims_of(t), at(0));
  EXPECT_NE(cache.get(t, at(9)), nullptr);
  EXPECT_EQ(cache.get(t, at(10)), nullptr);
}

TEST_F(CacheTest, ExpiredTokenIsRejectedNotServedFromCache) {
  VerificationCache cache;
  const std::string t = token("alice", 60);
  ASSERT_TRUE(verify_cached(t, keys_, opts_, clock_, cache).ok());
  clock_.advance(seconds(200));
  auto r = verify_cached(t, keys_, opts_, clock_, cache);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, VerifyError::kExpired);
}

TEST_F(CacheTest, FullShardEvictsAnUnreferencedEntryFirst) {
  VerificationCache cache(
      VerificationCache::Options{.capacity = 4, .ttl = seconds(300), .shards = 1});
  std::vector<std::string> t;
  t.reserve(5);
  for (int i = 0; i < 5; ++i) {
    t.push_back(token("u" + std::to_string(i)));
  }
  for (int i = 0; i < 4; ++i) {
    cache.put(t[i], claims_of(t[i]), at(0));
  }
  ASSERT_NE(cache.get(t[0], at(0)), nullptr);  // t0 recently used
  cache.put(t[4], claims_of(t[4]), at(0));
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_NE(cache.get(t[0], at(0)), nullptr);
  EXPECT_EQ(cache.get(t[1], at(0)), nullptr);  // oldest without a second chance
  EXPECT_NE(cache.get(t[4], at(0)), nullptr);
}

TEST_F(CacheTest, SizeNeverExceedsCapacity) {
  VerificationCache cache(
      VerificationCache::Options{.capacity = 100, .ttl = seconds(300), .shards = 16});
  EXPECT_EQ(cache.capacity(), 100u);
  const auto claims = claims_of(token("x"));
  for (int i = 0; i < 1000; ++i) {
    cache.put("token-" + std::to_string(i), claims, at(0));
  }
  EXPECT_LE(cache.size(), 100u);
  EXPECT_GE(cache.stats().evictions, 900u);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(CacheTest, HitIsRecheckedAgainstTheAskingRoute) {
  VerificationCache cache;
  const std::string t = token("alice");
  ASSERT_TRUE(verify_cached(t, keys_, opts_, clock_, cache).ok());

  VerifyOptions other_route = opts_;
  other_route.audiences = {"admin-api"};
  auto r = verify_cached(t, keys_, other_route, clock_, cache);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, VerifyError::kBadAudience);
  EXPECT_EQ(cache.stats().hits, 1u);  // answered from the cache, still rejected

  VerifyOptions no_hs = opts_;
  no_hs.allowed_algs = {Alg::kEdDSA};
  EXPECT_EQ(verify_cached(t, keys_, no_hs, clock_, cache).error().code,
            VerifyError::kAlgNotAllowed);

  // The signing key was rotated out: the cached result must not outlive it.
  const KeySet rotated({SigningKey::generate(Alg::kHS256).verify_key()});
  EXPECT_EQ(verify_cached(t, rotated, opts_, clock_, cache).error().code, VerifyError::kUnknownKid);
  EXPECT_TRUE(verify_cached(t, keys_, opts_, clock_, cache).ok());
}

TEST_F(CacheTest, FailedVerificationsAreNotCached) {
  VerificationCache cache;
  std::string t = token("alice");
  t.back() = t.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_cached(t, keys_, opts_, clock_, cache).ok());
  EXPECT_FALSE(verify_cached(t, keys_, opts_, clock_, cache).ok());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.stats().hits, 0u);
}

TEST_F(CacheTest, ConcurrentReadersAndWritersSeeOnlyTheirOwnClaims) {
  // Capacity below the working set so that eviction races with hits.
  VerificationCache cache(
      VerificationCache::Options{.capacity = 24, .ttl = seconds(300), .shards = 4});
  std::vector<std::string> tokens;
  tokens.reserve(64);
  for (int i = 0; i < 64; ++i) {
    tokens.push_back(token("user-" + std::to_string(i)));
  }

  constexpr int kThreads = 4, kIterations = 3000;
  std::atomic<int> wrong{0}, failed{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        const int n = (i * 7 + t * 13) % 64;
        auto r = verify_cached(tokens[n], keys_, opts_, clock_, cache);
        if (!r.ok()) {
          failed.fetch_add(1);
        } else if ((*r)->sub != "user-" + std::to_string(n)) {
          wrong.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  const auto st = cache.stats();
  EXPECT_EQ(st.hits + st.misses, static_cast<std::uint64_t>(kThreads * kIterations));
  EXPECT_GT(st.hits, 0u);
  EXPECT_GT(st.evictions, 0u);
  EXPECT_LE(cache.size(), 24u);
}

}  // namespace
}  // namespace enkisys::security
