#include "enkisys/cli/deployer.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "fakes.hpp"

namespace enkisys::cli {
namespace {

using namespace std::chrono_literals;
using testing::contains;

class DeployerTest : public ::testing::Test {
 protected:
  DeployerTest() : target(host) {}

  DeployConfig config() {
    DeployConfig c;
    c.stage.stage = "dev1";
    c.stage.project_dir = "/srv/enkisys";
    c.stage.admin_token_file = "/srv/enkisys/deploy/edge/secrets/gateway_admin_token";
    c.stage.compose = ComposeFlavour::kV1;
    c.health_timeout = 60s;
    c.confirm_timeout = 10s;
    c.drain = 3s;
    c.lock_ttl = 300s;
    c.keep = 5;
    c.me.holder = "tester";
    c.me.host = "ci";
    c.me.pid = 7;
    c.actor = "tester";
    return c;
  }
  Outcome deploy(const std::string& v, const DeployConfig& c) {
    Deployer d({&target, &local, &clock, &host, &state, &log}, c);
    return d.deploy(v);
  }
  Outcome deploy(const std::string& v) { return deploy(v, config()); }
  Outcome rollback(const std::string& to) {
    Deployer d({&target, &local, &clock, &host, &state, &log}, config());
    return d.rollback(to);
  }
  std::vector<Release> ledger() {
    std::vector<Release> out;
    ReleaseLedger(state).read(&out);
    return out;
  }
  std::size_t puts() const {
    return static_cast<std::size_t>(std::count_if(host.requests.begin(), host.requests.end(),
                                                  [](auto& r) { return r.rfind("PUT", 0) == 0; }));
  }

  testing::FakeHost host;
  testing::FakeHost local;  // the machine the CLI runs on
  testing::FakeClock clock;
  testing::MemoryStateStore state;
  std::ostringstream log;
  Target target;
};

TEST_F(DeployerTest, FirstDeployStartsGreenSwitchesAndRecords) {
  auto out = deploy("v1");
  ASSERT_EQ(out.exit_code, 0) << out.error << "\n" << log.str();
  EXPECT_EQ(host.color, "green");
  EXPECT_EQ(host.running.at("enkisys-dev1-green"), "v1");
  EXPECT_TRUE(host.networks.count("enkisys-dev1-ingress"));
  EXPECT_TRUE(host.volumes.count("enkisys-dev1-tools-data"));
  // Other stage variables survive the switch.
  auto put = std::find_if(host.requests.begin(), host.requests.end(),
                          [](auto& r) { return r.rfind("PUT", 0) == 0; });
  ASSERT_NE(put, host.requests.end());
  EXPECT_NE(put->find("\"color\":\"green\""), std::string::npos);
  EXPECT_NE(put->find("\"other\":\"kept\""), std::string::npos);
  auto all = ledger();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].result, "succeeded");
  EXPECT_EQ(all[0].color, "green");
  EXPECT_EQ(all[0].actor, "tester");
  EXPECT_EQ(all[0].images.at("enkisys/tools:v1").at("id"), "sha256:v1");
  EXPECT_EQ(all[0].health.at("gateway").at("status"), 200);
  EXPECT_EQ(all[0].health.at("containers").as_array().size(), 1u);
  EXPECT_FALSE(state.files.count("lock"));
  EXPECT_NE(state.files.at("active").find("\"version\":\"v1\""), std::string::npos);
  // Compose runs with the stage's conventions.
  auto up = std::find_if(host.commands.begin(), host.commands.end(),
                         [](auto& a) { return contains(a, "up"); });
  ASSERT_NE(up, host.commands.end());
  EXPECT_EQ(Argv(up->begin(), up->begin() + 6),
            (Argv{"env", "STAGE=dev1", "COLOR=green", "ENKISYS_TAG=v1", "docker-compose", "-p"}));
  EXPECT_TRUE(contains(*up, "/srv/enkisys/deploy/compose.dev1.yaml"));
  EXPECT_TRUE(contains(*up, "/srv/enkisys/deploy/dev1/stage.env"));
  EXPECT_TRUE(contains(*up, "enkisys-dev1-green"));
  EXPECT_FALSE(contains(*up, "/srv/enkisys/deploy/postgres/compose.services.yaml"));
  EXPECT_FALSE(host.running.count("enkisys-dev1-postgres"));
}

TEST_F(DeployerTest, PostgresStageStartsItsDatabaseFirstAndTheColorUsesIt) {
  host.stage_env = "STAGE=dev1\n# comment\nDATABASE=postgres\n";
  auto out = deploy("v1");
  ASSERT_EQ(out.exit_code, 0) << out.error << "\n" << log.str();
  EXPECT_TRUE(host.networks.count("enkisys-dev1-db"));
  EXPECT_TRUE(host.volumes.count("enkisys-dev1-postgres-data"));
  EXPECT_TRUE(host.running.count("enkisys-dev1-postgres"));
  auto is_up = [](const std::string& project) {
    return [project](const Argv& a) { return contains(a, "up") && contains(a, project); };
  };
  auto db_up =
      std::find_if(host.commands.begin(), host.commands.end(), is_up("enkisys-dev1-postgres"));
  auto color_up =
      std::find_if(host.commands.begin(), host.commands.end(), is_up("enkisys-dev1-green"));
  ASSERT_NE(db_up, host.commands.end());
  ASSERT_NE(color_up, host.commands.end());
  EXPECT_LT(db_up, color_up) << "the database starts (and is healthy) before the color";
  EXPECT_TRUE(contains(*db_up, "/srv/enkisys/deploy/postgres/compose.yaml"));
  EXPECT_TRUE(contains(*color_up, "/srv/enkisys/deploy/postgres/compose.services.yaml"));
  // The next deploy leaves the database running: it is shared by both colors.
  ASSERT_EQ(deploy("v2").exit_code, 0) << log.str();
  EXPECT_TRUE(host.running.count("enkisys-dev1-postgres"));
}

TEST_F(DeployerTest, DeployOverAServingReleaseBacksUpFirst) {
  std::vector<std::string> dumped;
  host.on_command = [&](const Argv& a, const std::string&) -> std::optional<CommandResult> {
    if (a[0] == "docker" && a[1] == "run" && contains(a, "enkisys-dev1-tools-data:/data:ro"))
      return CommandResult{0, false, "tools.db\n", ""};
    if (a[0] == "sh" && a[2].rfind("out=$1", 0) == 0) {
      dumped.push_back(a[4]);
      return CommandResult{};
    }
    if (a[0] == "sha256sum") return CommandResult{0, false, "abc  " + a.back() + "\n", ""};
    if (a[0] == "stat" || a[0] == "mkdir" || a[0] == "sh")
      return CommandResult{0, false, "1\n", ""};
    return std::nullopt;
  };
  auto c = config();
  c.backup_root = "/state/dev1/backups";
  host.images.insert(c.backup_image);
  ASSERT_EQ(deploy("v1", c).exit_code, 0) << log.str();
  EXPECT_TRUE(dumped.empty()) << "nothing serves yet: nothing to back up";
  const auto ups = host.up_count;
  auto out = deploy("v2", c);
  ASSERT_EQ(out.exit_code, 0) << out.error << "\n" << log.str();
  ASSERT_EQ(dumped.size(), 1u);
  EXPECT_EQ(dumped[0].rfind("/state/dev1/backups/", 0), 0u) << dumped[0];
  EXPECT_TRUE(dumped[0].ends_with("/tools-tools.db")) << dumped[0];
  EXPECT_EQ(host.up_count, ups + 1);
  EXPECT_TRUE(ledger().back().health.contains("backup"));
  // A backup that fails stops the deploy before the new color starts.
  host.on_command = [](const Argv& a, const std::string&) -> std::optional<CommandResult> {
    if (a[0] == "docker" && a[1] == "run") return CommandResult{1, false, "", "disk full"};
    if (a[0] == "mkdir" || a[0] == "rm") return CommandResult{};
    return std::nullopt;
  };
  out = deploy("v3", c);
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.error.find("backup before the deploy failed"), std::string::npos) << out.error;
  EXPECT_EQ(host.up_count, ups + 1);
}

TEST_F(DeployerTest, WithoutTheBackupImageTheDeploySaysSoAndGoesOn) {
  auto c = config();
  c.backup_root = "/state/dev1/backups";
  ASSERT_EQ(deploy("v1", c).exit_code, 0) << log.str();
  auto out = deploy("v2", c);
  ASSERT_EQ(out.exit_code, 0) << out.error;
  EXPECT_NE(log.str().find("no backup before the deploy"), std::string::npos) << log.str();
  EXPECT_EQ(ledger().back().health.at("backup").at("skipped"), "no image enkisys/postgres:15");
}

TEST_F(DeployerTest, UnknownDatabaseKindFailsBeforeAnythingStarts) {
  host.stage_env = "DATABASE=mysql\n";
  auto out = deploy("v1");
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.error.find("DATABASE must be postgres or sqlite"), std::string::npos) << out.error;
  EXPECT_EQ(host.up_count, 0);
}

TEST_F(DeployerTest, SecondDeployGoesToTheOtherColorAndStopsTheOldAfterDraining) {
  ASSERT_EQ(deploy("v1").exit_code, 0);
  auto slept = clock.slept;
  auto out = deploy("v2");
  ASSERT_EQ(out.exit_code, 0) << out.error;
  EXPECT_EQ(host.color, "blue");
  EXPECT_EQ(host.running.size(), 1u);
  EXPECT_EQ(host.running.at("enkisys-dev1-blue"), "v2");
  EXPECT_GE(clock.slept - slept, 3s);  // drain
  EXPECT_EQ(out.release.previous_version, "v1");
}

TEST_F(DeployerTest, HealthGateFailureRollsBackWithoutTouchingTheGateway) {
  ASSERT_EQ(deploy("v1").exit_code, 0);
  ASSERT_EQ(deploy("v2").exit_code, 0);
  host.unhealthy_versions = {"v3"};
  auto puts_before = puts();
  auto out = deploy("v3");
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.release.result, "rolled_back");
  EXPECT_EQ(out.release.rolled_back_to, "v2");
  EXPECT_EQ(puts(), puts_before);  // never switched
  EXPECT_EQ(host.color, "blue");
  EXPECT_EQ(host.running.size(), 1u);  // the broken color was stopped
  EXPECT_EQ(host.running.at("enkisys-dev1-blue"), "v2");
  EXPECT_NE(log.str().find("fatal: DATABASE_URL is invalid"), std::string::npos);  // its logs
  auto last = ledger().back();
  EXPECT_EQ(last.result, "rolled_back");
  EXPECT_EQ(last.health.at("failing_container"), "enkisys-dev1-green-tools-1");
  EXPECT_EQ(last.health.at("restored").at("status"), 200);
  EXPECT_FALSE(state.files.count("lock"));
  EXPECT_NE(state.files.at("active").find("\"version\":\"v2\""), std::string::npos);
}

TEST_F(DeployerTest, CrashingContainerFailsTheGateFast) {
  ASSERT_EQ(deploy("v1").exit_code, 0);
  host.exiting_versions = {"v3"};
  auto t0 = clock.now();
  auto out = deploy("v3");
  EXPECT_EQ(out.release.result, "rolled_back");
  EXPECT_LT(clock.now() - t0, 10s);  // no waiting for the 60 s health timeout
}

TEST_F(DeployerTest, ASlowHealthGateKeepsTheLeaseAlive) {
  auto c = config();
  c.lock_ttl = 10s;
  c.health_timeout = 30s;
  host.unhealthy_versions = {};
  host.exiting_versions = {};
  // Containers stay "starting" for the whole health timeout: the lease must still be ours.
  host.starting_versions = {"v1"};
  Lease rival_lease;
  rival_lease.holder = "rival";
  StageLock rival(state, clock, rival_lease, 10s);
  bool stolen = false;
  host.on_inspect = [&] {
    Lease holder;
    std::string error;
    stolen |= rival.try_acquire(&holder, &error) == StageLock::Outcome::kAcquired;
  };
  auto out = deploy("v1", c);
  EXPECT_FALSE(stolen);
  EXPECT_EQ(out.release.result, "failed");
  EXPECT_NE(out.release.message.find("health gate failed"), std::string::npos);
  EXPECT_EQ(out.release.message.find("lease lost"), std::string::npos);
}

TEST_F(DeployerTest, FailureAfterTheSwitchSwitchesBack) {
  ASSERT_EQ(deploy("v1").exit_code, 0);
  host.gateway_unhealthy_versions = {"v2"};
  auto out = deploy("v2");
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.release.result, "rolled_back");
  EXPECT_EQ(out.release.rolled_back_to, "v1");
  EXPECT_EQ(host.color, "green");  // back on v1's color
  EXPECT_EQ(host.running.size(), 1u);
  EXPECT_EQ(host.running.at("enkisys-dev1-green"), "v1");
  ASSERT_GE(host.requests.size(), 2u);
  EXPECT_NE(puts(), 0u);
  EXPECT_NE(out.release.message.find("/dev1/health is HTTP 503"), std::string::npos);
}

TEST_F(DeployerTest, RefusedSwitchRollsBack) {
  ASSERT_EQ(deploy("v1").exit_code, 0);
  host.fail_switch_to_new = true;
  auto out = deploy("v2");
  EXPECT_EQ(out.release.result, "rolled_back");
  EXPECT_EQ(host.color, "green");
  EXPECT_EQ(host.running.size(), 1u);
}

TEST_F(DeployerTest, FirstDeployThatFailsIsRecordedAsFailed) {
  host.unhealthy_versions = {"v1"};
  auto out = deploy("v1");
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.release.result, "failed");
  EXPECT_TRUE(host.running.empty());
  EXPECT_EQ(ledger().size(), 1u);
}

TEST_F(DeployerTest, HeldLockFailsNamingTheHolderAndTouchesNothing) {
  Lease other;
  other.holder = "github:octocat run 99";
  other.host = "runner-7";
  other.pid = 4242;
  other.token = "t";
  other.expires = clock.now() + 600s;
  state.files["lock"] = other.to_json();
  auto c = config();
  c.lock_wait = 5s;
  auto out = deploy("v1", c);
  EXPECT_EQ(out.exit_code, 3);
  EXPECT_NE(out.error.find("locked by github:octocat run 99 (pid 4242 on runner-7"),
            std::string::npos);
  EXPECT_EQ(host.up_count, 0);
  EXPECT_FALSE(state.files.count("releases.jsonl"));
  EXPECT_EQ(state.files.at("lock"), other.to_json());
}

TEST_F(DeployerTest, LeaseOfAKilledRunExpiresAndIsTakenOver) {
  Lease killed;
  killed.holder = "killed";
  killed.token = "t";
  killed.expires = clock.now() - 1s;
  state.files["lock"] = killed.to_json();
  EXPECT_EQ(deploy("v1").exit_code, 0);
}

TEST_F(DeployerTest, ManualRollbackGoesToThePreviousGoodRelease) {
  ASSERT_EQ(deploy("v1").exit_code, 0);
  ASSERT_EQ(deploy("v2").exit_code, 0);
  auto out = rollback("");
  ASSERT_EQ(out.exit_code, 0) << out.error;
  EXPECT_EQ(out.release.action, "rollback");
  EXPECT_EQ(out.release.version, "v1");
  EXPECT_EQ(host.running.at("enkisys-dev1-green"), "v1");
  EXPECT_EQ(host.color, "green");
  auto out2 = rollback("v2");
  ASSERT_EQ(out2.exit_code, 0);
  EXPECT_EQ(host.running.at("enkisys-dev1-blue"), "v2");
}

TEST_F(DeployerTest, RollbackToAPrunedImageFailsBeforeStarting) {
  ASSERT_EQ(deploy("v1").exit_code, 0);
  auto out = rollback("v0");
  EXPECT_EQ(out.release.result, "failed");
  EXPECT_NE(out.release.message.find("enkisys/tools:v0 is not on"), std::string::npos);
  EXPECT_EQ(host.up_count, 1);
  EXPECT_EQ(host.color, "green");
}

TEST_F(DeployerTest, RemoteHostGetsOnlyMissingImagesShipped) {
  std::string e;
  Target remote(host, *parse_ssh_url("ssh://deploy@ec2.example:22", &e), {});
  local.images = {"enkisys/tools:v1", "enkisys/tools:v4"};
  host.images = {"enkisys/tools:v1"};
  Deployer d({&remote, &local, &clock, &host, &state, &log}, config());
  ASSERT_EQ(d.deploy("v1").exit_code, 0) << log.str();
  auto shipped = [&] {
    return std::count_if(host.commands.begin(), host.commands.end(),
                         [](auto& a) { return a.size() == 3 && a[1] == "save"; });
  };
  EXPECT_EQ(shipped(), 0);  // same image ID on both sides
  ASSERT_EQ(d.deploy("v4").exit_code, 0) << log.str();
  EXPECT_EQ(shipped(), 1);
  auto save = std::find_if(host.commands.begin(), host.commands.end(),
                           [](auto& a) { return a.size() == 3 && a[1] == "save"; });
  EXPECT_EQ(*save, (Argv{"docker", "save", "enkisys/tools:v4"}));
  EXPECT_EQ((save + 1)->front(), "ssh");
  EXPECT_EQ((save + 1)->back(), "'load'");
  // Every remote command went through ssh with quoted words.
  for (const auto& a : host.commands) {
    if (a.front() == "docker" && a[1] == "save") continue;
    EXPECT_EQ(a.front(), "ssh");
  }
}

TEST_F(DeployerTest, OldImagesArePrunedBeyondKeep) {
  auto c = config();
  c.keep = 2;
  host.images.insert("enkisys/tools:v4");
  ASSERT_EQ(deploy("v1", c).exit_code, 0);
  ASSERT_EQ(deploy("v2", c).exit_code, 0);
  EXPECT_TRUE(host.removed_images.empty());
  ASSERT_EQ(deploy("v3", c).exit_code, 0);
  EXPECT_EQ(host.removed_images, (std::vector<std::string>{"enkisys/tools:v1"}));
  ASSERT_EQ(deploy("v4", c).exit_code, 0);
  EXPECT_EQ(host.removed_images,
            (std::vector<std::string>{"enkisys/tools:v1", "enkisys/tools:v2"}));
}

TEST_F(DeployerTest, InvalidInputRunsNothing) {
  auto out = deploy("v1;reboot");
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_TRUE(host.commands.empty());
  EXPECT_FALSE(state.files.count("lock"));
}

}  // namespace
}  // namespace enkisys::cli
