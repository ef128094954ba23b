#include "enkisys/gateway/route_table.hpp"

#include <algorithm>

namespace enkisys::gateway {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

core::Expected<Target> make_target(const std::string& url_template, const StageConfig& st,
                                   const std::map<std::string, std::string>& vars,
                                   UpstreamRegistry& reg) {
  auto url = substitute(url_template, st.name, vars);
  if (!url.ok()) return config_error(url.error().message);
  auto parsed = parse_upstream_url(url.value());
  if (!parsed.ok()) return config_error(parsed.error().message + " ('" + url.value() + "')");
  Target t;
  t.upstream = reg.get(parsed->host, parsed->port);
  t.base_path = parsed->base_path;
  t.url = url.value();
  return t;
}

}  // namespace

bool CompiledCors::origin_allowed(std::string_view origin) const {
  if (!policy || origin.empty()) return false;
  if (any_origin) return true;
  for (const auto& o : policy->origins) {
    if (o == origin) return true;
  }
  return false;
}

const CompiledRoute* CompiledStage::match(std::string_view rest) const {
  for (const auto& r : routes) {
    if (r.prefix.size() == 1) return &r;  // "/" matches everything
    if (rest.size() >= r.prefix.size() && rest.compare(0, r.prefix.size(), r.prefix) == 0 &&
        (rest.size() == r.prefix.size() || rest[r.prefix.size()] == '/')) {
      return &r;
    }
  }
  return nullptr;
}

const CompiledStage* Generation::find_stage(std::string_view path, std::string_view* rest) const {
  // path starts with '/'; the stage is the first segment.
  const auto end = path.find('/', 1);
  const std::string_view name =
      path.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1);
  for (const auto& s : stages) {
    if (s.name == name) {
      *rest = end == std::string_view::npos ? std::string_view("/") : path.substr(end);
      return &s;
    }
  }
  return nullptr;
}

core::Expected<std::shared_ptr<const Generation>> compile(GatewayConfig config,
                                                          UpstreamRegistry& upstreams,
                                                          std::uint64_t number) {
  auto gen = std::make_shared<Generation>();
  gen->number = number;
  std::vector<core::Cidr> trusted;
  for (const auto& t : config.trusted_proxies) {
    auto n = core::Cidr::parse(t);
    if (!n) return config_error("trusted_proxies: '" + t + "' is not an address or CIDR network");
    trusted.push_back(*n);
  }
  gen->trusted = TrustedProxies(std::move(trusted));
  for (const auto& [name, pol] : config.rate_limits) gen->policies.emplace_back(name, pol);
  auto policy_index = [&](const std::string& name) {
    for (std::size_t i = 0; i < gen->policies.size(); ++i) {
      if (gen->policies[i].first == name) return static_cast<int>(i);
    }
    return -1;
  };
  int route_id = 0;
  for (const auto& st : config.stages) {
    CompiledStage cs;
    cs.name = st.name;
    cs.prefix = "/" + st.name;
    cs.config = st;
    cs.id = static_cast<int>(gen->stages.size());
    cs.canary_cookie = "enk_canary_" + st.name;
    for (const auto& n : st.rate_limits) cs.rate_limits.push_back(policy_index(n));
    auto jwt = stage_jwt(config.jwt, jwt_source(config.stages, st));
    if (!jwt.ok()) return config_error("stage '" + st.name + "': " + jwt.error().message);
    cs.jwt = std::move(jwt.value());
    if (!st.cors.empty()) {
      const auto it = config.cors.find(st.cors);
      if (it == config.cors.end())
        return config_error("stage '" + st.name + "': unknown cors policy");
      cs.cors.policy = &it->second;  // re-pointed below once config is moved into gen
      cs.cors.allow_methods = join(it->second.methods);
      cs.cors.allow_headers = join(it->second.headers);
      cs.cors.expose_headers = join(it->second.expose_headers);
      cs.cors.max_age = std::to_string(it->second.max_age_s);
      cs.cors.any_origin = std::find(it->second.origins.begin(), it->second.origins.end(), "*") !=
                           it->second.origins.end();
    }
    auto canary_vars = st.variables;
    for (const auto& [k, v] : st.canary_variables) canary_vars[k] = v;
    const auto& routes = st.routes.empty() ? config.routes : st.routes;
    for (const auto& rc : routes) {
      CompiledRoute r;
      r.prefix = rc.prefix;
      r.name = rc.name;
      r.jwt = rc.jwt;
      r.roles = rc.roles;
      r.jwt_cookie = rc.jwt_cookie;
      r.login_redirect = rc.login_redirect;
      r.strip_prefix = rc.strip_prefix && rc.prefix != "/";
      r.timeout = rc.timeout.value_or(config.limits.upstream_timeout);
      r.max_body_bytes = rc.max_body_bytes.value_or(config.limits.max_body_bytes);
      r.health_path = rc.health_path;
      for (const auto& n : rc.rate_limits) {
        const int idx = policy_index(n);
        if (idx < 0)
          return config_error("route '" + rc.prefix + "': unknown rate limit '" + n + "'");
        r.rate_limits.push_back(idx);
      }
      auto primary = make_target(rc.upstream, st, st.variables, upstreams);
      if (!primary.ok())
        return config_error("stage '" + st.name + "' route '" + rc.prefix +
                            "': " + primary.error().message);
      r.primary = std::move(primary.value());
      if (st.canary_percent > 0) {
        auto canary = make_target(rc.upstream, st, canary_vars, upstreams);
        if (!canary.ok())
          return config_error("stage '" + st.name + "' canary route '" + rc.prefix +
                              "': " + canary.error().message);
        r.canary = std::move(canary.value());
      }
      r.id = route_id++;
      cs.routes.push_back(std::move(r));
    }
    std::stable_sort(cs.routes.begin(), cs.routes.end(),
                     [](const CompiledRoute& a, const CompiledRoute& b) {
                       return a.prefix.size() > b.prefix.size();
                     });
    gen->stages.push_back(std::move(cs));
  }
  gen->config = std::move(config);
  for (auto& cs : gen->stages) {
    if (cs.cors.policy) cs.cors.policy = &gen->config.cors.at(cs.config.cors);
  }
  return std::shared_ptr<const Generation>(std::move(gen));
}

}  // namespace enkisys::gateway
