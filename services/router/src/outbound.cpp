#include "enkisys/router/outbound.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "enkisys/core/utf8.hpp"

namespace enkisys::router {

namespace json = boost::json;
namespace http = core::http;
using core::ErrorKind;

namespace {

core::ClientRequest post_json(std::string url, const json::object& body) {
  core::ClientRequest r;
  r.method = http::verb::post;
  r.url = std::move(url);
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = json::serialize(body);
  return r;
}

std::int64_t parse_int(std::string_view s) {
  std::int64_t n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

json::value parse_body(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  return ec ? json::value() : v;
}

}  // namespace

core::ClientRequest send_request(const RouterConfig& cfg, const OutboxItem& o) {
  switch (o.channel) {
    case Channel::kTelegram: {
      json::object b{{"chat_id", o.chat_id}, {"text", o.text}};
      if (!o.thread_ref.empty()) {
        b["reply_to_message_id"] = parse_int(o.thread_ref);
        b["allow_sending_without_reply"] = true;
      }
      return post_json(cfg.telegram_api + "/bot" + cfg.telegram_bot_token + "/sendMessage", b);
    }
    case Channel::kWhatsapp: {
      json::object b{{"messaging_product", "whatsapp"},
                     {"recipient_type", "individual"},
                     {"to", o.chat_id},
                     {"type", "text"},
                     {"text", json::object{{"preview_url", false}, {"body", o.text}}}};
      if (!o.thread_ref.empty()) b["context"] = json::object{{"message_id", o.thread_ref}};
      auto r = post_json(cfg.whatsapp_api + "/" + o.route + "/messages", b);
      r.headers.emplace_back("Authorization", "Bearer " + cfg.whatsapp_access_token);
      return r;
    }
    case Channel::kSlack: {
      json::object b{{"channel", o.chat_id}, {"text", o.text}};
      if (!o.thread_ref.empty()) b["thread_ts"] = o.thread_ref;
      auto r = post_json(cfg.slack_api + "/chat.postMessage", b);
      r.headers.back().second = "application/json; charset=utf-8";
      r.headers.emplace_back("Authorization", "Bearer " + cfg.slack_bot_token);
      return r;
    }
    case Channel::kWeb:
      break;  // never sent: the visitor fetches the reply
  }
  return {};
}

std::optional<core::ClientRequest> typing_request(const RouterConfig& cfg, const Inbound& m) {
  if (m.channel != Channel::kTelegram) return std::nullopt;
  return post_json(cfg.telegram_api + "/bot" + cfg.telegram_bot_token + "/sendChatAction",
                   json::object{{"chat_id", m.chat_id}, {"action", "typing"}});
}

SendOutcome read_send_result(Channel c, const core::ClientResult& r) {
  using Kind = SendOutcome::Kind;
  if (!r) return {Kind::kRetry, 0, "transport: " + r.error().message};
  const core::ClientResponse& res = *r;
  const json::value body = parse_body(res.body);
  const json::object* o = body.if_object();
  if (res.status == 429) {
    std::int64_t after = parse_int(res.header("Retry-After"));
    if (o != nullptr) {
      if (const auto* p = o->if_contains("parameters"); p != nullptr && p->is_object()) {
        if (const auto* ra = p->as_object().if_contains("retry_after"); ra && ra->is_int64()) {
          after = ra->as_int64();
        }
      }
    }
    return {Kind::kRateLimited, std::clamp<std::int64_t>(after, 1, 3600), "rate_limited (429)"};
  }
  if (res.status >= 500 || res.status == 408) {
    return {Kind::kRetry, 0, "channel answered " + std::to_string(res.status)};
  }
  if (res.status >= 400) {
    return {Kind::kRejected, 0, "channel refused: " + std::to_string(res.status)};
  }
  // Telegram and Slack say ok in the body; Slack answers 200 with ok:false on errors.
  if (c != Channel::kWhatsapp) {
    const auto* ok = o != nullptr ? o->if_contains("ok") : nullptr;
    if (ok == nullptr || !ok->is_bool() || !ok->as_bool()) {
      std::string err = "not ok";
      if (o != nullptr && o->contains("error") && o->at("error").is_string()) {
        err = std::string(o->at("error").as_string());
      }
      if (err == "ratelimited") return {Kind::kRateLimited, 1, "rate_limited"};
      return {Kind::kRejected, 0, "channel refused: " + core::to_valid_utf8(err)};
    }
  }
  return {Kind::kSent, 0, ""};
}

namespace {

void agent_headers(core::ClientRequest& r, const RouterConfig& cfg, const std::string& user,
                   const std::string& request_id) {
  r.headers.emplace_back("X-User-Id", user);
  r.headers.emplace_back("X-Request-Id", request_id);
  if (!cfg.agent_secret.empty()) r.headers.emplace_back("X-Service-Secret", cfg.agent_secret);
  r.headers.emplace_back("Accept", "application/json");
}

core::Expected<json::object> agent_answer(const core::ClientResult& r) {
  if (!r) return core::make_error(ErrorKind::kUpstream, "agent_failed", r.error().message);
  if (r->status >= 500 || r->status == 429) {
    auto e = core::make_error(ErrorKind::kUpstream, "agent_failed",
                              "the agent answered " + std::to_string(r->status));
    e.retry_after_s = parse_int(r->header("Retry-After"));
    return e;
  }
  if (r->status >= 400) {
    return core::make_error(ErrorKind::kUnprocessable, "agent_refused",
                            "the agent answered " + std::to_string(r->status));
  }
  json::value v = parse_body(r->body);
  if (!v.is_object()) {
    return core::make_error(ErrorKind::kUpstream, "agent_failed", "the agent's answer is not JSON");
  }
  return std::move(v.as_object());
}

}  // namespace

core::ClientRequest agent_create_conversation(const RouterConfig& cfg, const std::string& user,
                                              const std::string& title,
                                              const std::string& request_id) {
  json::object body;
  if (auto v = parse_body(cfg.conversation); v.is_object()) body = std::move(v.as_object());
  body["title"] = title;
  auto r = post_json(cfg.agent_url + "/api/chat/conversations", body);
  agent_headers(r, cfg, user, request_id);
  return r;
}

core::ClientRequest agent_post_message(const RouterConfig& cfg, const std::string& user,
                                       const std::string& conversation, const std::string& text,
                                       const std::string& request_id) {
  auto r = post_json(cfg.agent_url + "/api/chat/conversations/" + conversation + "/messages",
                     json::object{{"content", text}});
  agent_headers(r, cfg, user, request_id);
  return r;
}

core::Expected<std::string> read_conversation_id(const core::ClientResult& r) {
  auto o = agent_answer(r);
  if (!o) return o.error();
  const auto* id = o->if_contains("id");
  if (id == nullptr || !id->is_string() || id->as_string().empty()) {
    return core::make_error(ErrorKind::kUpstream, "agent_failed", "no conversation id");
  }
  return std::string(id->as_string());
}

core::Expected<std::string> read_reply(const core::ClientResult& r) {
  auto o = agent_answer(r);
  if (!o) return o.error();
  const auto* m = o->if_contains("message");
  const auto* content =
      m != nullptr && m->is_object() ? m->as_object().if_contains("content") : nullptr;
  if (content == nullptr || !content->is_string()) {
    return core::make_error(ErrorKind::kUpstream, "agent_failed", "no message content");
  }
  return std::string(content->as_string());
}

}  // namespace enkisys::router
