// The real binary against enkisys-fake-channels (channel APIs and agent): a burst of Telegram
// updates with a kill -9 in the middle of the work, a restart on the same data and every update
// delivered again by the platform: no accepted message is lost and none is answered twice
// (beyond the documented window between the channel's ok and the outbox's mark).
#include "enkisys/core/testing/process.hpp"

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <thread>

#include "db_fixture.hpp"
#include "enkisys/core/testing.hpp"

namespace enkisys::router {
namespace {

namespace json = boost::json;
using core::testing::ServiceProcess;
using core::testing::TempDir;

constexpr int kUpdates = 200;
constexpr int kOutboxWorkers = 2;
constexpr const char* kSecret = "webhook-secret-0123456789";

// Polls `pred` every 20 ms until it holds or `limit` passes.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (int i = 0; i < 100'000 && std::chrono::steady_clock::now() < deadline; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

std::string update(int i) {
  return json::serialize(json::object{
      {"update_id", 1000 + i},
      {"message", json::object{{"message_id", 1000 + i},
                               {"date", 1'800'000'000},
                               {"chat", json::object{{"id", 500 + (i % 20)}, {"type", "private"}}},
                               {"from", json::object{{"id", 500 + (i % 20)}, {"is_bot", false}}},
                               {"text", "question " + std::to_string(i)}}}});
}

// POSTs update i until the router acknowledges it (the platform's redelivery); its status.
int deliver(unsigned short port, int i) {
  int status = 0;
  for (int attempt = 0; attempt < 50 && status != 200; ++attempt) {
    try {
      status = core::testing::status_of(core::testing::http_request(
          port, "POST", "/channels/telegram", update(i),
          std::string("X-Telegram-Bot-Api-Secret-Token: ") + kSecret + "\r\n"));
    } catch (const std::exception&) {
      status = 0;
    }
  }
  return status;
}

// reply_to_message_id → successful sendMessage calls at the fake.
std::map<std::int64_t, int> replies(unsigned short fake) {
  std::map<std::int64_t, int> out;
  const json::value v =
      json::parse(core::testing::body_of(core::testing::http_request(fake, "GET", "/_calls")));
  for (const auto& c : v.at("calls").as_array()) {
    if (c.at("api") != "telegram.sendMessage" || c.at("status") != 200) continue;
    ++out[c.at("body").at("reply_to_message_id").as_int64()];
  }
  return out;
}

// The router process (ServiceProcess throws, with the output, when it never listens).
std::unique_ptr<ServiceProcess> start_router(const core::testing::ProcessEnv& env) {
  try {
    return std::make_unique<ServiceProcess>(ENKISYS_ROUTER_BIN, env);
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
    return nullptr;
  }
}

class ProcessTest : public db::testing::DbTest {};

TEST_P(ProcessTest, Kill9DuringABurstLosesNothingAndAnswersOnce) {
  ServiceProcess fake(ENKISYS_FAKE_CHANNELS_BIN, {{"PORT", "0"}});
  const unsigned short fake_port = fake.port();
  TempDir dir;
  for (const auto& [name, value] :
       {std::pair{"token", "123456:FAKE-bot-token"}, std::pair{"secret", kSecret}}) {
    std::ofstream(dir.path() / name) << value;
  }
  const std::string base = "http://127.0.0.1:" + std::to_string(fake_port);
  const core::testing::ProcessEnv env{
      {"PORT", "0"},
      {"BIND_ADDRESS", "127.0.0.1"},
      {"LOG_LEVEL", "info"},
      {"ACCESS_LOG", "off"},
      {"DATABASE_URL", store_->process_url()},
      {"TELEGRAM_BOT_TOKEN_FILE", (dir.path() / "token").string()},
      {"TELEGRAM_WEBHOOK_SECRET_FILE", (dir.path() / "secret").string()},
      {"TELEGRAM_API_BASE_URL", base},
      {"AGENT_URL", base},
      {"ROUTER_SEND_RATE_PER_S", "0"},
      {"ROUTER_RETRY_BASE_MS", "50"},
      {"ROUTER_LEASE_S", "2"},
      {"ROUTER_OUTBOX_WORKERS", std::to_string(kOutboxWorkers)},
      {"ROUTER_INSTANCE", "kill9-test"}};

  auto router = start_router(env);
  ASSERT_TRUE(router);
  ASSERT_TRUE(router->wait_healthy()) << router->output();
  for (int i = 0; i < kUpdates; ++i) ASSERT_EQ(deliver(router->port(), i), 200) << i;
  // Kill in the middle of the work: some replies sent, most not.
  ASSERT_TRUE(
      wait_until([&] { return replies(fake_port).size() >= 20; }, std::chrono::seconds(30)));
  router->kill9();
  const std::size_t before = replies(fake_port).size();
  router = start_router(env);
  ASSERT_TRUE(router);
  ASSERT_TRUE(router->wait_healthy()) << router->output();
  // The platform delivers every update again (it never saw some acks): all duplicates now.
  for (int i = 0; i < kUpdates; ++i) ASSERT_EQ(deliver(router->port(), i), 200) << i;
  ASSERT_TRUE(
      wait_until([&] { return replies(fake_port).size() == kUpdates; }, std::chrono::seconds(60)))
      << "answered " << replies(fake_port).size() << " of " << kUpdates;
  EXPECT_EQ(router->terminate(), 0);

  const auto got = replies(fake_port);
  int duplicates = 0;
  for (int i = 0; i < kUpdates; ++i) {
    const auto it = got.find(1000 + i);
    ASSERT_NE(it, got.end()) << "update " << i << " was never answered";
    duplicates += it->second - 1;
  }
  // Only a part in flight at the kill (sent, not yet marked) may go out twice.
  EXPECT_LE(duplicates, kOutboxWorkers);
  EXPECT_EQ(db_->query("SELECT COUNT(*) FROM router_inbox").one().i64(0), kUpdates);
  EXPECT_EQ(db_->query("SELECT COUNT(*) FROM router_outbox WHERE status = 'sent'").one().i64(0),
            kUpdates);
  std::printf("[ figures  ] replies before the kill %zu, after %zu, duplicates %d\n", before,
              got.size(), duplicates);
}

// The shipped stages mount every channel credential; one not given yet is an empty file
// (deploy/gen-secrets.sh): the router starts with that channel off, and a file too short to be
// a credential refuses to start (exit 2).
TEST_P(ProcessTest, AnEmptyCredentialFileLeavesItsChannelOff) {
  TempDir dir;
  std::ofstream(dir.path() / "token");  // empty: not given yet
  std::ofstream(dir.path() / "secret") << kSecret;
  std::ofstream(dir.path() / "short") << "abc";
  core::testing::ProcessEnv env{{"PORT", "0"},
                                {"BIND_ADDRESS", "127.0.0.1"},
                                {"DATABASE_URL", store_->process_url()},
                                {"TELEGRAM_BOT_TOKEN_FILE", (dir.path() / "token").string()},
                                {"TELEGRAM_WEBHOOK_SECRET_FILE", (dir.path() / "secret").string()},
                                {"ROUTER_INSTANCE", "empty-credential-test"}};
  auto router = start_router(env);
  ASSERT_TRUE(router);
  ASSERT_TRUE(router->wait_healthy()) << router->output();
  const std::string r = core::testing::http_request(
      router->port(), "POST", "/channels/telegram", update(1),
      std::string("X-Telegram-Bot-Api-Secret-Token: ") + kSecret + "\r\n");
  EXPECT_EQ(core::testing::status_of(r), 404) << r;
  EXPECT_NE(r.find("channel_disabled"), std::string::npos) << r;
  EXPECT_EQ(router->terminate(), 0);

  for (auto& [name, value] : env) {
    if (name == "TELEGRAM_BOT_TOKEN_FILE") value = (dir.path() / "short").string();
  }
  ServiceProcess refused(ENKISYS_ROUTER_BIN, env, {}, /*wait_listening=*/false);
  EXPECT_EQ(refused.wait_exit(), 2) << refused.output();
}

// The real binary through a channel API outage (503s) and a 429 with retry_after: every
// message kept, retried, delivered once; nothing sent again before retry_after passed.
TEST_P(ProcessTest, OutageAnd429ThroughTheRealBinary) {
  ServiceProcess fake(ENKISYS_FAKE_CHANNELS_BIN, {{"PORT", "0"}});
  const unsigned short fake_port = fake.port();
  TempDir dir;
  std::ofstream(dir.path() / "token") << "123456:FAKE-bot-token";
  std::ofstream(dir.path() / "secret") << kSecret;
  const std::string base = "http://127.0.0.1:" + std::to_string(fake_port);
  auto router = start_router({{"PORT", "0"},
                              {"BIND_ADDRESS", "127.0.0.1"},
                              {"ACCESS_LOG", "off"},
                              {"DATABASE_URL", store_->process_url()},
                              {"TELEGRAM_BOT_TOKEN_FILE", (dir.path() / "token").string()},
                              {"TELEGRAM_WEBHOOK_SECRET_FILE", (dir.path() / "secret").string()},
                              {"TELEGRAM_API_BASE_URL", base},
                              {"AGENT_URL", base},
                              {"ROUTER_RETRY_BASE_MS", "20"},
                              {"ROUTER_OUTBOX_WORKERS", "1"}});
  ASSERT_TRUE(router);
  ASSERT_TRUE(router->wait_healthy()) << router->output();
  // The channel API is down for 6 sends, then asks to wait 1 s once.
  ASSERT_EQ(core::testing::status_of(core::testing::http_request(fake_port, "POST", "/_fail",
                                                                 R"({"status":503,"count":6})")),
            200);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(deliver(router->port(), i), 200);
  ASSERT_TRUE(wait_until([&] { return replies(fake_port).size() >= 1; }, std::chrono::seconds(30)));
  ASSERT_EQ(core::testing::status_of(core::testing::http_request(
                fake_port, "POST", "/_fail", R"({"status":429,"count":1,"retry_after":1})")),
            200);
  for (int i = 5; i < 10; ++i) ASSERT_EQ(deliver(router->port(), i), 200);
  ASSERT_TRUE(wait_until([&] { return replies(fake_port).size() == 10; }, std::chrono::seconds(30)))
      << "answered " << replies(fake_port).size();
  for (const auto& [id, n] : replies(fake_port)) EXPECT_EQ(n, 1) << "update " << id;
  // After the 429, the next send came no sooner than retry_after.
  const json::value calls =
      json::parse(core::testing::body_of(core::testing::http_request(fake_port, "GET", "/_calls")));
  std::int64_t limited_at = 0;
  std::int64_t next_at = 0;
  int failed = 0;
  for (const auto& c : calls.at("calls").as_array()) {
    if (c.at("api") != "telegram.sendMessage") continue;
    if (c.at("status") != 200) ++failed;
    if (c.at("status") == 429) limited_at = c.at("at_ms").as_int64();
    if (limited_at != 0 && next_at == 0 && c.at("status") == 200 &&
        c.at("at_ms").as_int64() >= limited_at) {
      next_at = c.at("at_ms").as_int64();
    }
  }
  EXPECT_EQ(failed, 7);
  ASSERT_NE(limited_at, 0);
  EXPECT_GE(next_at - limited_at, 1000);
  // A forged webhook is refused with one log line that names no secret.
  EXPECT_EQ(core::testing::status_of(core::testing::http_request(
                router->port(), "POST", "/channels/telegram", update(99),
                "X-Telegram-Bot-Api-Secret-Token: guessed\r\n")),
            403);
  EXPECT_EQ(router->terminate(), 0);
  const std::string out = router->output();
  EXPECT_NE(out.find("webhook verification failed"), std::string::npos);
  EXPECT_EQ(out.find(kSecret), std::string::npos);
  EXPECT_EQ(out.find("FAKE-bot-token"), std::string::npos);
}

ENKISYS_DB_ON_BOTH_BACKENDS(ProcessTest);

}  // namespace
}  // namespace enkisys::router
