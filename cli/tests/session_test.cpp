#include "enkisys/cli/session.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "fakes.hpp"

namespace enkisys::cli {
namespace {

using testing::contains;
using testing::FakeClock;

// An `ssh -N -L 127.0.0.1:P:127.0.0.1:R` that (when `listens`) accepts on 127.0.0.1:P as the
// real one does, or never does; or that exits at once.
class FakeTunnel final : public BackgroundProcess {
 public:
  FakeTunnel(int port, bool listens, bool exits, int* alive) : exits_(exits), alive_(alive) {
    ++*alive_;
    if (!listens) return;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1:" << port;
    }
  }
  ~FakeTunnel() override {
    --*alive_;
    if (fd_ >= 0) ::close(fd_);
  }
  bool running() override { return !exits_; }

 private:
  int fd_ = -1;
  bool exits_;
  int* alive_;
};

// Records every argv; answers the `true` probe and `-O exit`; starts FakeTunnels.
class SshRunner final : public CommandRunner {
 public:
  CommandResult run(const Command& c) override {
    commands.push_back(c.argv);
    if (!reachable) return {255, false, "", "ssh: connect to host host.example port 2222: refused"};
    return {};
  }
  CommandResult pipe(const Command&, const Command&) override { return {}; }
  std::unique_ptr<BackgroundProcess> start(const Argv& argv) override {
    started.push_back(argv);
    auto spec = std::find(argv.begin(), argv.end(), "-L");
    if (spec == argv.end() || spec + 1 == argv.end()) return nullptr;
    // 127.0.0.1:LOCAL:127.0.0.1:REMOTE
    const auto& s = *(spec + 1);
    const int port = std::stoi(s.substr(10, s.find(':', 10) - 10));
    return std::make_unique<FakeTunnel>(port, listens, exits, &alive);
  }

  bool reachable = true;
  bool listens = true;
  bool exits = false;
  int alive = 0;  // tunnels not yet stopped
  std::vector<Argv> commands;
  std::vector<Argv> started;
};

SessionOptions remote() {
  SessionOptions o;
  o.host = "ssh://deploy@host.example:2222";
  o.state_dir = "/var/lib/enkisys";
  o.identity = "/keys/id";
  o.known_hosts = "/keys/known_hosts";
  return o;
}

std::string option_value(const Argv& a, const std::string& prefix) {
  for (const auto& w : a) {
    if (w.rfind(prefix, 0) == 0) return w.substr(prefix.size());
  }
  return {};
}

TEST(Session, LocalEngineUsesTheGatewayPortsDirectly) {
  SshRunner runner;
  FakeClock clock;
  SessionOptions o;
  o.state_dir = "/srv/state";
  o.project_dir = "/srv/enkisys";
  o.admin_port = 19901;
  o.gateway_port = 18080;
  Session s(o, runner, clock);
  ASSERT_TRUE(s.open(true).ok);
  EXPECT_FALSE(s.target().remote());
  EXPECT_EQ(s.admin_url(), "http://127.0.0.1:19901");
  EXPECT_EQ(s.gateway_url(), "http://127.0.0.1:18080");
  EXPECT_TRUE(runner.commands.empty());
  EXPECT_TRUE(runner.started.empty());
  EXPECT_TRUE(s.control_dir().empty());
  auto st = s.settings("dev1", ComposeFlavour::kV2);
  EXPECT_EQ(st.project_dir, "/srv/enkisys");
  EXPECT_EQ(st.admin_token_file, "/srv/enkisys/deploy/edge/secrets/gateway_admin_token");
  EXPECT_EQ(s.state_dir("dev1"), "/srv/state/dev1");
}

TEST(Session, RemoteSharesOneConnectionAndTunnelsToOsChosenPorts) {
  SshRunner runner;
  FakeClock clock;
  std::string control;
  {
    Session s(remote(), runner, clock);
    ASSERT_TRUE(s.open(true).ok);
    control = s.control_dir();
    ASSERT_FALSE(control.empty());
    struct stat st {};
    ASSERT_EQ(::stat(control.c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u);

    // The probe runs over the shared (ControlMaster) connection, with the pinned host key.
    ASSERT_EQ(runner.commands.size(), 1u);
    const auto& probe = runner.commands[0];
    EXPECT_EQ(probe.front(), "ssh");
    EXPECT_TRUE(contains(probe, "ControlMaster=auto"));
    EXPECT_EQ(option_value(probe, "ControlPath="), control + "/%C");
    EXPECT_TRUE(contains(probe, "StrictHostKeyChecking=yes"));
    EXPECT_TRUE(contains(probe, "UserKnownHostsFile=/keys/known_hosts"));
    EXPECT_TRUE(contains(probe, "/keys/id"));
    EXPECT_EQ(testing::unwrap_ssh(probe), (Argv{"true"}));

    // One tunnel per gateway port, each on its own connection and its own local port.
    ASSERT_EQ(runner.started.size(), 2u);
    ASSERT_EQ(s.tunnel_ports().size(), 2u);
    const int admin = s.tunnel_ports()[0];
    const int gateway = s.tunnel_ports()[1];
    EXPECT_GT(admin, 0);
    EXPECT_GT(gateway, 0);
    EXPECT_NE(admin, gateway);
    EXPECT_TRUE(
        contains(runner.started[0], "127.0.0.1:" + std::to_string(admin) + ":127.0.0.1:9901"));
    EXPECT_TRUE(
        contains(runner.started[1], "127.0.0.1:" + std::to_string(gateway) + ":127.0.0.1:8080"));
    for (const auto& t : runner.started) {
      EXPECT_TRUE(contains(t, "-N"));
      EXPECT_TRUE(contains(t, "ExitOnForwardFailure=yes"));
      EXPECT_FALSE(contains(t, "ControlMaster=auto"));
      EXPECT_EQ(t.back(), "deploy@host.example");
    }
    EXPECT_EQ(s.admin_url(), "http://127.0.0.1:" + std::to_string(admin));
    EXPECT_EQ(s.gateway_url(), "http://127.0.0.1:" + std::to_string(gateway));
    EXPECT_EQ(s.project_dir(), "/opt/enkisys");
    EXPECT_EQ(runner.alive, 2);
    EXPECT_EQ(clock.slept, std::chrono::milliseconds(0));
  }
  // Closing stops the tunnels, ends the shared connection and removes its directory.
  EXPECT_EQ(runner.alive, 0);
  ASSERT_EQ(runner.commands.size(), 2u);
  const auto& exit = runner.commands[1];
  EXPECT_TRUE(contains(exit, "-O"));
  EXPECT_TRUE(contains(exit, "exit"));
  EXPECT_EQ(option_value(exit, "ControlPath="), control + "/%C");
  EXPECT_EQ(exit.back(), "deploy@host.example");
  EXPECT_FALSE(std::filesystem::exists(control));
}

TEST(Session, WithoutHttpThereAreNoTunnels) {
  SshRunner runner;
  FakeClock clock;
  Session s(remote(), runner, clock);
  ASSERT_TRUE(s.open(false).ok);
  EXPECT_TRUE(runner.started.empty());
  s.close();
  s.close();                              // idempotent
  EXPECT_EQ(runner.commands.size(), 2u);  // probe, -O exit
}

TEST(Session, ATunnelThatNeverOpensFailsClearlyWithinItsDeadline) {
  SshRunner runner;
  runner.listens = false;
  FakeClock clock;
  std::string control;
  const auto t0 = std::chrono::steady_clock::now();
  {
    Session s(remote(), runner, clock);
    auto st = s.open(true);
    ASSERT_FALSE(st.ok);
    EXPECT_NE(st.message.find("cannot forward the gateway ports from "
                              "ssh://deploy@host.example:2222: port 9901"),
              std::string::npos)
        << st.message;
    EXPECT_NE(st.message.find("not open after 10000 ms"), std::string::npos) << st.message;
    // Three attempts of 10 s each (simulated time), each on a fresh local port.
    EXPECT_EQ(runner.started.size(), 3u);
    EXPECT_GE(clock.slept, std::chrono::seconds(30));
    EXPECT_LE(clock.slept, std::chrono::seconds(31));
    EXPECT_EQ(runner.alive, 0);  // each failed attempt's ssh was stopped
    control = s.control_dir();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_FALSE(control.empty());
  EXPECT_FALSE(std::filesystem::exists(control));
}

TEST(Session, ATunnelWhoseSshExitsIsRetriedWithoutWaiting) {
  SshRunner runner;
  runner.exits = true;
  FakeClock clock;
  Session s(remote(), runner, clock);
  auto st = s.open(true);
  ASSERT_FALSE(st.ok);
  EXPECT_NE(st.message.find("ssh exited"), std::string::npos) << st.message;
  EXPECT_EQ(runner.started.size(), 3u);
  EXPECT_EQ(clock.slept, std::chrono::milliseconds(0));
}

TEST(Session, AnUnreachableHostIsNamedWithSshsReason) {
  SshRunner runner;
  runner.reachable = false;
  FakeClock clock;
  Session s(remote(), runner, clock);
  auto st = s.open(true);
  ASSERT_FALSE(st.ok);
  EXPECT_EQ(st.message,
            "cannot reach ssh://deploy@host.example:2222 over ssh: ssh: connect to host "
            "host.example port 2222: refused");
  EXPECT_TRUE(runner.started.empty());
}

TEST(Session, AnInvalidHostIsRefusedBeforeSshRuns) {
  SshRunner runner;
  FakeClock clock;
  auto o = remote();
  o.host = "ssh://deploy@host;id";
  Session s(o, runner, clock);
  auto st = s.open(false);
  ASSERT_FALSE(st.ok);
  EXPECT_NE(st.message.find("expected ssh://[user@]host[:port]"), std::string::npos);
  EXPECT_TRUE(runner.commands.empty());
  EXPECT_TRUE(s.control_dir().empty());
}

TEST(LoopbackPorts, AFreePortIsClosedUntilSomeoneListens) {
  const int port = free_loopback_port();
  ASSERT_GT(port, 0);
  EXPECT_FALSE(loopback_port_open(port));
  int alive = 0;
  {
    FakeTunnel listener(port, true, false, &alive);
    EXPECT_TRUE(loopback_port_open(port));
  }
  EXPECT_FALSE(loopback_port_open(port));
}

}  // namespace
}  // namespace enkisys::cli
