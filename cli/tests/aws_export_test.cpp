#include "enkisys/cli/aws_export.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "enkisys/gateway/route_table.hpp"

namespace enkisys::cli::aws {
namespace {

gateway::GatewayConfig host_config() {
  auto c = gateway::load_config_file(ENKISYS_GATEWAY_HOST_YAML);
  EXPECT_TRUE(c.ok()) << (c ? "" : c.error().message);
  return c ? *c : gateway::GatewayConfig{};
}

std::map<std::string, std::string> render_or_die(const gateway::GatewayConfig& c,
                                                 ExportOptions o = {}) {
  auto files = render_export(c, o);
  EXPECT_TRUE(files.ok()) << (files ? "" : files.error().message);
  return files ? *files : std::map<std::string, std::string>{};
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
}

// For every stage and every exported resource, a request as API Gateway forwards it (the
// integration URI with the stage's variables) reaches, on the host gateway, the very route the
// resource was exported from; and every route of the gateway's stage is exported.
TEST(AwsExport, ExportedRoutesAndGatewayRoutesAgreeForEveryStage) {
  const auto config = host_config();
  gateway::UpstreamRegistry reg(1);
  auto gen = gateway::compile(config, reg, 1);
  ASSERT_TRUE(gen.ok()) << gen.error().message;
  const auto files = render_or_die(config);
  const YAML::Node api = YAML::Load(files.at("openapi.yaml"));
  ASSERT_TRUE(api["paths"].IsMap());
  // The four application stages; the edge's `monitoring` (jwt_stage: prod) is not exported.
  std::set<std::string> exported;
  for (const auto& s : config.stages) {
    if (exported_stage(s)) exported.insert(s.name);
  }
  ASSERT_EQ(exported, (std::set<std::string>{"prod", "staging", "dev1", "dev2"}));
  EXPECT_FALSE(files.contains("stages/monitoring.json"));
  for (const auto& stage : (*gen)->stages) {
    if (!exported.contains(stage.name)) continue;
    const auto def = boost::json::parse(files.at("stages/" + stage.name + ".json")).as_object();
    const auto& vars = def.at("variables").as_object();
    EXPECT_EQ(vars.at("stage").as_string(), stage.name);
    EXPECT_EQ(vars.at("color").as_string(), "blue");
    std::set<std::string> reached;
    for (const auto& p : api["paths"]) {
      const auto path = p.first.as<std::string>();
      const auto op = p.second["x-amazon-apigateway-any-method"];
      ASSERT_TRUE(op) << path;
      const auto integ = op["x-amazon-apigateway-integration"];
      EXPECT_EQ(integ["type"].as<std::string>(), "http_proxy");
      EXPECT_EQ(integ["httpMethod"].as<std::string>(), "ANY");
      EXPECT_EQ(
          integ["requestParameters"]["integration.request.header.X-Request-Id"].as<std::string>(),
          "context.requestId");
      const bool proxy = path.ends_with("{proxy+}");
      if (proxy) {
        EXPECT_EQ(integ["requestParameters"]["integration.request.path.proxy"].as<std::string>(),
                  "method.request.path.proxy");
      }
      // The resource as API Gateway matches it, and the URI it forwards to.
      std::string uri = integ["uri"].as<std::string>();
      replace_all(uri, "https://${stageVariables.host}", "");
      replace_all(uri, "${stageVariables.stage}", std::string(vars.at("stage").as_string()));
      replace_all(uri, "{proxy}", "a/b");
      std::string resource = path;
      replace_all(resource, "{proxy+}", "a/b");
      std::string_view rest;
      const auto* st = (*gen)->find_stage(uri, &rest);
      ASSERT_NE(st, nullptr) << uri;
      EXPECT_EQ(st->name, stage.name);
      EXPECT_EQ(std::string(rest), resource) << "the host sees the resource's own path";
      const auto* route = st->match(rest);
      ASSERT_NE(route, nullptr) << uri;
      // The resource path is the route's prefix (or below it, for {proxy+}).
      const std::string prefix = route->prefix == "/" ? "" : route->prefix;
      EXPECT_TRUE(path == (prefix.empty() ? "/" : prefix) || path == prefix + "/{proxy+}")
          << path << " reached " << route->prefix;
      // Bearer tokens where the gateway requires them, none elsewhere.
      EXPECT_EQ(op["security"].size(), route->jwt ? 1u : 0u) << path;
      reached.insert(route->prefix);
    }
    for (const auto& r : stage.routes) EXPECT_TRUE(reached.count(r.prefix)) << r.prefix;
  }
}

TEST(AwsExport, StagesCarryThrottlingFromTheGatewayPoliciesAndTheAccessLog) {
  const auto files = render_or_die(host_config());
  for (const char* s : {"prod", "staging", "dev1", "dev2"}) {
    const auto def = boost::json::parse(files.at(std::string("stages/") + s + ".json"));
    const auto& all = def.at("methodSettings").at("*/*");
    EXPECT_EQ(all.at("throttlingRateLimit").to_number<double>(), 50.0);  // per_ip
    EXPECT_EQ(all.at("throttlingBurstLimit").to_number<int>(), 100);
    const auto format = std::string(def.at("accessLogSettings").at("format").as_string());
    EXPECT_NE(format.find("\"requestId\":\"$context.requestId\""), std::string::npos);
    EXPECT_NO_THROW(boost::json::parse(format));
  }
}

TEST(AwsExport, StagesWithDifferentRoutesAreRefused) {
  auto c = gateway::load_config_text(R"(
routes:
  - {prefix: /api/tools, upstream: "http://tools.${stage}:5001"}
stages:
  prod: {}
  dev1:
    routes:
      - {prefix: /api/rag, upstream: "http://rag.${stage}:5003"}
)");
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto files = render_export(*c, {});
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.error().code, "invalid_config");
  EXPECT_NE(files.error().message.find("dev1"), std::string::npos);
}

TEST(AwsExport, BadOptionsAreRefusedNamingTheOption) {
  const auto c = host_config();
  ExportOptions o;
  o.host_url = "ftp://x";
  auto r = render_export(c, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "invalid_option");
  EXPECT_EQ(r.error().field, "host_url");
  o = {};
  o.ssh_cidr = "not-a-cidr";
  r = render_export(c, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "ssh_cidr");
  o = {};
  o.rest_api_id = "x; rm -rf /";
  EXPECT_FALSE(render_export(c, o).ok());
}

TEST(AwsExport, SecurityGroupOpensHttpsAndSshFromTheGivenNetworkOnly) {
  ExportOptions o;
  o.ssh_cidr = "203.0.113.0/24";
  const auto files = render_or_die(host_config(), o);
  const auto sg = boost::json::parse(files.at("security-group.json"));
  const auto& perms = sg.at("IpPermissions").as_array();
  ASSERT_EQ(perms.size(), 2u);
  EXPECT_EQ(perms[0].at("FromPort").to_number<int>(), 443);
  EXPECT_EQ(perms[1].at("FromPort").to_number<int>(), 22);
  EXPECT_EQ(perms[1].at("IpRanges").at(0).at("CidrIp").as_string(), "203.0.113.0/24");
  const auto none = boost::json::parse(render_or_die(host_config()).at("security-group.json"));
  EXPECT_EQ(none.at("IpPermissions").as_array().size(), 1u);
}

// The output of the exported deploy.sh --dry-run, with ENV (`NAME=value ...`) before it.
std::string deploy_dry_run(const std::string& env) {
  const std::string dir = ::testing::TempDir() + "aws_export_" + std::to_string(::getpid());
  ExportOptions o;
  o.rest_api_id = "39fqbjtkha";
  EXPECT_EQ(run_aws_export(ENKISYS_GATEWAY_HOST_YAML, dir, o, std::cout, std::cerr), 0);
  const std::string cmd = env + " bash " + dir + "/deploy.sh --dry-run 2>&1";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  std::string out;
  if (p == nullptr) return out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << out;
  return out;
}

TEST(AwsExport, DeployScriptDryRunPrintsTheImportDeploymentAndEveryStage) {
  const std::string out = deploy_dry_run("");
  EXPECT_NE(out.find("aws apigateway put-rest-api --rest-api-id 39fqbjtkha --mode overwrite"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("create-deployment"), std::string::npos);
  for (const char* s : {"prod", "staging", "dev1", "dev2"}) {
    EXPECT_NE(out.find(std::string("update-stage --rest-api-id 39fqbjtkha --stage-name ") + s),
              std::string::npos)
        << s;
  }
  EXPECT_NE(out.find("throttling/rateLimit\\,value=50"), std::string::npos) << out;
  EXPECT_EQ(out.find("clientCertificateId"), std::string::npos) << out;
}

// CLIENT_CERTIFICATE_ID: every stage presents that client certificate to the host (the edge's
// mTLS, GATEWAY_TLS_CLIENT_AUTH=required), in the same idempotent run.
TEST(AwsExport, DeployScriptSetsTheClientCertificateOfEveryStage) {
  const std::string out = deploy_dry_run("CLIENT_CERTIFICATE_ID=ab12cd");
  for (const char* s : {"prod", "staging", "dev1", "dev2"}) {
    EXPECT_NE(out.find(std::string("update-stage --rest-api-id 39fqbjtkha --stage-name ") + s +
                       " --patch-operations op=replace\\,path=/clientCertificateId\\,value=ab12cd"),
              std::string::npos)
        << s << "\n"
        << out;
  }
}

// The checked-in aws/ folder is the export of the shipped host configuration (`make aws`).
TEST(AwsExport, CheckedInFolderIsUpToDate) {
  ExportOptions o;
  o.rest_api_id = "39fqbjtkha";
  o.source = "deploy/gateway/gateway.host.yaml";
  o.ssh_cidr = "203.0.113.0/24";
  for (const auto& [name, content] : render_or_die(host_config(), o)) {
    std::ifstream in(std::string(ENKISYS_AWS_DIR) + "/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), content) << name << " is stale: run `make aws`";
  }
}

}  // namespace
}  // namespace enkisys::cli::aws
