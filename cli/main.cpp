// enkisys — blue/green deploys of a stage, locally or on a host over ssh. See cli/README.md.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "enkisys/cli/deployer.hpp"
#include "enkisys/cli/notify.hpp"

namespace cli = enkisys::cli;
using namespace std::chrono_literals;

namespace {

std::string env_or(const char* name, std::string fallback = {}) {
  const char* v = std::getenv(name);
  if (v && *v) return std::string(v);
  return fallback;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

struct Globals {
  std::string host;
  std::string state_dir = env_or("ENKISYS_STATE_DIR", "/var/lib/enkisys");
  std::string project_dir = env_or("ENKISYS_PROJECT_DIR");
  std::string token_file = env_or("ENKISYS_ADMIN_TOKEN_FILE");
  std::string identity = env_or("ENKISYS_SSH_KEY");
  std::string known_hosts = env_or("ENKISYS_SSH_KNOWN_HOSTS");
  int admin_port = 9901;
  int gateway_port = 8080;
};

// Everything a command needs, built from the global options (ssh target, tunnels, state).
class Session {
 public:
  explicit Session(const Globals& g) : g_(g) {}
  ~Session() {
    tunnels_.clear();
    if (target_) target_->close();
    if (!control_dir_.empty()) std::filesystem::remove_all(control_dir_);
  }

  // Returns an error message, or "" when ready.
  std::string open(bool need_http) {
    if (g_.host.empty()) {
      target_ = std::make_unique<cli::Target>(runner_);
      admin_url_ = "http://127.0.0.1:" + std::to_string(g_.admin_port);
      gateway_url_ = "http://127.0.0.1:" + std::to_string(g_.gateway_port);
    } else {
      std::string error;
      auto url = cli::parse_ssh_url(g_.host, &error);
      if (!url) return error;
      char tmpl[] = "/tmp/enkisys-ssh-XXXXXX";
      if (::mkdtemp(tmpl)) control_dir_ = tmpl;
      target_ = std::make_unique<cli::Target>(
          runner_, *url, cli::SshOptions{g_.identity, g_.known_hosts, control_dir_, 15s});
      auto probe = target_->run({"true"}, {}, 30s);
      if (!probe.ok()) return "cannot reach " + target_->describe() + " over ssh: " + probe.err;
      if (need_http) {
        int admin = 0, gateway = 0;
        if (!tunnel(g_.admin_port, &admin) || !tunnel(g_.gateway_port, &gateway)) {
          return "cannot forward the gateway ports from " + target_->describe();
        }
        admin_url_ = "http://127.0.0.1:" + std::to_string(admin);
        gateway_url_ = "http://127.0.0.1:" + std::to_string(gateway);
      }
    }
    return {};
  }

  cli::StageSettings settings(const std::string& stage, cli::ComposeFlavour flavour) const {
    cli::StageSettings s;
    s.stage = stage;
    s.project_dir = project_dir();
    s.admin_url = admin_url_;
    s.gateway_url = gateway_url_;
    s.admin_token_file = g_.token_file.empty()
                             ? s.project_dir + "/deploy/edge/secrets/gateway_admin_token"
                             : g_.token_file;
    s.compose = flavour;
    return s;
  }
  std::string project_dir() const {
    if (!g_.project_dir.empty()) return g_.project_dir;
    return g_.host.empty() ? std::filesystem::current_path().string() : "/opt/enkisys";
  }
  std::string state_dir(const std::string& stage) const { return g_.state_dir + "/" + stage; }
  cli::Target& target() { return *target_; }
  cli::CommandRunner& runner() { return runner_; }
  cli::HttpClient& http() { return http_; }
  cli::Clock& clock() { return clock_; }

 private:
  bool tunnel(int remote_port, int* local_port) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      int port = free_port();
      auto child = target_->forward(port, remote_port);
      if (!child) return false;
      for (int i = 0; i < 100 && child->running(); ++i) {  // up to 10 s
        if (port_open(port)) {
          *local_port = port;
          tunnels_.push_back(std::move(child));
          return true;
        }
        ::usleep(100'000);
      }
    }
    return false;
  }

  const Globals& g_;
  cli::ProcessRunner runner_;
  cli::CoreHttpClient http_;
  cli::SystemClock clock_;
  std::unique_ptr<cli::Target> target_;
  std::vector<std::unique_ptr<cli::BackgroundProcess>> tunnels_;
  std::string control_dir_;
  std::string admin_url_;
  std::string gateway_url_;
};

std::string actor() {
  auto gh = env_or("GITHUB_ACTOR");
  if (!gh.empty()) return "github:" + gh;
  return env_or("USER", env_or("LOGNAME", "unknown"));
}

cli::Lease me() {
  cli::Lease l;
  l.holder = actor();
  auto run = env_or("GITHUB_RUN_ID");
  if (!run.empty()) l.holder += " run " + run;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  l.host = host;
  l.pid = ::getpid();
  return l;
}

int fail(const std::string& message, int code = 2) {
  std::cerr << "enkisys: " << message << "\n";
  return code;
}

struct DeployArgs {
  std::string stage, version;
  int health_timeout = 120, confirm_timeout = 20, drain = 5, lock_ttl = 900, wait = 0;
  std::size_t keep = 5;
};

int run_deploy(const Globals& g, const DeployArgs& a, const std::string& action) {
  if (auto e = cli::check_stage(a.stage)) return fail(*e);
  if (!(action == "rollback" && a.version.empty())) {
    if (auto e = cli::check_version(a.version)) return fail(*e);
  }
  auto registry = env_or("REGISTRY");
  if (!registry.empty()) {
    if (auto e = cli::check_registry(registry)) return fail(*e);
  }
  Session session(g);
  auto t0 = std::chrono::steady_clock::now();
  cli::Outcome out;
  if (auto e = session.open(true); !e.empty()) {
    out.error = e;
  } else {
    std::string error;
    auto flavour = cli::detect_compose(session.target(), &error);
    if (!flavour) {
      out.error = error;
    } else {
      cli::TargetStateStore state(session.target(), session.state_dir(a.stage));
      cli::DeployConfig cfg;
      cfg.stage = session.settings(a.stage, *flavour);
      cfg.registry = registry;
      cfg.health_timeout = std::chrono::seconds(a.health_timeout);
      cfg.confirm_timeout = std::chrono::seconds(a.confirm_timeout);
      cfg.drain = std::chrono::seconds(a.drain);
      cfg.lock_ttl = std::chrono::seconds(a.lock_ttl);
      cfg.lock_wait = std::chrono::seconds(a.wait);
      cfg.keep = a.keep;
      cfg.me = me();
      cfg.actor = actor();
      cfg.run_url = cli::run_url_from([](const char* n) { return env_or(n); });
      cli::Deployer deployer({&session.target(), &session.runner(), &session.clock(),
                              &session.http(), &state, &std::cerr},
                             cfg);
      out = action == "deploy" ? deployer.deploy(a.version) : deployer.rollback(a.version);
    }
  }
  if (!out.error.empty() && out.release.result.empty())
    std::cerr << "enkisys: " << out.error << "\n";
  cli::Notice n;
  n.stage = a.stage;
  n.version = out.release.version.empty() ? (a.version.empty() ? "previous" : a.version)
                                          : out.release.version;
  n.action = action;
  n.result = out.release.result.empty() ? "failed" : out.release.result;
  n.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  n.message = out.error;
  n.actor = actor();
  n.run_url = cli::run_url_from([](const char* k) { return env_or(k); });
  n.rolled_back_to = out.release.rolled_back_to;
  for (const auto& w : cli::notify(session.http(), env_or("NOTIFY_WEBHOOK_URL"),
                                   env_or("GITHUB_STEP_SUMMARY"), n)) {
    std::cerr << "enkisys: warning: " << w << "\n";
  }
  if (out.exit_code == 0)
    std::cout << action << " " << n.version << " to " << a.stage << ": succeeded\n";
  return out.exit_code;
}

int run_releases(const Globals& g, const std::string& stage, bool as_json) {
  if (auto e = cli::check_stage(stage)) return fail(*e);
  Session session(g);
  if (auto e = session.open(false); !e.empty()) return fail(e, 1);
  cli::TargetStateStore state(session.target(), session.state_dir(stage));
  cli::ReleaseLedger ledger(state);
  std::vector<cli::Release> releases;
  std::size_t skipped = 0;
  if (auto s = ledger.read(&releases, &skipped); !s.ok) return fail(s.message, 1);
  for (const auto& r : releases) {
    if (as_json) {
      std::cout << boost::json::serialize(r.to_json()) << "\n";
      continue;
    }
    std::cout << std::left << std::setw(22) << r.started_at << std::setw(9) << r.action
              << std::setw(14) << r.version << std::setw(12) << r.result << std::setw(7) << r.color
              << std::right << std::setw(8) << r.duration_ms << " ms  " << r.actor
              << (r.rolled_back_to.empty() ? "" : "  → " + r.rolled_back_to)
              << (r.message.empty() ? "" : "  " + r.message) << "\n";
  }
  if (skipped) std::cerr << "enkisys: " << skipped << " unreadable ledger line(s) skipped\n";
  return 0;
}

int run_status(const Globals& g, const std::string& only) {
  std::vector<std::string> stages = {"prod", "staging", "dev1", "dev2"};
  if (!only.empty()) {
    if (auto e = cli::check_stage(only)) return fail(*e);
    stages = {only};
  }
  Session session(g);
  if (auto e = session.open(true); !e.empty()) return fail(e, 1);
  std::string error;
  auto flavour = cli::detect_compose(session.target(), &error).value_or(cli::ComposeFlavour::kV1);
  for (const auto& stage : stages) {
    cli::StageOps ops(session.target(), session.http(), session.settings(stage, flavour));
    cli::TargetStateStore state(session.target(), session.state_dir(stage));
    cli::ReleaseLedger ledger(state);
    std::optional<cli::Active> active;
    ledger.read_active(&active);
    std::cout << stage << ":\n  active:  "
              << (active ? active->color + " " + active->version + " (since " + active->since + ")"
                         : "none recorded")
              << "\n";
    std::string gw = "unknown";
    if (ops.load_admin_token().ok) {
      auto vars = ops.variables(&error);
      if (vars) {
        auto* c = vars->if_contains("color");
        gw = c && c->is_string() ? std::string(c->get_string()) : "(no color)";
      } else {
        gw = "unknown (" + error + ")";
      }
    }
    auto health = ops.stage_health();
    std::cout << "  gateway: color " << gw << ", /" << stage << "/health "
              << (health.status ? std::to_string(health.status) : health.error) << "\n";
    for (const char* color : {"blue", "green"}) {
      auto cs = ops.containers(color, &error);
      std::cout << "  " << std::left << std::setw(7) << color << std::right;
      if (!cs) {
        std::cout << error << "\n";
        continue;
      }
      std::size_t ready = 0;
      for (const auto& c : *cs) ready += c.ready() ? 1 : 0;
      std::cout << ready << "/" << cs->size() << " containers ready";
      for (const auto& c : *cs) std::cout << "  " << c.name << "=" << c.status << "/" << c.health;
      std::cout << "\n";
    }
    std::optional<std::string> lock;
    state.read(cli::StageLock::kFile, &lock);
    auto lease = lock ? cli::Lease::parse(*lock) : std::nullopt;
    std::cout << "  lock:    "
              << (lease  ? lease->describe()
                  : lock ? "unreadable"
                         : "free")
              << "\n";
  }
  return 0;
}

int run_lock(const Globals& g, const std::string& what, const std::string& stage) {
  if (auto e = cli::check_stage(stage)) return fail(*e);
  Session session(g);
  if (auto e = session.open(false); !e.empty()) return fail(e, 1);
  cli::TargetStateStore state(session.target(), session.state_dir(stage));
  std::optional<std::string> text;
  if (auto s = state.read(cli::StageLock::kFile, &text); !s.ok) return fail(s.message, 1);
  if (what == "show") {
    if (!text) {
      std::cout << stage << ": free\n";
      return 0;
    }
    auto lease = cli::Lease::parse(*text);
    bool expired = lease && lease->expires <= std::chrono::system_clock::now();
    std::cout << stage << ": " << (lease ? lease->describe() : "unreadable lease")
              << (expired ? " — EXPIRED (the next deploy takes it over)" : "") << "\n";
    return 0;
  }
  if (!text) {
    std::cout << stage << ": already free\n";
    return 0;
  }
  if (auto s = cli::StageLock::force_release(state); !s.ok) return fail(s.message, 1);
  std::cout << stage << ": released lock held by "
            << (cli::Lease::parse(*text) ? cli::Lease::parse(*text)->describe() : "unknown")
            << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"enkisys — zero-downtime blue/green deploys of an Enkisys stage"};
  app.require_subcommand(1);
  Globals g;
  app.add_option("--host", g.host, "ssh://user@host[:port] (default: the local engine)");
  app.add_option("--state-dir", g.state_dir, "state directory on the host ($ENKISYS_STATE_DIR)");
  app.add_option("--project-dir", g.project_dir,
                 "directory with compose.yaml and deploy/ on the host ($ENKISYS_PROJECT_DIR; "
                 "default: . locally, /opt/enkisys remotely)");
  app.add_option("--admin-token-file", g.token_file,
                 "gateway admin token file on the host ($ENKISYS_ADMIN_TOKEN_FILE; default "
                 "PROJECT/deploy/edge/secrets/gateway_admin_token)");
  app.add_option("--identity", g.identity, "ssh private key ($ENKISYS_SSH_KEY)");
  app.add_option("--known-hosts", g.known_hosts, "ssh known_hosts file ($ENKISYS_SSH_KNOWN_HOSTS)");
  app.add_option("--admin-port", g.admin_port, "gateway admin port on the host")
      ->check(CLI::Range(1, 65535));
  app.add_option("--gateway-port", g.gateway_port, "gateway public port on the host")
      ->check(CLI::Range(1, 65535));

  DeployArgs d;
  auto add_deploy_flags = [&](CLI::App* c) {
    c->add_option("--stage", d.stage, "stage")->required();
    c->add_option("--health-timeout", d.health_timeout, "seconds to wait for health")
        ->check(CLI::Range(1, 3600));
    c->add_option("--confirm-timeout", d.confirm_timeout,
                  "seconds for /{stage}/health via the gateway")
        ->check(CLI::Range(1, 600));
    c->add_option("--drain", d.drain, "seconds before the old color stops")
        ->check(CLI::Range(0, 600));
    c->add_option("--lock-ttl", d.lock_ttl, "lease TTL in seconds")->check(CLI::Range(5, 86400));
    c->add_option("--wait", d.wait, "seconds to wait for a held lock (0: fail at once)")
        ->check(CLI::Range(0, 86400));
    c->add_option("--keep", d.keep, "releases whose images are kept")->check(CLI::Range(1, 100));
  };
  auto* deploy = app.add_subcommand("deploy", "deploy a version to a stage (blue/green)");
  add_deploy_flags(deploy);
  deploy->add_option("--version", d.version, "image tag to deploy")->required();
  auto* rollback = app.add_subcommand("rollback", "go back to an earlier good release");
  add_deploy_flags(rollback);
  rollback->add_option("--to", d.version, "version (default: the previous good release)");

  std::string stage;
  bool as_json = false;
  auto* releases = app.add_subcommand("releases", "print a stage's release ledger");
  releases->add_option("--stage", stage, "stage")->required();
  releases->add_flag("--json", as_json, "one JSON object per line");
  auto* status = app.add_subcommand("status", "colors, containers, gateway and lock per stage");
  status->add_option("--stage", stage, "one stage (default: all)");
  auto* lock = app.add_subcommand("lock", "inspect or break a stage's deploy lease");
  lock->require_subcommand(1);
  auto* show = lock->add_subcommand("show", "print the lease");
  show->add_option("--stage", stage, "stage")->required();
  auto* release = lock->add_subcommand("release", "remove the lease (whoever holds it)");
  release->add_option("--stage", stage, "stage")->required();

  CLI11_PARSE(app, argc, argv);
  if (!g.project_dir.empty() && g.project_dir.front() != '/')
    return fail("--project-dir must be absolute");
  if (g.state_dir.empty() || g.state_dir.front() != '/')
    return fail("--state-dir must be absolute");

  if (*deploy) return run_deploy(g, d, "deploy");
  if (*rollback) return run_deploy(g, d, "rollback");
  if (*releases) return run_releases(g, stage, as_json);
  if (*status) return run_status(g, stage);
  if (*show) return run_lock(g, "show", stage);
  if (*release) return run_lock(g, "release", stage);
  return 2;
}
