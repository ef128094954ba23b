#include "enkisys/monitoring/api.hpp"

#include <boost/json.hpp>

#include "enkisys/core/http.hpp"
#include "enkisys/core/request.hpp"
#include "enkisys/core/server.hpp"
#include "page.hpp"

namespace enkisys::monitoring {

namespace asio = boost::asio;
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

core::Response text(const core::Request& req, std::string body, const char* type) {
  core::Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, type);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Content-Security-Policy", kCsp);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

bool is_admin(const core::Request& req) {
  std::string_view roles = req["X-User-Roles"];
  while (!roles.empty()) {
    const auto comma = roles.find(',');
    if (roles.substr(0, comma) == "admin") return true;
    if (comma == std::string_view::npos) break;
    roles.remove_prefix(comma + 1);
  }
  return false;
}

void require_admin(const core::Request& req) {
  if (!is_admin(req))
    throw core::ApiError(core::make_error(core::ErrorKind::kPermissionDenied, "forbidden",
                                          "changing silences needs the admin role"));
}

}  // namespace

void add_routes(core::Router& router, Monitor& monitor) {
  Monitor* m = &monitor;
  router.add(http::verb::get, "/",
             [m](core::Request& req, core::RequestContext& ctx) -> asio::awaitable<core::Response> {
               auto status = co_await ctx.blocking([m] { return m->status(); });
               const auto base = safe_prefix(req["X-Forwarded-Prefix"]);
               co_return text(req, render_page(status, base), "text/html; charset=utf-8");
             });
  router.add(http::verb::get, "/app.js",
             [](core::Request& req, core::RequestContext&) -> asio::awaitable<core::Response> {
               co_return text(req, std::string(app_js()), "text/javascript; charset=utf-8");
             });
  router.add(http::verb::get, "/app.css",
             [](core::Request& req, core::RequestContext&) -> asio::awaitable<core::Response> {
               co_return text(req, std::string(app_css()), "text/css; charset=utf-8");
             });
  router.add(http::verb::get, "/api/status",
             [m](core::Request& req, core::RequestContext& ctx) -> asio::awaitable<core::Response> {
               auto status = co_await ctx.blocking([m] { return m->status(); });
               co_return core::json_response(http::status::ok, status, req.version());
             });
  router.add(http::verb::get, "/federate",
             [m](core::Request& req, core::RequestContext&) -> asio::awaitable<core::Response> {
               co_return text(req, m->federate(), "text/plain; version=0.0.4; charset=utf-8");
             });
  router.add(http::verb::get, "/api/silences",
             [m](core::Request& req, core::RequestContext& ctx) -> asio::awaitable<core::Response> {
               auto list = co_await ctx.blocking([m] { return m->silences(); });
               co_return core::json_response(http::status::ok, json::object{{"silences", list}},
                                             req.version());
             });
  router.add(http::verb::put, "/api/silences/{stage}",
             [m](core::Request& req, core::RequestContext& ctx) -> asio::awaitable<core::Response> {
               require_admin(req);
               const auto body = core::parse_json_object(req);
               const auto* minutes = body.if_contains("minutes");
               if (!minutes || !minutes->is_int64())
                 throw core::ApiError(
                     core::make_error(core::ErrorKind::kInvalidArgument, "invalid_minutes",
                                      "minutes: an integer is required", "minutes"));
               std::string reason;
               if (const auto* r = body.if_contains("reason")) {
                 if (!r->is_string())
                   throw core::ApiError(core::make_error(core::ErrorKind::kInvalidArgument,
                                                         "invalid_reason",
                                                         "reason: a string is required", "reason"));
                 reason = std::string(r->as_string());
               }
               const std::string stage(ctx.param("stage"));
               const auto n = minutes->as_int64();
               const int mins = n < 0 || n > 1'000'000 ? -1 : static_cast<int>(n);
               co_await ctx.blocking([m, &stage, mins, &reason] {
                 core::value_or_throw(m->silence(stage, mins, reason));
                 return true;
               });
               auto list = co_await ctx.blocking([m] { return m->silences(); });
               co_return core::json_response(http::status::ok, json::object{{"silences", list}},
                                             req.version());
             });
  router.add(http::verb::delete_, "/api/silences/{stage}",
             [m](core::Request& req, core::RequestContext& ctx) -> asio::awaitable<core::Response> {
               require_admin(req);
               const std::string stage(ctx.param("stage"));
               co_await ctx.blocking([m, &stage] {
                 core::value_or_throw(m->unsilence(stage));
                 return true;
               });
               core::Response res{http::status::no_content, req.version()};
               res.prepare_payload();
               co_return res;
             });
}

}  // namespace enkisys::monitoring
