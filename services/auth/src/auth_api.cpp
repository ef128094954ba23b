#include "enkisys/auth/auth_api.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "enkisys/auth/api_support.hpp"
#include "enkisys/core/request.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::auth {

namespace json = boost::json;
namespace http = core::http;
using boost::asio::awaitable;
using core::Request;
using core::RequestContext;
using core::Response;
using core::value_or_throw;

namespace {
using api::kMaxTokenBytes;
// How often the gateway should poll the revocation feed (the contract's poll_s).
constexpr std::int64_t kRevocationPollSeconds = 5;

json::object pair_json(const TokenPair& t) {
  return {{"access_token", t.access_token},
          {"refresh_token", t.refresh_token},
          {"token_type", "Bearer"},
          {"expires_in", t.expires_in}};
}
// The answer of login and refresh: the pair in JSON, or in web mode the refresh token only in
// its HttpOnly cookie.
Response pair_reply(const Request& req, const TokenPair& t, std::chrono::seconds refresh_ttl) {
  if (!api::web_client(req)) return api::no_store(http::status::ok, pair_json(t));
  json::object body = pair_json(t);
  body.erase("refresh_token");
  Response res = api::no_store(http::status::ok, body);
  res.set(http::field::set_cookie, api::refresh_cookie(req, t.refresh_token, refresh_ttl));
  return res;
}
// The refresh token of a refresh or logout request: the body's, or in web mode with an empty
// body the cookie's ("" when there is none).
std::string refresh_of(const Request& req) {
  if (req.body().empty() && api::web_client(req)) {
    return api::cookie_value(req, api::kRefreshCookie).value_or("");
  }
  if (req.body().empty()) return {};
  const json::object body = core::parse_json_object(req);
  api::only_fields(body, {"refresh_token"});
  return api::string_field(body, "refresh_token", kMaxTokenBytes, false).value_or("");
}
// If-None-Match matches `etag` (weak comparison, RFC 9110 §13.1.2).
bool none_match(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view tag = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}
}  // namespace

AuthApi::AuthApi(AuthService& service, core::MetricsRegistry& metrics,
                 std::chrono::seconds jwks_max_age)
    : service_(service),
      jwks_max_age_(jwks_max_age),
      logins_(metrics.counter("auth_logins_total", "Login attempts by outcome.", {"outcome"})),
      refreshes_(
          metrics.counter("auth_refreshes_total", "Refresh attempts by outcome.", {"outcome"})) {}

Caller AuthApi::caller(const Request& req, const RequestContext& ctx) const {
  return Caller{api::client_ip(req, ctx, service_.config().trust_proxy), ctx.request_id()};
}

awaitable<Principal> AuthApi::principal(Request& req, RequestContext& ctx, bool admin) {
  const auto bearer = core::bearer_token(req);
  if (!bearer) throw core::ApiError(errors::invalid_token("a Bearer access token is required"));
  const std::string token(*bearer);
  Principal p = co_await ctx.blocking(
      [this, &token] { return value_or_throw(service_.authenticate(token)); });
  if (admin && !p.has_role("admin")) throw core::ApiError(errors::forbidden("admin role required"));
  co_return p;
}

void AuthApi::require_gateway_secret(const Request& req) const {
  const std::string& secret = service_.config().introspect_token;
  if (secret.empty()) return;
  if (!security::constant_time_equal(core::bearer_token(req).value_or(""), secret)) {
    throw core::ApiError(
        errors::invalid_token("this route needs the bearer secret of AUTH_INTROSPECT_TOKEN_FILE"));
  }
}

std::pair<std::string, std::string> AuthApi::revocation_feed(const RevokedSessions& list) {
  json::array revoked;
  for (const auto& s : list.sessions)
    revoked.push_back(json::object{{"sid", s.sid}, {"exp", s.exp}});
  std::string listed = json::serialize(revoked);
  std::lock_guard lock(feed_mu_);
  if (listed != feed_list_ || feed_body_.empty()) {
    feed_etag_ = "\"" + security::sha256_hex(listed).substr(0, 32) + "\"";
    feed_body_ = json::serialize(json::object{{"revoked", std::move(revoked)},
                                              {"generated_at", list.generated_at},
                                              {"poll_s", kRevocationPollSeconds}});
    feed_list_ = std::move(listed);
  }
  return {feed_body_, feed_etag_};
}

void AuthApi::add_routes(core::Router& r) {
  api::add_route(r, http::verb::post, "/api/auth/signup",
                 [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
                   const api::Credentials creds = api::credentials_of(req);
                   const Caller who = caller(req, ctx);
                   const User user = co_await ctx.blocking([this, &creds, &who] {
                     return value_or_throw(service_.signup(creds.email, creds.password, who));
                   });
                   Response res = core::json_response(http::status::created, api::user_json(user));
                   res.set(http::field::location, "/api/auth/me");
                   co_return res;
                 });

  api::add_route(r, http::verb::post, "/api/auth/login",
                 [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
                   const api::Credentials creds = api::credentials_of(req);
                   const Caller who = caller(req, ctx);
                   const TokenPair tokens = co_await ctx.blocking([this, &creds, &who] {
                     auto out = service_.login(creds.email, creds.password, who);
                     const bool throttled = !out && out.error().code == "too_many_attempts";
                     logins_.with({out ? "ok" : (throttled ? "throttled" : "failed")}).inc();
                     return value_or_throw(std::move(out));
                   });
                   co_return pair_reply(req, tokens, service_.config().refresh_ttl);
                 });

  api::add_route(r, http::verb::post, "/api/auth/refresh",
                 [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
                   const bool from_cookie = req.body().empty() && api::web_client(req);
                   const std::string token =
                       from_cookie ? refresh_of(req) : api::refresh_token_of(req);
                   const Caller who = caller(req, ctx);
                   const TokenPair tokens = co_await ctx.blocking([this, &token, &who] {
                     auto out = service_.refresh(token, who);
                     refreshes_.with({out ? "ok" : "failed"}).inc();
                     return value_or_throw(std::move(out));
                   });
                   co_return pair_reply(req, tokens, service_.config().refresh_ttl);
                 });

  api::add_route(
      r, http::verb::post, "/api/auth/logout",
      [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
        const std::string refresh = refresh_of(req);
        std::optional<Principal> p;
        if (refresh.empty()) p = co_await principal(req, ctx, false);
        const Caller c = caller(req, ctx);
        co_await ctx.blocking(
            [this, &refresh, &p, &c] { service_.logout(refresh, p ? &*p : nullptr, c); });
        Response res{http::status::no_content, 11};
        if (api::web_client(req)) {
          res.set(http::field::set_cookie, api::refresh_cookie(req, "", std::chrono::seconds(0)));
        }
        co_return res;
      });

  api::add_route(r, http::verb::get, "/api/auth/me",
                 [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
                   const Principal p = co_await principal(req, ctx, false);
                   const User user =
                       co_await ctx.blocking([this, &p] { return value_or_throw(service_.me(p)); });
                   co_return api::no_store(http::status::ok, api::user_json(user));
                 });

  api::add_route(r, http::verb::post, "/api/auth/password",
                 [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
                   const api::PasswordChange change = api::password_change_of(req);
                   const Principal p = co_await principal(req, ctx, false);
                   const Caller who = caller(req, ctx);
                   co_await ctx.blocking([this, &p, &change, &who] {
                     const core::Status done =
                         service_.change_password(p, change.current, change.next, who);
                     value_or_throw(done);
                   });
                   co_return api::no_store(http::status::ok, json::object{{"changed", true}});
                 });

  api::add_route(r, http::verb::get, "/api/auth/.well-known/jwks.json",
                 [this](Request&, RequestContext& ctx) -> awaitable<Response> {
                   std::string doc = co_await ctx.blocking([this] { return service_.jwks(); });
                   Response res{http::status::ok, 11};
                   res.set(http::field::content_type, "application/json");
                   res.set(http::field::cache_control,
                           "public, max-age=" + std::to_string(jwks_max_age_.count()));
                   res.body() = std::move(doc);
                   res.prepare_payload();
                   co_return res;
                 });

  api::add_route(r, http::verb::post, "/api/auth/introspect",
                 [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
                   require_gateway_secret(req);
                   const json::object body = core::parse_json_object(req);
                   api::only_fields(body, {"token"});
                   const std::string token = *api::string_field(body, "token", kMaxTokenBytes);
                   const Introspection in =
                       co_await ctx.blocking([this, &token] { return service_.introspect(token); });
                   if (!in.active)
                     co_return api::no_store(http::status::ok, json::object{{"active", false}});
                   json::array roles, scopes;
                   for (const auto& x : in.roles) roles.emplace_back(x);
                   for (const auto& x : in.scopes) scopes.emplace_back(x);
                   json::object out{{"active", true},
                                    {"sub", in.sub},
                                    {"roles", std::move(roles)},
                                    {"scopes", std::move(scopes)},
                                    {"token_kind", in.kind}};
                   out["exp"] = in.exp ? json::value(*in.exp) : json::value(nullptr);
                   co_return api::no_store(http::status::ok, out);
                 });

  api::add_route(r, http::verb::get, "/api/auth/revocations",
                 [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
                   require_gateway_secret(req);
                   const RevokedSessions list =
                       co_await ctx.blocking([this] { return service_.revocations(); });
                   auto [body, etag] = revocation_feed(list);
                   const bool fresh = none_match(req[http::field::if_none_match], etag);
                   Response res{fresh ? http::status::not_modified : http::status::ok, 11};
                   res.set(http::field::etag, etag);
                   res.set(http::field::cache_control, "no-store");
                   if (!fresh) {
                     res.set(http::field::content_type, "application/json");
                     res.body() = std::move(body);
                   }
                   res.prepare_payload();
                   co_return res;
                 });

  add_admin_routes(r);
}

}  // namespace enkisys::auth
