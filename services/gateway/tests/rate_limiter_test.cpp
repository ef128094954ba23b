#include "enkisys/gateway/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace enkisys::gateway {
namespace {

TEST(RateLimiterTest, BurstThenRefill) {
  RateLimiter rl;
  RateLimitPolicy p;
  p.rate_per_s = 2;
  p.burst = 3;
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  const auto k = RateLimiter::make_key(0, 0, "10.0.0.1");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rl.acquire(k, p, t0), 0);
  EXPECT_EQ(rl.acquire(k, p, t0), 1);  // Retry-After: 1 s (0.5 s rounded up)
  EXPECT_EQ(rl.acquire(k, p, t0 + std::chrono::milliseconds(600)), 0);
  EXPECT_GT(rl.acquire(k, p, t0 + std::chrono::milliseconds(600)), 0);
}

TEST(RateLimiterTest, KeysAreIndependent) {
  RateLimiter rl;
  RateLimitPolicy p;
  p.rate_per_s = 1;
  p.burst = 1;
  const auto t = RateLimiter::Clock::now();
  EXPECT_EQ(rl.acquire(RateLimiter::make_key(0, 0, "a"), p, t), 0);
  EXPECT_GT(rl.acquire(RateLimiter::make_key(0, 0, "a"), p, t), 0);
  EXPECT_EQ(rl.acquire(RateLimiter::make_key(0, 0, "b"), p, t), 0);
  EXPECT_EQ(rl.acquire(RateLimiter::make_key(0, 1, "a"), p, t), 0);  // other scope
  EXPECT_EQ(rl.acquire(RateLimiter::make_key(1, 0, "a"), p, t), 0);  // other policy
}

TEST(RateLimiterTest, MemoryIsBounded) {
  RateLimiter rl(64, 4);
  RateLimitPolicy p;
  const auto t = RateLimiter::Clock::now();
  for (int i = 0; i < 10000; ++i) rl.acquire(RateLimiter::make_key(0, 0, std::to_string(i)), p, t);
  EXPECT_LE(rl.size(), 64u);
}

}  // namespace
}  // namespace enkisys::gateway
