// The router's HTTP API in process over both backends: each channel's verification as the
// platform signs (valid, tampered, wrong secret, replayed, duplicate), disabled channels,
// oversized and stalled bodies, injection kept as data, the admin API.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "db_fixture.hpp"
#include "enkisys/core/testing.hpp"
#include "enkisys/core/testing/fakes.hpp"
#include "enkisys/router/router_api.hpp"

namespace enkisys::router {
namespace {

namespace json = boost::json;
using core::testing::FakeClock;
using core::testing::JsonReply;
using db::testing::DbTest;

constexpr const char* kTgSecret = "tg-webhook-secret";
constexpr const char* kWaSecret = "wa-app-secret";
constexpr const char* kSlackSecret = "slack-signing-secret";

class ApiTest : public DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (IsSkipped()) return;
    store_ = std::make_unique<RouterStore>(*db_, "api-test");
    store_->migrate();
    config_.telegram_bot_token = "123:BOT-TOKEN";
    config_.telegram_webhook_secret = kTgSecret;
    config_.whatsapp_app_secret = kWaSecret;
    config_.whatsapp_verify_token = "wa-verify-token";
    config_.whatsapp_access_token = "wa-access-token";
    config_.slack_signing_secret = kSlackSecret;
    config_.slack_bot_token = "xoxb-slack-bot";
    start();
  }
  void TearDown() override {
    server_.reset();
    api_.reset();
    DbTest::TearDown();
  }
  void start() {
    server_.reset();
    api_ = std::make_unique<RouterApi>(*store_, config_, clock_, metrics_);
    core::ServerOptions o;
    o.body_timeout = std::chrono::milliseconds(500);
    server_ = std::make_unique<core::testing::TestServer>(
        [this](core::Router& r) { api_->add_routes(r); }, o);
  }

  JsonReply call(const std::string& method, const std::string& target, const std::string& body,
                 const std::string& headers = {}) {
    return core::testing::json_reply(
        core::testing::http_request(server_->port(), method, target, body, headers));
  }
  JsonReply telegram(const std::string& body, const std::string& secret = kTgSecret) {
    return call("POST", "/channels/telegram", body,
                "X-Telegram-Bot-Api-Secret-Token: " + secret + "\r\n");
  }
  JsonReply whatsapp(const std::string& body, const std::string& signature) {
    return call("POST", "/channels/whatsapp", body, "X-Hub-Signature-256: " + signature + "\r\n");
  }
  JsonReply slack(const std::string& body, std::int64_t ts, const std::string& secret,
                  const std::string& extra = {}) {
    const std::string t = std::to_string(ts);
    return call("POST", "/channels/slack", body,
                "X-Slack-Request-Timestamp: " + t +
                    "\r\nX-Slack-Signature: " + slack_signature(t, body, secret) + "\r\n" + extra);
  }
  std::int64_t now_s() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch())
        .count();
  }
  std::int64_t inbox() { return count("router_inbox"); }
  std::string metric(const std::string& channel, const std::string& reason) {
    const std::string line = "router_verification_failures_total{channel=\"" + channel +
                             "\",reason=\"" + reason + "\"} ";
    const std::string all = metrics_.render();
    const auto at = all.find(line);
    return at == std::string::npos
               ? ""
               : all.substr(at + line.size(), all.find('\n', at) - at - line.size());
  }

  std::unique_ptr<RouterStore> store_;
  RouterConfig config_;
  FakeClock clock_;
  core::MetricsRegistry metrics_;
  std::unique_ptr<RouterApi> api_;
  std::unique_ptr<core::testing::TestServer> server_;
};

std::string tg_update(int id, const std::string& text = "hello") {
  return json::serialize(
      json::object{{"update_id", id},
                   {"message", json::object{{"message_id", id},
                                            {"chat", json::object{{"id", 42}}},
                                            {"from", json::object{{"id", 42}, {"is_bot", false}}},
                                            {"text", text}}}});
}

TEST_P(ApiTest, TelegramSecretTokenAndDuplicates) {
  const JsonReply ok = telegram(tg_update(1));
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.body.at("accepted"), 1);
  const JsonReply dup = telegram(tg_update(1));
  EXPECT_EQ(dup.status, 200);
  EXPECT_EQ(dup.body.at("duplicates"), 1);
  EXPECT_EQ(inbox(), 1);

  const JsonReply wrong = telegram(tg_update(2), "tg-webhook-secreT");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.body.at("error").at("code"), "invalid_signature");
  EXPECT_FALSE(wrong.body.at("error").at("request_id").as_string().empty());
  const JsonReply none = call("POST", "/channels/telegram", tg_update(3));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body.at("error").at("code"), "missing_signature");
  EXPECT_EQ(inbox(), 1);  // nothing stored
  EXPECT_EQ(metric("telegram", "invalid_signature"), "1");
  EXPECT_EQ(metric("telegram", "missing_signature"), "1");
  EXPECT_EQ(telegram("{not json").status, 400);
}

TEST_P(ApiTest, WhatsappHandshakeAndSignedBodies) {
  const JsonReply hs = call("GET",
                            "/channels/whatsapp?hub.mode=subscribe&hub.verify_token=wa-verify-token"
                            "&hub.challenge=1158201444",
                            "");
  EXPECT_EQ(hs.status, 200);
  EXPECT_EQ(core::testing::body_of(hs.raw), "1158201444");
  EXPECT_EQ(hs.header("Content-Type").rfind("text/plain", 0), 0u);
  EXPECT_EQ(call("GET",
                 "/channels/whatsapp?hub.mode=subscribe&hub.verify_token=guess"
                 "&hub.challenge=1",
                 "")
                .status,
            403);

  const std::string body =
      R"({"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"metadata":)"
      R"({"phone_number_id":"P1"},"messages":[{"from":"491","id":"wamid.1","timestamp":"1",)"
      R"("type":"text","text":{"body":"hi"}}]}}]}]})";
  EXPECT_EQ(whatsapp(body, whatsapp_signature(body, kWaSecret)).status, 200);
  EXPECT_EQ(whatsapp(body, whatsapp_signature(body, kWaSecret)).body.at("duplicates"), 1);
  std::string tampered = body;
  tampered.replace(tampered.find("\"hi\""), 4, "\"HI\"");
  EXPECT_EQ(whatsapp(tampered, whatsapp_signature(body, kWaSecret)).status, 403);
  EXPECT_EQ(whatsapp(body, whatsapp_signature(body, "wrong-secret")).status, 403);
  EXPECT_EQ(inbox(), 1);
  EXPECT_EQ(metric("whatsapp", "invalid_signature"), "2");
}

TEST_P(ApiTest, SlackChallengeReplayRetriesAndBots) {
  const std::string challenge = R"({"type":"url_verification","challenge":"c-123"})";
  const JsonReply c = slack(challenge, now_s(), kSlackSecret);
  ASSERT_EQ(c.status, 200) << c.raw;
  EXPECT_EQ(c.body.at("challenge"), "c-123");

  const std::string evil = "<@U1> '); DROP TABLE router_inbox;-- ${jndi:ldap://x} \u202e";
  const std::string event =
      json::serialize(json::object{{"type", "event_callback"},
                                   {"event_id", "Ev1"},
                                   {"event", json::object{{"type", "message"},
                                                          {"channel", "C1"},
                                                          {"user", "U1"},
                                                          {"text", evil},
                                                          {"ts", "1.1"}}}});
  EXPECT_EQ(slack(event, now_s(), kSlackSecret).body.at("accepted"), 1);
  // Slack's retry of the same event: recognised by event_id, answered 200.
  const JsonReply retry = slack(event, now_s(), kSlackSecret, "X-Slack-Retry-Num: 1\r\n");
  EXPECT_EQ(retry.status, 200);
  EXPECT_EQ(retry.body.at("duplicates"), 1);
  // A replay of a captured request: right signature, old timestamp.
  const JsonReply replay = slack(event, now_s() - 301, kSlackSecret);
  EXPECT_EQ(replay.status, 403);
  EXPECT_EQ(replay.body.at("error").at("code"), "stale_timestamp");
  EXPECT_EQ(slack(event, now_s(), "wrong").status, 403);
  // Our own bot's message is never answered.
  const std::string bot =
      R"({"type":"event_callback","event_id":"Ev2","event":{"type":"message","channel":"C1",)"
      R"("bot_id":"B1","text":"reply","ts":"1.2"}})";
  EXPECT_EQ(slack(bot, now_s(), kSlackSecret).body.at("accepted"), 0);
  EXPECT_EQ(inbox(), 1);
  EXPECT_EQ(db_->query("SELECT text FROM router_inbox").one().text(0), evil);
  EXPECT_EQ(metric("slack", "stale_timestamp"), "1");
}

TEST_P(ApiTest, ChannelsWithoutSecretsOrTurnedOffAreDisabled) {
  config_.slack_signing_secret.clear();
  config_.enabled.erase("telegram");
  start();
  const JsonReply s = slack("{}", now_s(), kSlackSecret);
  EXPECT_EQ(s.status, 404);
  EXPECT_EQ(s.body.at("error").at("code"), "channel_disabled");
  EXPECT_EQ(telegram(tg_update(1)).status, 404);
  EXPECT_EQ(inbox(), 0);
}

TEST_P(ApiTest, OversizedAndStalledBodiesStoreNothing) {
  const std::string big = tg_update(1, std::string(1100 * 1024, 'a'));
  EXPECT_EQ(telegram(big).status, 413);
  // Headers promise 1000 bytes, 20 arrive, then nothing: the connection is dropped.
  const auto t0 = std::chrono::steady_clock::now();
  const std::string raw = core::testing::raw_exchange(
      server_->port(),
      std::string("POST /channels/telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                  "\r\nContent-Length: 1000\r\nX-Telegram-Bot-Api-Secret-Token: ") +
          kTgSecret + "\r\n\r\n{\"update_id\": 1, \"m",
      5000);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4));
  EXPECT_NE(core::testing::status_of(raw), 200);
  EXPECT_EQ(inbox(), 0);
}

TEST_P(ApiTest, AdminApiListsChannelsWithoutSecrets) {
  telegram(tg_update(1));
  EXPECT_EQ(call("GET", "/api/router/channels", "").status, 401);
  EXPECT_EQ(call("GET", "/api/router/channels", "", "X-User-Id: u1\r\n").status, 403);
  const JsonReply r =
      call("GET", "/api/router/channels", "", "X-User-Id: a1\r\nX-User-Roles: admin\r\n");
  ASSERT_EQ(r.status, 200) << r.raw;
  const auto& chans = r.body.at("channels").as_array();
  ASSERT_EQ(chans.size(), 4u);
  EXPECT_EQ(chans[0].at("name"), "telegram");
  EXPECT_EQ(chans[0].at("on"), true);
  EXPECT_EQ(chans[0].at("inbox_queued"), 1);
  EXPECT_GT(chans[0].at("last_message_at_ms").as_int64(), 0);
  for (const std::string secret : {"123:BOT-TOKEN", kTgSecret, kWaSecret, "wa-verify-token",
                                   "wa-access-token", kSlackSecret, "xoxb-slack-bot"}) {
    EXPECT_EQ(r.raw.find(secret), std::string::npos) << "a secret is listed";
  }
}

TEST_P(ApiTest, AdminApiHandoffAndDeadLetters) {
  const std::string admin = "X-User-Id: a1\r\nX-User-Roles: admin\r\n";
  telegram(tg_update(1));
  const auto item = store_->claim_inbox(0x7fffffffffff);
  ASSERT_TRUE(item);
  store_->chat(item->message);
  store_->release_inbox(*item, "agent_refused", 0, 0);

  const JsonReply dead = call("GET", "/api/router/dead-letters", "", admin);
  ASSERT_EQ(dead.status, 200);
  ASSERT_EQ(dead.body.at("dead_letters").as_array().size(), 1u);
  const std::string id(dead.body.at("dead_letters").at(0).at("id").as_string());
  EXPECT_EQ(
      call("POST", "/api/router/dead-letters/" + id + "/replay", "", "X-User-Id: u\r\n").status,
      403);
  EXPECT_EQ(call("POST", "/api/router/dead-letters/nope/replay", "", admin).status, 404);
  EXPECT_EQ(
      call("POST", "/api/router/dead-letters/" + id + "/replay", "", admin).body.at("replayed"), 1);

  EXPECT_EQ(call("PUT", "/api/router/handoffs/telegram/42", "", admin).status, 200);
  EXPECT_EQ(call("PUT", "/api/router/handoffs/telegram/999", "", admin).status, 404);
  EXPECT_EQ(call("PUT", "/api/router/handoffs/fax/42", "", admin).status, 404);
  const JsonReply list = call("GET", "/api/router/handoffs", "", admin);
  ASSERT_EQ(list.body.at("handoffs").as_array().size(), 1u);
  EXPECT_EQ(list.body.at("handoffs").at(0).at("user_id"), "tg:42");
  EXPECT_EQ(call("DELETE", "/api/router/handoffs/telegram/42", "", admin).status, 200);
  EXPECT_TRUE(
      call("GET", "/api/router/handoffs", "", admin).body.at("handoffs").as_array().empty());
}

ENKISYS_DB_ON_BOTH_BACKENDS(ApiTest);

}  // namespace
}  // namespace enkisys::router
