#include "enkisys/agent/testing/fake_openai.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <system_error>

#include "enkisys/core/stream.hpp"

namespace enkisys::agent::testing {

namespace asio = boost::asio;
namespace json = boost::json;
namespace http = core::http;

struct FakeOpenAiServer::State {
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::deque<FakeReply> script;
  std::vector<RecordedRequest> requests;
  int disconnects = 0;

  void disconnected() {
    std::lock_guard lock(mu);
    ++disconnects;
    cv.notify_all();
  }
};

FakeReply FakeReply::text(std::vector<std::string> pieces) {
  FakeReply r;
  r.text_pieces = std::move(pieces);
  return r;
}

FakeReply FakeReply::tool(std::string name, std::vector<std::string> argument_pieces,
                          std::string id) {
  FakeReply r;
  r.tool_calls.push_back({0, std::move(id), std::move(name), std::move(argument_pieces)});
  r.finish_reason = "tool_calls";
  return r;
}

FakeReply FakeReply::error(unsigned status, std::string message) {
  FakeReply r;
  r.status = status;
  r.error_body = json::serialize(json::object{
      {"error", json::object{{"message", std::move(message)}, {"type", "fake_error"}}}});
  return r;
}

FakeReply& FakeReply::retry_after(int seconds) {
  headers.emplace_back("Retry-After", std::to_string(seconds));
  return *this;
}

std::string RecordedRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (boost::beast::iequals(k, name)) return v;
  }
  return {};
}

namespace {

json::object chunk(const FakeReply& r, json::object delta, const std::string& finish) {
  return json::object{
      {"id", "chatcmpl-fake"},
      {"object", "chat.completion.chunk"},
      {"created", 1'800'000'000},
      {"model", r.model},
      {"choices",
       json::array{json::object{
           {"index", 0},
           {"delta", std::move(delta)},
           {"finish_reason", finish.empty() ? json::value(nullptr) : json::value(finish)}}}}};
}

json::object usage_of(const FakeReply& r) {
  return json::object{{"prompt_tokens", r.prompt_tokens},
                      {"completion_tokens", r.completion_tokens},
                      {"total_tokens", r.prompt_tokens + r.completion_tokens}};
}

// The SSE data payloads of a streamed reply, in order.
std::vector<std::string> events_of(const FakeReply& r) {
  if (!r.raw_events.empty()) return r.raw_events;
  std::vector<std::string> out;
  out.push_back(json::serialize(chunk(r, {{"role", "assistant"}, {"content", ""}}, "")));
  for (const auto& p : r.text_pieces)
    out.push_back(json::serialize(chunk(r, {{"content", p}}, "")));
  if (!r.stream_error.empty()) {
    out.push_back(json::serialize(
        json::object{{"error", json::object{{"message", r.stream_error}, {"code", 500}}}}));
  }
  for (const auto& c : r.tool_calls) {
    for (std::size_t i = 0; i < std::max<std::size_t>(c.argument_pieces.size(), 1); ++i) {
      json::object call{{"index", c.index}};
      json::object fn{{"arguments", i < c.argument_pieces.size() ? c.argument_pieces[i] : ""}};
      if (i == 0) {
        if (!c.id.empty()) call["id"] = c.id;
        call["type"] = "function";
        fn["name"] = c.name;
      }
      call["function"] = std::move(fn);
      out.push_back(json::serialize(chunk(r, {{"tool_calls", json::array{std::move(call)}}}, "")));
    }
  }
  out.push_back(json::serialize(chunk(r, {}, r.finish_reason)));
  if (r.usage) {
    out.push_back(json::serialize(json::object{{"id", "chatcmpl-fake"},
                                               {"object", "chat.completion.chunk"},
                                               {"model", r.model},
                                               {"choices", json::array{}},
                                               {"usage", usage_of(r)}}));
  }
  out.emplace_back("[DONE]");
  return out;
}

json::object whole_of(const FakeReply& r) {
  std::string text;
  for (const auto& p : r.text_pieces) text += p;
  json::object message{{"role", "assistant"},
                       {"content", text.empty() && !r.tool_calls.empty() ? json::value(nullptr)
                                                                         : json::value(text)}};
  if (!r.tool_calls.empty()) {
    json::array calls;
    for (const auto& c : r.tool_calls) {
      std::string args;
      for (const auto& p : c.argument_pieces) args += p;
      json::object call{{"type", "function"},
                        {"function", json::object{{"name", c.name}, {"arguments", args}}}};
      if (!c.id.empty()) call["id"] = c.id;
      calls.push_back(std::move(call));
    }
    message["tool_calls"] = std::move(calls);
  }
  json::object out{
      {"id", "chatcmpl-fake"},
      {"object", "chat.completion"},
      {"model", r.model},
      {"choices", json::array{json::object{
                      {"index", 0},
                      {"message", std::move(message)},
                      {"finish_reason", r.finish_reason.empty() ? json::value(nullptr)
                                                                : json::value(r.finish_reason)}}}}};
  if (r.usage) out["usage"] = usage_of(r);
  return out;
}

asio::awaitable<core::Response> stream_reply(FakeReply r, core::RequestContext& ctx,
                                             std::shared_ptr<FakeOpenAiServer::State> st) {
  core::StreamOptions o;
  o.heartbeat = std::chrono::milliseconds(0);
  auto sse = co_await ctx.stream_sse(o);
  const auto events = events_of(r);
  try {
    for (std::size_t i = 0; i < events.size(); ++i) {
      const auto pause = i == 0 ? r.first_delay : r.pacing;
      if (pause.count() > 0 && !co_await sse.wait(pause)) {
        st->disconnected();
        co_return sse.done();
      }
      if (r.cut_after >= 0 && i == static_cast<std::size_t>(r.cut_after)) {
        // Closes the connection without the last chunk: a stream cut in the middle.
        throw core::StreamClosed(std::make_error_code(std::errc::connection_aborted));
      }
      co_await sse.event("", std::string_view(events[i]));
    }
  } catch (const core::StreamClosed&) {
    if (sse.client_gone()) st->disconnected();
    throw;
  }
  co_return sse.done();
}

asio::awaitable<core::Response> answer(core::Request& req, core::RequestContext& ctx,
                                       std::shared_ptr<FakeOpenAiServer::State> st) {
  RecordedRequest rec{std::string(req.method_string()), std::string(req.target()), req.body(), {}};
  for (const auto& f : req) rec.headers.emplace_back(f.name_string(), f.value());
  std::optional<FakeReply> reply;
  {
    std::lock_guard lock(st->mu);
    st->requests.push_back(std::move(rec));
    if (!st->script.empty()) {
      reply = std::move(st->script.front());
      st->script.pop_front();
    }
    st->cv.notify_all();
  }
  if (!reply) reply = FakeReply::error(500, "no scripted reply");
  if (reply->head_delay.count() > 0) {
    asio::steady_timer t(co_await asio::this_coro::executor, reply->head_delay);
    co_await t.async_wait(asio::use_awaitable);
  }
  if (reply->status != 200) {
    core::Response res{static_cast<http::status>(reply->status), 11};
    res.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : reply->headers) res.set(k, v);
    res.body() = reply->error_body;
    res.prepare_payload();
    co_return res;
  }
  json::error_code ec;
  const json::value body = json::parse(req.body(), ec);
  const auto* stream = !ec && body.is_object() ? body.as_object().if_contains("stream") : nullptr;
  if (stream && stream->is_bool() && stream->as_bool()) {
    co_return co_await stream_reply(std::move(*reply), ctx, st);
  }
  co_return core::json_response(http::status::ok, whole_of(*reply));
}

}  // namespace

FakeOpenAiServer::FakeOpenAiServer() : state_(std::make_shared<State>()) {
  auto st = state_;
  server_ = std::make_unique<core::testing::TestServer>([st](core::Router& r) {
    r.add(http::verb::post, "/v1/chat/completions",
          [st](core::Request& req, core::RequestContext& ctx) { return answer(req, ctx, st); });
    r.add(
        http::verb::get, "/v1/models",
        [](core::Request&, core::RequestContext&) -> asio::awaitable<core::Response> {
          co_return core::json_response(
              http::status::ok,
              json::object{
                  {"object", "list"},
                  {"data", json::array{json::object{{"id", "fake-model"}, {"object", "model"}}}}});
        });
  });
}

FakeOpenAiServer::~FakeOpenAiServer() = default;

std::string FakeOpenAiServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(server_->port()) + "/v1";
}

void FakeOpenAiServer::push(FakeReply reply) {
  std::lock_guard lock(state_->mu);
  state_->script.push_back(std::move(reply));
}

std::vector<RecordedRequest> FakeOpenAiServer::requests() const {
  std::lock_guard lock(state_->mu);
  return state_->requests;
}

std::size_t FakeOpenAiServer::request_count() const {
  std::lock_guard lock(state_->mu);
  return state_->requests.size();
}

int FakeOpenAiServer::disconnects() const {
  std::lock_guard lock(state_->mu);
  return state_->disconnects;
}

bool FakeOpenAiServer::wait_for_disconnects(int n, std::chrono::milliseconds limit) const {
  std::unique_lock lock(state_->mu);
  return state_->cv.wait_for(lock, limit, [&] { return state_->disconnects >= n; });
}

bool FakeOpenAiServer::wait_for_requests(std::size_t n, std::chrono::milliseconds limit) const {
  std::unique_lock lock(state_->mu);
  return state_->cv.wait_for(lock, limit, [&] { return state_->requests.size() >= n; });
}

}  // namespace enkisys::agent::testing
