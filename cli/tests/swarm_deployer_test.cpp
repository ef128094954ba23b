// SwarmDeployer against a simulated single-node swarm: the stack's services, their update
// status and tasks, `docker stack deploy` and `docker service rollback`.
#include "enkisys/cli/swarm_deployer.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <set>
#include <sstream>

#include "fakes.hpp"

namespace enkisys::cli {
namespace {

using namespace std::chrono_literals;
using testing::contains;

class FakeSwarm final : public CommandRunner, public HttpClient {
 public:
  struct Service {
    int replicas = 1;
    std::string state, started_at, image, previous_image;
  };

  CommandResult run(const Command& c) override {
    commands.push_back(c.argv);
    const auto& a = c.argv;
    auto has = [&](const std::string& w) { return contains(a, w); };
    if (a[0] == "test") return {1, false, "", ""};  // no stage.env, no compose.S.yaml
    if (a[0] == "sha256sum") return {0, false, "feedfacecafebeef0000 " + a.back() + "\n", ""};
    if (a[0] == "cat" && a.back() == "/srv/enkisys/deploy/gateway/gateway.yaml") {
      return {0, false, "stages:\n  dev:\n    routes: [{prefix: /, upstream: \"http://f:1\"}]\n",
              ""};
    }
    if (a[0] == "env" && a.back() == "config") return {0, false, config(a[3].substr(12)), ""};
    if (has("image") && has("inspect")) return {0, false, "sha256:1\n", ""};
    if (a.size() > 2 && a[1] == "image" && a[2] == "ls") {
      std::string out;
      for (const auto& image : images) out += image + "\n";
      return {0, false, out, ""};
    }
    if (a.size() > 2 && a[1] == "image" && a[2] == "rm") {
      for (std::size_t i = 3; i < a.size(); ++i) {
        removed.push_back(a[i]);
        images.erase(a[i]);
      }
      return {};
    }
    if (has("stack") && has("deploy")) return deploy(c.input);
    if (has("service") && has("rollback")) {
      auto& s = services.at(a.back());
      std::swap(s.image, s.previous_image);
      s.state = "rollback_completed";
      s.started_at = tick();
      return {};
    }
    if (has("service") && has("ls")) {
      std::string out;
      for (const auto& [name, s] : services) out += name + "\n";
      return {0, false, out, ""};
    }
    if (has("service") && has("inspect") && a.size() == 6 &&
        a[4].find("PublishedPort") != std::string::npos) {
      return {0, false, services.count("enkisys-dev1_gateway") ? "30000\n" : "", ""};
    }
    if (has("service") && has("inspect")) {
      if (!late_failure.empty() && ++inspects_since_deploy == 2) {
        auto& s = services.at(late_failure);
        s.state = "rollback_completed";
        s.started_at = tick();
      }
      std::string out;
      for (const auto& [name, s] : services) {
        out += name + "|" + std::to_string(s.replicas) + "|" + s.state + "|" + s.started_at + "|" +
               s.image + "|\n";
      }
      return {0, false, out, ""};
    }
    if (has("service") && has("ps") && has("{{.Error}}")) {
      return {0, false, "\"task: non-zero exit (2)\"\n", ""};
    }
    if (has("service") && has("ps")) {
      std::string out;
      for (const auto& [name, s] : services) {
        for (int i = 1; i <= s.replicas; ++i) {
          out += name + "." + std::to_string(i) + "|Running 3 seconds ago|" + s.image + "\n";
        }
      }
      return {0, false, out, ""};
    }
    return {0, false, "", ""};
  }
  CommandResult pipe(const Command&, const Command&) override { return {}; }
  std::unique_ptr<BackgroundProcess> start(const Argv&) override { return nullptr; }
  HttpResponse send(const HttpRequest& r) override {
    urls.push_back(r.url);
    return {200, "{}", ""};
  }

  std::string tick() { return "T" + std::to_string(++clock_); }

  // `docker stack deploy -c -`: every service whose image changed updates; a broken image
  // makes swarm roll that service back by itself.
  CommandResult deploy(const std::string& stack) {
    stacks.push_back(stack);
    inspects_since_deploy = 0;
    YAML::Node root = YAML::Load(stack);
    for (const auto& kv : root["services"]) {
      const auto name = "enkisys-dev1_" + kv.first.as<std::string>();
      const auto image = kv.second["image"].as<std::string>();
      auto [it, created] = services.try_emplace(name);
      auto& s = it->second;
      s.replicas = kv.second["deploy"]["replicas"].as<int>();
      if (created) {
        s.image = image;
        continue;
      }
      if (s.image == image) continue;
      s.previous_image = s.image;
      s.started_at = tick();
      if (broken.count(image)) {
        s.state = "rollback_completed";
      } else {
        s.image = image;
        s.state = "completed";
      }
    }
    return {};
  }

  static std::string config(const std::string& version) {
    std::string out = "services:\n";
    for (const char* svc : {"agent", "gateway"}) {
      out += std::string("  ") + svc + ":\n    image: enkisys/" + svc + ":" + version +
             "\n    deploy: {replicas: 2}\n";
    }
    out +=
        "    environment: {GATEWAY_CONFIG: /etc/enkisys/gateway.yaml}\n"
        "    volumes: ['/srv/enkisys/deploy/gateway/gateway.yaml:/etc/enkisys/gateway.yaml:ro']\n";
    return out;
  }

  std::map<std::string, Service> services;
  std::set<std::string> broken;
  std::set<std::string> images;      // `docker image ls` of the node
  std::vector<std::string> removed;  // `docker image rm`, in order
  // This service's update fails, but its status shows it only from the second inspection
  // after the deploy (an update of something other than the image starts a moment later).
  std::string late_failure;
  int inspects_since_deploy = 0;
  std::vector<Argv> commands;
  std::vector<std::string> stacks, urls;

 private:
  int clock_ = 0;
};

class SwarmDeployerTest : public ::testing::Test {
 protected:
  SwarmDeployerTest() : target(swarm) {}

  Outcome deploy(const std::string& v, std::size_t keep = 5) {
    DeployConfig c;
    c.keep = keep;
    c.stage.stage = "dev1";
    c.stage.project_dir = "/srv/enkisys";
    c.health_timeout = 30s;
    c.confirm_timeout = 5s;
    c.me.holder = "tester";
    c.actor = "tester";
    SwarmDeployer d({&target, &swarm, &clock, &swarm, &state, &log}, c, {});
    return d.deploy(v);
  }
  std::vector<Release> ledger() {
    std::vector<Release> out;
    ReleaseLedger(state).read(&out);
    return out;
  }
  bool ran(const Argv& want) {
    for (const auto& a : swarm.commands) {
      if (a == want) return true;
    }
    return false;
  }

  FakeSwarm swarm;
  testing::FakeClock clock;
  testing::MemoryStateStore state;
  std::ostringstream log;
  Target target;
};

TEST_F(SwarmDeployerTest, DeploysTheRenderedStackAndRecordsTheRelease) {
  auto first = deploy("v1");
  ASSERT_EQ(first.exit_code, 0) << first.error << "\n" << log.str();
  auto second = deploy("v2");
  ASSERT_EQ(second.exit_code, 0) << second.error << "\n" << log.str();
  EXPECT_TRUE(ran({"docker", "stack", "deploy", "--prune", "--with-registry-auth",
                   "--resolve-image", "never", "-c", "-", "enkisys-dev1"}));
  ASSERT_EQ(swarm.stacks.size(), 2u);
  EXPECT_NE(swarm.stacks[1].find("version: \"3.8\""), std::string::npos);
  EXPECT_NE(swarm.stacks[1].find("enkisys/agent:v2"), std::string::npos);
  EXPECT_EQ(swarm.services.at("enkisys-dev1_agent").image, "enkisys/agent:v2");
  auto l = ledger();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[1].result, "succeeded");
  EXPECT_EQ(l[1].previous_version, "v1");
  EXPECT_EQ(l[1].color, "swarm");
  // The stack's gateway serves the stage under its own name: its configuration is the local
  // file with `dev` renamed, kept in the stage's state directory and published from there.
  ASSERT_TRUE(state.files.count("gateway.yaml"));
  auto own = YAML::Load(state.files.at("gateway.yaml"));
  EXPECT_TRUE(own["stages"]["dev1"]);
  EXPECT_FALSE(own["stages"]["dev"]);
  auto stack = YAML::Load(swarm.stacks[1]);
  EXPECT_EQ(stack["configs"]["gateway-yaml"]["file"].as<std::string>(), "/state/gateway.yaml");
  // The gate asked the stack's gateway (its published port) for /health and /dev1/health.
  EXPECT_EQ(swarm.urls.back(), "http://127.0.0.1:30000/dev1/health");
}

// The node keeps the images of the last `keep` releases (and the one replaced), as compose
// deploys do; a failed deploy removes nothing.
TEST_F(SwarmDeployerTest, OldImagesArePrunedBeyondKeep) {
  for (const char* v : {"v1", "v2", "v3", "v4"}) {
    for (const char* svc : {"agent", "gateway"}) {
      swarm.images.insert(std::string("enkisys/") + svc + ":" + v);
    }
  }
  swarm.images.insert("other/app:v1");
  ASSERT_EQ(deploy("v1", 2).exit_code, 0) << log.str();
  ASSERT_EQ(deploy("v2", 2).exit_code, 0) << log.str();
  EXPECT_TRUE(swarm.removed.empty());
  ASSERT_EQ(deploy("v3", 2).exit_code, 0) << log.str();
  EXPECT_EQ(swarm.removed, (std::vector<std::string>{"enkisys/agent:v1", "enkisys/gateway:v1"}));
  swarm.broken = {"enkisys/agent:v4"};
  EXPECT_EQ(deploy("v4", 2).exit_code, 1);
  EXPECT_EQ(swarm.removed.size(), 2u);
  EXPECT_TRUE(swarm.images.count("other/app:v1"));
  EXPECT_TRUE(swarm.images.count("enkisys/agent:v2"));
}

TEST_F(SwarmDeployerTest, ABrokenServiceRollsTheWholeStageBack) {
  ASSERT_EQ(deploy("v1").exit_code, 0) << log.str();
  swarm.broken = {"enkisys/agent:v2"};
  auto out = deploy("v2");
  EXPECT_EQ(out.exit_code, 1);
  auto l = ledger();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[1].result, "rolled_back") << l[1].message;
  EXPECT_EQ(l[1].rolled_back_to, "v1");
  EXPECT_NE(l[1].message.find("enkisys-dev1_agent"), std::string::npos) << l[1].message;
  EXPECT_NE(l[1].message.find("non-zero exit (2)"), std::string::npos) << l[1].message;
  // Swarm rolled the agent back by itself; the CLI rolls back the gateway, which updated.
  EXPECT_TRUE(ran({"docker", "service", "rollback", "--detach", "enkisys-dev1_gateway"}));
  EXPECT_FALSE(ran({"docker", "service", "rollback", "--detach", "enkisys-dev1_agent"}));
  EXPECT_EQ(swarm.services.at("enkisys-dev1_gateway").image, "enkisys/gateway:v1");
  // The next deploy does not count the earlier rollback against the unchanged agent.
  swarm.broken.clear();
  EXPECT_EQ(deploy("v3").exit_code, 0) << log.str();
}

TEST_F(SwarmDeployerTest, AnUpdateThatStartsLateIsStillWaitedFor) {
  ASSERT_EQ(deploy("v1").exit_code, 0) << log.str();
  swarm.late_failure = "enkisys-dev1_gateway";
  auto out = deploy("v1");
  EXPECT_EQ(out.exit_code, 1) << log.str();
  ASSERT_EQ(ledger().size(), 2u);
  EXPECT_NE(ledger()[1].message.find("enkisys-dev1_gateway"), std::string::npos);
}

TEST_F(SwarmDeployerTest, NothingToRestoreOnAFirstBrokenDeployIsFailed) {
  swarm.services["enkisys-dev1_agent"] = {2, "", "", "enkisys/agent:v0", ""};
  swarm.broken = {"enkisys/agent:v1"};
  auto out = deploy("v1");
  EXPECT_EQ(out.exit_code, 1);
  ASSERT_EQ(ledger().size(), 1u);
  EXPECT_EQ(ledger()[0].result, "failed");
  EXPECT_NE(ledger()[0].message.find("nothing was serving before"), std::string::npos);
}

}  // namespace
}  // namespace enkisys::cli
