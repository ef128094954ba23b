// The relay against a scripted HTTP client and a fake clock, on both backends: agent calls,
// threads, typing, splitting, outage retries, 429 backoff, dead letters, the 24-hour window,
// handoff.
#include "enkisys/router/relay.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "db_fixture.hpp"
#include "enkisys/core/testing/fakes.hpp"

namespace enkisys::router {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using core::testing::FakeClock;
using core::testing::FakeHttpClient;
using db::testing::DbTest;

template <class T>
T run(asio::awaitable<T> a) {
  asio::io_context ioc;
  auto f = asio::co_spawn(ioc, std::move(a), asio::use_future);
  ioc.run();
  return f.get();
}

std::string header(const core::ClientRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

class RelayTest : public DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (IsSkipped()) return;
    store_ = std::make_unique<RouterStore>(*db_, "test", 60'000);
    store_->migrate();
    config_.telegram_bot_token = "123:TOKEN";
    config_.telegram_webhook_secret = "hook-secret";
    config_.whatsapp_app_secret = "app-secret";
    config_.whatsapp_verify_token = "verify";
    config_.whatsapp_access_token = "wa-access";
    config_.slack_signing_secret = "signing";
    config_.slack_bot_token = "xoxb-bot";
    config_.telegram_api = "http://tg";
    config_.whatsapp_api = "http://wa";
    config_.slack_api = "http://slack";
    config_.agent_url = "http://agent";
    config_.agent_secret = "service-secret-0123456789";
    options_.send_rate_per_s = 0;
    options_.max_send_attempts = 4;
    options_.max_inbox_attempts = 3;
    relay_ =
        std::make_unique<Relay>(*store_, config_, http_, clock_, log_, metrics_, pool_, options_);
  }
  void TearDown() override {
    relay_.reset();
    DbTest::TearDown();
  }

  std::int64_t now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
        .count();
  }
  std::int64_t now_s() const { return now_ms() / 1000; }

  void agent_answers(const std::string& content) {
    http_.respond("http://agent/api/chat/conversations/conv_1/messages", 200,
                  json::serialize(json::object{
                      {"message", json::object{{"role", "assistant"}, {"content", content}}}}));
    http_.respond("http://agent/api/chat/conversations", 201, R"({"id":"conv_1"})");
  }

  Inbound telegram(const std::string& update, const std::string& text) {
    Inbound m;
    m.channel = Channel::kTelegram;
    m.dedupe_key = update;
    m.chat_id = "42";
    m.sender = "42";
    m.text = text;
    m.thread_ref = "7" + update;
    m.sent_at = now_s();
    return m;
  }

  std::vector<core::ClientRequest> requests_to(const std::string& prefix) const {
    std::vector<core::ClientRequest> out;
    for (auto& r : http_.requests()) {
      if (r.url.starts_with(prefix)) out.push_back(r);
    }
    return out;
  }

  bool inbox_once() { return run(relay_->inbox_once()); }
  bool outbox_once() { return run(relay_->outbox_once()); }

  std::unique_ptr<RouterStore> store_;
  RouterConfig config_;
  RelayOptions options_;
  FakeHttpClient http_;
  FakeClock clock_;
  core::Logger log_{"router-test", core::LogLevel::kError};
  core::MetricsRegistry metrics_;
  asio::thread_pool pool_{2};
  std::unique_ptr<Relay> relay_;
};

TEST_P(RelayTest, TelegramMessageGetsOneThreadedReply) {
  agent_answers("Hello from the agent.");
  http_.respond("http://tg/bot123:TOKEN/", 200, R"({"ok":true,"result":{}})");
  store_->accept({telegram("1", "hi there")}, now_ms());
  EXPECT_TRUE(inbox_once());
  EXPECT_FALSE(inbox_once());

  // Typing indicator, then the conversation is created and the message posted as tg:42.
  const auto reqs = http_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].url, "http://tg/bot123:TOKEN/sendChatAction");
  EXPECT_EQ(json::parse(reqs[0].body).at("action"), "typing");
  EXPECT_EQ(reqs[1].url, "http://agent/api/chat/conversations");
  // The stage's conversation fields (ROUTER_AGENT_CONVERSATION; default: every tool) and a title.
  const json::value created = json::parse(reqs[1].body);
  EXPECT_EQ(created.at("tools"), "all");
  EXPECT_FALSE(created.at("title").as_string().empty());
  EXPECT_EQ(reqs[2].url, "http://agent/api/chat/conversations/conv_1/messages");
  EXPECT_EQ(json::parse(reqs[2].body).at("content"), "hi there");
  for (const auto& r : {reqs[1], reqs[2]}) {
    EXPECT_EQ(header(r, "X-User-Id"), "tg:42");
    EXPECT_EQ(header(r, "X-Service-Secret"), "service-secret-0123456789");
    EXPECT_FALSE(header(r, "X-Request-Id").empty());
  }

  EXPECT_TRUE(outbox_once());
  EXPECT_FALSE(outbox_once());
  const auto sends = requests_to("http://tg/bot123:TOKEN/sendMessage");
  ASSERT_EQ(sends.size(), 1u);
  const json::value body = json::parse(sends[0].body);
  EXPECT_EQ(body.at("chat_id"), "42");
  EXPECT_EQ(body.at("text"), "Hello from the agent.");
  EXPECT_EQ(body.at("reply_to_message_id"), 71);

  // A second message in the same chat reuses the conversation.
  store_->accept({telegram("2", "again")}, now_ms());
  EXPECT_TRUE(inbox_once());
  EXPECT_EQ(requests_to("http://agent/api/chat/conversations").size(), 3u);  // no 2nd create
}

TEST_P(RelayTest, ChannelOutageIsRetriedWithBackoffAndDeliveredOnce) {
  agent_answers("answer");
  http_.respond("http://tg/bot123:TOKEN/sendMessage", 503, R"({"ok":false})", {}, 2);
  http_.respond("http://tg/bot123:TOKEN/", 200, R"({"ok":true})");
  store_->accept({telegram("1", "hi")}, now_ms());
  ASSERT_TRUE(inbox_once());
  EXPECT_TRUE(outbox_once());   // 503
  EXPECT_FALSE(outbox_once());  // backoff: 1 s not over
  clock_.advance(std::chrono::milliseconds(1'001));
  EXPECT_TRUE(outbox_once());  // 503 again
  clock_.advance(std::chrono::milliseconds(1'500));
  EXPECT_FALSE(outbox_once());  // the second backoff is 2 s
  clock_.advance(std::chrono::milliseconds(600));
  EXPECT_TRUE(outbox_once());  // delivered
  clock_.advance(std::chrono::hours(1));
  EXPECT_FALSE(outbox_once());  // and never again
  EXPECT_EQ(requests_to("http://tg/bot123:TOKEN/sendMessage").size(), 3u);
  EXPECT_EQ(store_->stats(Channel::kTelegram).sent, 1);
}

TEST_P(RelayTest, RateLimitHonoursRetryAfterWithoutSpendingAttempts) {
  agent_answers("answer");
  http_.respond("http://tg/bot123:TOKEN/sendMessage", 429,
                R"({"ok":false,"error_code":429,"parameters":{"retry_after":30}})", {}, 5);
  http_.respond("http://tg/bot123:TOKEN/", 200, R"({"ok":true})");
  store_->accept({telegram("1", "hi")}, now_ms());
  ASSERT_TRUE(inbox_once());
  for (int i = 0; i < 5; ++i) {  // five 429s: more than max_send_attempts, still not dead
    EXPECT_TRUE(outbox_once());
    clock_.advance(std::chrono::seconds(29));
    EXPECT_FALSE(outbox_once()) << "sent before retry_after";
    clock_.advance(std::chrono::milliseconds(1'001));
  }
  EXPECT_TRUE(outbox_once());
  EXPECT_EQ(store_->stats(Channel::kTelegram).sent, 1);
  EXPECT_TRUE(store_->dead_letters().empty());
}

TEST_P(RelayTest, DeadLetterAfterMaxAttemptsThenReplay) {
  agent_answers("answer");
  http_.respond("http://tg/bot123:TOKEN/sendMessage", 502, "bad gateway", {}, 4);
  http_.respond("http://tg/bot123:TOKEN/", 200, R"({"ok":true})");
  store_->accept({telegram("1", "hi")}, now_ms());
  ASSERT_TRUE(inbox_once());
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(outbox_once());
    clock_.advance(std::chrono::seconds(60));
  }
  EXPECT_FALSE(outbox_once());
  const auto dead = store_->dead_letters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 4);
  ASSERT_TRUE(store_->replay(dead[0].id, now_ms()));
  EXPECT_TRUE(outbox_once());
  EXPECT_EQ(store_->stats(Channel::kTelegram).sent, 1);
}

TEST_P(RelayTest, LongRepliesAreSplitAndSentInOrder) {
  std::string text;
  for (int i = 0; i < 500; ++i) text += "Sentence " + std::to_string(i) + " is here. ";
  agent_answers(text);
  http_.respond("http://tg/bot123:TOKEN/", 200, R"({"ok":true})");
  store_->accept({telegram("1", "tell me everything")}, now_ms());
  ASSERT_TRUE(inbox_once());
  while (outbox_once()) {
  }
  const auto sends = requests_to("http://tg/bot123:TOKEN/sendMessage");
  ASSERT_EQ(sends.size(), split_reply(text, 4096).size());
  ASSERT_GE(sends.size(), 2u);
  std::string joined;
  for (const auto& s : sends) {
    const std::string part(json::parse(s.body).at("text").as_string());
    EXPECT_LE(part.size(), 4096u);
    joined += part + " ";
  }
  EXPECT_EQ(joined, text);
}

TEST_P(RelayTest, WhatsappRepliesInThreadOrDeadLetterOutsideTheWindow) {
  agent_answers("hello");
  http_.respond("http://wa/", 200, R"({"messages":[{"id":"wamid.R"}]})");
  Inbound fresh;
  fresh.channel = Channel::kWhatsapp;
  fresh.dedupe_key = "wamid.NEW";
  fresh.chat_id = "4915100";
  fresh.sender = fresh.chat_id;
  fresh.text = "hi";
  fresh.thread_ref = "wamid.NEW";
  fresh.route = "PHONE1";
  fresh.sent_at = now_s() - 3600;
  Inbound old = fresh;
  old.chat_id = "4915199";
  old.dedupe_key = old.thread_ref = "wamid.OLD";
  old.sent_at = now_s() - 25 * 3600;
  store_->accept({fresh, old}, now_ms());
  ASSERT_TRUE(inbox_once());
  ASSERT_TRUE(inbox_once());
  while (outbox_once()) {
  }
  const auto sends = requests_to("http://wa/");
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].url, "http://wa/PHONE1/messages");
  EXPECT_EQ(header(sends[0], "Authorization"), "Bearer wa-access");
  const json::value b = json::parse(sends[0].body);
  EXPECT_EQ(b.at("to"), "4915100");
  EXPECT_EQ(b.at("context").at("message_id"), "wamid.NEW");
  const auto dead = store_->dead_letters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].chat_id, "4915199");
  EXPECT_EQ(dead[0].reason, "outside_24h_window");
}

TEST_P(RelayTest, SlackRepliesInTheThread) {
  agent_answers("threaded");
  http_.respond("http://slack/chat.postMessage", 200, R"({"ok":true,"ts":"1.2"})");
  Inbound m;
  m.channel = Channel::kSlack;
  m.dedupe_key = "Ev1";
  m.chat_id = "C1";
  m.sender = "U1";
  m.text = "hi";
  m.thread_ref = "1799999999.5";
  store_->accept({m}, now_ms());
  ASSERT_TRUE(inbox_once());
  ASSERT_TRUE(outbox_once());
  const auto sends = requests_to("http://slack/");
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(header(sends[0], "Authorization"), "Bearer xoxb-bot");
  EXPECT_EQ(json::parse(sends[0].body).at("thread_ts"), "1799999999.5");
  EXPECT_EQ(header(requests_to("http://agent/")[0], "X-User-Id"), "slack:U1");
}

TEST_P(RelayTest, HumanHandoffStopsTheBotUntilHandedBack) {
  agent_answers("bot answer");
  http_.respond("http://tg/bot123:TOKEN/", 200, R"({"ok":true})");
  store_->accept({telegram("1", " /human ")}, now_ms());
  ASSERT_TRUE(inbox_once());
  ASSERT_EQ(store_->handoffs().size(), 1u);
  store_->accept({telegram("2", "are you there?")}, now_ms());
  ASSERT_TRUE(inbox_once());
  EXPECT_TRUE(requests_to("http://agent/").empty());  // the bot kept quiet
  store_->accept({telegram("3", "/bot")}, now_ms());
  ASSERT_TRUE(inbox_once());
  EXPECT_TRUE(store_->handoffs().empty());
  store_->accept({telegram("4", "question")}, now_ms());
  ASSERT_TRUE(inbox_once());
  EXPECT_EQ(requests_to("http://agent/api/chat/conversations/conv_1/messages").size(), 1u);
  while (outbox_once()) {
  }
  std::vector<std::string> texts;
  for (const auto& s : requests_to("http://tg/bot123:TOKEN/sendMessage")) {
    texts.emplace_back(json::parse(s.body).at("text").as_string());
  }
  EXPECT_EQ(texts, (std::vector<std::string>{kHandoffReply, kBotBackReply, "bot answer"}));
}

TEST_P(RelayTest, AgentFailureIsRetriedThenDeadLettered) {
  http_.respond("http://agent/", 503, "{}");
  http_.respond("http://tg/", 200, R"({"ok":true})");
  store_->accept({telegram("1", "hi")}, now_ms());
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(inbox_once());
    EXPECT_FALSE(inbox_once());  // backing off
    clock_.advance(std::chrono::seconds(10));
  }
  EXPECT_FALSE(inbox_once());
  const auto dead = store_->dead_letters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].kind, "inbox");
  EXPECT_EQ(count("router_outbox"), 0);
}

ENKISYS_DB_ON_BOTH_BACKENDS(RelayTest);

}  // namespace
}  // namespace enkisys::router
