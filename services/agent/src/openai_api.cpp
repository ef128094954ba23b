// The platform as an OpenAI-compatible endpoint: POST /api/chat/v1/chat/completions and
// GET /api/chat/v1/models, in the OpenAI wire format (chat.completion objects; streamed
// chat.completion.chunk events ending with `data: [DONE]`). A model named "enkisys:<collection
// id>" answers from that collection's passages (cited as [n]); any other name goes to the model
// backend as it is. Nothing is stored; usage counts toward the caller's daily tokens.
#include <boost/json.hpp>

#include "enkisys/agent/chat_api.hpp"
#include "enkisys/agent/event_pump.hpp"
#include "enkisys/agent/json.hpp"
#include "enkisys/core/request.hpp"
#include "enkisys/security/encoding.hpp"
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

constexpr std::string_view kCollectionPrefix = "enkisys:";
constexpr std::size_t kMaxMessages = 256;

[[noreturn]] void bad(const std::string& message, const std::string& field) {
  throw core::ApiError(
      core::make_error(ErrorKind::kInvalidArgument, "invalid_request", message, field));
}

// A message's content: a string, or an array of parts of which the "text" ones count.
std::string content_of(const json::value& v, const std::string& field) {
  if (v.is_null()) return {};
  if (v.is_string()) return std::string(v.as_string());
  if (!v.is_array()) bad("content must be a string or an array of parts", field);
  std::string s;
  for (const auto& part : v.as_array()) {
    const auto* o = part.if_object();
    if (o == nullptr) bad("content parts must be objects", field);
    const auto* t = o->if_contains("text");
    if (t != nullptr && t->is_string()) s += t->as_string();
  }
  return s;
}

struct Completion {
  std::string id, model;  // "chatcmpl-...", the name the client asked for
  std::int64_t created = 0;
  ChatRequest request;
  bool include_usage = false;
};

json::object chunk(const Completion& c, json::object delta, json::value finish_reason) {
  return {{"id", c.id},
          {"object", "chat.completion.chunk"},
          {"created", c.created},
          {"model", c.model},
          {"choices", json::array{json::object{{"index", 0},
                                               {"delta", std::move(delta)},
                                               {"finish_reason", std::move(finish_reason)}}}}};
}

// (Plain functions: GCC 12 rejects string-literal values in braced JSON inside coroutines.)
json::value done_marker() {
  return json::string("[DONE]");
}

json::object role_delta() {
  return {{"role", "assistant"}, {"content", ""}};
}

json::object model_entry(const std::string& id) {
  return {{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "enkisys"}};
}

json::object model_list(json::array data) {
  return {{"object", "list"}, {"data", std::move(data)}};
}

json::object stream_error(const core::Error& e) {
  return {{"error", json::object{{"code", "model_unavailable"}, {"message", e.message}}}};
}

json::object completion(const Completion& c, const ChatResult& r) {
  return {{"id", c.id},
          {"object", "chat.completion"},
          {"created", c.created},
          {"model", c.model},
          {"choices", json::array{json::object{
                          {"index", 0},
                          {"message", json::object{{"role", "assistant"}, {"content", r.content}}},
                          {"finish_reason", r.finish_reason.empty() ? "stop" : r.finish_reason}}}},
          {"usage", usage_json(r.usage)}};
}

// Adds a completion's tokens to the caller's day, off the I/O thread. (A named type: GCC 12
// miscompiles lambdas with init-captures inside coroutines.)
struct UsageCounter {
  ConversationStore* store = nullptr;
  boost::asio::thread_pool* pool = nullptr;
  core::Logger* log = nullptr;
  std::string user, day;

  void operator()(const Usage& u) const {
    boost::asio::post(*pool, [store = store, log = log, user = user, day = day,
                              n = u.prompt_tokens + u.completion_tokens] {
      try {
        store->add_tokens(user, day, n);
      } catch (const std::exception& e) {
        log->error("counting tokens failed", {{"error", e.what()}});
      }
    });
  }
};

void stream_start(const Completion& c, const EventSink& sink) {
  sink("", chunk(c, role_delta(), nullptr));
}

void stream_end(const Completion& c, const core::Expected<ChatResult>& r, const EventSink& sink) {
  if (!r) {
    if (r.error().code != "cancelled") {
      sink("", stream_error(r.error()));
      sink("", done_marker());
    }
    return;
  }
  const std::string finish = r->finish_reason.empty() ? "stop" : r->finish_reason;
  sink("", chunk(c, json::object{}, json::string(finish)));
  if (c.include_usage) {
    json::object u = chunk(c, json::object{}, nullptr);
    u["choices"] = json::array{};
    u["usage"] = usage_json(r->usage);
    sink("", std::move(u));
  }
  sink("", done_marker());
}

// (The JSON is built in plain functions: see role_delta.)
awaitable<void> stream_completion(ChatModel& model, Completion c,
                                  std::chrono::steady_clock::time_point deadline,
                                  UsageCounter on_usage, EventSink sink) {
  stream_start(c, sink);
  const Completion* cp = &c;
  const EventSink* sp = &sink;
  DeltaSink on_delta = [cp, sp](std::string_view text) {
    (*sp)("", chunk(*cp, json::object{{"content", text}}, nullptr));
  };
  auto r = co_await complete_within(model, c.request, on_delta, deadline);
  if (r) on_usage(r->usage);
  stream_end(c, r, sink);
}

}  // namespace

awaitable<Response> ChatApi::completions(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(identity(req));
  const json::object body = core::parse_json_object(req);
  Completion c;
  const auto* model = body.if_contains("model");
  if (model == nullptr || !model->is_string() || model->as_string().empty() ||
      model->as_string().size() > 200) {
    bad("model must be a non-empty string", "/model");
  }
  c.model = std::string(model->as_string());
  const auto* messages = body.if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->as_array().empty() ||
      messages->as_array().size() > kMaxMessages) {
    bad("messages must be a non-empty array of at most 256 messages", "/messages");
  }
  std::size_t total = 0;
  std::string last_user;
  std::size_t i = 0;
  for (const auto& m : messages->as_array()) {
    const std::string at = "/messages/" + std::to_string(i++);
    const auto* o = m.if_object();
    const auto* role = o ? o->if_contains("role") : nullptr;
    if (role == nullptr || !role->is_string()) bad("each message needs a role", at + "/role");
    const std::string r(role->as_string());
    if (r != "system" && r != "user" && r != "assistant" && r != "developer") {
      bad("role must be system, developer, user or assistant", at + "/role");
    }
    const auto* content = o->if_contains("content");
    ChatMessage cm;
    cm.role = r == "developer" ? std::string("system") : r;
    if (content != nullptr) cm.content = content_of(*content, at + "/content");
    total += cm.content.size();
    if (r == "user") last_user = cm.content;
    c.request.messages.push_back(std::move(cm));
  }
  if (total > options_.max_message_bytes) {
    throw core::ApiError(core::make_error(
        ErrorKind::kPayloadTooLarge, "message_too_large",
        "the messages hold at most " + std::to_string(options_.max_message_bytes) + " bytes",
        "/messages"));
  }
  bool stream = false;
  if (const auto* s = body.if_contains("stream"); s && !s->is_null()) {
    if (!s->is_bool()) bad("stream must be a boolean", "/stream");
    stream = s->as_bool();
  }
  if (const auto* so = body.if_contains("stream_options"); so && so->is_object()) {
    if (const auto* iu = so->as_object().if_contains("include_usage"); iu && iu->is_bool()) {
      c.include_usage = iu->as_bool();
    }
  }
  if (const auto* mt = body.if_contains("max_tokens"); mt && mt->is_int64()) {
    c.request.max_tokens = static_cast<int>(std::clamp<std::int64_t>(mt->as_int64(), 1, 1 << 20));
  }
  if (const auto* t = body.if_contains("temperature"); t && t->is_number()) {
    c.request.temperature = t->to_number<double>();
  }
  co_await admit(actor, nullptr);
  const Caller caller = caller_of(actor, req, ctx);

  if (c.model.starts_with(kCollectionPrefix)) {
    const std::string collection = c.model.substr(kCollectionPrefix.size());
    std::vector<std::string> collections{collection};
    auto passages =
        co_await rag_.search(caller, last_user, std::move(collections), turns_.options().rag_k);
    if (!passages && passages.error().kind == ErrorKind::kNotFound) {
      throw core::ApiError(core::make_error(ErrorKind::kNotFound, "model_not_found",
                                            "no collection '" + collection + "' for this model",
                                            "/model"));
    }
    if (passages) {
      c.request.context = *passages;
      // The context goes right before the last message.
      auto at = c.request.messages.end() - 1;
      ChatMessage context;
      context.role = "system";
      context.content = context_message(*passages);
      c.request.messages.insert(at, std::move(context));
    } else {
      log_.warn("rag search failed; answering without context",
                {{"request_id", caller.request_id}, {"error", passages.error().message}});
    }
  } else {
    c.request.model = c.model;
  }
  c.id = "chatcmpl-" + security::hex_encode(security::random_bytes(12));
  c.created =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  const auto deadline = std::chrono::steady_clock::now() + turns_.options().turn_timeout;
  UsageCounter count_usage;  // (no aggregate initialisation inside a coroutine: GCC 12)
  count_usage.store = &store_;
  count_usage.pool = &blocking_;
  count_usage.log = &log_;
  count_usage.user = actor.id;
  count_usage.day = utc_day(clock_.now());

  if (!stream) {
    auto r = co_await complete_within(model_, c.request, {}, deadline);
    if (!r) {
      throw core::ApiError(
          core::make_error(ErrorKind::kUpstream, "model_unavailable",
                           "the language model is unavailable (" + r.error().message + ")"));
    }
    count_usage(r->usage);
    co_return core::json_response(http::status::ok, completion(c, *r), req.version(),
                                  req.keep_alive());
  }
  core::StreamOptions so;
  so.heartbeat = options_.heartbeat;
  auto sse = co_await ctx.stream_sse(so);
  ChatModel& m = model_;
  co_await pump(sse, [&m, &c, &deadline, &count_usage](EventSink sink) {
    return stream_completion(m, c, deadline, count_usage, std::move(sink));
  });
  co_return sse.done();
}

awaitable<Response> ChatApi::openai_models(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(identity(req));
  json::array data;
  for (const auto& m : model_.models()) data.emplace_back(model_entry(m));
  auto cols = co_await rag_.collections(caller_of(actor, req, ctx));
  if (cols) {
    for (const auto& id : *cols)
      data.emplace_back(model_entry(std::string(kCollectionPrefix) + id));
  }
  co_return core::json_response(http::status::ok, model_list(std::move(data)), req.version(),
                                req.keep_alive());
}

}  // namespace enkisys::agent
