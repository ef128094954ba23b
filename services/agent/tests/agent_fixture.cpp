#include "agent_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

namespace enkisys::agent::testing {

namespace asio = boost::asio;
namespace json = boost::json;

Step answer(std::vector<std::string> deltas, Usage usage) {
  Step s;
  s.deltas = std::move(deltas);
  s.usage = usage;
  return s;
}

Step tools(std::vector<ToolCall> calls, std::vector<std::string> deltas) {
  Step s;
  s.deltas = std::move(deltas);
  s.tool_calls = std::move(calls);
  return s;
}

Step failure(core::Error error) {
  Step s;
  s.error = std::move(error);
  return s;
}

void ScriptedModel::push(Step s) {
  std::lock_guard lock(mu_);
  script_.push_back(std::move(s));
}

std::vector<ChatRequest> ScriptedModel::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

bool ScriptedModel::wait_hanging(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return hanging_; });
}

asio::awaitable<core::Expected<ChatResult>> ScriptedModel::complete(const ChatRequest& request,
                                                                    DeltaSink on_delta) {
  Step step;
  {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (script_.empty()) {
      step.deltas = {"ok"};
    } else {
      step = std::move(script_.front());
      script_.pop_front();
    }
  }
  ChatResult r;
  r.model = request.model.empty() ? default_model() : request.model;
  for (const auto& d : step.deltas) {
    if (on_delta) on_delta(d);
    r.content += d;
  }
  if (step.hang) {
    {
      std::lock_guard lock(mu_);
      hanging_ = true;
    }
    cv_.notify_all();
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::seconds(30));
    auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return core::make_error(core::ErrorKind::kUnavailable, "cancelled",
                               ec ? "cancelled" : "the test never cancelled the call");
  }
  if (step.error) co_return *step.error;
  r.tool_calls = step.tool_calls;
  r.finish_reason = r.tool_calls.empty() ? "stop" : "tool_calls";
  r.usage = step.usage;
  co_return r;
}

json::value SseEvent::json() const {
  boost::system::error_code ec;
  json::value v = json::parse(data, ec);
  return ec ? json::value(nullptr) : v;
}

std::vector<SseEvent> parse_sse(const std::string& raw) {
  std::string body;
  std::size_t at = raw.find("\r\n\r\n");
  if (at == std::string::npos) return {};
  at += 4;
  for (int guard = 0; guard < 100000 && at < raw.size(); ++guard) {
    const auto eol = raw.find("\r\n", at);
    if (eol == std::string::npos) break;
    const std::size_t size = std::stoul(raw.substr(at, eol - at), nullptr, 16);
    if (size == 0) break;
    body += raw.substr(eol + 2, size);
    at = eol + 2 + size + 2;
  }
  std::vector<SseEvent> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    const std::string block = body.substr(pos, end - pos);
    pos = end + 2;
    SseEvent e;
    bool any = false;
    std::size_t lp = 0;
    while (lp <= block.size()) {
      auto le = block.find('\n', lp);
      if (le == std::string::npos) le = block.size();
      const std::string line = block.substr(lp, le - lp);
      lp = le + 1;
      if (line.starts_with("event: ")) {
        e.name = line.substr(7);
        any = true;
      } else if (line.starts_with("data: ")) {
        if (!e.data.empty()) e.data += "\n";
        e.data += line.substr(6);
        any = true;
      }
    }
    if (any) out.push_back(std::move(e));
  }
  return out;
}

AgentFixture::AgentFixture(db::testing::TestStore& store, FixtureOptions options) {
  db_ = store.open();
  store_ = std::make_unique<ConversationStore>(*db_);
  store_->migrate();
  rag_ = std::make_unique<RagClient>(http_, kRag);
  tools_ = std::make_unique<ToolsClient>(http_, kTools, clock_, options.tools);
  turns_ = std::make_unique<TurnRunner>(*store_, model_, *rag_, *tools_, blocking_, clock_, log_,
                                        options.turn);
  options.api.heartbeat = std::chrono::milliseconds(200);
  api_ = std::make_unique<ChatApi>(*store_, *turns_, model_, *rag_, blocking_, clock_, log_,
                                   options.api);
  server_ =
      std::make_unique<core::testing::TestServer>([this](core::Router& r) { api_->add_routes(r); });
}

AgentFixture::~AgentFixture() {
  server_.reset();
  blocking_.join();
}

Reply AgentFixture::as(const std::string& user, const std::string& method,
                       const std::string& target, const std::string& body,
                       const std::string& headers) {
  std::string h = headers;
  if (!user.empty()) h += "X-User-Id: " + user + "\r\n";
  return core::testing::json_reply(
      core::testing::http_request(server_->port(), method, target, body, h));
}

std::string AgentFixture::conversation(const std::string& user, const std::string& body) {
  const Reply r = as(user, "POST", "/api/chat/conversations", body);
  EXPECT_EQ(r.status, 201) << r.raw;
  if (r.status != 201) return "missing";
  return std::string(r.body.at("id").as_string());
}

Reply AgentFixture::say(const std::string& user, const std::string& conversation,
                        const std::string& text) {
  return as(user, "POST", "/api/chat/conversations/" + conversation + "/messages",
            json::serialize(json::object{{"content", text}}));
}

std::string AgentFixture::say_streamed(const std::string& user, const std::string& conversation,
                                       const std::string& text) {
  return core::testing::http_request(server_->port(), "POST",
                                     "/api/chat/conversations/" + conversation + "/messages",
                                     json::serialize(json::object{{"content", text}}),
                                     "X-User-Id: " + user + "\r\nAccept: text/event-stream\r\n");
}

core::Expected<TurnResult> AgentFixture::turn(const std::string& user,
                                              const std::string& conversation,
                                              const std::string& text) {
  auto fut = asio::co_spawn(
      ioc_, turns_->run(Actor{user, false}, Caller{user, "", "req-test"}, conversation, text, {}),
      asio::use_future);
  ioc_.restart();
  ioc_.run();
  return fut.get();
}

std::vector<StoredMessage> AgentFixture::messages(const std::string& user,
                                                  const std::string& conversation) {
  auto cm = store_->get_with_messages(Actor{user, false}, conversation);
  EXPECT_TRUE(cm.ok());
  return cm ? cm->messages : std::vector<StoredMessage>{};
}

void AgentFixture::rag_answers(const std::vector<std::pair<std::string, std::string>>& passages) {
  json::array results;
  int i = 0;
  for (const auto& [title, text] : passages) {
    ++i;
    results.emplace_back(
        json::object{{"chunk_id", "doc" + std::to_string(i) + ":0"},
                     {"document_id", "doc" + std::to_string(i)},
                     {"collection_id", "col_1"},
                     {"title", title},
                     {"text", text},
                     {"score", 1.0 / i},
                     {"heading_path", json::array{"Guide", "Section " + std::to_string(i)}},
                     {"location", json::object{{"start", 0}, {"end", text.size()}, {"page", i}}}});
  }
  http_.respond(std::string(kRag) + "/api/rag/search", 200,
                json::serialize(json::object{{"results", std::move(results)}}));
}

void AgentFixture::tools_offer(const std::vector<std::string>& names) {
  json::array tools;
  for (const auto& n : names) {
    tools.emplace_back(
        json::object{{"type", "function"},
                     {"function", json::object{{"name", n},
                                               {"description", "the " + n + " tool"},
                                               {"parameters", json::object{{"type", "object"}}}}}});
  }
  http_.respond(std::string(kTools) + "/api/tools?format=openai", 200, json::serialize(tools));
}

void AgentTest::SetUp() {
  ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
  store_ = std::make_unique<db::testing::TestStore>(GetParam());
  fixture_ = std::make_unique<AgentFixture>(*store_, options());
}

void AgentTest::TearDown() {
  fixture_.reset();
  store_.reset();
}

ToolCall call(const std::string& id, const std::string& name, const std::string& arguments) {
  return ToolCall{id, name, arguments};
}

}  // namespace enkisys::agent::testing
