// enkisys-fake-channels: one HTTP server that fakes the channel APIs the router calls and the
// agent it asks, for the router's tests, its benchmark and the compose end-to-end test.
// Not a service: no auth, no limits. Depends on libs/core only.
//
//   Telegram Bot API   POST /bot<token>/sendMessage, POST /bot<token>/sendChatAction
//   WhatsApp Cloud     POST /<phone number id>/messages
//   Slack              POST /chat.postMessage
//   agent              POST /api/chat/conversations → 201 {"id"}
//                      POST /api/chat/conversations/{id}/messages → {"message":{"content":
//                      "echo: <content>"}}; content "long:<n>" → n characters of sentences
//   control            GET /_calls → {"calls":[{"api","path","status","body","authorization",
//                      "at_ms"}]} (every call, in order); POST /_fail {"status":503|429,
//                      "count":N,"retry_after":S} → the next N channel sends fail so;
//                      POST /_reset; GET /health
//
// Environment: PORT (0: chosen by the OS; printed as {"msg":"listening","port":N} like the
// services), BIND_ADDRESS (default 127.0.0.1), THREADS (default 2). Stops on SIGTERM/SIGINT.
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "enkisys/core/log.hpp"
#include "enkisys/core/metrics.hpp"
#include "enkisys/core/server.hpp"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace http = enkisys::core::http;
using enkisys::core::Request;
using enkisys::core::RequestContext;
using enkisys::core::Response;

struct State {
  std::mutex mu;
  json::array calls;         // guarded by mu
  unsigned fail_status = 0;  // guarded by mu
  long fail_count = 0;       // guarded by mu
  long retry_after = 1;      // guarded by mu
  std::atomic<long> ids{0};
};

State& state() {
  static State s;
  return s;
}

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtol(v, nullptr, 10) : fallback;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json::value body_json(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  return ec ? json::value(body) : v;
}

Response reply(http::status status, const json::value& body) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = json::serialize(body);
  res.prepare_payload();
  return res;
}

void record(const Request& req, const char* api, unsigned status) {
  State& s = state();
  json::object call{{"api", api},
                    {"path", std::string(req.target())},
                    {"status", status},
                    {"body", body_json(req.body())},
                    {"authorization", std::string(req[http::field::authorization])},
                    {"at_ms", now_ms()}};
  std::lock_guard lock(s.mu);
  s.calls.push_back(std::move(call));
}

// The scripted failure for a channel send, if one is due (consumed).
std::optional<Response> failure(const Request& req, const char* api) {
  State& s = state();
  unsigned status = 0;
  long after = 1;
  {
    std::lock_guard lock(s.mu);
    if (s.fail_count <= 0) return std::nullopt;
    --s.fail_count;
    status = s.fail_status;
    after = s.retry_after;
  }
  record(req, api, status);
  json::object body{{"ok", false}, {"error_code", status}, {"description", "fake failure"}};
  if (status == 429) body["parameters"] = json::object{{"retry_after", after}};
  Response res = reply(static_cast<http::status>(status), body);
  if (status == 429) res.set(http::field::retry_after, std::to_string(after));
  return res;
}

asio::awaitable<Response> channel_send(Request& req, RequestContext& ctx) {
  const std::string_view seg = ctx.param("seg");
  const std::string_view target = req.target();
  const char* api = "telegram.sendMessage";
  json::value ok = json::object{{"ok", true}, {"result", json::object{{"message_id", 1}}}};
  if (target.ends_with("/sendChatAction")) {
    api = "telegram.sendChatAction";
    ok = json::object{{"ok", true}, {"result", true}};
  } else if (target.ends_with("/messages")) {
    api = "whatsapp.messages";
    ok = json::object{{"messaging_product", "whatsapp"},
                      {"messages", json::array{json::object{{"id", "wamid.fake"}}}}};
  } else if (target == "/chat.postMessage") {
    api = "slack.postMessage";
    ok = json::object{{"ok", true}, {"ts", "1800000000.000100"}};
  } else if (!seg.starts_with("bot")) {
    co_return reply(http::status::not_found, json::object{{"ok", false}});
  }
  if (std::string_view(api) != "telegram.sendChatAction") {
    if (auto f = failure(req, api)) co_return *f;
  }
  record(req, api, 200);
  co_return reply(http::status::ok, ok);
}

std::string long_text(long n) {
  std::string out;
  long i = 0;
  while (static_cast<long>(out.size()) < n) {
    out += "Sentence number " + std::to_string(++i) + " of the long answer. ";
  }
  out.resize(static_cast<std::size_t>(n));
  return out;
}

asio::awaitable<Response> agent_create(Request& req, RequestContext&) {
  record(req, "agent.create", 201);
  co_return reply(http::status::created,
                  json::object{{"id", "conv_" + std::to_string(++state().ids)}});
}

asio::awaitable<Response> agent_message(Request& req, RequestContext&) {
  record(req, "agent.message", 200);
  std::string content;
  const json::value v = body_json(req.body());
  if (const auto* o = v.if_object(); o && o->contains("content") && o->at("content").is_string()) {
    content = std::string(o->at("content").as_string());
  }
  std::string answer = "echo: " + content;
  if (content.starts_with("long:"))
    answer = long_text(std::strtol(content.c_str() + 5, nullptr, 10));
  co_return reply(
      http::status::ok,
      json::object{{"message", json::object{{"id", "msg_" + std::to_string(++state().ids)},
                                            {"role", "assistant"},
                                            {"content", answer}}}});
}

asio::awaitable<Response> calls(Request&, RequestContext&) {
  State& s = state();
  json::array copy;
  {
    std::lock_guard lock(s.mu);
    copy = s.calls;
  }
  co_return reply(http::status::ok, json::object{{"calls", std::move(copy)}});
}

asio::awaitable<Response> fail(Request& req, RequestContext&) {
  const json::value v = body_json(req.body());
  const auto* o = v.if_object();
  State& s = state();
  std::lock_guard lock(s.mu);
  s.fail_status = 503;
  s.fail_count = 1;
  s.retry_after = 1;
  if (o != nullptr) {
    if (o->contains("status") && o->at("status").is_int64()) {
      s.fail_status = static_cast<unsigned>(o->at("status").as_int64());
    }
    if (o->contains("count") && o->at("count").is_int64()) s.fail_count = o->at("count").as_int64();
    if (o->contains("retry_after") && o->at("retry_after").is_int64()) {
      s.retry_after = o->at("retry_after").as_int64();
    }
  }
  co_return reply(http::status::ok, json::object{{"ok", true}});
}

asio::awaitable<Response> reset(Request&, RequestContext&) {
  State& s = state();
  std::lock_guard lock(s.mu);
  s.calls.clear();
  s.fail_count = 0;
  co_return reply(http::status::ok, json::object{{"ok", true}});
}

asio::awaitable<Response> health(Request&, RequestContext&) {
  co_return reply(http::status::ok, json::object{{"status", "ok"}, {"service", "fake-channels"}});
}

}  // namespace

int main() {
  enkisys::core::Logger log("fake-channels", enkisys::core::LogLevel::kWarn);
  enkisys::core::MetricsRegistry metrics;
  enkisys::core::Router router;
  router.add(http::verb::post, "/{seg}/sendMessage", channel_send);
  router.add(http::verb::post, "/{seg}/sendChatAction", channel_send);
  router.add(http::verb::post, "/{seg}/messages", channel_send);
  router.add(http::verb::post, "/chat.postMessage", channel_send);
  router.add(http::verb::post, "/api/chat/conversations", agent_create);
  router.add(http::verb::post, "/api/chat/conversations/{id}/messages", agent_message);
  router.add(http::verb::get, "/_calls", calls);
  router.add(http::verb::post, "/_fail", fail);
  router.add(http::verb::post, "/_reset", reset);
  router.add(http::verb::get, "/health", health);

  enkisys::core::ServerOptions opts;
  const char* bind = std::getenv("BIND_ADDRESS");
  opts.address = bind != nullptr && *bind != '\0' ? bind : "127.0.0.1";
  opts.port = static_cast<unsigned short>(env_long("PORT", 0));
  opts.threads = static_cast<unsigned>(std::max(1L, env_long("THREADS", 2)));
  opts.access_log = false;
  enkisys::core::HttpServer server(opts, router, log, metrics);
  server.listen();
  std::printf("{\"msg\":\"listening\",\"port\":%u}\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  server.run();
  return 0;
}
