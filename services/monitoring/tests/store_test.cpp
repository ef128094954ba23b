// The monitoring history on both backends: rollups, uptime, retention, alerts, silences.
#include "enkisys/monitoring/store.hpp"

#include <gtest/gtest.h>

#include "db_fixture.hpp"

namespace enkisys::monitoring {
namespace {

using db::testing::DbTest;
using MonitorStoreTest = DbTest;

TEST_P(MonitorStoreTest, RollupsUptimeAndRetention) {
  MonitorStore store(*db_, /*raw_keep_s=*/600, /*rollup_keep_s=*/3600);
  store.migrate();
  store.migrate();  // idempotent
  const std::int64_t t0 = 1'800'000'000 - 1'800'000'000 % 60;
  for (int i = 0; i < 12; ++i) {  // one minute of polls every 5 s; the last 3 down
    const bool up = i < 9;
    store.record({{"prod", "tools", t0 + i * 5, up, 2.0, 0.1, 0.01, up ? 0.05 + i * 0.01 : -1},
                  {"prod", "auth", t0 + i * 5, true, 1.0, 0.0, 0.01, 0.02}});
  }
  const auto r = store.rollups(t0);
  ASSERT_EQ(r.size(), 2u);
  const auto& tools = r[0].service == "tools" ? r[0] : r[1];
  EXPECT_FALSE(tools.up);
  EXPECT_DOUBLE_EQ(tools.req_per_s, 2.0);
  EXPECT_NEAR(tools.p99_s, 0.13, 1e-9);  // the minute's maximum
  for (const auto& u : store.uptime(t0)) {
    EXPECT_DOUBLE_EQ(u.ratio, u.service == "tools" ? 0.75 : 1.0) << u.service;
  }
  EXPECT_EQ(store.raw_count(), 24);
  store.prune(t0 + 45 + 600);  // keeps the raw polls of the last 600 s: t0+45, +50, +55
  EXPECT_EQ(store.raw_count(), 3 * 2);
  EXPECT_EQ(store.rollups(t0).size(), 2u);  // rollups are kept longer
  store.prune(t0 + 3600 + 60);
  EXPECT_TRUE(store.rollups(0).empty());
  EXPECT_EQ(store.raw_count(), 0);
}

TEST_P(MonitorStoreTest, AlertsSilencesAndEventsPersist) {
  {
    MonitorStore store(*db_);
    store.migrate();
    store.save_alert("dev", "tools", Condition::kDown, true);
    store.save_alert("dev", "tools", Condition::kDown, true);
    store.save_alert("dev", "auth", Condition::kLatency, true);
    store.save_alert("dev", "auth", Condition::kLatency, false);
    store.set_silence({"dev", "upgrade", 1000});
    store.set_silence({"dev", "longer", 2000});
    store.add_event({10, "dev", "tools", "down", "tools of dev is down"});
  }
  auto again = store_->open();
  MonitorStore store(*again);
  store.migrate();
  const auto firing = store.firing_alerts();
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(std::get<1>(firing[0]), "tools");
  EXPECT_EQ(std::get<2>(firing[0]), Condition::kDown);
  const auto s = store.silences(1500);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].reason, "longer");
  EXPECT_TRUE(store.silences(2001).empty());
  store.clear_silence("dev");
  EXPECT_TRUE(store.silences(0).empty());
  ASSERT_EQ(store.events(0, 10).size(), 1u);
}

ENKISYS_DB_ON_BOTH_BACKENDS(MonitorStoreTest);

}  // namespace
}  // namespace enkisys::monitoring
