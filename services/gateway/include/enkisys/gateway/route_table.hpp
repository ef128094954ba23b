// The compiled, immutable form of a configuration ("generation"): stages with their routes,
// upstream URLs substituted, CORS header values and policy pointers precomputed, so that the
// per-request work is a few string compares.
//
// Contract:
//  * compile() never throws; errors name the stage and route.
//  * A Generation is immutable after compile() and shared (shared_ptr<const Generation>) by
//    every connection that started a request under it; reload builds a new one.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/gateway/client_address.hpp"
#include "enkisys/gateway/config.hpp"
#include "enkisys/gateway/upstream.hpp"

namespace enkisys::gateway {

struct RouteMetrics;  // telemetry.hpp
class Authenticator;  // auth.hpp

struct Target {  // where a route sends traffic (primary or canary variable set)
  std::shared_ptr<Upstream> upstream;
  std::string base_path;  // prepended to the forwarded path
  std::string url;        // substituted URL, for logs and admin
};

struct CompiledRoute {
  std::string prefix;  // relative to the stage, no trailing '/', "/" for catch-all
  std::string name;
  bool jwt = false;
  std::vector<std::string> roles;  // one of them required (403 otherwise); empty = no check
  std::string jwt_cookie;          // token cookie when there is no Authorization ("" = none)
  std::string login_redirect;      // stage path browsers are sent to on a 401 ("" = none)
  bool strip_prefix = false;
  std::chrono::milliseconds timeout{30'000};
  std::size_t max_body_bytes = 0;
  std::vector<int> rate_limits;  // indexes into Generation::policies
  std::string health_path;
  Target primary;
  Target canary;  // upstream null when the stage has no canary
  int id = 0;     // index in Generation::all_routes (for rate-limit scopes and metrics)
};

struct CompiledCors {
  const CorsPolicy* policy = nullptr;
  std::string allow_methods, allow_headers, expose_headers, max_age;
  bool any_origin = false;
  bool origin_allowed(std::string_view origin) const;
};

struct CompiledStage {
  std::string name;
  std::string prefix;  // "/name"
  StageConfig config;
  std::vector<CompiledRoute> routes;  // longest prefix first
  CompiledCors cors;                  // policy null = no CORS
  std::vector<int> rate_limits;
  std::string canary_cookie;  // "enk_canary_<stage>"
  int id = 0;
  JwtConfig jwt;  // the jwt section with this stage's variables substituted
  // This stage's verifier (Verifiers::attach); null when no jwt section is configured.
  std::shared_ptr<Authenticator> auth;

  const CompiledRoute* match(std::string_view rest) const;  // rest starts with '/'
};

struct Generation {
  GatewayConfig config;
  std::vector<CompiledStage> stages;
  std::vector<std::pair<std::string, RateLimitPolicy>> policies;
  TrustedProxies trusted;  // config.trusted_proxies
  std::uint64_t number = 0;
  // Filled before publishing (GatewayState::Prepare), indexed by CompiledRoute::id; entries may
  // be null when no telemetry is attached.
  std::vector<RouteMetrics*> route_metrics;

  // Finds the stage named by the first segment of `path`; *rest = remainder ("/" if none).
  const CompiledStage* find_stage(std::string_view path, std::string_view* rest) const;
};

core::Expected<std::shared_ptr<const Generation>> compile(GatewayConfig config,
                                                          UpstreamRegistry& upstreams,
                                                          std::uint64_t number);

}  // namespace enkisys::gateway
