// YAML → GatewayConfig. Every error names the line/column of the node it is about.
#include "enkisys/gateway/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "enkisys/core/config.hpp"
#include "enkisys/core/stage.hpp"
#include "enkisys/gateway/client_address.hpp"
#include "enkisys/gateway/upstream.hpp"
#include "enkisys/security/keys.hpp"

namespace enkisys::gateway {
namespace {

// Thrown inside the loader only; converted to a core::Error at the API boundary.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string where(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  if (m.line < 0) return "config";
  return "line " + std::to_string(m.line + 1) + ", col " + std::to_string(m.column + 1);
}
[[noreturn]] void fail(const YAML::Node& n, const std::string& what) {
  throw ConfigError(where(n) + ": " + what);
}

void check_keys(const YAML::Node& n, std::initializer_list<const char*> allowed) {
  if (!n.IsMap()) fail(n, "expected a mapping");
  for (const auto& kv : n) {
    const auto key = kv.first.as<std::string>();
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) fail(kv.first, "unknown key '" + key + "'");
  }
}

template <class T>
T scalar(const YAML::Node& n, const char* what) {
  if (!n.IsScalar()) fail(n, std::string(what) + ": expected a scalar");
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    fail(n, std::string(what) + ": invalid value '" + n.Scalar() + "'");
  }
}

std::int64_t positive(const YAML::Node& n, const char* what, std::int64_t lo = 1,
                      std::int64_t hi = 1LL << 40) {
  const auto v = scalar<std::int64_t>(n, what);
  if (v < lo || v > hi) {
    fail(n, std::string(what) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                "]");
  }
  return v;
}

std::vector<std::string> string_list(const YAML::Node& n, const char* what) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) fail(n, std::string(what) + ": expected a list");
  for (const auto& item : n) out.push_back(scalar<std::string>(item, what));
  return out;
}

std::map<std::string, std::string> string_map(const YAML::Node& n, const char* what) {
  std::map<std::string, std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsMap()) fail(n, std::string(what) + ": expected a mapping");
  for (const auto& kv : n) out[kv.first.as<std::string>()] = scalar<std::string>(kv.second, what);
  return out;
}

std::string read_secret(const YAML::Node& n, const std::string& base_dir) {
  std::string path = scalar<std::string>(n, "secret file");
  if (!path.empty() && path[0] != '/') path = base_dir + "/" + path;
  auto secret = core::read_secret_file("jwt.hs256_secret_file", path, 32);
  if (!secret.ok()) fail(n, secret.error().message + " (an HS256 secret needs at least 32 bytes)");
  return std::move(secret.value());
}

RouteConfig parse_route(const YAML::Node& n) {
  check_keys(n, {"prefix", "upstream", "jwt", "roles", "jwt_cookie", "login_redirect",
                 "strip_prefix", "timeout_ms", "max_body_bytes", "rate_limit", "health", "name"});
  RouteConfig r;
  r.line = n.Mark().line + 1;
  if (!n["prefix"]) fail(n, "route needs 'prefix'");
  if (!n["upstream"]) fail(n, "route needs 'upstream'");
  r.prefix = scalar<std::string>(n["prefix"], "prefix");
  if (r.prefix.empty() || r.prefix[0] != '/') fail(n["prefix"], "prefix must start with '/'");
  if (r.prefix.find("//") != std::string::npos || r.prefix.find("/.") != std::string::npos ||
      r.prefix.find('%') != std::string::npos) {
    fail(n["prefix"], "prefix must be a normalised path");
  }
  if (r.prefix.size() > 1 && r.prefix.back() == '/') r.prefix.pop_back();
  r.upstream = scalar<std::string>(n["upstream"], "upstream");
  if (r.upstream.rfind("http://", 0) != 0 && r.upstream.rfind("${", 0) != 0) {
    fail(n["upstream"], "upstream must be an http:// URL");
  }
  if (n["jwt"]) r.jwt = scalar<bool>(n["jwt"], "jwt");
  if (n["roles"]) {
    r.roles = string_list(n["roles"], "roles");
    if (r.roles.empty()) fail(n["roles"], "roles: expected at least one role");
    if (n["jwt"] && !r.jwt)
      fail(n["jwt"], "a route with roles needs jwt (omit jwt or set it true)");
    r.jwt = true;
  }
  if (n["jwt_cookie"]) {
    r.jwt_cookie = scalar<std::string>(n["jwt_cookie"], "jwt_cookie");
    const bool token =
        !r.jwt_cookie.empty() && std::all_of(r.jwt_cookie.begin(), r.jwt_cookie.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
        });
    if (!token) fail(n["jwt_cookie"], "jwt_cookie: a cookie name ([A-Za-z0-9_.-]+)");
    if (!r.jwt) fail(n["jwt_cookie"], "jwt_cookie needs jwt: true (or roles)");
  }
  if (n["login_redirect"]) {
    r.login_redirect = scalar<std::string>(n["login_redirect"], "login_redirect");
    const auto& p = r.login_redirect;
    if (p.size() < 2 || p[0] != '/' || p.find("//") != std::string::npos ||
        p.find("/.") != std::string::npos || p.find_first_of("\\?#%") != std::string::npos ||
        std::any_of(p.begin(), p.end(), [](char c) {
          return static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f;
        })) {
      fail(n["login_redirect"], "login_redirect: a normalised path of the stage (\"/login\")");
    }
    if (!r.jwt) fail(n["login_redirect"], "login_redirect needs jwt: true (or roles)");
  }
  if (n["strip_prefix"]) r.strip_prefix = scalar<bool>(n["strip_prefix"], "strip_prefix");
  if (n["timeout_ms"])
    r.timeout = std::chrono::milliseconds(positive(n["timeout_ms"], "timeout_ms"));
  if (n["max_body_bytes"]) {
    r.max_body_bytes = static_cast<std::size_t>(positive(n["max_body_bytes"], "max_body_bytes", 0));
  }
  if (n["rate_limit"]) r.rate_limits = string_list(n["rate_limit"], "rate_limit");
  if (n["health"])
    r.health_path = n["health"].IsNull() ? "" : scalar<std::string>(n["health"], "health");
  r.name = n["name"] ? scalar<std::string>(n["name"], "name") : r.prefix;
  return r;
}

std::vector<RouteConfig> parse_routes(const YAML::Node& n) {
  if (!n.IsSequence()) fail(n, "routes: expected a list");
  std::vector<RouteConfig> out;
  std::set<std::string> seen;
  for (const auto& item : n) {
    out.push_back(parse_route(item));
    if (!seen.insert(out.back().prefix).second) {
      fail(item, "duplicate route prefix '" + out.back().prefix + "'");
    }
  }
  return out;
}

GatewayConfig parse(const YAML::Node& root, const std::string& base_dir) {
  if (!root.IsMap()) fail(root, "top level must be a mapping");
  check_keys(root, {"limits", "health_checks", "jwt", "rate_limits", "cors", "routes", "stages",
                    "trusted_proxies"});
  GatewayConfig c;
  if (const auto h = root["health_checks"]) {
    check_keys(
        h, {"enabled", "interval_ms", "timeout_ms", "healthy_threshold", "unhealthy_threshold"});
    auto& H = c.health_checks;
    using ms = std::chrono::milliseconds;
    if (h["enabled"]) H.enabled = scalar<bool>(h["enabled"], "enabled");
    if (h["interval_ms"]) H.interval = ms(positive(h["interval_ms"], "interval_ms", 10));
    if (h["timeout_ms"]) H.timeout = ms(positive(h["timeout_ms"], "timeout_ms", 1));
    if (h["healthy_threshold"])
      H.healthy_threshold =
          static_cast<int>(positive(h["healthy_threshold"], "healthy_threshold", 1, 100));
    if (h["unhealthy_threshold"])
      H.unhealthy_threshold =
          static_cast<int>(positive(h["unhealthy_threshold"], "unhealthy_threshold", 1, 100));
  }
  if (const auto l = root["limits"]) {
    check_keys(l, {"max_header_bytes", "max_body_bytes", "header_timeout_ms", "body_timeout_ms",
                   "idle_timeout_ms", "upstream_connect_timeout_ms", "upstream_timeout_ms",
                   "upstream_idle_per_worker", "eject_after_failures", "eject_for_ms",
                   "max_connections_per_ip", "body_buffer_bytes"});
    using ms = std::chrono::milliseconds;
    auto& L = c.limits;
    if (l["max_header_bytes"])
      L.max_header_bytes = positive(l["max_header_bytes"], "max_header_bytes", 1024);
    if (l["max_body_bytes"]) L.max_body_bytes = positive(l["max_body_bytes"], "max_body_bytes", 0);
    if (l["header_timeout_ms"])
      L.header_timeout = ms(positive(l["header_timeout_ms"], "header_timeout_ms"));
    if (l["body_timeout_ms"])
      L.body_timeout = ms(positive(l["body_timeout_ms"], "body_timeout_ms"));
    if (l["idle_timeout_ms"])
      L.idle_timeout = ms(positive(l["idle_timeout_ms"], "idle_timeout_ms"));
    if (l["upstream_connect_timeout_ms"]) {
      L.upstream_connect_timeout =
          ms(positive(l["upstream_connect_timeout_ms"], "upstream_connect_timeout_ms"));
    }
    if (l["upstream_timeout_ms"])
      L.upstream_timeout = ms(positive(l["upstream_timeout_ms"], "upstream_timeout_ms"));
    if (l["upstream_idle_per_worker"]) {
      L.upstream_idle_per_worker =
          positive(l["upstream_idle_per_worker"], "upstream_idle_per_worker", 0);
    }
    if (l["eject_after_failures"])
      L.eject_after_failures =
          static_cast<int>(positive(l["eject_after_failures"], "eject_after_failures", 1, 1000));
    if (l["eject_for_ms"]) L.eject_for = ms(positive(l["eject_for_ms"], "eject_for_ms"));
    if (l["max_connections_per_ip"]) {
      L.max_connections_per_ip =
          positive(l["max_connections_per_ip"], "max_connections_per_ip", 0, 1'000'000);
    }
    if (l["body_buffer_bytes"])
      L.body_buffer_bytes = positive(l["body_buffer_bytes"], "body_buffer_bytes", 1024);
  }
  if (const auto j = root["jwt"]) {
    check_keys(j,
               {"hs256_secret_file", "jwks_url", "issuer", "audience", "leeway_s", "cache_entries",
                "cache_ttl_s", "jwks_refetch_min_s", "jwks_refresh_s", "jwks_retry_min_ms",
                "revocations_url", "revocation_poll_s", "revocations_token_file"});
    c.jwt.enabled = true;
    if (j["hs256_secret_file"]) {
      c.jwt.hs256_secret = read_secret(j["hs256_secret_file"], base_dir);
      if (auto k = security::VerifyKey::from_secret(c.jwt.hs256_secret, "hs256"); !k.ok())
        fail(j["hs256_secret_file"], "hs256_secret_file: " + k.error());
    }
    if (j["jwks_url"]) c.jwt.jwks_url = scalar<std::string>(j["jwks_url"], "jwks_url");
    if (c.jwt.hs256_secret.empty() && c.jwt.jwks_url.empty()) {
      fail(j, "jwt needs hs256_secret_file or jwks_url");
    }
    if (j["issuer"]) c.jwt.issuer = scalar<std::string>(j["issuer"], "issuer");
    if (j["audience"]) c.jwt.audience = scalar<std::string>(j["audience"], "audience");
    if (j["leeway_s"])
      c.jwt.leeway = std::chrono::seconds(positive(j["leeway_s"], "leeway_s", 0, 3600));
    if (j["cache_entries"]) c.jwt.cache_entries = positive(j["cache_entries"], "cache_entries", 0);
    if (j["cache_ttl_s"])
      c.jwt.cache_ttl = std::chrono::seconds(positive(j["cache_ttl_s"], "cache_ttl_s"));
    if (j["jwks_refetch_min_s"])
      c.jwt.jwks_refetch_min =
          std::chrono::seconds(positive(j["jwks_refetch_min_s"], "jwks_refetch_min_s", 1, 86400));
    if (j["jwks_refresh_s"])
      c.jwt.jwks_refresh =
          std::chrono::seconds(positive(j["jwks_refresh_s"], "jwks_refresh_s", 1, 86400));
    if (j["revocations_url"])
      c.jwt.revocations_url = scalar<std::string>(j["revocations_url"], "revocations_url");
    if (j["revocation_poll_s"]) {
      c.jwt.revocation_poll =
          std::chrono::seconds(positive(j["revocation_poll_s"], "revocation_poll_s", 1, 3600));
    }
    if (j["revocations_token_file"]) {
      std::string path = scalar<std::string>(j["revocations_token_file"], "secret file");
      if (!path.empty() && path[0] != '/') path = base_dir + "/" + path;
      c.jwt.revocations_token_file = std::move(path);  // read per stage (stage_jwt)
    }
    if (j["jwks_retry_min_ms"])
      c.jwt.jwks_retry_min = std::chrono::milliseconds(
          positive(j["jwks_retry_min_ms"], "jwks_retry_min_ms", 0, 60000));
  }
  if (const auto rl = root["rate_limits"]) {
    if (!rl.IsMap()) fail(rl, "rate_limits: expected a mapping of named policies");
    for (const auto& kv : rl) {
      const auto& p = kv.second;
      check_keys(p, {"per", "rate_per_s", "burst"});
      RateLimitPolicy pol;
      const std::string per = p["per"] ? scalar<std::string>(p["per"], "per") : "ip";
      if (per == "ip")
        pol.key = RateLimitPolicy::Key::kClientIp;
      else if (per == "api_key")
        pol.key = RateLimitPolicy::Key::kApiKey;
      else
        fail(p["per"], "per must be 'ip' or 'api_key'");
      if (!p["rate_per_s"]) fail(p, "rate limit needs rate_per_s");
      pol.rate_per_s = scalar<double>(p["rate_per_s"], "rate_per_s");
      pol.burst = p["burst"] ? scalar<double>(p["burst"], "burst") : pol.rate_per_s;
      if (!(pol.rate_per_s > 0) || !(pol.burst >= 1))
        fail(p, "rate_per_s must be > 0 and burst >= 1");
      c.rate_limits[kv.first.as<std::string>()] = pol;
    }
  }
  if (const auto co = root["cors"]) {
    if (!co.IsMap()) fail(co, "cors: expected a mapping of named policies");
    for (const auto& kv : co) {
      const auto& p = kv.second;
      check_keys(p,
                 {"origins", "methods", "headers", "expose_headers", "max_age_s", "credentials"});
      CorsPolicy pol;
      if (!p["origins"]) fail(p, "cors policy needs origins");
      pol.origins = string_list(p["origins"], "origins");
      if (p["methods"]) pol.methods = string_list(p["methods"], "methods");
      if (p["headers"]) pol.headers = string_list(p["headers"], "headers");
      if (p["expose_headers"])
        pol.expose_headers = string_list(p["expose_headers"], "expose_headers");
      if (p["max_age_s"])
        pol.max_age_s = static_cast<int>(positive(p["max_age_s"], "max_age_s", 0, 86400));
      if (p["credentials"]) pol.credentials = scalar<bool>(p["credentials"], "credentials");
      for (auto& h : pol.headers)
        for (auto& ch : h) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      c.cors[kv.first.as<std::string>()] = pol;
    }
  }
  if (root["routes"]) c.routes = parse_routes(root["routes"]);
  if (const auto tp = root["trusted_proxies"]) {
    c.trusted_proxies = string_list(tp, "trusted_proxies");
    for (const auto& t : c.trusted_proxies) {
      if (!core::Cidr::parse(t))
        fail(tp, "trusted_proxies: '" + t + "' is not an address or CIDR network");
    }
  }
  const auto st = root["stages"];
  if (!st || !st.IsMap() || st.size() == 0)
    fail(st ? st : root, "'stages' must be a non-empty mapping");
  auto check_policies = [&](const YAML::Node& n, const std::vector<std::string>& names) {
    for (const auto& name : names) {
      if (!c.rate_limits.count(name)) fail(n, "unknown rate limit policy '" + name + "'");
    }
  };
  for (const auto& r : c.routes) {
    for (const auto& name : r.rate_limits) {
      if (!c.rate_limits.count(name))
        throw ConfigError("line " + std::to_string(r.line) + ": unknown rate limit policy '" +
                          name + "'");
    }
  }
  for (const auto& kv : st) {
    const auto& s = kv.second;
    StageConfig stage;
    stage.name = kv.first.as<std::string>();
    stage.line = kv.first.Mark().line + 1;
    if (!core::valid_stage_name(stage.name))
      fail(kv.first,
           "invalid stage name '" + stage.name + "' (" + std::string(core::kStageNameRule) + ")");
    if (!s.IsNull()) {
      check_keys(s, {"variables", "routes", "cors", "rate_limit", "paused", "canary", "jwt_stage"});
      if (s["jwt_stage"]) stage.jwt_stage = scalar<std::string>(s["jwt_stage"], "jwt_stage");
      if (s["variables"]) stage.variables = string_map(s["variables"], "variables");
      if (s["routes"]) stage.routes = parse_routes(s["routes"]);
      if (s["cors"]) {
        stage.cors = scalar<std::string>(s["cors"], "cors");
        if (!c.cors.count(stage.cors)) fail(s["cors"], "unknown cors policy '" + stage.cors + "'");
      }
      if (s["rate_limit"]) {
        stage.rate_limits = string_list(s["rate_limit"], "rate_limit");
        check_policies(s["rate_limit"], stage.rate_limits);
      }
      if (s["paused"]) stage.paused = scalar<bool>(s["paused"], "paused");
      if (const auto cn = s["canary"]) {
        check_keys(cn, {"percent", "variables"});
        stage.canary_percent = cn["percent"] ? scalar<double>(cn["percent"], "percent") : 0;
        if (stage.canary_percent < 0 || stage.canary_percent > 100)
          fail(cn["percent"], "percent must be in [0, 100]");
        if (cn["variables"]) stage.canary_variables = string_map(cn["variables"], "variables");
      }
      if (s["routes"]) {
        std::size_t i = 0;
        for (const auto& rn : s["routes"]) check_policies(rn, stage.routes[i++].rate_limits);
      }
    }
    const auto& routes = stage.routes.empty() ? c.routes : stage.routes;
    if (routes.empty())
      fail(kv.first, "stage '" + stage.name + "' has no routes (and no top-level routes)");
    for (const auto& r : routes) {
      if (r.max_body_bytes.value_or(c.limits.max_body_bytes) > c.limits.body_buffer_bytes) {
        throw ConfigError("line " + std::to_string(r.line) +
                          ": max_body_bytes is above limits.body_buffer_bytes (such a body could "
                          "never be held)");
      }
      if (r.jwt && !c.jwt.enabled)
        throw ConfigError("line " + std::to_string(r.line) +
                          ": route requires jwt but no 'jwt' section is configured");
      auto vars = stage.variables;
      for (const auto& [k, v] : stage.canary_variables) vars[k] = v;
      auto sub = substitute(r.upstream, stage.name, stage.variables);
      if (!sub.ok())
        throw ConfigError("line " + std::to_string(r.line) + ": stage '" + stage.name +
                          "': " + sub.error().message);
      if (auto u = parse_upstream_url(sub.value()); !u.ok()) {
        throw ConfigError("line " + std::to_string(r.line) + ": stage '" + stage.name +
                          "': " + u.error().message + " ('" + sub.value() + "')");
      }
      if (stage.canary_percent > 0) {
        auto sub2 = substitute(r.upstream, stage.name, vars);
        if (!sub2.ok())
          throw ConfigError("line " + std::to_string(r.line) + ": stage '" + stage.name +
                            "' canary: " + sub2.error().message);
      }
    }
    c.stages.push_back(std::move(stage));
  }
  for (const auto& stage : c.stages) {
    const auto at = "line " + std::to_string(stage.line) + ": stage '" + stage.name + "': ";
    if (!stage.jwt_stage.empty()) {
      const auto it = std::find_if(c.stages.begin(), c.stages.end(),
                                   [&](const StageConfig& o) { return o.name == stage.jwt_stage; });
      if (it == c.stages.end())
        throw ConfigError(at + "jwt_stage '" + stage.jwt_stage + "' is no stage");
      if (!it->jwt_stage.empty() || it->name == stage.name)
        throw ConfigError(at + "jwt_stage '" + stage.jwt_stage + "' borrows itself");
    }
    if (auto j = stage_jwt(c.jwt, jwt_source(c.stages, stage)); !j.ok())
      throw ConfigError(at + j.error().message);
  }
  return c;
}

}  // namespace

core::Expected<std::string> substitute(const std::string& text, const std::string& stage,
                                       const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(text.size() + 16);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find("${", i);
    if (open == std::string::npos) {
      out.append(text, i, std::string::npos);
      break;
    }
    out.append(text, i, open - i);
    const auto close = text.find('}', open);
    if (close == std::string::npos) return config_error("unterminated '${' in '" + text + "'");
    const std::string name = text.substr(open + 2, close - open - 2);
    if (name == "stage") {
      out += stage;
    } else if (auto it = vars.find(name); it != vars.end()) {
      out += it->second;
    } else {
      return config_error("unknown variable '${" + name + "}' in '" + text + "'");
    }
    i = close + 1;
  }
  return out;
}

core::Expected<GatewayConfig> load_config_text(const std::string& yaml,
                                               const std::string& base_dir) {
  try {
    return parse(YAML::Load(yaml), base_dir);
  } catch (const ConfigError& e) {
    return config_error(e.what());
  } catch (const YAML::Exception& e) {
    return config_error(e.what());  // includes "yaml-cpp: error at line N, column M"
  }
}

core::Expected<GatewayConfig> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return config_error("cannot read config file '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  auto r = load_config_text(ss.str(), dir.empty() ? "/" : dir);
  if (!r.ok()) return config_error(path + ": " + r.error().message);
  return r;
}

const StageConfig& jwt_source(const std::vector<StageConfig>& stages, const StageConfig& st) {
  if (st.jwt_stage.empty()) return st;
  for (const auto& o : stages) {
    if (o.name == st.jwt_stage) return o;
  }
  return st;
}

core::Expected<JwtConfig> stage_jwt(const JwtConfig& base, const StageConfig& st) {
  JwtConfig j = base;
  if (!j.enabled) return j;
  const std::pair<const char*, std::string*> fields[] = {
      {"jwks_url", &j.jwks_url},
      {"revocations_url", &j.revocations_url},
      {"revocations_token_file", &j.revocations_token_file},
      {"issuer", &j.issuer},
      {"audience", &j.audience}};
  for (const auto& [field, value] : fields) {
    auto v = substitute(*value, st.name, st.variables);
    if (!v.ok()) return config_error(std::string("jwt.") + field + ": " + v.error().message);
    *value = std::move(v.value());
  }
  if (!j.jwks_url.empty()) {
    auto u = parse_upstream_url(j.jwks_url);
    if (!u.ok())
      return config_error("jwt.jwks_url: " + u.error().message + " ('" + j.jwks_url + "')");
  }
  if (!j.revocations_url.empty()) {
    auto u = parse_upstream_url(j.revocations_url);
    if (!u.ok()) {
      return config_error("jwt.revocations_url: " + u.error().message + " ('" + j.revocations_url +
                          "')");
    }
  }
  return j;
}

}  // namespace enkisys::gateway
