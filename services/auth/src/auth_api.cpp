#include "enkisys/auth/auth_api.hpp"

#include <boost/json/array.hpp>

#include "enkisys/auth/api_support.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::auth {

namespace json = boost::json;
namespace http = core::http;
using boost::asio::awaitable;
using core::Request;
using core::RequestContext;
using core::Response;

namespace {
constexpr std::size_t kMaxEmail = 320, kMaxPassword = 1024, kMaxToken = 8192;

json::object pair_json(const TokenPair& t) {
  return {{"access_token", t.access_token},
          {"refresh_token", t.refresh_token},
          {"token_type", "Bearer"},
          {"expires_in", t.expires_in}};
}
// The {"email", "password"} body of signup and login (400 on anything else).
struct Credentials {
  std::string email;
  std::string password;
};
Credentials credentials_of(const Request& req) {
  const json::object body = core::parse_json_object(req);
  api::only_fields(body, {"email", "password"});
  return {*api::string_field(body, "email", kMaxEmail),
          *api::string_field(body, "password", kMaxPassword)};
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

awaitable<AuthResult<Principal>> AuthApi::principal(Request& req, RequestContext& ctx, bool admin) {
  const std::string token = api::bearer_token(req);
  if (token.empty()) {
    co_return security::unexpected(
        AuthError{AuthError::kInvalidToken, "a Bearer access token is required", 0});
  }
  auto p = co_await ctx.blocking([this, &token] { return service_.authenticate(token); });
  if (p && admin && !p->has_role("admin")) {
    co_return security::unexpected(AuthError{AuthError::kForbidden, "admin role required", 0});
  }
  co_return p;
}

void AuthApi::add_routes(core::Router& r) {
  r.add(http::verb::post, "/api/auth/signup",
        [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
          const Credentials creds = credentials_of(req);
          const Caller who = caller(req, ctx);
          auto user = co_await ctx.blocking(
              [this, &creds, &who] { return service_.signup(creds.email, creds.password, who); });
          if (!user) co_return api::error_reply(user.error(), ctx);
          Response res = core::json_response(http::status::created, api::user_json(*user));
          res.set(http::field::location, "/api/auth/me");
          co_return res;
        });

  r.add(http::verb::post, "/api/auth/login",
        [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
          const Credentials creds = credentials_of(req);
          const Caller who = caller(req, ctx);
          auto tokens = co_await ctx.blocking(
              [this, &creds, &who] { return service_.login(creds.email, creds.password, who); });
          if (!tokens) {
            logins_.with({tokens.error().kind == AuthError::kThrottled ? "throttled" : "failed"})
                .inc();
            co_return api::error_reply(tokens.error(), ctx);
          }
          logins_.with({"ok"}).inc();
          co_return api::no_store(http::status::ok, pair_json(*tokens));
        });

  r.add(http::verb::post, "/api/auth/refresh",
        [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
          const json::object body = core::parse_json_object(req);
          api::only_fields(body, {"refresh_token"});
          const std::string token = *api::string_field(body, "refresh_token", kMaxToken);
          const Caller who = caller(req, ctx);
          auto tokens =
              co_await ctx.blocking([this, &token, &who] { return service_.refresh(token, who); });
          refreshes_.with({tokens ? "ok" : "failed"}).inc();
          if (!tokens) co_return api::error_reply(tokens.error(), ctx);
          co_return api::no_store(http::status::ok, pair_json(*tokens));
        });

  r.add(http::verb::post, "/api/auth/logout",
        [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
          std::string refresh;
          if (!req.body().empty()) {
            const json::object body = core::parse_json_object(req);
            api::only_fields(body, {"refresh_token"});
            refresh = api::string_field(body, "refresh_token", kMaxToken, false).value_or("");
          }
          std::optional<Principal> p;
          if (refresh.empty()) {
            auto who = co_await principal(req, ctx, false);
            if (!who) co_return api::error_reply(who.error(), ctx);
            p = *who;
          }
          const Caller c = caller(req, ctx);
          co_await ctx.blocking([this, &refresh, &p, &c] {
            service_.logout(refresh, p ? &*p : nullptr, c);
            return true;
          });
          co_return Response{http::status::no_content, 11};
        });

  r.add(http::verb::get, "/api/auth/me",
        [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
          auto p = co_await principal(req, ctx, false);
          if (!p) co_return api::error_reply(p.error(), ctx);
          auto user = co_await ctx.blocking([this, &p] { return service_.me(*p); });
          if (!user) co_return api::error_reply(user.error(), ctx);
          co_return api::no_store(http::status::ok, api::user_json(*user));
        });

  r.add(http::verb::post, "/api/auth/password",
        [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
          const json::object body = core::parse_json_object(req);
          api::only_fields(body, {"current_password", "new_password"});
          const std::string current = *api::string_field(body, "current_password", kMaxPassword);
          const std::string next = *api::string_field(body, "new_password", kMaxPassword);
          auto p = co_await principal(req, ctx, false);
          if (!p) co_return api::error_reply(p.error(), ctx);
          const Caller who = caller(req, ctx);
          auto done = co_await ctx.blocking([this, &p, &current, &next, &who] {
            return service_.change_password(*p, current, next, who);
          });
          if (!done) co_return api::error_reply(done.error(), ctx);
          co_return api::no_store(http::status::ok, json::object{{"changed", true}});
        });

  r.add(http::verb::get, "/api/auth/.well-known/jwks.json",
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

  r.add(http::verb::post, "/api/auth/introspect",
        [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
          const std::string& secret = service_.config().introspect_token;
          if (!secret.empty() && !security::constant_time_equal(api::bearer_token(req), secret)) {
            co_return api::error_reply(
                AuthError{AuthError::kInvalidToken,
                          "introspection needs the bearer secret of AUTH_INTROSPECT_TOKEN_FILE", 0},
                ctx);
          }
          const json::object body = core::parse_json_object(req);
          api::only_fields(body, {"token"});
          const std::string token = *api::string_field(body, "token", kMaxToken);
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

  add_admin_routes(r);
}

}  // namespace enkisys::auth
