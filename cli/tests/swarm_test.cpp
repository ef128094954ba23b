#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "enkisys/cli/swarm_deployer.hpp"
#include "enkisys/cli/swarm_stack.hpp"
#include "enkisys/gateway/config.hpp"

namespace enkisys::cli {
namespace {

// What `docker-compose config` prints for compose.yaml + deploy/swarm/stack.yaml (abridged).
const char* kConfig = R"(networks:
  backend:
    internal: true
  public: {}
secrets:
  admin_password:
    file: /srv/enkisys/deploy/dev1/secrets/admin_password
services:
  auth:
    build: {context: /srv/enkisys, target: auth}
    cap_drop: [ALL]
    cpus: 1.0
    mem_limit: 320m
    environment:
      AUTH_TRUST_PROXY: '1'
      LLM_BASE_URL: null
    image: enkisys/auth:v2
    networks: {backend: {}}
    restart: unless-stopped
    secrets:
    - {source: admin_password, target: admin_password}
    security_opt: [no-new-privileges:true]
    tmpfs: [/tmp]
    user: 10001:10001
    volumes:
    - auth-data:/data:rw
    deploy:
      replicas: 1
  gateway:
    depends_on:
      auth: {condition: service_healthy}
    environment:
      GATEWAY_CONFIG: /etc/enkisys/gateway.yaml
    image: enkisys/gateway:v2
    cpus: 1.0
    mem_limit: 128m
    deploy:
      replicas: 2
      resources:
        limits: {cpus: 0.5, memory: 64M}
      update_config: {order: start-first, failure_action: rollback}
    ports:
    - 127.0.0.1:8080:8080/tcp
    networks: {backend: {}, public: {}}
    volumes:
    - /srv/enkisys/deploy/gateway/gateway.yaml:/etc/enkisys/gateway.yaml:ro
  local-only:
    image: enkisys/monitoring:v2
    profiles: [local]
volumes:
  auth-data: {}
)";

StackOptions dev1() {
  StackOptions o;
  o.stage = "dev1";
  return o;
}

std::string digest_of(const std::string& path) {
  return path.find("missing") == std::string::npos ? "0123456789abcdef0123" : "";
}

YAML::Node rendered(const std::string& config, const StackOptions& o = dev1()) {
  std::string error;
  auto out = render_stack(config, o, digest_of, &error);
  EXPECT_TRUE(out) << error;
  return out ? YAML::Load(*out) : YAML::Node();
}

TEST(SwarmStack, DropsWhatSwarmRefusesAndMovesLimitsIntoDeploy) {
  auto s = rendered(kConfig);
  EXPECT_EQ(s["version"].as<std::string>(), "3.8");
  auto auth = s["services"]["auth"];
  for (const char* key : {"build", "cap_drop", "cpus", "mem_limit", "restart", "security_opt",
                          "tmpfs", "depends_on"}) {
    EXPECT_FALSE(auth[key]) << key;
  }
  EXPECT_FALSE(s["services"]["gateway"]["depends_on"]);
  EXPECT_EQ(auth["deploy"]["resources"]["limits"]["cpus"].as<std::string>(), "1.0");
  EXPECT_EQ(auth["deploy"]["resources"]["limits"]["memory"].as<std::string>(), "320m");
  EXPECT_EQ(auth["deploy"]["replicas"].as<int>(), 1);
  // The deploy section of stack.yaml wins over compose's limits.
  auto gw = s["services"]["gateway"]["deploy"];
  EXPECT_EQ(gw["resources"]["limits"]["memory"].as<std::string>(), "64M");
  EXPECT_EQ(gw["update_config"]["failure_action"].as<std::string>(), "rollback");
  // An unset pass-through variable is not taken from the deploying shell.
  EXPECT_FALSE(auth["environment"]["LLM_BASE_URL"]);
  EXPECT_EQ(auth["environment"]["AUTH_TRUST_PROXY"].as<std::string>(), "1");
  EXPECT_EQ(auth["user"].as<std::string>(), "10001:10001");
  // tmpfs paths become tmpfs mounts next to the volume.
  ASSERT_EQ(auth["volumes"].size(), 2u);
  EXPECT_EQ(auth["volumes"][1]["type"].as<std::string>(), "tmpfs");
  EXPECT_EQ(auth["volumes"][1]["target"].as<std::string>(), "/tmp");
  // Profiled services never run.
  EXPECT_FALSE(s["services"]["local-only"]);
}

TEST(SwarmStack, KeepsNumbersTypedAndStringsQuoted) {
  std::string error;
  auto text = render_stack(kConfig, dev1(), digest_of, &error);
  ASSERT_TRUE(text) << error;
  EXPECT_NE(text->find("version: \"3.8\""), std::string::npos) << *text;
  EXPECT_NE(text->find("cpus: \"1.0\""), std::string::npos);
  EXPECT_NE(text->find("AUTH_TRUST_PROXY: \"1\""), std::string::npos);
  EXPECT_NE(text->find("target: 8080"), std::string::npos);
}

TEST(SwarmStack, NetworksAreOverlaysAndInternalStaysInternal) {
  auto s = rendered(kConfig);
  EXPECT_EQ(s["networks"]["backend"]["driver"].as<std::string>(), "overlay");
  EXPECT_TRUE(s["networks"]["backend"]["internal"].as<bool>());
  EXPECT_TRUE(s["networks"]["backend"]["attachable"].as<bool>());
  EXPECT_EQ(s["networks"]["public"]["driver"].as<std::string>(), "overlay");
  EXPECT_FALSE(s["networks"]["public"]["internal"]);
}

TEST(SwarmStack, PortsArePublishedThroughTheIngressWithoutAHostAddress) {
  auto p = rendered(kConfig)["services"]["gateway"]["ports"];
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0]["target"].as<int>(), 8080);
  EXPECT_EQ(p[0]["mode"].as<std::string>(), "ingress");
  EXPECT_FALSE(p[0]["published"]);  // swarm picks
  StackOptions o = dev1();
  o.published_port = 31080;
  EXPECT_EQ(rendered(kConfig, o)["services"]["gateway"]["ports"][0]["published"].as<int>(), 31080);
}

TEST(SwarmStack, SecretsAndMountedFilesAreNamedAfterTheirContent) {
  auto s = rendered(kConfig);
  EXPECT_EQ(s["secrets"]["admin_password"]["name"].as<std::string>(),
            "enkisys-dev1-admin_password-0123456789ab");
  EXPECT_EQ(s["secrets"]["admin_password"]["file"].as<std::string>(),
            "/srv/enkisys/deploy/dev1/secrets/admin_password");
  // The gateway's read-only configuration file is a swarm config, not a bind mount.
  auto gw = s["services"]["gateway"];
  EXPECT_FALSE(gw["volumes"]);
  ASSERT_EQ(gw["configs"].size(), 1u);
  EXPECT_EQ(gw["configs"][0]["source"].as<std::string>(), "gateway-yaml");
  EXPECT_EQ(gw["configs"][0]["target"].as<std::string>(), "/etc/enkisys/gateway.yaml");
  EXPECT_EQ(s["configs"]["gateway-yaml"]["name"].as<std::string>(),
            "enkisys-dev1-gateway-yaml-0123456789ab");

  std::string config = kConfig, error;
  config.replace(config.find("secrets/admin_password"), 22, "secrets/missing");
  EXPECT_FALSE(render_stack(config, dev1(), digest_of, &error));
  EXPECT_NE(error.find("secrets/missing"), std::string::npos) << error;
}

TEST(SwarmStack, StatefulServicesArePinnedAndWritableBindMountsRefused) {
  auto s = rendered(kConfig);
  EXPECT_EQ(s["services"]["auth"]["deploy"]["placement"]["constraints"][0].as<std::string>(),
            "node.role == manager");
  EXPECT_FALSE(s["services"]["gateway"]["deploy"]["placement"]);

  std::string config = kConfig, error;
  config.replace(config.find(":/etc/enkisys/gateway.yaml:ro"), 29, ":/etc/enkisys/gateway.yaml");
  EXPECT_FALSE(render_stack(config, dev1(), digest_of, &error));
  EXPECT_NE(error.find("writable bind mount"), std::string::npos) << error;
  EXPECT_FALSE(render_stack("services: [a]", dev1(), digest_of, &error));
}

TEST(SwarmStack, DnsRoundRobinOnEveryServiceAndNoIngressPort) {
  StackOptions o = dev1();
  o.endpoint_mode = "dnsrr";
  auto s = rendered(kConfig, o);
  EXPECT_EQ(s["services"]["auth"]["deploy"]["endpoint_mode"].as<std::string>(), "dnsrr");
  EXPECT_EQ(s["services"]["gateway"]["deploy"]["endpoint_mode"].as<std::string>(), "dnsrr");
  EXPECT_FALSE(s["services"]["gateway"]["ports"]);
  EXPECT_FALSE(rendered(kConfig)["services"]["auth"]["deploy"]["endpoint_mode"]);
}

TEST(SwarmStack, ARegistryPrefixesEveryImage) {
  StackOptions o = dev1();
  o.registry = "registry.example:5000";
  EXPECT_EQ(rendered(kConfig, o)["services"]["auth"]["image"].as<std::string>(),
            "registry.example:5000/enkisys/auth:v2");
}

TEST(SwarmStack, TheGatewayPublishesTheFileGivenForItsConfiguration) {
  StackOptions o = dev1();
  std::vector<std::string> asked;
  o.gateway_config = [&](const std::string& source) {
    asked.push_back(source);
    return std::string("/var/lib/enkisys/dev1/gateway.yaml");
  };
  auto s = rendered(kConfig, o);
  EXPECT_EQ(asked, std::vector<std::string>{"/srv/enkisys/deploy/gateway/gateway.yaml"});
  EXPECT_EQ(s["configs"]["gateway-yaml"]["file"].as<std::string>(),
            "/var/lib/enkisys/dev1/gateway.yaml");
  EXPECT_EQ(s["services"]["gateway"]["configs"][0]["target"].as<std::string>(),
            "/etc/enkisys/gateway.yaml");

  o.gateway_config = [](const std::string&) { return std::string(); };
  std::string error;
  EXPECT_FALSE(render_stack(kConfig, o, digest_of, &error));
  EXPECT_NE(error.find("no gateway configuration for stage dev1"), std::string::npos) << error;
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The local stack's gateway file, served by a stack of another stage under that stage's name.
TEST(SwarmStack, AStackGatewayServesItsStageUnderItsOwnName) {
  const auto local_text = read_file(ENKISYS_GATEWAY_YAML);
  auto local = gateway::load_config_text(local_text);
  ASSERT_TRUE(local.ok()) << local.error().message;
  std::string error;
  auto prod_text = gateway_config_for_stage(local_text, "prod", &error);
  ASSERT_TRUE(prod_text) << error;
  auto prod = gateway::load_config_text(*prod_text);
  ASSERT_TRUE(prod.ok()) << prod.error().message << "\n" << *prod_text;

  ASSERT_EQ(prod->stages.size(), local->stages.size());
  for (std::size_t i = 0; i < local->stages.size(); ++i) {
    const auto& was = local->stages[i];
    const auto& now = prod->stages[i];
    EXPECT_EQ(now.name, was.name == "dev" ? "prod" : was.name);
    EXPECT_EQ(now.jwt_stage, was.jwt_stage == "dev" ? "prod" : was.jwt_stage) << now.name;
    EXPECT_EQ(now.cors, was.cors);
    EXPECT_EQ(now.rate_limits, was.rate_limits);
    ASSERT_EQ(now.routes.size(), was.routes.size()) << now.name;
    for (std::size_t r = 0; r < was.routes.size(); ++r) {
      EXPECT_EQ(now.routes[r].prefix, was.routes[r].prefix);
      EXPECT_EQ(now.routes[r].upstream, was.routes[r].upstream);
      EXPECT_EQ(now.routes[r].jwt, was.routes[r].jwt);
      EXPECT_EQ(now.routes[r].roles, was.routes[r].roles);
      EXPECT_EQ(now.routes[r].max_body_bytes, was.routes[r].max_body_bytes);
    }
  }
  EXPECT_EQ(prod->jwt.jwks_url, local->jwt.jwks_url);
  EXPECT_EQ(prod->limits.max_body_bytes, local->limits.max_body_bytes);
  EXPECT_EQ(prod->cors.at("web").origins, local->cors.at("web").origins);

  EXPECT_EQ(gateway_config_for_stage(local_text, "dev", &error), local_text);
  EXPECT_FALSE(gateway_config_for_stage(local_text, "monitoring", &error));
  EXPECT_NE(error.find("already has a stage monitoring"), std::string::npos) << error;
  EXPECT_FALSE(gateway_config_for_stage("stages: {prod: {}}", "dev1", &error));
  EXPECT_NE(error.find("no stage dev"), std::string::npos) << error;
  EXPECT_FALSE(gateway_config_for_stage("stages: [", "dev1", &error));
}

// The gate's decisions.
const std::map<std::string, std::string> kBefore = {{"s_gw", "T0"}, {"s_agent", "T0"}};

std::vector<SwarmTask> running(const std::string& service, const std::string& image, int n) {
  return std::vector<SwarmTask>(static_cast<std::size_t>(n), SwarmTask{service, true, image});
}

TEST(SwarmGate, SettledWhenEveryServiceRunsItsReplicasOnTheNewSpec) {
  std::vector<SwarmService> s = {{"s_gw", 2, "completed", "T1", "e/gw:v2", ""}};
  auto tasks = running("s_gw", "e/gw:v2@sha256:ab", 2);
  EXPECT_EQ(judge_swarm(s, tasks, kBefore, false).kind, SwarmVerdict::Kind::kSettled);
  // A start-first update still runs an old task next to the new ones.
  tasks.push_back({"s_gw", true, "e/gw:v1"});
  auto v = judge_swarm(s, tasks, kBefore, false);
  EXPECT_EQ(v.kind, SwarmVerdict::Kind::kPending);
  EXPECT_EQ(v.service, "s_gw");
  // Too few tasks, or one still starting.
  EXPECT_EQ(judge_swarm(s, running("s_gw", "e/gw:v2", 1), kBefore, false).kind,
            SwarmVerdict::Kind::kPending);
  auto starting = running("s_gw", "e/gw:v2", 2);
  starting[1].running = false;
  EXPECT_EQ(judge_swarm(s, starting, kBefore, false).kind, SwarmVerdict::Kind::kPending);
}

TEST(SwarmGate, AnUpdateInProgressIsPendingEvenWhenTheTasksLookDone) {
  std::vector<SwarmService> s = {{"s_gw", 2, "updating", "T1", "e/gw:v2", ""}};
  EXPECT_EQ(judge_swarm(s, running("s_gw", "e/gw:v2", 2), kBefore, false).kind,
            SwarmVerdict::Kind::kPending);
  s[0].state = "rollback_started";
  EXPECT_EQ(judge_swarm(s, running("s_gw", "e/gw:v2", 2), kBefore, false).kind,
            SwarmVerdict::Kind::kPending);
}

TEST(SwarmGate, ARollbackOrPauseOfThisDeployFails) {
  for (const char* state : {"rollback_completed", "paused", "rollback_paused"}) {
    std::vector<SwarmService> s = {{"s_gw", 2, "completed", "T1", "e/gw:v2", ""},
                                   {"s_agent", 2, state, "T1", "e/agent:v1", "update rolled back"}};
    auto tasks = running("s_gw", "e/gw:v2", 2);
    auto more = running("s_agent", "e/agent:v1", 2);
    tasks.insert(tasks.end(), more.begin(), more.end());
    auto v = judge_swarm(s, tasks, kBefore, false);
    EXPECT_EQ(v.kind, SwarmVerdict::Kind::kFailed) << state;
    EXPECT_EQ(v.service, "s_agent");
    EXPECT_NE(v.reason.find(state), std::string::npos) << v.reason;
    // While the CLI rolls the stage back, a completed rollback is the goal.
    if (std::string(state) == "rollback_completed") {
      EXPECT_EQ(judge_swarm(s, tasks, kBefore, true).kind, SwarmVerdict::Kind::kSettled);
    }
  }
}

TEST(SwarmGate, AStatusFromAnEarlierDeployDoesNotCount) {
  // The agent was rolled back by an earlier deploy (same StartedAt as before this one); this
  // deploy did not change it and its tasks run: settled, not failed.
  std::vector<SwarmService> s = {{"s_agent", 2, "rollback_completed", "T0", "e/agent:v1", ""}};
  EXPECT_EQ(judge_swarm(s, running("s_agent", "e/agent:v1", 2), kBefore, false).kind,
            SwarmVerdict::Kind::kSettled);
  // A service new in this deploy has no baseline: its status is fresh.
  s[0].name = "s_new";
  EXPECT_EQ(judge_swarm(s, running("s_new", "e/agent:v1", 2), kBefore, false).kind,
            SwarmVerdict::Kind::kFailed);
}

}  // namespace
}  // namespace enkisys::cli
