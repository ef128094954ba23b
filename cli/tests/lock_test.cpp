#include "enkisys/cli/lock.hpp"

#include <gtest/gtest.h>

#include "fakes.hpp"

namespace enkisys::cli {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::MemoryStateStore;

Lease who(const char* holder) {
  Lease l;
  l.holder = holder;
  l.host = "runner-1";
  l.pid = 42;
  return l;
}

TEST(StageLock, FirstAcquiresSecondSeesTheHolder) {
  MemoryStateStore store;
  FakeClock clock;
  StageLock a(store, clock, who("alice"), 60s);
  StageLock b(store, clock, who("bob"), 60s);
  Lease holder;
  std::string error;
  EXPECT_EQ(a.try_acquire(&holder, &error), StageLock::Outcome::kAcquired);
  EXPECT_TRUE(store.files.count("lock"));
  EXPECT_EQ(b.try_acquire(&holder, &error), StageLock::Outcome::kHeld);
  EXPECT_EQ(holder.holder, "alice");
  EXPECT_NE(holder.describe().find("alice (pid 42 on runner-1"), std::string::npos);
  ASSERT_TRUE(a.release().ok);
  EXPECT_FALSE(store.files.count("lock"));
  EXPECT_EQ(b.try_acquire(&holder, &error), StageLock::Outcome::kAcquired);
}

TEST(StageLock, ExpiredLeaseIsTakenOverAndTheOldHolderCannotRemoveIt) {
  MemoryStateStore store;
  FakeClock clock;
  StageLock a(store, clock, who("killed-run"), 60s);
  StageLock b(store, clock, who("next-run"), 60s);
  Lease holder;
  std::string error;
  ASSERT_EQ(a.try_acquire(&holder, &error), StageLock::Outcome::kAcquired);
  clock.sleep_for(59s);
  EXPECT_EQ(b.try_acquire(&holder, &error), StageLock::Outcome::kHeld);
  clock.sleep_for(2s);
  EXPECT_EQ(b.try_acquire(&holder, &error), StageLock::Outcome::kAcquired);
  EXPECT_FALSE(store.files.count("lock.takeover"));
  // The old holder wakes up: it may neither renew nor release the new lease.
  EXPECT_FALSE(a.renew().ok);
  a.release();
  auto now = Lease::parse(store.files.at("lock"));
  ASSERT_TRUE(now);
  EXPECT_EQ(now->holder, "next-run");
}

TEST(StageLock, RenewExtendsTheLease) {
  MemoryStateStore store;
  FakeClock clock;
  StageLock a(store, clock, who("alice"), 60s);
  StageLock b(store, clock, who("bob"), 60s);
  Lease holder;
  std::string error;
  ASSERT_EQ(a.try_acquire(&holder, &error), StageLock::Outcome::kAcquired);
  clock.sleep_for(50s);
  ASSERT_TRUE(a.renew().ok);
  clock.sleep_for(50s);
  EXPECT_EQ(b.try_acquire(&holder, &error), StageLock::Outcome::kHeld);
}

TEST(StageLock, RenewIfDueOnlyWritesInTheSecondHalfOfTheTtl) {
  MemoryStateStore store;
  FakeClock clock;
  StageLock a(store, clock, who("alice"), 60s);
  Lease holder;
  std::string error;
  ASSERT_EQ(a.try_acquire(&holder, &error), StageLock::Outcome::kAcquired);
  auto first = store.files.at("lock");
  clock.sleep_for(20s);
  ASSERT_TRUE(a.renew_if_due().ok);
  EXPECT_EQ(store.files.at("lock"), first);
  clock.sleep_for(20s);
  ASSERT_TRUE(a.renew_if_due().ok);
  EXPECT_NE(store.files.at("lock"), first);
  EXPECT_EQ(Lease::parse(store.files.at("lock"))->expires, clock.now() + 60s);
}

TEST(StageLock, WaitIsBoundedAndSucceedsWhenTheLeaseExpires) {
  MemoryStateStore store;
  FakeClock clock;
  StageLock a(store, clock, who("alice"), 60s);
  Lease holder;
  std::string error;
  ASSERT_EQ(a.try_acquire(&holder, &error), StageLock::Outcome::kAcquired);
  StageLock b(store, clock, who("bob"), 60s, 2s);
  auto start = clock.now();
  EXPECT_EQ(b.acquire(10s, &holder, &error), StageLock::Outcome::kHeld);
  EXPECT_LE(clock.now() - start, 10s);
  EXPECT_GE(clock.now() - start, 8s);
  EXPECT_EQ(b.acquire(120s, &holder, &error), StageLock::Outcome::kAcquired);
  EXPECT_LE(clock.now() - start, 62s + 2s);
}

TEST(StageLock, ConcurrentTakeoverYieldsToTheGuardHolder) {
  MemoryStateStore store;
  FakeClock clock;
  StageLock dead(store, clock, who("dead"), 10s);
  Lease holder;
  std::string error;
  ASSERT_EQ(dead.try_acquire(&holder, &error), StageLock::Outcome::kAcquired);
  clock.sleep_for(11s);
  // Another process grabs the takeover guard just before us.
  StageLock other(store, clock, who("other"), 60s);
  store.before_create = [&] {
    if (!store.files.count("lock.takeover")) {
      Lease g = who("other");
      g.expires = clock.now() + 30s;
      store.files["lock.takeover"] = g.to_json();
    }
  };
  StageLock me(store, clock, who("me"), 60s);
  EXPECT_EQ(me.try_acquire(&holder, &error), StageLock::Outcome::kHeld);
  EXPECT_EQ(Lease::parse(store.files.at("lock"))->holder, "dead");  // untouched
  // A guard left by a killed process expires too.
  store.before_create = nullptr;
  clock.sleep_for(31s);
  EXPECT_EQ(me.try_acquire(&holder, &error), StageLock::Outcome::kHeld);  // removes the stale guard
  EXPECT_EQ(me.try_acquire(&holder, &error), StageLock::Outcome::kAcquired);
}

TEST(StageLock, UnreadableLeaseCountsAsExpired) {
  MemoryStateStore store;
  FakeClock clock;
  store.files["lock"] = "garbage";
  StageLock me(store, clock, who("me"), 60s);
  Lease holder;
  std::string error;
  EXPECT_EQ(me.try_acquire(&holder, &error), StageLock::Outcome::kAcquired);
  ASSERT_TRUE(StageLock::force_release(store).ok);
  EXPECT_FALSE(store.files.count("lock"));
}

}  // namespace
}  // namespace enkisys::cli
