#include "enkisys/agent/chat_api.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "enkisys/agent/event_pump.hpp"
#include "enkisys/agent/json.hpp"
#include "enkisys/core/request.hpp"
#include "enkisys/core/utf8.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::agent {

namespace json = boost::json;
namespace http = boost::beast::http;
using boost::asio::awaitable;
using core::ErrorKind;
using core::Request;
using core::RequestContext;
using core::Response;
using core::value_or_throw;

namespace {

constexpr std::size_t kMaxTitleBytes = 200;
constexpr std::size_t kMaxNameBytes = 200;
constexpr std::size_t kMaxSystemPromptBytes = 16 * 1024;
constexpr std::size_t kMaxCollections = 32;
constexpr std::size_t kMaxTools = 64;

[[noreturn]] void bad(const std::string& message, const std::string& field) {
  throw core::ApiError(
      core::make_error(ErrorKind::kInvalidArgument, "invalid_request", message, field));
}

void reject_unknown(const json::object& o, std::initializer_list<std::string_view> known) {
  for (const auto& [k, _] : o) {
    if (std::find(known.begin(), known.end(), std::string_view(k)) == known.end()) {
      bad("unknown field '" + core::to_valid_utf8(k) + "'", "/" + std::string(k));
    }
  }
}

std::optional<std::string> string_field(const json::object& o, std::string_view name,
                                        std::size_t max_bytes) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  const std::string field = "/" + std::string(name);
  if (!v->is_string()) bad(std::string(name) + " must be a string", field);
  if (v->as_string().size() > max_bytes) {
    bad(std::string(name) + " is longer than " + std::to_string(max_bytes) + " bytes", field);
  }
  return std::string(v->as_string());
}

std::optional<std::vector<std::string>> names_field(const json::object& o, std::string_view name,
                                                    std::size_t max_items) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  const std::string field = "/" + std::string(name);
  if (!v->is_array() || v->as_array().size() > max_items) {
    bad(std::string(name) + " must be an array of at most " + std::to_string(max_items) +
            " strings",
        field);
  }
  std::vector<std::string> out;
  for (const auto& x : v->as_array()) {
    if (!x.is_string() || x.as_string().empty() || x.as_string().size() > kMaxNameBytes) {
      bad(std::string(name) + " must hold non-empty strings of at most 200 bytes", field);
    }
    out.emplace_back(x.as_string());
  }
  return out;
}

// "tools": "all" | [names] → (all, names).
std::optional<std::pair<bool, std::vector<std::string>>> tools_field(const json::object& o) {
  const auto* v = o.if_contains("tools");
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_string()) {
    if (v->as_string() != "all") bad("tools must be \"all\" or an array of names", "/tools");
    return std::pair{true, std::vector<std::string>{}};
  }
  return std::pair{false, *names_field(o, "tools", kMaxTools)};
}

bool wants_sse(const Request& req) {
  return req[http::field::accept].find("text/event-stream") != std::string_view::npos;
}

json::object error_json(const core::Error& e) {
  return {{"code", e.code_or_default()}, {"message", e.message}};
}

// The streamed turn: its events through `sink`, a failure as an `error` event.
awaitable<void> stream_turn(TurnRunner& turns, Actor actor, Caller caller, std::string id,
                            std::string content, EventSink sink) {
  auto r = co_await turns.run(std::move(actor), std::move(caller), std::move(id),
                              std::move(content), sink);
  if (!r && r.error().code != "cancelled") {
    sink("error", json::object{{"error", error_json(r.error())}});
  }
}

}  // namespace

ChatApi::ChatApi(ConversationStore& store, TurnRunner& turns, ChatModel& model, RagClient& rag,
                 boost::asio::thread_pool& blocking, const core::Clock& clock, core::Logger& log,
                 ChatApiOptions options)
    : store_(store),
      turns_(turns),
      model_(model),
      rag_(rag),
      blocking_(blocking),
      clock_(clock),
      log_(log),
      options_(std::move(options)),
      limiter_(clock, options_.rate_per_minute) {}

void ChatApi::add_routes(core::Router& r) {
  auto bind = [this](auto method) {
    return [this, method](Request& req, RequestContext& ctx) { return (this->*method)(req, ctx); };
  };
  core::RouteOptions turn_route;
  // Room for the JSON framing and escapes of a message at the cap; the cap itself is 413 below.
  turn_route.max_body_bytes = options_.max_message_bytes * 6 + 4096;
  r.add(http::verb::post, "/api/chat/conversations", bind(&ChatApi::create_conversation));
  r.add(http::verb::get, "/api/chat/conversations", bind(&ChatApi::list_conversations));
  r.add(http::verb::get, "/api/chat/conversations/{id}", bind(&ChatApi::get_conversation));
  r.add(http::verb::patch, "/api/chat/conversations/{id}", bind(&ChatApi::patch_conversation));
  r.add(http::verb::delete_, "/api/chat/conversations/{id}", bind(&ChatApi::delete_conversation));
  r.add(http::verb::post, "/api/chat/conversations/{id}/messages", bind(&ChatApi::post_message),
        turn_route);
  r.add(http::verb::get, "/api/chat/models", bind(&ChatApi::list_models));
  r.add(http::verb::post, "/api/chat/v1/chat/completions", bind(&ChatApi::completions), turn_route);
  r.add(http::verb::get, "/api/chat/v1/models", bind(&ChatApi::openai_models));
}

core::Expected<Actor> ChatApi::identity(const Request& req) const {
  if (const auto it = req.find("X-Service-Secret"); it != req.end()) {
    if (options_.service_secret.empty() ||
        !security::constant_time_equal(it->value(), options_.service_secret)) {
      return core::make_error(ErrorKind::kUnauthenticated, "invalid_service_secret",
                              "the service secret is not accepted");
    }
  }
  return core::actor_of(req);
}

Caller ChatApi::caller_of(const Actor& actor, const Request& req, const RequestContext& ctx) const {
  return {actor.id, std::string(req["X-User-Roles"]), ctx.request_id()};
}

awaitable<void> ChatApi::admit(const Actor& actor, const std::string* conversation_id) {
  const auto now = clock_.now();
  const std::string day = utc_day(now);
  std::int64_t used = 0;
  if (conversation_id != nullptr) {
    used = value_or_throw(co_await on_pool(
        blocking_, [&] { return store_.turn_admission(actor, *conversation_id, day); }));
    value_or_throw(limiter_.admit(actor.id));
  } else {
    value_or_throw(limiter_.admit(actor.id));
    used = co_await on_pool(blocking_, [&] { return store_.tokens_used(actor.id, day); });
  }
  if (used >= options_.daily_tokens) {
    auto e = core::make_error(ErrorKind::kResourceExhausted, "token_budget_exhausted",
                              "today's token budget (" + std::to_string(options_.daily_tokens) +
                                  " tokens) is spent; it renews at midnight UTC");
    e.retry_after_s = seconds_to_utc_midnight(now);
    throw core::ApiError(e);
  }
}

awaitable<Response> ChatApi::create_conversation(Request& req, RequestContext& /*ctx*/) {
  const Actor actor = value_or_throw(identity(req));
  const json::object body = core::parse_json_object(req);
  reject_unknown(body, {"title", "collections", "tools", "system_prompt", "model"});
  NewConversation nc;
  nc.title = string_field(body, "title", kMaxTitleBytes).value_or("New conversation");
  nc.collections =
      names_field(body, "collections", kMaxCollections).value_or(std::vector<std::string>{});
  if (auto t = tools_field(body)) std::tie(nc.all_tools, nc.tools) = *t;
  nc.system_prompt = string_field(body, "system_prompt", kMaxSystemPromptBytes).value_or("");
  nc.model = string_field(body, "model", kMaxNameBytes).value_or("");
  auto c = co_await on_pool(blocking_, [&] { return store_.create(actor, nc); });
  co_return core::json_response(http::status::created, conversation_json(c), req.version(),
                                req.keep_alive());
}

awaitable<Response> ChatApi::list_conversations(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(identity(req));
  const auto q = core::parse_query(ctx.query());
  const std::int64_t limit = core::query_int(q, "limit", 20, 1, 100);
  const std::int64_t offset = core::query_int(q, "offset", 0, 0, 1'000'000);
  auto list = co_await on_pool(blocking_, [&] { return store_.list(actor, limit, offset); });
  json::array out;
  for (const auto& c : list) out.emplace_back(conversation_json(c));
  co_return core::json_response(
      http::status::ok,
      json::object{{"conversations", std::move(out)}, {"limit", limit}, {"offset", offset}},
      req.version(), req.keep_alive());
}

awaitable<Response> ChatApi::get_conversation(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(identity(req));
  const std::string id(ctx.param("id"));
  auto cm = value_or_throw(
      co_await on_pool(blocking_, [&] { return store_.get_with_messages(actor, id); }));
  json::object o = conversation_json(cm.conversation);
  json::array messages;
  for (const auto& m : cm.messages) messages.emplace_back(message_json(m));
  o["messages"] = std::move(messages);
  co_return core::json_response(http::status::ok, o, req.version(), req.keep_alive());
}

awaitable<Response> ChatApi::patch_conversation(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(identity(req));
  const std::string id(ctx.param("id"));
  const json::object body = core::parse_json_object(req);
  reject_unknown(body, {"title", "collections", "tools", "system_prompt", "model"});
  ConversationPatch p;
  p.title = string_field(body, "title", kMaxTitleBytes);
  p.collections = names_field(body, "collections", kMaxCollections);
  if (auto t = tools_field(body)) {
    p.all_tools = t->first;
    p.tools = t->second;
  }
  p.system_prompt = string_field(body, "system_prompt", kMaxSystemPromptBytes);
  p.model = string_field(body, "model", kMaxNameBytes);
  auto c = value_or_throw(co_await on_pool(blocking_, [&] { return store_.update(actor, id, p); }));
  co_return core::json_response(http::status::ok, conversation_json(c), req.version(),
                                req.keep_alive());
}

awaitable<Response> ChatApi::delete_conversation(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(identity(req));
  const std::string id(ctx.param("id"));
  value_or_throw(co_await on_pool(blocking_, [&] { return store_.remove(actor, id); }));
  Response res{http::status::no_content, req.version()};
  res.keep_alive(req.keep_alive());
  co_return res;
}

std::string ChatApi::message_content(const Request& req) const {
  const json::object body = core::parse_json_object(req);
  reject_unknown(body, {"content"});
  const auto* c = body.if_contains("content");
  if (c == nullptr || !c->is_string() || c->as_string().empty()) {
    bad("content must be a non-empty string", "/content");
  }
  if (c->as_string().size() > options_.max_message_bytes) {
    throw core::ApiError(core::make_error(
        ErrorKind::kPayloadTooLarge, "message_too_large",
        "a message holds at most " + std::to_string(options_.max_message_bytes) + " bytes",
        "/content"));
  }
  return std::string(c->as_string());
}

// Not a coroutine: it checks the request and hands over to the coroutine of the answer's kind,
// so an open stream holds no frame of this function nor the other kind's locals.
awaitable<Response> ChatApi::post_message(Request& req, RequestContext& ctx) {
  Actor actor = value_or_throw(identity(req));
  std::string id(ctx.param("id"));
  std::string content = message_content(req);
  Caller caller = caller_of(actor, req, ctx);
  if (wants_sse(req)) {
    return stream_message(ctx, std::move(actor), std::move(caller), std::move(id),
                          std::move(content));
  }
  return answer_message(req, std::move(actor), std::move(caller), std::move(id),
                        std::move(content));
}

awaitable<Response> ChatApi::answer_message(Request& req, Actor actor, Caller caller,
                                            std::string id, std::string content) {
  co_await admit(actor, &id);
  auto r = value_or_throw(co_await turns_.run(std::move(actor), std::move(caller), std::move(id),
                                              std::move(content), {}));
  co_return core::json_response(http::status::ok, json::object{{"message", std::move(r.json)}},
                                req.version(), req.keep_alive());
}

awaitable<Response> ChatApi::stream_message(RequestContext& ctx, Actor actor, Caller caller,
                                            std::string id, std::string content) {
  co_await admit(actor, &id);
  core::StreamOptions so;
  so.heartbeat = options_.heartbeat;
  auto sse = co_await ctx.stream_sse(so);
  TurnRunner& turns = turns_;
  co_await pump(sse, [&turns, &actor, &caller, &id, &content](EventSink sink) {
    return stream_turn(turns, std::move(actor), std::move(caller), std::move(id),
                       std::move(content), std::move(sink));
  });
  co_return sse.done();
}

awaitable<Response> ChatApi::list_models(Request& req, RequestContext& /*ctx*/) {
  value_or_throw(identity(req));
  json::array models;
  for (const auto& m : model_.models()) models.emplace_back(json::object{{"id", m}});
  co_return core::json_response(
      http::status::ok,
      json::object{{"models", std::move(models)}, {"default", model_.default_model()}},
      req.version(), req.keep_alive());
}

}  // namespace enkisys::agent
