#include "enkisys/monitoring/login.hpp"

#include <boost/json.hpp>

#include "enkisys/core/http.hpp"
#include "enkisys/core/server.hpp"
#include "page.hpp"

namespace enkisys::monitoring {

namespace asio = boost::asio;
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

constexpr const char* kLoginCsp =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'";

core::Response html(const core::Request& req, http::status st, std::string body) {
  core::Response res{st, req.version()};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "same-origin");
  res.set("Content-Security-Policy", kLoginCsp);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

core::Response login_page(const core::Request& req, http::status st, std::string_view next,
                          std::string_view email, std::string_view error) {
  const auto prefix = safe_prefix(req["X-Forwarded-Prefix"]);
  std::string out;
  out.reserve(2048);
  out += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += "<title>Sign in - Enkisys status</title><base href=\"" + html_escape(prefix) + "/\">";
  out += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  out += "<link rel=\"stylesheet\" href=\"login/app.css\"></head><body>";
  out += "<h1>Enkisys status</h1><p>Sign in with an administrator account.</p>";
  if (!error.empty()) out += "<p class=\"error\" role=\"alert\">" + html_escape(error) + "</p>";
  out += "<form class=\"login\" method=\"post\" action=\"login\">";
  out += "<input type=\"hidden\" name=\"next\" value=\"" + html_escape(safe_next(next, prefix)) +
         "\">";
  out +=
      "<label>Email <input type=\"email\" name=\"email\" autocomplete=\"username\" required "
      "autofocus value=\"" +
      html_escape(email) + "\"></label>";
  out +=
      "<label>Password <input type=\"password\" name=\"password\" "
      "autocomplete=\"current-password\" required></label>";
  out += "<button type=\"submit\">Sign in</button></form></body></html>\n";
  return html(req, st, std::move(out));
}

// The page's own origin, as the browser saw it (through the gateway).
std::string own_origin(const core::Request& req) {
  std::string_view proto = req["X-Forwarded-Proto"];
  if (proto != "https") proto = "http";
  std::string_view host = req["X-Forwarded-Host"];
  if (host.empty()) host = req[http::field::host];
  return std::string(proto) + "://" + std::string(host);
}

// CSRF: a POST from the page itself carries its origin; anything else is refused.
void require_same_origin(const core::Request& req) {
  const std::string_view origin = req[http::field::origin];
  if (origin.empty() || origin != own_origin(req))
    throw core::ApiError(core::make_error(core::ErrorKind::kPermissionDenied, "cross_origin",
                                          "a sign-in form posts from its own origin"));
}

std::string cookie(const core::Request& req, std::string_view value, std::int64_t max_age) {
  const auto prefix = safe_prefix(req["X-Forwarded-Prefix"]);
  std::string c(kSessionCookie);
  c.append("=").append(value);
  c += "; HttpOnly; SameSite=Strict; Path=" + (prefix.empty() ? std::string("/") : prefix);
  c += "; Max-Age=" + std::to_string(max_age);
  if (req["X-Forwarded-Proto"] == "https") c += "; Secure";
  return c;
}

core::Response see_other(const core::Request& req, const std::string& location) {
  core::Response res{http::status::see_other, req.version()};
  res.set(http::field::location, location);
  res.set(http::field::cache_control, "no-store");
  res.prepare_payload();
  return res;
}

// A JWT as auth issues it: base64url segments and dots only (safe as a cookie value).
bool token_shaped(std::string_view t) {
  if (t.empty() || t.size() > 8192) return false;
  for (const char c : t) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

struct AuthAnswer {
  unsigned status = 0;  // 0 = no answer
  std::string token;
  std::int64_t expires_in = 0;
};

asio::awaitable<AuthAnswer> call_auth(core::HttpSender& http, std::string url, std::string email,
                                      std::string password, std::chrono::milliseconds timeout) {
  core::ClientRequest creq;
  creq.method = http::verb::post;
  creq.url = std::move(url) + "/api/auth/login";
  creq.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  creq.body = json::serialize(json::object{{"email", email}, {"password", password}});
  core::ClientOptions o;
  o.connect_timeout = timeout;
  o.timeout = timeout;
  o.max_response_bytes = 64 * 1024;
  auto r = co_await http.send(std::move(creq), o);
  AuthAnswer a;
  if (!r.ok()) co_return a;
  a.status = r.value().status;
  if (a.status != 200) co_return a;
  boost::system::error_code ec;
  const auto v = json::parse(r.value().body, ec);
  const auto* obj = ec ? nullptr : v.if_object();
  const auto* tok = obj ? obj->if_contains("access_token") : nullptr;
  const auto* exp = obj ? obj->if_contains("expires_in") : nullptr;
  if (!tok || !tok->is_string() || !token_shaped(tok->as_string()) || !exp || !exp->is_int64() ||
      exp->as_int64() <= 0) {
    a.status = 502;
    co_return a;
  }
  a.token = std::string(tok->as_string());
  a.expires_in = std::min<std::int64_t>(exp->as_int64(), 24 * 3600);
  co_return a;
}

}  // namespace

std::string safe_next(std::string_view next, std::string_view prefix) {
  std::string base(prefix);
  base += '/';
  const bool under = next.size() >= base.size() && next.compare(0, base.size(), base) == 0;
  if (!under || next.find("//") != std::string_view::npos) return base;
  for (const char c : next) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\' || u <= 0x20 || u >= 0x7f) return base;
  }
  return std::string(next);
}

void add_login_routes(core::Router& router, core::HttpSender& http, LoginOptions options) {
  auto o = std::make_shared<const LoginOptions>(std::move(options));
  core::HttpSender* h = &http;
  router.add(http::verb::get, "/login",
             [](core::Request& req, core::RequestContext& ctx) -> asio::awaitable<core::Response> {
               const auto q = core::parse_query(ctx.query());
               const auto it = q.find("next");
               co_return login_page(req, http::status::ok, it == q.end() ? "" : it->second, "", "");
             });
  router.add(http::verb::get, "/login/app.css",
             [](core::Request& req, core::RequestContext&) -> asio::awaitable<core::Response> {
               core::Response res{http::status::ok, req.version()};
               res.set(http::field::content_type, "text/css; charset=utf-8");
               res.set("X-Content-Type-Options", "nosniff");
               res.body() = std::string(app_css());
               res.prepare_payload();
               co_return res;
             });
  router.add(
      http::verb::post, "/login",
      [o, h](core::Request& req, core::RequestContext& ctx) -> asio::awaitable<core::Response> {
        require_same_origin(req);
        const std::string_view type = req[http::field::content_type];
        if (type.substr(0, type.find(';')) != "application/x-www-form-urlencoded")
          throw core::ApiError(core::make_error(core::ErrorKind::kUnsupportedMediaType,
                                                "unsupported_media_type",
                                                "a form (application/x-www-form-urlencoded)"));
        const auto form = core::parse_query(req.body());
        auto field = [&form](const char* name) {
          const auto it = form.find(name);
          return it == form.end() ? std::string() : it->second;
        };
        const std::string email = field("email"), password = field("password");
        const std::string next = safe_next(field("next"), safe_prefix(req["X-Forwarded-Prefix"]));
        if (email.empty() || password.empty()) {
          co_return login_page(req, http::status::bad_request, next, email,
                               "Email and password are required.");
        }
        const std::string url = o->auth_url ? o->auth_url() : std::string();
        if (url.empty()) {
          co_return login_page(req, http::status::service_unavailable, next, email,
                               "Sign-in is not available: no auth service is configured.");
        }
        const auto a = co_await call_auth(*h, url, email, password, o->timeout);
        if (a.status == 200) {
          ctx.log().info("signed in to the status page");
          auto res = see_other(req, next);
          res.set(http::field::set_cookie, cookie(req, a.token, a.expires_in));
          co_return res;
        }
        if (a.status == 401 || a.status == 403 || a.status == 400 || a.status == 422) {
          co_return login_page(req, http::status::unauthorized, next, email,
                               "Wrong email or password.");
        }
        if (a.status == 429) {
          co_return login_page(req, http::status::too_many_requests, next, email,
                               "Too many attempts: try again in a minute.");
        }
        ctx.log().warn("sign-in: auth did not answer", {{"status", std::to_string(a.status)}});
        co_return login_page(req, http::status::bad_gateway, next, email,
                             "Sign-in is unavailable right now: try again later.");
      });
  router.add(http::verb::post, "/logout",
             [](core::Request& req, core::RequestContext&) -> asio::awaitable<core::Response> {
               require_same_origin(req);
               auto res = see_other(req, safe_prefix(req["X-Forwarded-Prefix"]) + "/login");
               res.set(http::field::set_cookie, cookie(req, "", 0));
               co_return res;
             });
}

}  // namespace enkisys::monitoring
