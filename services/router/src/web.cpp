#include "enkisys/router/web.hpp"

#include <boost/json.hpp>

#include "enkisys/core/request.hpp"
#include "enkisys/core/server.hpp"
#include "enkisys/core/utf8.hpp"
#include "enkisys/security/encoding.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::router {

namespace json = boost::json;
namespace http = core::http;
using boost::asio::awaitable;
using core::ErrorKind;

namespace {

void cors(core::Response& res, const std::string& origin) {
  res.set(http::field::access_control_allow_origin, origin);
  res.set(http::field::vary, "Origin");
}

bool valid_client_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_')) return false;
  }
  return true;
}

// The body of a widget request: a JSON object sent as application/json, or as text/plain so that
// the browser's request stays a CORS "simple request" (no preflight, which the gateway answers
// with its own stage policy). Throws ApiError 415 / 400.
json::object body_object(const core::Request& req) {
  const std::string_view type = req[http::field::content_type];
  if (!type.empty() && !type.starts_with("application/json") && !type.starts_with("text/plain")) {
    throw core::ApiError(core::make_error(ErrorKind::kUnsupportedMediaType,
                                          "unsupported_media_type",
                                          "send JSON (application/json or text/plain)"));
  }
  if (req.body().empty()) return {};
  boost::system::error_code ec;
  json::value v = json::parse(req.body(), ec);
  if (ec || !v.is_object()) {
    throw core::ApiError(core::make_error(ErrorKind::kInvalidArgument, "invalid_json",
                                          "the body is not a JSON object"));
  }
  return std::move(v.as_object());
}

// The visitor token: Authorization: Bearer (API clients) or "token" in the body (the widget).
std::string token_of(const core::Request& req, const json::object& body) {
  if (const auto bearer = core::bearer_token(req)) return std::string(*bearer);
  if (const auto* t = body.if_contains("token"); t != nullptr && t->is_string()) {
    return std::string(t->as_string());
  }
  throw core::ApiError(core::make_error(ErrorKind::kUnauthenticated, "unauthenticated",
                                        "a visitor token is required"));
}

}  // namespace

WebApi::WebApi(RouterStore& store, const RouterConfig& config, core::Clock& clock,
               WebOptions options)
    : store_(store), config_(config), clock_(clock), options_(options) {}

void WebApi::add_routes(core::Router& r) {
  const auto bind = [this](auto method) { return core::member_handler(this, method); };
  r.add(http::verb::get, "/channels/web/widget.js", bind(&WebApi::widget));
  r.add(http::verb::options, "/channels/web/{site}/sessions", bind(&WebApi::preflight));
  r.add(http::verb::options, "/channels/web/{site}/messages", bind(&WebApi::preflight));
  r.add(http::verb::post, "/channels/web/{site}/sessions", bind(&WebApi::create_session));
  r.add(http::verb::post, "/channels/web/{site}/messages", bind(&WebApi::post_message));
  r.add(http::verb::get, "/channels/web/{site}/messages", bind(&WebApi::list_messages));
  r.add(http::verb::post, "/channels/web/{site}/poll", bind(&WebApi::list_messages));
}

std::int64_t WebApi::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
      .count();
}

std::string WebApi::allowed_origin(const Request& req, std::string_view site) const {
  if (!config_.on(Channel::kWeb)) {
    throw core::ApiError(core::make_error(ErrorKind::kNotFound, "channel_disabled",
                                          "the web channel is not enabled on this stage"));
  }
  const auto it = config_.web_sites.find(site);
  if (it == config_.web_sites.end()) {
    throw core::ApiError(core::make_error(ErrorKind::kNotFound, "not_found", "no such site"));
  }
  std::string origin(req[http::field::origin]);
  for (const std::string& allowed : it->second) {
    if (!origin.empty() && origin == allowed) return origin;
  }
  throw core::ApiError(core::make_error(ErrorKind::kPermissionDenied, "origin_not_allowed",
                                        "this page's origin may not embed the site's chat"));
}

core::Status WebApi::admit(const std::string& key, int limit) {
  const std::int64_t minute = now_ms() / 60'000;
  std::lock_guard lock(mu_);
  if (windows_.size() > 100'000) windows_.clear();  // bounded memory; a new minute resets anyway
  auto& [window, count] = windows_[key];
  if (window != minute) {
    window = minute;
    count = 0;
  }
  if (++count > limit) {
    auto e = core::make_error(ErrorKind::kResourceExhausted, "rate_limited",
                              "too many requests; try again in a minute");
    e.retry_after_s = 60 - (now_ms() / 1000) % 60;
    return e;
  }
  return core::ok_status();
}

awaitable<core::Response> WebApi::widget(Request& req, Ctx&) {
  if (!config_.on(Channel::kWeb)) {
    throw core::ApiError(core::make_error(ErrorKind::kNotFound, "channel_disabled",
                                          "the web channel is not enabled on this stage"));
  }
  Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, "application/javascript; charset=utf-8");
  res.set(http::field::cache_control, "public, max-age=300");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Cross-Origin-Resource-Policy", "cross-origin");
  res.body() = std::string(widget_js());
  res.prepare_payload();
  co_return res;
}

awaitable<core::Response> WebApi::preflight(Request& req, Ctx& ctx) {
  const std::string origin = allowed_origin(req, ctx.param("site"));
  Response res{http::status::no_content, req.version()};
  cors(res, origin);
  res.set(http::field::access_control_allow_methods, "GET, POST");
  res.set(http::field::access_control_allow_headers, "Authorization, Content-Type");
  res.set(http::field::access_control_max_age, "600");
  res.prepare_payload();
  co_return res;
}

awaitable<core::Response> WebApi::create_session(Request& req, Ctx& ctx) {
  const std::string site(ctx.param("site"));
  const std::string origin = allowed_origin(req, site);
  Response res;
  if (auto st = admit("site:" + site, options_.site_per_min); !st) {
    res = core::error_response(st.error(), ctx.request_id());
  } else {
    const std::string token = security::random_token(32);
    const std::string hash = security::sha256_hex(token);
    const std::int64_t now = now_ms();
    const std::string visitor = co_await ctx.blocking(
        [this, &site, &hash, now] { return store_.create_visitor(site, hash, now); });
    res = core::json_response(http::status::created,
                              json::object{{"token", token}, {"visitor_id", visitor}});
  }
  cors(res, origin);
  co_return res;
}

awaitable<core::Response> WebApi::post_message(Request& req, Ctx& ctx) {
  const std::string site(ctx.param("site"));
  const std::string origin = allowed_origin(req, site);
  Response res;
  try {
    const json::object body = body_object(req);
    const std::string hash = security::sha256_hex(token_of(req, body));
    const auto visitor =
        co_await ctx.blocking([this, &site, &hash] { return store_.visitor(site, hash); });
    if (!visitor) {
      throw core::ApiError(core::make_error(ErrorKind::kUnauthenticated, "unauthenticated",
                                            "the visitor token is not valid for this site"));
    }
    const auto* text = body.if_contains("text");
    if (text == nullptr || !text->is_string() || text->as_string().empty()) {
      throw core::ApiError(core::make_error(ErrorKind::kInvalidArgument, "invalid_request",
                                            "text must be a non-empty string", "/text"));
    }
    if (text->as_string().size() > options_.max_text_bytes) {
      throw core::ApiError(core::make_error(ErrorKind::kPayloadTooLarge, "too_large",
                                            "the message is too long", "/text"));
    }
    std::string client_id = security::hex_encode(security::random_bytes(12));
    if (const auto* id = body.if_contains("id"); id != nullptr) {
      if (!id->is_string() || !valid_client_id(id->as_string())) {
        throw core::ApiError(core::make_error(ErrorKind::kInvalidArgument, "invalid_request",
                                              "id: 1-64 of [A-Za-z0-9_-]", "/id"));
      }
      client_id = std::string(id->as_string());
    }
    core::value_or_throw(admit("visitor:" + *visitor, options_.visitor_per_min));
    core::value_or_throw(admit("site:" + site, options_.site_per_min));
    Inbound m;
    m.channel = Channel::kWeb;
    m.chat_id = site + ":" + *visitor;
    m.dedupe_key = m.chat_id + ":" + client_id;  // a resent message (same id) is stored once
    m.sender = *visitor;
    m.text = core::to_valid_utf8(text->as_string());
    const std::int64_t now = now_ms();
    m.sent_at = now / 1000;
    const std::vector<Inbound> batch{m};
    const std::size_t added =
        co_await ctx.blocking([this, &batch, now] { return store_.accept(batch, now); });
    res = core::json_response(
        http::status::accepted,
        json::object{{"id", client_id}, {"status", added == 1 ? "queued" : "duplicate"}});
  } catch (const core::ApiError& e) {
    res = core::error_response(e, ctx.request_id());
  }
  cors(res, origin);
  co_return res;
}

awaitable<core::Response> WebApi::list_messages(Request& req, Ctx& ctx) {
  const std::string site(ctx.param("site"));
  const std::string origin = allowed_origin(req, site);
  Response res;
  try {
    // GET ?after= with a Bearer token, or POST .../poll {"token","after"} (the widget).
    const bool post = req.method() == http::verb::post;
    const json::object body = post ? body_object(req) : json::object();
    const std::string hash = security::sha256_hex(token_of(req, body));
    std::int64_t after = 0;
    if (post) {
      if (const auto* a = body.if_contains("after"); a != nullptr) {
        if (!a->is_int64() || a->as_int64() < 0) {
          throw core::ApiError(core::make_error(ErrorKind::kInvalidArgument, "invalid_request",
                                                "after: a non-negative integer", "/after"));
        }
        after = a->as_int64();
      }
    } else {
      after = core::query_int(core::parse_query(ctx.query()), "after", 0, 0, INT64_MAX);
    }
    const auto visitor =
        co_await ctx.blocking([this, &site, &hash] { return store_.visitor(site, hash); });
    if (!visitor) {
      throw core::ApiError(core::make_error(ErrorKind::kUnauthenticated, "unauthenticated",
                                            "the visitor token is not valid for this site"));
    }
    const std::string chat = site + ":" + *visitor;
    const auto lines = co_await ctx.blocking(
        [this, &chat, after] { return store_.web_messages(chat, after, 100); });
    json::array out;
    std::int64_t last = after;
    for (const WebMessage& w : lines) {
      out.push_back(
          json::object{{"id", w.id}, {"role", w.role}, {"text", w.text}, {"at_ms", w.at_ms}});
      last = std::max(last, w.at_ms);
    }
    res = core::json_response(http::status::ok,
                              json::object{{"messages", std::move(out)}, {"after", last}});
  } catch (const core::ApiError& e) {
    res = core::error_response(e, ctx.request_id());
  }
  cors(res, origin);
  co_return res;
}

}  // namespace enkisys::router
