// The turn over HTTP (both backends): the SSE events in order, a disconnect mid-stream, the
// limits (413, 429 rate, 429 budget), a model that is down (502), the service secret.
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "agent_fixture.hpp"
#include "enkisys/agent/limits.hpp"
#include "enkisys/core/testing/fakes.hpp"

namespace enkisys::agent::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

class ApiTest : public AgentTest {
 protected:
  FixtureOptions options() const override {
    FixtureOptions o;
    o.api.rate_per_minute = 3;
    o.api.daily_tokens = 100;
    o.api.max_message_bytes = 1024;
    o.api.service_secret = "router-secret-0123456789";
    return o;
  }
};

TEST_P(ApiTest, StreamEmitsTheEventsInOrder) {
  f().rag_answers({{"Calc manual", "The calculator adds numbers."}});
  f().tools_offer({"calculator"});
  f().http().respond(std::string(kTools) + "/api/tools/calculator/invoke", 200,
                     R"({"result":{"value":4}})");
  const std::string id =
      f().conversation("alice", R"({"collections":["col_1"],"tools":["calculator"]})");
  f().model().push(
      tools({call("call_1", "calculator", R"({"expression":"2+2"})")}, {"Let me compute."}));
  f().model().push(answer({"It is ", "4 [1]."}));
  const std::string raw = f().say_streamed("alice", id, "2+2?");
  ASSERT_EQ(core::testing::status_of(raw), 200) << raw;
  const auto events = parse_sse(raw);
  std::vector<std::string> names;
  for (const auto& e : events) names.push_back(e.name);
  const std::vector<std::string> expected{"message.delta", "tool.call",     "tool.result",
                                          "message.delta", "message.delta", "citations",
                                          "message.done"};
  ASSERT_EQ(names, expected) << raw;
  EXPECT_EQ(events[0].json().at("text"), "Let me compute.");
  EXPECT_EQ(events[1].json().at("id"), "call_1");
  EXPECT_EQ(events[1].json().at("name"), "calculator");
  EXPECT_EQ(events[1].json().at("arguments"), R"({"expression":"2+2"})");
  EXPECT_EQ(events[2].json().at("result").at("value"), 4);
  EXPECT_EQ(events[4].json().at("text"), "4 [1].");
  EXPECT_EQ(events[5].json().at("items").as_array().size(), 1U);
  const auto done = events[6].json().at("message");
  EXPECT_EQ(done.at("role"), "assistant");
  EXPECT_EQ(done.at("content"), "It is 4 [1].");
  EXPECT_EQ(done.at("model"), "scripted-1");
  EXPECT_EQ(done.at("tool_calls").as_array().size(), 1U);
  EXPECT_TRUE(done.at("usage").as_object().contains("prompt_tokens"));
}

TEST_P(ApiTest, NonStreamingAnswerHasTheContractsFields) {
  const std::string id = f().conversation("alice");
  f().model().push(answer({"Hello!"}));
  const Reply r = f().say("alice", id, "hi");
  ASSERT_EQ(r.status, 200) << r.raw;
  const auto& m = r.body.at("message").as_object();
  for (const char* k : {"id", "role", "content", "citations", "tool_calls", "model", "usage"}) {
    EXPECT_TRUE(m.contains(k)) << k;
  }
  EXPECT_EQ(m.at("content"), "Hello!");
  EXPECT_EQ(m.at("role"), "assistant");
}

// Reads from `sock` until `needle` was seen (or 10 s passed); returns what was read.
std::string read_until(asio::ip::tcp::socket& sock, const std::string& needle) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  char buf[4096];
  while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code ec;
    const std::size_t n = sock.read_some(asio::buffer(buf), ec);
    if (n > 0) got.append(buf, n);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) break;
  }
  return got;
}

TEST_P(ApiTest, DisconnectMidStreamStoresAnInterruptedMessage) {
  const std::string id = f().conversation("alice");
  Step s;
  s.deltas = {"The first half of an answer"};
  s.hang = true;
  f().model().push(s);
  asio::io_context io;
  asio::ip::tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), f().port()});
  timeval tv{1, 0};
  setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string body = R"({"content":"tell me a long story"})";
  const std::string req = "POST /api/chat/conversations/" + id +
                          "/messages HTTP/1.1\r\nHost: t\r\nX-User-Id: alice\r\n"
                          "Accept: text/event-stream\r\nContent-Type: application/json\r\n"
                          "Content-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
  asio::write(sock, asio::buffer(req));
  const std::string got = read_until(sock, "first half");
  ASSERT_NE(got.find("first half"), std::string::npos) << got;
  ASSERT_TRUE(f().model().wait_hanging(std::chrono::seconds(10)));
  sock.close();
  // The turn is cancelled and stores what it had, marked interrupted.
  std::vector<StoredMessage> stored;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    stored = f().messages("alice", id);
    if (stored.size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a condition, bounded
  }
  ASSERT_EQ(stored.size(), 2U);
  EXPECT_EQ(stored[0].content, "tell me a long story");
  EXPECT_EQ(stored[1].content, "The first half of an answer");
  EXPECT_TRUE(stored[1].interrupted);
}

TEST_P(ApiTest, MessageOverTheCapIs413) {
  const std::string id = f().conversation("alice");
  const Reply r = f().say("alice", id, std::string(1025, 'a'));
  EXPECT_EQ(r.status, 413) << r.raw;
  EXPECT_EQ(r.body.at("error").at("code"), "message_too_large");
  EXPECT_TRUE(f().messages("alice", id).empty());
  EXPECT_EQ(f().say("alice", id, std::string(1024, 'a')).status, 200);  // at the cap: fine
}

TEST_P(ApiTest, RateLimitIs429WithRetryAfter) {
  const std::string id = f().conversation("alice");
  for (int i = 0; i < 3; ++i) {
    f().model().push(answer({"ok"}, {1, 1}));
    ASSERT_EQ(f().say("alice", id, "hi").status, 200);
  }
  const Reply r = f().say("alice", id, "hi");
  EXPECT_EQ(r.status, 429) << r.raw;
  EXPECT_EQ(r.body.at("error").at("code"), "rate_limited");
  const int retry = std::stoi(r.header("Retry-After"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  EXPECT_EQ(f().say("bob", f().conversation("bob"), "hi").status, 200);  // per user
  f().clock().advance(std::chrono::seconds(61));
  EXPECT_EQ(f().say("alice", id, "hi").status, 200);
}

// A token bucket: the whole allowance at once, then one turn per interval (60 s / 3 here), and
// one remembered time point per user, forgotten once the allowance is whole again.
TEST(RateLimiter, BurstThenOneTurnPerIntervalWithOneTimePointPerUser) {
  core::testing::FakeClock clock;
  RateLimiter limiter(clock, 3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.admit("alice")) << i;
  auto refused = limiter.admit("alice");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "rate_limited");
  EXPECT_EQ(refused.error().retry_after_s, 20);
  clock.advance(std::chrono::seconds(19));
  EXPECT_FALSE(limiter.admit("alice"));  // a refused attempt is not counted either
  clock.advance(std::chrono::seconds(1));
  EXPECT_TRUE(limiter.admit("alice"));  // a minute-long log would still refuse it
  EXPECT_FALSE(limiter.admit("alice"));
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.admit("user" + std::to_string(i)));
  EXPECT_EQ(limiter.users(), 101U);
  clock.advance(std::chrono::seconds(61));
  EXPECT_TRUE(limiter.admit("bob"));  // the sweep forgets everyone whose allowance is whole
  EXPECT_EQ(limiter.users(), 1U);
}

TEST_P(ApiTest, DailyTokenBudgetIs429UntilMidnight) {
  const std::string id = f().conversation("alice");
  f().model().push(answer({"a long answer"}, {80, 30}));  // 110 tokens > 100
  ASSERT_EQ(f().say("alice", id, "hi").status, 200);
  const Reply r = f().say("alice", id, "again");
  EXPECT_EQ(r.status, 429) << r.raw;
  EXPECT_EQ(r.body.at("error").at("code"), "token_budget_exhausted");
  const auto now = f().clock().now();
  const auto midnight = std::chrono::floor<std::chrono::days>(now) + std::chrono::days(1);
  EXPECT_EQ(std::stoll(r.header("Retry-After")),
            std::chrono::ceil<std::chrono::seconds>(midnight - now).count());
  f().clock().advance(std::chrono::hours(24));  // a new day, a new budget
  EXPECT_EQ(f().say("alice", id, "tomorrow").status, 200);
}

TEST_P(ApiTest, ModelDownIs502WithTheMessageKept) {
  const std::string id = f().conversation("alice");
  f().model().push(failure(
      core::make_error(core::ErrorKind::kUnavailable, "model_unreachable", "connection refused")));
  const Reply r = f().say("alice", id, "anyone?");
  EXPECT_EQ(r.status, 502) << r.raw;
  EXPECT_EQ(r.body.at("error").at("code"), "model_unavailable");
  EXPECT_TRUE(r.body.at("error").as_object().contains("request_id"));
  const auto stored = f().messages("alice", id);
  ASSERT_EQ(stored.size(), 1U);
  EXPECT_EQ(stored[0].content, "anyone?");
  // Streamed, the same failure is an error event.
  f().model().push(failure(
      core::make_error(core::ErrorKind::kUnavailable, "model_unreachable", "connection refused")));
  const auto events = parse_sse(f().say_streamed("alice", id, "still there?"));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().name, "error");
  EXPECT_EQ(events.back().json().at("error").at("code"), "model_unavailable");
}

TEST_P(ApiTest, ServiceSecretMustMatch) {
  const std::string id = f().conversation("carol");
  const std::string url = "/api/chat/conversations/" + id;
  EXPECT_EQ(
      f().as("carol", "GET", url, "", "X-Service-Secret: router-secret-0123456789\r\n").status,
      200);
  const Reply wrong = f().as("carol", "GET", url, "", "X-Service-Secret: guess\r\n");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body.at("error").at("code"), "invalid_service_secret");
}

TEST_P(ApiTest, ModelsAreListed) {
  const Reply r = f().as("alice", "GET", "/api/chat/models");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.at("default"), "scripted-1");
  EXPECT_EQ(r.body.at("models").as_array().size(), 2U);
}

class SlowModelTest : public AgentTest {
 protected:
  FixtureOptions options() const override {
    FixtureOptions o;
    o.turn.turn_timeout = std::chrono::milliseconds(900);  // heartbeats every 200 ms
    return o;
  }
};

TEST_P(SlowModelTest, StreamSendsHeartbeatsThenTheTimeoutAsAnErrorEvent) {
  const std::string id = f().conversation("alice");
  Step s = answer({"Thinking"});
  s.hang = true;
  f().model().push(s);
  const std::string raw = f().say_streamed("alice", id, "slow question");
  ASSERT_EQ(core::testing::status_of(raw), 200) << raw;
  EXPECT_NE(raw.find(": ping"), std::string::npos) << raw;
  const auto events = parse_sse(raw);
  ASSERT_EQ(events.size(), 2U) << raw;
  EXPECT_EQ(events[0].name, "message.delta");
  EXPECT_EQ(events[1].name, "error");
  EXPECT_EQ(events[1].json().at("error").at("code"), "turn_timeout");
  const auto stored = f().messages("alice", id);
  ASSERT_EQ(stored.size(), 2U);
  EXPECT_TRUE(stored[1].interrupted);
}

class NoSecretTest : public AgentTest {};

TEST_P(NoSecretTest, WithoutASecretFileServiceRequestsAreRefused) {
  const std::string id = f().conversation("carol");
  EXPECT_EQ(
      f().as("carol", "GET", "/api/chat/conversations/" + id, "", "X-Service-Secret: anything\r\n")
          .status,
      401);
  EXPECT_EQ(f().as("carol", "GET", "/api/chat/conversations/" + id).status, 200);
}

ENKISYS_DB_ON_BOTH_BACKENDS(ApiTest);
ENKISYS_DB_ON_BOTH_BACKENDS(NoSecretTest);
ENKISYS_DB_ON_BOTH_BACKENDS(SlowModelTest);

}  // namespace
}  // namespace enkisys::agent::testing
