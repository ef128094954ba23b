// The conversation service wired in process over one backend (SQLite, or the PostgreSQL named
// by ENKISYS_TEST_POSTGRES_URL), with a scripted model and scripted rag/tools answers
// (core::testing::FakeHttpClient), served by a TestServer on an OS-chosen port.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/value.hpp>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "db_fixture.hpp"
#include "enkisys/agent/backends.hpp"
#include "enkisys/agent/chat_api.hpp"
#include "enkisys/agent/model.hpp"
#include "enkisys/agent/store.hpp"
#include "enkisys/agent/turn.hpp"
#include "enkisys/core/testing.hpp"
#include "enkisys/core/testing/fakes.hpp"

namespace enkisys::agent::testing {

inline constexpr const char* kRag = "http://rag.test";
inline constexpr const char* kTools = "http://tools.test";

// One scripted model answer.
struct Step {
  std::vector<std::string> deltas;   // the answer, in fragments
  std::vector<ToolCall> tool_calls;  // requested tool calls
  std::optional<core::Error> error;  // the call fails with this
  bool hang = false;                 // after the deltas, wait until cancelled
  Usage usage{10, 5};
};

Step answer(std::vector<std::string> deltas, Usage usage = {10, 5});
Step tools(std::vector<ToolCall> calls, std::vector<std::string> deltas = {});
Step failure(core::Error error);

// A ChatModel answering from a script (then "ok" forever). Records every request. Thread-safe.
class ScriptedModel final : public ChatModel {
 public:
  void push(Step s);
  std::string default_model() const override { return "scripted-1"; }
  std::vector<std::string> models() const override { return {"scripted-1", "scripted-2"}; }
  boost::asio::awaitable<core::Expected<ChatResult>> complete(const ChatRequest& request,
                                                              DeltaSink on_delta) override;
  std::vector<ChatRequest> requests() const;
  // Waits (bounded) until a `hang` step is waiting; false at the deadline.
  bool wait_hanging(std::chrono::milliseconds timeout);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Step> script_;
  std::vector<ChatRequest> requests_;
  bool hanging_ = false;
};

using Reply = core::testing::JsonReply;

struct SseEvent {
  std::string name;
  std::string data;
  boost::json::value json() const;
};

// The events of a raw chunked text/event-stream response, in order.
std::vector<SseEvent> parse_sse(const std::string& raw);

struct FixtureOptions {
  TurnOptions turn;
  ChatApiOptions api;
  ToolsCacheOptions tools;  // no cache unless a test asks for one
};

class AgentFixture {
 public:
  explicit AgentFixture(db::testing::TestStore& store, FixtureOptions options = {});
  ~AgentFixture();

  Reply as(const std::string& user, const std::string& method, const std::string& target,
           const std::string& body = {}, const std::string& headers = {});
  // Creates a conversation from `body` (JSON) and returns its id (fails the test otherwise).
  std::string conversation(const std::string& user, const std::string& body = "{}");
  Reply say(const std::string& user, const std::string& conversation, const std::string& text);
  // The same with Accept: text/event-stream; the raw response.
  std::string say_streamed(const std::string& user, const std::string& conversation,
                           const std::string& text);
  // Runs one turn through the TurnRunner directly (no HTTP).
  core::Expected<TurnResult> turn(const std::string& user, const std::string& conversation,
                                  const std::string& text);
  std::vector<StoredMessage> messages(const std::string& user, const std::string& conversation);

  // Scripted rag answer: `passages` as {"title","text","heading_path","page"} objects.
  void rag_answers(const std::vector<std::pair<std::string, std::string>>& title_text);
  // Scripted tools list (OpenAI format) with the named tools.
  void tools_offer(const std::vector<std::string>& names);

  ScriptedModel& model() { return model_; }
  core::testing::FakeHttpClient& http() { return http_; }
  core::testing::FakeClock& clock() { return clock_; }
  ConversationStore& store() { return *store_; }
  unsigned short port() const { return server_->port(); }

 private:
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<ConversationStore> store_;
  core::Logger log_{"agent-test", core::LogLevel::kError};
  core::testing::FakeClock clock_;
  core::testing::FakeHttpClient http_;
  ScriptedModel model_;
  boost::asio::thread_pool blocking_{2};
  boost::asio::io_context ioc_;  // for turns run directly
  std::unique_ptr<RagClient> rag_;
  std::unique_ptr<ToolsClient> tools_;
  std::unique_ptr<TurnRunner> turns_;
  std::unique_ptr<ChatApi> api_;
  std::unique_ptr<core::testing::TestServer> server_;
};

// Runs each test on both backends with a fresh store and fixture.
class AgentTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;
  virtual FixtureOptions options() const { return {}; }
  AgentFixture& f() { return *fixture_; }

  std::unique_ptr<db::testing::TestStore> store_;
  std::unique_ptr<AgentFixture> fixture_;
};

ToolCall call(const std::string& id, const std::string& name, const std::string& arguments);

}  // namespace enkisys::agent::testing
