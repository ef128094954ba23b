#include <gtest/gtest.h>

#include "enkisys/auth/login_throttle.hpp"

namespace enkisys::auth {
namespace {

using std::chrono::seconds;

security::ManualClock make_clock() {
  return security::ManualClock(std::chrono::sys_seconds(seconds(1'700'000'000)));
}

TEST(LoginThrottle, FreeFailuresThenDoublingDelaysUpToTheCap) {
  auto clock = make_clock();
  LoginThrottle t(clock);
  const ThrottleRule rule{3, seconds(2), seconds(10)};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t.failure("k", rule), seconds(0));
  EXPECT_EQ(t.retry_after("k"), seconds(0));
  EXPECT_EQ(t.failure("k", rule), seconds(2));
  EXPECT_EQ(t.retry_after("k"), seconds(2));
  EXPECT_EQ(t.failure("k", rule), seconds(4));
  EXPECT_EQ(t.failure("k", rule), seconds(8));
  EXPECT_EQ(t.failure("k", rule), seconds(10));
  EXPECT_EQ(t.failure("k", rule), seconds(10));
  clock.advance(seconds(9));
  EXPECT_EQ(t.retry_after("k"), seconds(1));
  clock.advance(seconds(1));
  EXPECT_EQ(t.retry_after("k"), seconds(0));
  EXPECT_EQ(t.retry_after("other"), seconds(0));
}

TEST(LoginThrottle, SuccessAndTimeForgetFailures) {
  auto clock = make_clock();
  LoginThrottle t(clock, seconds(600));
  const ThrottleRule rule{1, seconds(1), seconds(60)};
  t.failure("a", rule);
  t.success("a");
  EXPECT_EQ(t.failure("a", rule), seconds(0));  // counting restarted
  t.failure("b", rule);
  clock.advance(seconds(601));
  EXPECT_EQ(t.failure("b", rule), seconds(0));  // old failure forgotten
}

TEST(LoginThrottle, MemoryStaysBounded) {
  auto clock = make_clock();
  LoginThrottle t(clock, seconds(3600), 64);
  const ThrottleRule rule{5, seconds(1), seconds(60)};
  for (int i = 0; i < 1000; ++i) {
    t.failure("ip:" + std::to_string(i), rule);
    clock.advance(seconds(1));
  }
  EXPECT_LE(t.size(), 64U);
  EXPECT_EQ(t.failure("ip:999", rule), seconds(0));  // the newest keys were kept
}

}  // namespace
}  // namespace enkisys::auth
