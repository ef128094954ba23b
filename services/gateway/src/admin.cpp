#include "enkisys/gateway/admin.hpp"

#include <boost/json.hpp>

#include "enkisys/core/http.hpp"
#include "enkisys/core/request.hpp"
#include "enkisys/core/server.hpp"
#include "enkisys/gateway/auth.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::gateway {

namespace json = boost::json;
using enkisys::core::ApiError;
using enkisys::core::Request;
using enkisys::core::RequestContext;
using enkisys::core::Response;
using http = enkisys::core::http::status;
namespace bhttp = boost::beast::http;

namespace {

void require_token(const Request& req, const AdminDeps& deps) {
  // The one bearer parser (one Authorization header only); the compare is constant-time.
  const auto token = enkisys::core::bearer_token(req);
  const bool ok =
      !deps.token.empty() && token && enkisys::security::constant_time_equal(*token, deps.token);
  if (!ok) throw ApiError(http::unauthorized, "unauthorized", "admin token required");
}

std::map<std::string, std::string> string_map(const json::value& v, const char* what) {
  if (!v.is_object())
    throw ApiError(http::bad_request, "invalid_request", std::string(what) + " must be an object");
  std::map<std::string, std::string> out;
  for (const auto& kv : v.as_object()) {
    if (!kv.value().is_string()) {
      throw ApiError(http::bad_request, "invalid_request",
                     std::string(what) + " values must be strings");
    }
    out[std::string(kv.key())] = std::string(kv.value().as_string());
  }
  return out;
}

StageConfig* find_stage(GatewayConfig& c, std::string_view name) {
  for (auto& s : c.stages) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

json::object upstream_health(const Upstream& up, Upstream::Clock::time_point now) {
  const char* active = "unknown";
  if (up.active() == Upstream::Active::kHealthy) active = "healthy";
  if (up.active() == Upstream::Active::kUnhealthy) active = "unhealthy";
  return json::object{{"active", active},
                      {"ejected", up.ejected(now)},
                      {"last_probe_status", up.last_probe_status()},
                      {"probes", up.probes()}};
}

json::object describe(const Generation& gen) {
  json::array stages;
  const auto now = Upstream::Clock::now();
  for (const auto& s : gen.stages) {
    json::object o;
    o["name"] = s.name;
    json::object vars;
    for (const auto& [k, v] : s.config.variables) vars[k] = v;
    o["variables"] = std::move(vars);
    o["paused"] = s.config.paused;
    if (!s.config.jwt_stage.empty()) o["jwt_stage"] = s.config.jwt_stage;
    if (s.config.canary_percent > 0) {
      json::object cv;
      for (const auto& [k, v] : s.config.canary_variables) cv[k] = v;
      o["canary"] =
          json::object{{"percent", s.config.canary_percent}, {"variables", std::move(cv)}};
    }
    json::array routes;
    for (const auto& r : s.routes) {
      json::object ro{{"prefix", r.prefix},
                      {"name", r.name},
                      {"jwt", r.jwt},
                      {"roles", json::value_from(r.roles)},
                      {"upstream", r.primary.url},
                      {"healthy", r.primary.upstream->healthy(now)},
                      {"health", upstream_health(*r.primary.upstream, now)},
                      {"consecutive_failures", r.primary.upstream->consecutive_failures()}};
      if (r.canary.upstream) {
        ro["canary_upstream"] = r.canary.url;
        ro["canary_healthy"] = r.canary.upstream->healthy(now);
        ro["canary_health"] = upstream_health(*r.canary.upstream, now);
      }
      routes.push_back(std::move(ro));
    }
    o["routes"] = std::move(routes);
    if (s.auth) {  // where this stage's token keys come from, and whether they arrived
      const auto st = s.auth->status();
      json::object jo{{"issuer", s.jwt.issuer}, {"audience", s.jwt.audience}};
      if (!st.url.empty()) {
        jo["jwks_url"] = st.url;
        jo["keys"] = st.keys;
        jo["fetches_ok"] = st.fetches_ok;
        jo["fetch_attempts"] = st.attempts;
        jo["last_error"] = st.last_error;
      }
      o["jwt"] = std::move(jo);
    }
    stages.push_back(std::move(o));
  }
  return json::object{{"generation", gen.number}, {"stages", std::move(stages)}};
}

// Applies a mutation to one stage; 404 for an unknown stage, 400 when the result is invalid.
Response mutate_stage(AdminDeps& deps, const Request& req, std::string_view stage,
                      const std::function<void(StageConfig&)>& fn) {
  bool found = true;
  auto err = deps.state.update([&](GatewayConfig& c) -> std::optional<std::string> {
    StageConfig* s = find_stage(c, stage);
    if (!s) {
      found = false;
      return std::string("unknown stage");
    }
    fn(*s);
    return std::nullopt;
  });
  if (!found) throw ApiError(http::not_found, "not_found", "unknown stage");
  if (err) throw ApiError(http::bad_request, "invalid_config", *err);
  deps.log.info("admin change applied",
                {{"stage", std::string(stage)}, {"target", std::string(req.target())}});
  return enkisys::core::json_response(http::ok, describe(*deps.state.current()), req.version(),
                                      req.keep_alive());
}

}  // namespace

void register_admin_routes(enkisys::core::Router& router, AdminDeps& deps) {
  using enkisys::core::http::verb;
  using Awaitable = boost::asio::awaitable<Response>;
  router.add(verb::get, "/health", [](Request& req, RequestContext&) -> Awaitable {
    co_return enkisys::core::json_response(
        http::ok,
        json::object{{"status", "ok"}, {"service", "gateway-admin"}, {"version", ENKISYS_VERSION}},
        req.version(), req.keep_alive());
  });
  router.add(verb::get, "/metrics", [&deps](Request& req, RequestContext&) -> Awaitable {
    Response res{http::ok, req.version()};
    res.set(bhttp::field::content_type, "text/plain; version=0.0.4");
    res.body() = deps.metrics.render();
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_return res;
  });
  router.add(verb::get, "/admin/stages", [&deps](Request& req, RequestContext&) -> Awaitable {
    require_token(req, deps);
    co_return enkisys::core::json_response(http::ok, describe(*deps.state.current()), req.version(),
                                           req.keep_alive());
  });
  router.add(verb::put, "/admin/stages/{stage}/variables",
             [&deps](Request& req, RequestContext& ctx) -> Awaitable {
               require_token(req, deps);
               const auto body = enkisys::core::parse_json_object(req);
               const auto it = body.find("variables");
               if (it == body.end())
                 throw ApiError(http::bad_request, "invalid_request", "body needs 'variables'");
               auto vars = string_map(it->value(), "variables");
               co_return mutate_stage(deps, req, ctx.param("stage"),
                                      [&](StageConfig& s) { s.variables = vars; });
             });
  router.add(verb::post, "/admin/stages/{stage}/pause",
             [&deps](Request& req, RequestContext& ctx) -> Awaitable {
               require_token(req, deps);
               co_return mutate_stage(deps, req, ctx.param("stage"),
                                      [](StageConfig& s) { s.paused = true; });
             });
  router.add(verb::post, "/admin/stages/{stage}/resume",
             [&deps](Request& req, RequestContext& ctx) -> Awaitable {
               require_token(req, deps);
               co_return mutate_stage(deps, req, ctx.param("stage"),
                                      [](StageConfig& s) { s.paused = false; });
             });
  router.add(verb::put, "/admin/stages/{stage}/canary",
             [&deps](Request& req, RequestContext& ctx) -> Awaitable {
               require_token(req, deps);
               const auto body = enkisys::core::parse_json_object(req);
               const auto p = body.find("percent");
               const auto v = body.find("variables");
               if (p == body.end() || !p->value().is_number() || v == body.end()) {
                 throw ApiError(http::bad_request, "invalid_request",
                                "body needs 'percent' (0-100) and 'variables'");
               }
               const double percent = p->value().to_number<double>();
               if (!(percent >= 0 && percent <= 100))
                 throw ApiError(http::bad_request, "invalid_request",
                                "percent must be in [0, 100]");
               auto vars = string_map(v->value(), "variables");
               co_return mutate_stage(deps, req, ctx.param("stage"), [&](StageConfig& s) {
                 s.canary_percent = percent;
                 s.canary_variables = vars;
               });
             });
  router.add(verb::post, "/admin/stages/{stage}/canary/promote",
             [&deps](Request& req, RequestContext& ctx) -> Awaitable {
               require_token(req, deps);
               co_return mutate_stage(deps, req, ctx.param("stage"), [](StageConfig& s) {
                 for (const auto& [k, val] : s.canary_variables) s.variables[k] = val;
                 s.canary_variables.clear();
                 s.canary_percent = 0;
               });
             });
  router.add(verb::delete_, "/admin/stages/{stage}/canary",
             [&deps](Request& req, RequestContext& ctx) -> Awaitable {
               require_token(req, deps);
               co_return mutate_stage(deps, req, ctx.param("stage"), [](StageConfig& s) {
                 s.canary_variables.clear();
                 s.canary_percent = 0;
               });
             });
  router.add(verb::post, "/admin/reload", [&deps](Request& req, RequestContext&) -> Awaitable {
    require_token(req, deps);
    if (!deps.reload)
      throw ApiError(http::conflict, "reload_unavailable", "no config file to reload");
    if (auto err = deps.reload()) throw ApiError(http::bad_request, "invalid_config", *err);
    co_return enkisys::core::json_response(
        http::ok,
        json::object{{"status", "reloaded"}, {"generation", deps.state.current()->number}},
        req.version(), req.keep_alive());
  });
}

}  // namespace enkisys::gateway
