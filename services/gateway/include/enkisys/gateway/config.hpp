// Gateway configuration: the YAML file format (see README.md) parsed into plain values.
//
// Contract:
//  * load_config_text()/load_config_file() never throw; on failure they return a
//    core::Error (config_error) whose message names the line (and column) of the offending YAML
//    node, e.g. "line 12, col 7: ...".
//  * The result is an immutable value: ${stage}/${var} placeholders are NOT yet substituted
//    here; compile_routes() (route_table.hpp) does that per stage.
//  * Secret files are read by the loader (hs256 secret); their content is never logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "enkisys/core/expected.hpp"

namespace enkisys::gateway {

// The error of an invalid configuration: kInvalidArgument, code "invalid_config", a message that
// names the line (and column) it is about.
inline core::Error config_error(std::string message) {
  return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_config", std::move(message));
}

struct RateLimitPolicy {
  enum class Key { kClientIp, kApiKey } key = Key::kClientIp;
  double rate_per_s = 100;  // tokens refilled per second
  double burst = 100;       // bucket capacity
};

struct CorsPolicy {
  std::vector<std::string> origins;  // exact origins or "*"
  std::vector<std::string> methods{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  std::vector<std::string> headers{"authorization", "content-type", "x-api-key", "x-request-id"};
  std::vector<std::string> expose_headers{"x-request-id"};
  int max_age_s = 600;
  bool credentials = false;
};

struct RouteConfig {
  std::string prefix;    // "/api/tools" (relative to the stage), "/" for the catch-all
  std::string upstream;  // "http://tools.${stage}:5001" (optionally with a base path)
  bool jwt = false;      // require a valid bearer token
  // Roles of which the verified token must hold at least one (403 `forbidden` otherwise);
  // non-empty implies `jwt`. Empty: no role check (and no cost on the request path).
  std::vector<std::string> roles;
  // Browser sign-in (both need `jwt`): the name of a cookie that carries the token when the
  // request has no Authorization header (verified exactly as a bearer token), and a path of the
  // stage to which an unauthenticated request that accepts text/html is sent (303, with
  // `?next=`) instead of the JSON 401. "" = none.
  std::string jwt_cookie;
  std::string login_redirect;
  bool strip_prefix = false;  // drop `prefix` before proxying (default: keep it)
  std::optional<std::chrono::milliseconds> timeout;  // upstream response timeout
  std::optional<std::size_t> max_body_bytes;
  std::vector<std::string> rate_limits;  // names of policies
  std::string health_path = "/health";   // "" = not part of the stage health
  std::string name;                      // label for logs/metrics (defaults to prefix)
  int line = 0;                          // for error messages
};

struct StageConfig {
  std::string name;
  std::map<std::string, std::string> variables;
  std::vector<RouteConfig> routes;  // empty → the top-level `routes`
  // Verify tokens as this other stage does (its jwt settings with its variables), e.g. a
  // `monitoring` stage that takes prod's tokens. "" = its own. The named stage must exist and
  // must not itself borrow (checked by the loader).
  std::string jwt_stage;
  std::string cors;  // name of a cors policy ("" = none)
  std::vector<std::string> rate_limits;
  bool paused = false;
  // Canary: `percent` % of clients (sticky by cookie) use `variables` overridden by these.
  std::map<std::string, std::string> canary_variables;
  double canary_percent = 0;
  int line = 0;
};

struct JwtConfig {
  bool enabled = false;
  std::string hs256_secret;  // raw secret bytes (from hs256_secret_file)
  std::string jwks_url;      // may use ${stage} and stage variables (one key set per stage)
  std::string issuer;        // "" = not checked; may use ${stage} and stage variables
  std::string audience;      // "" = not checked; may use ${stage} and stage variables
  std::chrono::seconds leeway{30};
  std::size_t cache_entries = 10000;
  std::chrono::seconds cache_ttl{300};
  std::chrono::seconds jwks_refetch_min{30};  // unknown kid → refetch at most this often
  std::chrono::seconds jwks_refresh{300};     // periodic refetch after a success
  // While no fetch has succeeded (or the last one failed), an unknown kid may trigger a
  // refetch at most this often.
  std::chrono::milliseconds jwks_retry_min{1000};
  // Revoked sessions: auth's feed (GET → {"revoked":[{"sid","exp"}...]}), polled every
  // `revocation_poll`; a token whose `sid` is listed is refused (401 token_revoked). "" = none.
  // May use ${stage} and stage variables, like jwks_url.
  std::string revocations_url;
  std::chrono::seconds revocation_poll{5};
  // The feed's bearer secret: a secret file (≥ 16 characters) whose path may use ${stage} and
  // stage variables, so that each stage's feed is read with that stage's secret. Read by the
  // poller before each poll (a rotated secret is picked up; a missing file is a poll error,
  // logged, like an unreachable feed). "" = none.
  std::string revocations_token_file;
};

struct Limits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds upstream_connect_timeout{2'000};
  std::chrono::milliseconds upstream_timeout{30'000};
  std::size_t upstream_idle_per_worker = 256;  // idle keep-alive connections kept per upstream
  std::size_t max_connections_per_ip = 256;    // open client connections per client, 0 = no cap
  std::size_t body_buffer_bytes = 64 << 20;    // request bodies held in memory at once (all)
  int eject_after_failures = 5;                // consecutive 5xx/connect errors
  std::chrono::milliseconds eject_for{10'000};
};

// Active health checks: every upstream that some route probes (its `health` path) gets a
// periodic GET; `unhealthy_threshold` consecutive failures (no answer within `timeout`, or a
// status outside 2xx) mark it unhealthy (503 at once), `healthy_threshold` consecutive 2xx mark
// it healthy again (also lifting a passive ejection).
struct HealthCheckConfig {
  bool enabled = true;
  std::chrono::milliseconds interval{5'000};
  std::chrono::milliseconds timeout{1'000};
  int healthy_threshold = 2;
  int unhealthy_threshold = 3;
};

struct GatewayConfig {
  Limits limits;
  HealthCheckConfig health_checks;
  JwtConfig jwt;
  std::map<std::string, RateLimitPolicy> rate_limits;
  std::map<std::string, CorsPolicy> cors;
  std::vector<RouteConfig> routes;  // default routes for stages without their own
  std::vector<StageConfig> stages;  // in file order
  // Peers (addresses or CIDR networks) whose X-Forwarded-For names the client
  // (client_address.hpp); from any other peer X-Forwarded-For is replaced.
  std::vector<std::string> trusted_proxies;
};

// Parses YAML text. `base_dir` resolves relative secret-file paths.
core::Expected<GatewayConfig> load_config_text(const std::string& yaml,
                                               const std::string& base_dir = ".");
core::Expected<GatewayConfig> load_config_file(const std::string& path);

// Substitutes ${stage} and ${name} from `vars`. Unknown names → error naming the placeholder.
core::Expected<std::string> substitute(const std::string& text, const std::string& stage,
                                       const std::map<std::string, std::string>& vars);

// The stage whose token settings `st` uses: the stage named by st.jwt_stage, else `st` itself.
// REQUIRES: `stages` is a loaded configuration's stages (references checked by the loader).
const StageConfig& jwt_source(const std::vector<StageConfig>& stages, const StageConfig& st);

// The jwt section as stage `st` uses it: ${stage} and its variables substituted into jwks_url,
// revocations_url, issuer and audience (the URLs checked to be http:// URLs).
core::Expected<JwtConfig> stage_jwt(const JwtConfig& base, const StageConfig& st);

}  // namespace enkisys::gateway
