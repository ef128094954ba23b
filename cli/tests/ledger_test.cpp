#include "enkisys/cli/ledger.hpp"

#include <gtest/gtest.h>

#include "fakes.hpp"

namespace enkisys::cli {
namespace {

Release rel(const char* version, const char* result) {
  Release r;
  r.stage = "dev1";
  r.version = version;
  r.result = result;
  r.color = "blue";
  r.actor = "alice";
  r.duration_ms = 1234;
  r.images["enkisys/tools:" + std::string(version)] = boost::json::object{{"id", "sha256:1"}};
  return r;
}

TEST(ReleaseLedger, AppendsAndReadsBackInOrder) {
  testing::MemoryStateStore store;
  ReleaseLedger ledger(store);
  ASSERT_TRUE(ledger.append(rel("v1", "succeeded")).ok);
  ASSERT_TRUE(ledger.append(rel("v2", "rolled_back")).ok);
  std::vector<Release> all;
  ASSERT_TRUE(ledger.read(&all).ok);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].version, "v1");
  EXPECT_EQ(all[1].result, "rolled_back");
  EXPECT_EQ(all[0].duration_ms, 1234);
  EXPECT_EQ(all[0].images.at("enkisys/tools:v1").at("id"), "sha256:1");
  // One JSON object per line.
  const auto& text = store.files.at("releases.jsonl");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST(ReleaseLedger, SkipsUnreadableLines) {
  testing::MemoryStateStore store;
  ReleaseLedger ledger(store);
  ASSERT_TRUE(ledger.append(rel("v1", "succeeded")).ok);
  store.files["releases.jsonl"] += "{truncated\n\n{\"no\":\"version\"}\n";
  ASSERT_TRUE(ledger.append(rel("v2", "succeeded")).ok);
  std::vector<Release> all;
  std::size_t skipped = 0;
  ASSERT_TRUE(ledger.read(&all, &skipped).ok);
  EXPECT_EQ(all.size(), 2u);
  EXPECT_EQ(skipped, 2u);
}

TEST(ReleaseLedger, LastGoodSkipsFailuresAndTheExcludedVersion) {
  std::vector<Release> all = {rel("v1", "succeeded"), rel("v2", "succeeded"),
                              rel("v3", "rolled_back"), rel("v4", "failed")};
  EXPECT_EQ(ReleaseLedger::last_good(all)->version, "v2");
  EXPECT_EQ(ReleaseLedger::last_good(all, "v2")->version, "v1");
  EXPECT_FALSE(ReleaseLedger::last_good({rel("v3", "failed")}));
  std::vector<Release> many = {rel("v1", "succeeded"), rel("v2", "succeeded"),
                               rel("v1", "succeeded"), rel("v3", "succeeded"), rel("v4", "failed")};
  EXPECT_EQ(ReleaseLedger::kept_versions(many, 2), (std::vector<std::string>{"v3", "v1"}));
}

TEST(ReleaseLedger, ActiveRoundTrips) {
  testing::MemoryStateStore store;
  ReleaseLedger ledger(store);
  std::optional<Active> a;
  ASSERT_TRUE(ledger.read_active(&a).ok);
  EXPECT_FALSE(a);
  ASSERT_TRUE(ledger.write_active({"green", "v2", "2026-01-01T00:00:00Z"}).ok);
  ASSERT_TRUE(ledger.read_active(&a).ok);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->color, "green");
  EXPECT_EQ(a->version, "v2");
}

}  // namespace
}  // namespace enkisys::cli
