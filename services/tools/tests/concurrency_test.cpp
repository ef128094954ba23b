// Concurrent create, update, delete, invoke and conditional GET of ONE tool name, on both
// backends: every answer is a clean JSON status of the route's contract, and the service lives.
#include <gtest/gtest.h>

#include <array>
#include <set>
#include <thread>

#include "backends.hpp"

namespace enkisys::tools::testing {
namespace {

using db::Backend;

// Refused by the egress policy (loopback) before any connection, so invoke is fast.
const std::string kRace = R"({"name":"race","kind":"http","description":"D",
  "http":{"method":"GET","url":"http://127.0.0.1:9/x","headers":{"X-Api-Key":"k"}}})";
const std::string kRaceEdit = R"({"kind":"http","description":"E",
  "http":{"method":"GET","url":"http://127.0.0.1:9/y","headers":{"X-Api-Key":"***"}}})";

class ConcurrencyTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
    fx_ = std::make_unique<ToolsFixture>(GetParam());
  }
  std::unique_ptr<ToolsFixture> fx_;
};

TEST_P(ConcurrencyTest, CreateUpdateDeleteInvokeOnOneNameNeverCrash) {
  constexpr int kRounds = 200;  // per client; 1,400 requests in all
  struct Client {
    std::string method, target, body;
    std::set<int> allowed;
  };
  const std::array<Client, 7> clients{{
      {"POST", "/api/tools", kRace, {201, 409}},
      {"POST", "/api/tools", kRace, {201, 409}},
      {"DELETE", "/api/tools/race", "", {204, 404, 409}},
      {"DELETE", "/api/tools/race", "", {204, 404, 409}},
      {"PUT", "/api/tools/race", kRaceEdit, {200, 404, 409}},
      {"POST", "/api/tools/race/invoke", R"({"arguments":{}})", {403, 404}},
      {"GET", "/api/tools/race", "", {200, 404}},
  }};
  std::array<std::vector<std::string>, clients.size()> unexpected;
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < clients.size(); ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; i < kRounds && unexpected[c].size() < 5; ++i) {
        const Client& cl = clients[c];
        auto r = fx_->call(cl.method, cl.target, cl.body);
        const bool json_or_empty = r.body.is_object() || r.status == 204;
        if (!cl.allowed.count(r.status) || !json_or_empty) {
          unexpected[c].push_back(cl.method + " " + cl.target + " -> " + r.raw.substr(0, 300));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& u : unexpected) {
    for (const auto& line : u) ADD_FAILURE() << line;
  }
  // The service still answers, and its state is one of the two a client can observe.
  auto after = fx_->call("GET", "/api/tools/race");
  EXPECT_TRUE(after.status == 200 || after.status == 404) << after.raw;
  if (after.status == 200) {
    EXPECT_EQ(after.body.at("http").at("headers").at("X-Api-Key"), "***");
  }
}

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgres";
}

INSTANTIATE_TEST_SUITE_P(Backends, ConcurrencyTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

}  // namespace
}  // namespace enkisys::tools::testing
