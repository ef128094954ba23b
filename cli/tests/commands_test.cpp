#include "enkisys/cli/commands.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <map>
#include <sstream>

#include "enkisys/cli/report.hpp"
#include "fakes.hpp"

namespace enkisys::cli {
namespace {

// A StateStore handed out by CommandEnv::state that forwards to a store the test keeps.
class StoreRef final : public StateStore {
 public:
  explicit StoreRef(StateStore& s) : s_(&s) {}
  Status read(const std::string& n, std::optional<std::string>* c) override {
    return s_->read(n, c);
  }
  Create create_exclusive(const std::string& n, const std::string& c, std::string* e) override {
    return s_->create_exclusive(n, c, e);
  }
  Status replace(const std::string& n, const std::string& c) override { return s_->replace(n, c); }
  Status append(const std::string& n, const std::string& l) override { return s_->append(n, l); }
  Status remove(const std::string& n) override { return s_->remove(n); }
  std::string describe(const std::string& n) const override { return s_->describe(n); }

 private:
  StateStore* s_;
};

// The commands on the local engine of a simulated host (stage dev1).
class Commands : public ::testing::Test {
 protected:
  Commands() {
    env_.runner = &host_;
    env_.http = &host_;
    env_.clock = &clock_;
    env_.out = &out_;
    env_.err = &err_;
    env_.getenv = [this](const char* name) {
      auto it = vars_.find(name);
      return it == vars_.end() ? std::string() : it->second;
    };
    env_.state = [this](Target&, const std::string& dir) -> std::unique_ptr<StateStore> {
      dirs_.push_back(dir);
      return std::make_unique<StoreRef>(stores_[dir]);
    };
    env_.hostname = "ci-runner";
    env_.pid = 42;
    options_.state_dir = "/var/lib/enkisys";
    options_.project_dir = "/opt/enkisys";
  }
  testing::MemoryStateStore& dev1() { return stores_["/var/lib/enkisys/dev1"]; }

  testing::FakeHost host_;
  testing::FakeClock clock_;
  std::ostringstream out_, err_;
  std::map<std::string, std::string> vars_;
  std::map<std::string, testing::MemoryStateStore> stores_;
  std::vector<std::string> dirs_;
  SessionOptions options_;
  CommandEnv env_;
};

TEST_F(Commands, InvalidInputIsRefusedBeforeAnythingRuns) {
  EXPECT_EQ(run_releases(env_, options_, "../dev1", false), kInvalidInput);
  EXPECT_EQ(run_status(env_, options_, "Dev1"), kInvalidInput);
  EXPECT_EQ(run_lock(env_, options_, "release", "health"), kInvalidInput);
  DeployRequest d;
  d.stage = "dev1";
  d.version = "v1;rm";
  EXPECT_EQ(run_deploy(env_, options_, d, "deploy"), kInvalidInput);
  d.version = "v2";
  for (const auto& bad : {std::pair<std::string, std::string>{"target", "kubernetes"},
                          {"endpoint_mode", "host"},
                          {"gateway_url", "ftp://lb"},
                          {"health_path", "dev/health"}}) {
    DeployRequest s = d;
    s.target = "swarm";
    if (bad.first == "target") s.target = bad.second;
    if (bad.first == "endpoint_mode") s.endpoint_mode = bad.second;
    if (bad.first == "gateway_url") s.gateway_url = bad.second;
    if (bad.first == "health_path") s.health_path = bad.second;
    EXPECT_EQ(run_deploy(env_, options_, s, "deploy"), kInvalidInput) << bad.first;
  }
  vars_["REGISTRY"] = "Registry.Example";
  EXPECT_EQ(run_deploy(env_, options_, d, "deploy"), kInvalidInput);
  EXPECT_TRUE(host_.commands.empty());
  EXPECT_TRUE(host_.requests.empty());
  EXPECT_TRUE(out_.str().empty());
  EXPECT_EQ(
      err_.str().rfind("enkisys: invalid stage '../dev1': must match ^[a-z][a-z0-9]{1,15}$", 0), 0u)
      << err_.str();
  EXPECT_NE(err_.str().find("enkisys: invalid REGISTRY 'Registry.Example'"), std::string::npos);

  auto o = options_;
  o.project_dir = "opt/enkisys";
  EXPECT_EQ(check_session_options(o), "--project-dir must be absolute");
  o = options_;
  o.state_dir = "";
  EXPECT_EQ(check_session_options(o), "--state-dir must be absolute");
  EXPECT_FALSE(check_session_options(options_));
}

TEST_F(Commands, ReleasesPrintsTheStagesLedger) {
  Release r;
  r.stage = "dev1";
  r.version = "v1";
  r.result = "succeeded";
  r.color = "blue";
  ASSERT_TRUE(ReleaseLedger(dev1()).append(r).ok);
  dev1().files["releases.jsonl"] += "{truncated\n";
  EXPECT_EQ(run_releases(env_, options_, "dev1", true), kSucceeded);
  EXPECT_EQ(dirs_, (std::vector<std::string>{"/var/lib/enkisys/dev1"}));
  EXPECT_EQ(out_.str(), boost::json::serialize(r.to_json()) + "\n");
  EXPECT_EQ(err_.str(), "enkisys: 1 unreadable ledger line(s) skipped\n");
}

TEST_F(Commands, StatusOfOneStage) {
  host_.running["enkisys-dev1-blue"] = "v1";
  EXPECT_EQ(run_status(env_, options_, "dev1"), kSucceeded);
  EXPECT_EQ(out_.str().rfind("dev1:\n  active:  none recorded\n  gateway: color blue, ", 0), 0u)
      << out_.str();
  // The admin token is read from the default file under the project directory.
  bool read_token = false;
  for (const auto& c : host_.commands) {
    read_token |= c == Argv{"cat", "--", "/opt/enkisys/deploy/edge/secrets/gateway_admin_token"};
  }
  EXPECT_TRUE(read_token);
}

TEST_F(Commands, StatusOfASwarmStage) {
  EXPECT_EQ(run_status(env_, options_, "dev1", "swarm"), kSucceeded);
  EXPECT_EQ(out_.str().rfind("dev1 (stack enkisys-dev1):\n  active:  none recorded\n", 0), 0u)
      << out_.str();
  bool listed = false;
  for (const auto& a : host_.commands) {
    listed = listed || testing::contains(a, "label=com.docker.stack.namespace=enkisys-dev1");
  }
  EXPECT_TRUE(listed);
  EXPECT_NE(out_.str().find("  lock:    free\n"), std::string::npos) << out_.str();
  EXPECT_EQ(run_status(env_, options_, "dev1", "nomad"), kInvalidInput);
}

TEST_F(Commands, LockShowAndRelease) {
  EXPECT_EQ(run_lock(env_, options_, "show", "dev1"), kSucceeded);
  EXPECT_EQ(run_lock(env_, options_, "release", "dev1"), kSucceeded);
  EXPECT_EQ(out_.str(), "dev1: free\ndev1: already free\n");
}

TEST_F(Commands, ADeployThatCannotStartFailsAndIsAnnounced) {
  // The fake host has no compose: the deploy fails before it takes the lock.
  vars_["GITHUB_ACTOR"] = "octocat";
  DeployRequest d;
  d.stage = "dev1";
  d.version = "v2";
  EXPECT_EQ(run_deploy(env_, options_, d, "deploy"), kFailed);
  EXPECT_NE(err_.str().find("enkisys: neither 'docker compose' nor 'docker-compose' works"),
            std::string::npos)
      << err_.str();
  EXPECT_TRUE(out_.str().empty());
  EXPECT_TRUE(dev1().files.empty());
  EXPECT_EQ(actor_from(env_.getenv), "github:octocat");
}

}  // namespace
}  // namespace enkisys::cli
