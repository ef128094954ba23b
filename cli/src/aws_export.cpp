// `enkisys aws export`: see enkisys/cli/aws_export.hpp.
#include "enkisys/cli/aws_export.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "enkisys/cli/quote.hpp"
#include "enkisys/core/cidr.hpp"

namespace enkisys::cli::aws {

namespace json = boost::json;

namespace {

core::Error option_error(std::string message, std::string field) {
  return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_option", std::move(message),
                          std::move(field));
}

const std::vector<ExportedRoute>& no_routes() {
  static const std::vector<ExportedRoute> kNone;
  return kNone;
}

// The access-log line of every stage: one JSON object per request, keyed by the request id that
// the integration passes to the host gateway as X-Request-Id.
constexpr const char* kAccessLogFormat =
    R"({"requestId":"$context.requestId","ip":"$context.identity.sourceIp",)"
    R"("requestTime":"$context.requestTime","httpMethod":"$context.httpMethod",)"
    R"("resourcePath":"$context.resourcePath","path":"$context.path","status":"$context.status",)"
    R"("responseLength":"$context.responseLength",)"
    R"("integrationLatency":"$context.integrationLatency","stage":"$context.stage"})";

// Stage variable values allowed by API Gateway.
bool valid_stage_value(const std::string& v) {
  static const std::regex kRe(R"([A-Za-z0-9\-._~:/?#&=,]+)");
  return std::regex_match(v, kRe);
}

// JSON with two-space indentation, keys in the order of the object (stable output for git).
void pretty(std::ostream& os, const json::value& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (v.is_object() && !v.as_object().empty()) {
    os << "{\n";
    bool first = true;
    for (const auto& kv : v.as_object()) {
      if (!first) os << ",\n";
      first = false;
      os << inner << json::serialize(json::string(kv.key())) << ": ";
      pretty(os, kv.value(), indent + 1);
    }
    os << "\n" << pad << "}";
  } else if (v.is_array() && !v.as_array().empty()) {
    os << "[\n";
    bool first = true;
    for (const auto& e : v.as_array()) {
      if (!first) os << ",\n";
      first = false;
      os << inner;
      pretty(os, e, indent + 1);
    }
    os << "\n" << pad << "]";
  } else {
    os << json::serialize(v);
  }
}

std::string pretty(const json::value& v) {
  std::ostringstream os;
  pretty(os, v, 0);
  os << "\n";
  return os.str();
}

struct Host {
  std::string scheme, authority;
};

core::Expected<Host> parse_host_url(const std::string& url) {
  static const std::regex kRe(R"((https?)://([A-Za-z0-9.\-]+(:[0-9]{1,5})?)/?)");
  std::smatch m;
  if (!std::regex_match(url, m, kRe))
    return option_error("--host-url must be http(s)://host[:port] without a path", "host_url");
  return Host{m[1].str(), m[2].str()};
}

const std::vector<gateway::RouteConfig>& stage_routes(const gateway::GatewayConfig& c,
                                                      const gateway::StageConfig& s) {
  return s.routes.empty() ? c.routes : s.routes;
}

std::string trim_prefix(const std::string& p) {
  if (p.size() > 1 && p.back() == '/') return p.substr(0, p.size() - 1);
  return p.empty() ? "/" : p;
}

// The stage's throttling: the tightest of its rate-limit policies (none → API Gateway's
// account default).
json::object stage_method_settings(const gateway::GatewayConfig& c, const gateway::StageConfig& s) {
  json::object all{{"metricsEnabled", true}, {"dataTraceEnabled", false}};
  bool any = false;
  double rate = 0, burst = 0;
  for (const auto& name : s.rate_limits) {
    const auto it = c.rate_limits.find(name);
    if (it == c.rate_limits.end()) continue;
    rate = any ? std::min(rate, it->second.rate_per_s) : it->second.rate_per_s;
    burst = any ? std::min(burst, it->second.burst) : it->second.burst;
    any = true;
  }
  if (any) {
    // Whole rates as integers ("50", not "5E1": the CLI's shorthand and readers expect that).
    if (rate == static_cast<double>(static_cast<std::int64_t>(rate)))
      all["throttlingRateLimit"] = static_cast<std::int64_t>(rate);
    else
      all["throttlingRateLimit"] = rate;
    all["throttlingBurstLimit"] = static_cast<std::int64_t>(burst);
  }
  return json::object{{"*/*", std::move(all)}};
}

void emit_operation(YAML::Emitter& y, const std::string& scheme, const ExportedRoute& r, bool proxy,
                    bool options) {
  y << YAML::BeginMap;
  y << YAML::Key << "summary" << YAML::Value
    << (options ? "CORS preflight, answered by the host gateway with the stage's policy"
                : "route " + r.name + " of the host gateway (" + r.prefix + ")");
  y << YAML::Key << "operationId" << YAML::Value
    << (options ? "options_" : "any_") + r.name + (proxy ? "_proxy" : "");
  y << YAML::Key << "security" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  if (r.jwt && !options)
    y << YAML::BeginMap << YAML::Key << "bearer" << YAML::Value << YAML::Flow << YAML::BeginSeq
      << YAML::EndSeq << YAML::EndMap;
  y << YAML::EndSeq;
  if (proxy) {
    y << YAML::Key << "parameters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
    y << YAML::Key << "name" << YAML::Value << "proxy";
    y << YAML::Key << "in" << YAML::Value << "path";
    y << YAML::Key << "required" << YAML::Value << true;
    y << YAML::Key << "schema" << YAML::Value << YAML::BeginMap << YAML::Key << "type"
      << YAML::Value << "string" << YAML::EndMap;
    y << YAML::EndMap << YAML::EndSeq;
  }
  y << YAML::Key << "responses" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "4XX" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "description" << YAML::Value
    << "refused by the host gateway (unknown route, token, limits) or by the service";
  y << YAML::Key << "content" << YAML::Value << YAML::BeginMap << YAML::Key << "application/json"
    << YAML::Value << YAML::BeginMap << YAML::Key << "schema" << YAML::Value << YAML::BeginMap
    << YAML::Key << "$ref" << YAML::Value << "#/components/schemas/Error" << YAML::EndMap
    << YAML::EndMap << YAML::EndMap;
  y << YAML::EndMap;
  y << YAML::Key << "default" << YAML::Value << YAML::BeginMap << YAML::Key << "description"
    << YAML::Value << "the host gateway's answer, passed through" << YAML::EndMap;
  y << YAML::EndMap;
  y << YAML::Key << "x-amazon-apigateway-integration" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "type" << YAML::Value << "http_proxy";
  y << YAML::Key << "httpMethod" << YAML::Value << "ANY";
  y << YAML::Key << "uri" << YAML::Value << integration_uri(scheme, r, proxy);
  y << YAML::Key << "passthroughBehavior" << YAML::Value << "when_no_match";
  y << YAML::Key << "timeoutInMillis" << YAML::Value << 29000;
  y << YAML::Key << "requestParameters" << YAML::Value << YAML::BeginMap;
  if (proxy)
    y << YAML::Key << "integration.request.path.proxy" << YAML::Value
      << "method.request.path.proxy";
  y << YAML::Key << "integration.request.header.X-Request-Id" << YAML::Value << "context.requestId";
  y << YAML::EndMap;
  y << YAML::EndMap;
  y << YAML::EndMap;
}

std::string render_openapi(const gateway::GatewayConfig& c, const std::vector<ExportedRoute>& rs,
                           const Host& host, const ExportOptions& o) {
  bool cors = false;
  for (const auto& s : c.stages) cors = cors || !s.cors.empty();
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "openapi" << YAML::Value << "3.0.3";
  y << YAML::Key << "info" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "title" << YAML::Value << "enkisys";
  y << YAML::Key << "version" << YAML::Value << "1.0.0";
  y << YAML::Key << "description" << YAML::Value
    << "Generated by `enkisys aws export` from " + o.source +
           "; do not edit. Every stage proxies to the same stage on the host gateway, which "
           "verifies tokens, applies CORS and rate limits per client.";
  y << YAML::EndMap;
  y << YAML::Key << "servers" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  y << YAML::Key << "url" << YAML::Value
    << "https://" + o.rest_api_id + ".execute-api.{region}.amazonaws.com/{basePath}";
  y << YAML::Key << "variables" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "region" << YAML::Value << YAML::BeginMap << YAML::Key << "default"
    << YAML::Value << "us-east-1" << YAML::EndMap;
  y << YAML::Key << "basePath" << YAML::Value << YAML::BeginMap << YAML::Key << "default"
    << YAML::Value << (c.stages.empty() ? std::string("prod") : c.stages.front().name)
    << YAML::EndMap;
  y << YAML::EndMap;
  y << YAML::EndMap << YAML::EndSeq;
  y << YAML::Key << "paths" << YAML::Value << YAML::BeginMap;
  // Shortest path first reads best; API Gateway picks the most specific resource itself.
  std::vector<std::pair<std::string, const ExportedRoute*>> paths;
  for (const auto& r : rs) {
    for (const auto& p : resource_paths(r)) paths.emplace_back(p, &r);
  }
  std::sort(paths.begin(), paths.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [path, r] : paths) {
    const bool proxy = path.ends_with("{proxy+}");
    y << YAML::Key << path << YAML::Value << YAML::BeginMap;
    if (cors) {
      y << YAML::Key << "options" << YAML::Value;
      emit_operation(y, host.scheme, *r, proxy, true);
    }
    y << YAML::Key << "x-amazon-apigateway-any-method" << YAML::Value;
    emit_operation(y, host.scheme, *r, proxy, false);
    y << YAML::EndMap;
  }
  y << YAML::EndMap;
  y << YAML::Key << "components" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "securitySchemes" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "bearer" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "type" << YAML::Value << "http";
  y << YAML::Key << "scheme" << YAML::Value << "bearer";
  y << YAML::Key << "bearerFormat" << YAML::Value << "JWT";
  y << YAML::Key << "description" << YAML::Value
    << "Verified by the host gateway against the stage's own auth keys (JWKS).";
  y << YAML::EndMap << YAML::EndMap;
  // The platform's one error shape.
  y << YAML::Key << "schemas" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "Error" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "type" << YAML::Value << "object";
  y << YAML::Key << "required" << YAML::Value << YAML::Flow << YAML::BeginSeq << "error"
    << YAML::EndSeq;
  y << YAML::Key << "properties" << YAML::Value << YAML::BeginMap << YAML::Key << "error"
    << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "type" << YAML::Value << "object";
  y << YAML::Key << "required" << YAML::Value << YAML::Flow << YAML::BeginSeq << "code"
    << "message" << YAML::EndSeq;
  y << YAML::Key << "properties" << YAML::Value << YAML::BeginMap;
  for (const char* f : {"code", "message", "request_id"}) {
    y << YAML::Key << f << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "type"
      << YAML::Value << "string" << YAML::EndMap;
  }
  y << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  y << YAML::EndMap << YAML::EndMap;
  y << YAML::EndMap;
  y << YAML::EndMap;
  return std::string("# Generated by `enkisys aws export` from ") + o.source + "; do not edit.\n" +
         y.c_str() + "\n";
}

json::object stage_definition(const gateway::GatewayConfig& c, const gateway::StageConfig& s,
                              const Host& host) {
  json::object vars;
  vars["host"] = host.authority;
  vars["stage"] = s.name;
  for (const auto& [k, v] : s.variables) vars[k] = v;
  return json::object{
      {"stageName", s.name},
      {"description", "enkisys stage " + s.name + " on the host gateway"},
      {"variables", std::move(vars)},
      {"methodSettings", stage_method_settings(c, s)},
      {"accessLogSettings", json::object{{"format", kAccessLogFormat}}},
  };
}

std::string patch_ops(const json::object& st) {
  std::string ops = "op=replace,path=/deploymentId,value=$deployment";
  for (const auto& kv : st.at("variables").as_object()) {
    ops += " op=replace,path=/variables/" + std::string(kv.key()) +
           ",value=" + std::string(kv.value().as_string());
  }
  const auto& all = st.at("methodSettings").as_object().at("*/*").as_object();
  if (const auto* r = all.if_contains("throttlingRateLimit"))
    ops += " op=replace,path=/*/*/throttling/rateLimit,value=" + json::serialize(*r);
  if (const auto* b = all.if_contains("throttlingBurstLimit"))
    ops += " op=replace,path=/*/*/throttling/burstLimit,value=" + json::serialize(*b);
  ops += " op=replace,path=/*/*/metrics/enabled,value=true";
  return ops;
}

// The access-log patch as JSON (the format holds commas and quotes, which the shorthand
// syntax cannot carry), with $ACCESS_LOG_ARN expanded by the script.
std::string access_log_ops() {
  const std::string head =
      R"([{"op":"replace","path":"/accessLogSettings/destinationArn","value":")";
  const std::string tail = R"("},{"op":"replace","path":"/accessLogSettings/format","value":)" +
                           json::serialize(json::string(kAccessLogFormat)) + "}]";
  return shell_quote(head) + "\"$ACCESS_LOG_ARN\"" + shell_quote(tail);
}

std::string render_deploy(const std::vector<std::pair<std::string, json::object>>& stages,
                          const ExportOptions& o) {
  std::ostringstream sh;
  sh << "#!/usr/bin/env bash\n"
     << "# Generated by `enkisys aws export` from " << o.source << "; do not edit.\n"
     << "# Imports openapi.yaml into an existing REST API (overwrite), deploys it and creates or\n"
     << "# updates the stages " <<
      [&] {
        std::string n;
        for (const auto& s : stages) n += (n.empty() ? "" : ", ") + s.first;
        return n;
      }()
     << ". Idempotent: run it again after every export.\n"
     << "# Usage: deploy.sh [--dry-run]   (REST_API_ID, ACCESS_LOG_ARN, CLIENT_CERTIFICATE_ID and\n"
     << "# the aws CLI's own AWS_REGION/AWS_PROFILE from the environment; ACCESS_LOG_ARN: a\n"
     << "# CloudWatch log group; CLIENT_CERTIFICATE_ID: the client certificate every stage "
        "presents\n"
     << "# to the host, `aws apigateway generate-client-certificate`, for the edge's mTLS)\n"
     << "set -euo pipefail\n"
     << "here=$(cd \"$(dirname \"${BASH_SOURCE[0]}\")\" && pwd)\n"
     << "api=${REST_API_ID:-" << shell_quote(o.rest_api_id) << "}\n"
     << "dry=0\n"
     << "case ${1:-} in\n"
     << "  --dry-run) dry=1 ;;\n"
     << "  '') ;;\n"
     << "  *) echo \"usage: $0 [--dry-run]\" >&2; exit 2 ;;\n"
     << "esac\n"
     << "run() {\n"
     << "  if ((dry)); then printf '%q ' \"$@\"; echo; else \"$@\"; fi\n"
     << "}\n"
     << "run aws apigateway put-rest-api --rest-api-id \"$api\" --mode overwrite \\\n"
     << "  --body \"fileb://$here/openapi.yaml\"\n"
     << "if ((dry)); then\n"
     << "  run aws apigateway create-deployment --rest-api-id \"$api\" \\\n"
     << "    --description \"enkisys aws export\" --query id --output text\n"
     << "  deployment=DEPLOYMENT_ID\n"
     << "else\n"
     << "  deployment=$(aws apigateway create-deployment --rest-api-id \"$api\" \\\n"
     << "    --description \"enkisys aws export\" --query id --output text)\n"
     << "fi\n"
     << "# A stage is created when missing, then always brought to its definition.\n"
     << "stage() {\n"
     << "  local name=$1 vars=$2\n"
     << "  shift 2\n"
     << "  if ((dry)) || ! aws apigateway get-stage --rest-api-id \"$api\" --stage-name \"$name\" "
        "\\\n"
     << "    >/dev/null 2>&1; then\n"
     << "    ((dry)) && echo \"# when the stage $name does not exist yet:\"\n"
     << "    run aws apigateway create-stage --rest-api-id \"$api\" --stage-name \"$name\" \\\n"
     << "      --deployment-id \"$deployment\" --variables \"$vars\"\n"
     << "  fi\n"
     << "  run aws apigateway update-stage --rest-api-id \"$api\" --stage-name \"$name\" \\\n"
     << "    --patch-operations \"$@\"\n"
     << "  if [[ -n ${ACCESS_LOG_ARN:-} ]]; then\n"
     << "    # $context.* are API Gateway's variables: literal here.\n"
     << "    # shellcheck disable=SC2016\n"
     << "    run aws apigateway update-stage --rest-api-id \"$api\" --stage-name \"$name\" \\\n"
     << "      --patch-operations " << access_log_ops() << "\n"
     << "  fi\n"
     << "  if [[ -n ${CLIENT_CERTIFICATE_ID:-} ]]; then\n"
     << "    run aws apigateway update-stage --rest-api-id \"$api\" --stage-name \"$name\" \\\n"
     << "      --patch-operations "
        "\"op=replace,path=/clientCertificateId,value=$CLIENT_CERTIFICATE_ID\"\n"
     << "  fi\n"
     << "}\n";
  for (const auto& [name, st] : stages) {
    std::string vars;
    for (const auto& kv : st.at("variables").as_object()) {
      vars += (vars.empty() ? "" : ",") + std::string(kv.key()) + "=" +
              std::string(kv.value().as_string());
    }
    sh << "stage " << shell_quote(name) << " " << shell_quote(vars);
    std::istringstream ops(patch_ops(st));
    for (std::string op; ops >> op;) {
      // $deployment is expanded by the script; every other value is literal.
      if (op.ends_with("$deployment"))
        sh << " \\\n  \"" << op << "\"";
      else
        sh << " \\\n  " << shell_quote(op);
    }
    sh << "\n";
  }
  sh << "((dry)) || echo \"deploy.sh: REST API $api deployed ($deployment)\"\n";
  return sh.str();
}

std::string render_security_group(const ExportOptions& o) {
  json::array perms;
  perms.push_back(json::object{
      {"IpProtocol", "tcp"},
      {"FromPort", 443},
      {"ToPort", 443},
      {"IpRanges", json::array{json::object{{"CidrIp", "0.0.0.0/0"},
                                            {"Description", "HTTPS to the edge gateway"}}}},
      {"Ipv6Ranges", json::array{json::object{{"CidrIpv6", "::/0"},
                                              {"Description", "HTTPS to the edge gateway"}}}}});
  if (!o.ssh_cidr.empty()) {
    json::object range{{"Description", "SSH for deploys"}};
    const bool v6 = o.ssh_cidr.find(':') != std::string::npos;
    range[v6 ? "CidrIpv6" : "CidrIp"] = o.ssh_cidr;
    perms.push_back(json::object{{"IpProtocol", "tcp"},
                                 {"FromPort", 22},
                                 {"ToPort", 22},
                                 {v6 ? "Ipv6Ranges" : "IpRanges", json::array{range}}});
  }
  // The input of `aws ec2 authorize-security-group-ingress --cli-input-json`.
  return pretty(json::object{{"GroupId", "SECURITY_GROUP_ID"}, {"IpPermissions", perms}});
}

std::string render_readme(const std::vector<std::pair<std::string, json::object>>& stages,
                          const std::vector<ExportedRoute>& rs, const ExportOptions& o) {
  std::ostringstream md;
  md << "# AWS API Gateway export\n\n"
     << "Generated by `enkisys aws export` from `" << o.source
     << "` (`make aws`; `make lint` checks that it is up to date). Do not edit: change the\n"
     << "gateway configuration and regenerate.\n\n"
     << "| file | what |\n|---|---|\n"
     << "| `openapi.yaml` | the REST API: per gateway route, `ANY` on the prefix and on "
        "`prefix/{proxy+}` → `http_proxy` to `${stageVariables.host}/${stageVariables.stage}...` "
        "with `X-Request-Id: context.requestId` |\n"
     << "| `stages/<stage>.json` | one per stage: variables, throttling, access-log format |\n"
     << "| `access-log-format.json` | the access-log line (JSON, `$context.requestId`) |\n"
     << "| `deploy.sh` | `put-rest-api --mode overwrite`, `create-deployment`, create-or-update "
        "of every stage; `--dry-run` prints the commands |\n"
     << "| `security-group.json` | ingress 443 only"
     << (o.ssh_cidr.empty() ? "" : ", SSH from " + o.ssh_cidr)
     << " (`aws ec2 authorize-security-group-ingress --cli-input-json`) |\n\n"
     << "Routes (every stage):\n\n| prefix | gateway route | bearer token |\n|---|---|---|\n";
  for (const auto& r : rs)
    md << "| `" << r.prefix << "` | " << r.name << " | " << (r.jwt ? "required" : "no") << " |\n";
  md << "\nStages: ";
  bool first = true;
  for (const auto& s : stages) {
    md << (first ? "" : ", ") << "`" << s.first << "`";
    first = false;
  }
  md << ". Tokens, CORS and per-client rate limits stay with the host gateway; the stage\n"
     << "throttling here is the stage's tightest gateway policy, applied to all clients "
        "together.\n";
  return md.str();
}

}  // namespace

bool exported_stage(const gateway::StageConfig& stage) {
  return stage.jwt_stage.empty();
}

core::Expected<std::vector<ExportedRoute>> exported_routes(const gateway::GatewayConfig& config) {
  std::vector<ExportedRoute> out;
  std::set<std::string> first;
  std::string first_name;
  bool have = false;
  for (const auto& s : config.stages) {
    if (!exported_stage(s)) continue;
    std::vector<ExportedRoute> rs;
    std::set<std::string> seen;
    for (const auto& r : stage_routes(config, s)) {
      ExportedRoute e{trim_prefix(r.prefix), r.jwt, r.name.empty() ? r.prefix : r.name};
      for (auto& ch : e.name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      if (e.prefix.find_first_of("{}") != std::string::npos)
        return gateway::config_error("route " + r.prefix + ": braces cannot be exported");
      seen.insert(e.prefix + (e.jwt ? " jwt" : ""));
      rs.push_back(std::move(e));
    }
    if (have && seen != first) {
      return gateway::config_error(
          "stage " + s.name + ": its routes differ from stage " + first_name +
          "'s; AWS stages share one API definition, so every stage needs the same routes");
    }
    if (!have) {
      first_name = s.name;
      first = std::move(seen);
      out = std::move(rs);
      have = true;
    }
  }
  std::sort(out.begin(), out.end(), [](const ExportedRoute& a, const ExportedRoute& b) {
    return a.prefix.size() != b.prefix.size() ? a.prefix.size() > b.prefix.size()
                                              : a.prefix < b.prefix;
  });
  if (!have) return no_routes();
  return out;
}

std::vector<std::string> resource_paths(const ExportedRoute& route) {
  if (route.prefix == "/") return {"/", "/{proxy+}"};
  return {route.prefix, route.prefix + "/{proxy+}"};
}

std::string integration_uri(const std::string& scheme, const ExportedRoute& route, bool proxy) {
  std::string uri = scheme + "://${stageVariables.host}/${stageVariables.stage}";
  if (route.prefix != "/") uri += route.prefix;
  if (proxy) {
    uri += "/{proxy}";
  } else if (route.prefix == "/") {
    uri += "/";
  }
  return uri;
}

core::Expected<std::map<std::string, std::string>> render_export(
    const gateway::GatewayConfig& config, const ExportOptions& options) {
  auto host = parse_host_url(options.host_url);
  if (!host) return core::unexpected(host.error());
  static const std::regex kApiId(R"([A-Za-z0-9_]{1,40})");
  if (!std::regex_match(options.rest_api_id, kApiId))
    return option_error("--rest-api-id must be 1 to 40 letters, digits or _", "rest_api_id");
  if (!options.ssh_cidr.empty() && !core::Cidr::parse(options.ssh_cidr))
    return option_error("--ssh-cidr must be a CIDR network such as 203.0.113.0/24", "ssh_cidr");
  if (config.stages.empty()) return gateway::config_error("no stages to export");
  auto routes = exported_routes(config);
  if (!routes) return core::unexpected(routes.error());

  std::vector<std::pair<std::string, json::object>> stages;
  for (const auto& s : config.stages) {
    if (!exported_stage(s)) continue;
    auto def = stage_definition(config, s, *host);
    for (const auto& kv : def.at("variables").as_object()) {
      const std::string v(kv.value().as_string());
      if (!valid_stage_value(v) || std::string(kv.key()).find_first_of(",=/ ") != std::string::npos)
        return gateway::config_error("stage " + s.name + ": variable " + std::string(kv.key()) +
                                     " is not a valid API Gateway stage variable");
    }
    stages.emplace_back(s.name, std::move(def));
  }
  std::map<std::string, std::string> files;
  files["openapi.yaml"] = render_openapi(config, *routes, *host, options);
  for (const auto& [name, def] : stages) files["stages/" + name + ".json"] = pretty(def);
  files["access-log-format.json"] = std::string(kAccessLogFormat) + "\n";
  files["deploy.sh"] = render_deploy(stages, options);
  files["security-group.json"] = render_security_group(options);
  files["README.md"] = render_readme(stages, *routes, options);
  return files;
}

core::Status write_export(const std::string& dir, const std::map<std::string, std::string>& files) {
  namespace fs = std::filesystem;
  auto fail = [&](const std::string& what) {
    return core::make_error(core::ErrorKind::kInternal, "write_failed",
                            what + ": " + std::strerror(errno), dir);
  };
  for (const auto& [name, content] : files) {
    const fs::path target = fs::path(dir) / name;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return fail("cannot create " + target.parent_path().string());
    const fs::path tmp = target.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << content;
      out.flush();
      if (!out) return fail("cannot write " + tmp.string());
    }
    const bool exec = name.ends_with(".sh");
    if (::chmod(tmp.c_str(), exec ? 0755 : 0644) != 0) return fail("cannot chmod " + tmp.string());
    if (std::rename(tmp.c_str(), target.c_str()) != 0) return fail("cannot rename " + tmp.string());
  }
  return core::ok_status();
}

int run_aws_export(const std::string& config_path, const std::string& out_dir,
                   const ExportOptions& options, std::ostream& out, std::ostream& err) {
  auto config = gateway::load_config_file(config_path);
  if (!config) {
    err << "enkisys: " << config_path << ": " << config.error().message << "\n";
    return 2;
  }
  ExportOptions o = options;
  if (o.source == ExportOptions{}.source) o.source = config_path;
  auto files = render_export(*config, o);
  if (!files) {
    err << "enkisys: " << files.error().message << "\n";
    return 2;
  }
  if (auto st = write_export(out_dir, *files); !st) {
    err << "enkisys: " << st.error().message << "\n";
    return 1;
  }
  out << "aws export: " << files->size() << " files in " << out_dir << "\n";
  return 0;
}

}  // namespace enkisys::cli::aws
