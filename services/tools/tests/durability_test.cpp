// kill -9 during a burst of writes loses no acknowledged write, on both backends: the real
// enkisys-tools binary is started, tools are created one by one, the process is SIGKILLed
// mid-burst, restarted on the same database, and every tool that got a 201 must be there.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "backends.hpp"
#include "enkisys/core/testing/process.hpp"

namespace enkisys::tools::testing {
namespace {

// The caller (the gateway sets it from the verified token).
constexpr const char* kUser = "X-User-Id: durability\r\n";

using db::Backend;

// The real enkisys-tools on PORT=0 and the given DATABASE_URL, started with the core test kit.
core::testing::ServiceProcess start_tools(const std::string& database_url) {
  return core::testing::ServiceProcess(ENKISYS_TOOLS_BIN, {{"PORT", "0"},
                                                           {"BIND_ADDRESS", "127.0.0.1"},
                                                           {"DATABASE_URL", database_url},
                                                           {"ACCESS_LOG", "off"}});
}

class DurabilityTest : public ::testing::TestWithParam<Backend> {};

TEST_P(DurabilityTest, KillNineLosesNoAcknowledgedWrite) {
  ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
  db::testing::TestStore store(GetParam());
  const std::string url = store.process_url();
  std::vector<std::string> acked;
  {
    auto p = start_tools(url);
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      // Bounded burst: at most 5000 writes.
      for (int i = 0; i < 5000 && !stop; ++i) {
        const std::string name = "t" + std::to_string(i);
        const std::string body =
            R"({"name":")" + name +
            R"(","kind":"http","http":{"method":"GET","url":"https://x.example/)" + name + R"("}})";
        std::string raw;
        try {
          raw = core::testing::http_request(p.port(), "POST", "/api/tools", body, kUser);
        } catch (const std::exception&) {
          break;  // the process is gone
        }
        if (core::testing::status_of(raw) != 201) break;
        acked.push_back(name);  // only the writer thread touches `acked` until join
      }
    });
    // Kill mid-burst, once tool t200 is acknowledged-and-visible (polling bounded in time, not
    // in count: a busy machine may need many polls before the writer gets there).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      if (core::testing::status_of(
              core::testing::http_request(p.port(), "GET", "/api/tools/t200", {}, kUser)) == 200) {
        break;
      }
    }
    p.kill9();
    stop = true;
    writer.join();
  }
  ASSERT_GE(acked.size(), 200U);
  auto again = start_tools(url);
  for (const auto& name : acked) {
    ASSERT_EQ(core::testing::status_of(core::testing::http_request(
                  again.port(), "GET", "/api/tools/" + name, {}, kUser)),
              200)
        << name << " was acknowledged but is gone after kill -9";
  }
  EXPECT_EQ(again.terminate(), 0);  // and SIGTERM is a clean exit
}

// Blue/green on SQLite: both colors' processes open the one file of the stage's volume and
// write at once (during a deploy, until the old color stops). Nothing may be lost or torn.
TEST(SharedSqliteTest, TwoProcessesWritingAtOnceLoseNoWrite) {
  db::testing::TestStore store(Backend::kSqlite);
  const std::string url = store.process_url();
  auto blue = start_tools(url);
  auto green = start_tools(url);
  constexpr int kPerColor = 300;
  std::atomic<int> failures{0};
  std::string first_failure;
  std::mutex mu;
  auto write = [&](core::testing::ServiceProcess& p, const std::string& color) {
    const auto port = p.port();
    for (int i = 0; i < kPerColor; ++i) {
      const std::string name = color + std::to_string(i);
      const std::string body =
          R"({"name":")" + name +
          R"(","kind":"http","http":{"method":"GET","url":"https://x.example/)" + name + R"("}})";
      const auto raw = core::testing::http_request(port, "POST", "/api/tools", body, kUser);
      if (core::testing::status_of(raw) != 201) {
        std::lock_guard lock(mu);
        if (failures++ == 0) first_failure = name + ": " + raw.substr(0, 300);
      }
    }
  };
  std::thread b([&] { write(blue, "blue"); });
  std::thread g([&] { write(green, "green"); });
  b.join();
  g.join();
  ASSERT_EQ(failures.load(), 0) << first_failure;
  // Every write, from either color, is visible to both.
  for (const char* color : {"blue", "green"}) {
    for (int i = 0; i < kPerColor; ++i) {
      const std::string path = "/api/tools/" + std::string(color) + std::to_string(i);
      ASSERT_EQ(core::testing::status_of(
                    core::testing::http_request(blue.port(), "GET", path, {}, kUser)),
                200)
          << path << " lost (seen from blue)";
      ASSERT_EQ(core::testing::status_of(
                    core::testing::http_request(green.port(), "GET", path, {}, kUser)),
                200)
          << path << " lost (seen from green)";
    }
  }
  EXPECT_EQ(blue.terminate(), 0);
  EXPECT_EQ(green.terminate(), 0);
  // The file is sound after both wrote to it.
  auto db = db::Database::open(url);
  EXPECT_EQ(db->query("PRAGMA integrity_check").rows.at(0).text(0), "ok");
  EXPECT_EQ(db->query("SELECT count(*) FROM tools WHERE name LIKE 'blue%' OR name LIKE 'green%'")
                .rows.at(0)
                .i64(0),
            2 * kPerColor);
}

INSTANTIATE_TEST_SUITE_P(Backends, DurabilityTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& p) {
                           return p.param == Backend::kSqlite ? "sqlite" : "postgres";
                         });

}  // namespace
}  // namespace enkisys::tools::testing
