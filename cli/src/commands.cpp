#include "enkisys/cli/commands.hpp"

#include <boost/json.hpp>
#include <vector>

#include "enkisys/cli/backup.hpp"
#include "enkisys/cli/deployer.hpp"
#include "enkisys/cli/notify.hpp"
#include "enkisys/cli/report.hpp"
#include "enkisys/cli/swarm_deployer.hpp"
#include "enkisys/cli/validate.hpp"

namespace enkisys::cli {
namespace {

int fail(CommandEnv& env, const std::string& message, int code = kInvalidInput) {
  *env.err << "enkisys: " << message << "\n";
  return code;
}

Lease lease_of_this_run(CommandEnv& env) {
  Lease l;
  l.holder = actor_from(env.getenv);
  auto run = env.getenv("GITHUB_RUN_ID");
  if (!run.empty()) l.holder += " run " + run;
  l.host = env.hostname;
  l.pid = env.pid;
  return l;
}

// Validation of deploy/rollback input; the message when invalid.
std::optional<std::string> check_request(const DeployRequest& r, const std::string& action,
                                         const std::string& registry) {
  if (auto e = check_stage(r.stage)) return e;
  if (!(action == "rollback" && r.version.empty())) {
    if (auto e = check_version(r.version)) return e;
  }
  if (r.target != "compose" && r.target != "swarm") return "--target must be compose or swarm";
  if (!r.health_path.empty() && (r.health_path.front() != '/' ||
                                 r.health_path.find_first_of(" ?#\r\n") != std::string::npos)) {
    return "--health-path must be a path starting with /";
  }
  if (!r.endpoint_mode.empty() && r.endpoint_mode != "vip" && r.endpoint_mode != "dnsrr") {
    return "--endpoint-mode must be vip or dnsrr";
  }
  if (!r.gateway_url.empty() && r.gateway_url.rfind("http://", 0) != 0 &&
      r.gateway_url.rfind("https://", 0) != 0) {
    return "--gateway-url must be an http:// or https:// URL";
  }
  if (!registry.empty()) return check_registry(registry);
  return std::nullopt;
}

Outcome deploy_in(CommandEnv& env, Session& session, const DeployRequest& r,
                  const std::string& action, const std::string& registry) {
  Outcome out;
  if (auto s = session.open(r.target != "swarm"); !s.ok) {
    out.error = s.message;
    return out;
  }
  std::string error;
  auto flavour = detect_compose(session.target(), &error);
  if (!flavour) {
    out.error = error;
    return out;
  }
  auto state = env.state(session.target(), session.state_dir(r.stage));
  DeployConfig cfg;
  cfg.stage = session.settings(r.stage, *flavour);
  cfg.registry = registry;
  cfg.health_timeout = std::chrono::seconds(r.health_timeout);
  cfg.confirm_timeout = std::chrono::seconds(r.confirm_timeout);
  cfg.drain = std::chrono::seconds(r.drain);
  cfg.lock_ttl = std::chrono::seconds(r.lock_ttl);
  cfg.lock_wait = std::chrono::seconds(r.wait);
  cfg.keep = r.keep;
  cfg.me = lease_of_this_run(env);
  cfg.actor = actor_from(env.getenv);
  cfg.run_url = run_url_from(env.getenv);
  if (r.backup) cfg.backup_root = session.state_dir(r.stage) + "/backups";
  if (!env.getenv("ENKISYS_BACKUP_IMAGE").empty())
    cfg.backup_image = env.getenv("ENKISYS_BACKUP_IMAGE");
  const DeployEnv denv{&session.target(), env.runner, env.clock, env.http, state.get(), env.err};
  if (r.target == "swarm") {
    SwarmDeployer swarm(denv, cfg, {r.publish, r.health_path, r.endpoint_mode, r.gateway_url});
    return action == "deploy" ? swarm.deploy(r.version) : swarm.rollback(r.version);
  }
  Deployer deployer(denv, cfg);
  return action == "deploy" ? deployer.deploy(r.version) : deployer.rollback(r.version);
}

}  // namespace

std::string actor_from(const std::function<std::string(const char*)>& getenv) {
  auto gh = getenv("GITHUB_ACTOR");
  if (!gh.empty()) return "github:" + gh;
  for (const char* name : {"USER", "LOGNAME"}) {
    auto v = getenv(name);
    if (!v.empty()) return v;
  }
  return "unknown";
}

std::optional<std::string> check_session_options(const SessionOptions& o) {
  if (!o.project_dir.empty() && o.project_dir.front() != '/') {
    return "--project-dir must be absolute";
  }
  if (o.state_dir.empty() || o.state_dir.front() != '/') return "--state-dir must be absolute";
  return std::nullopt;
}

int run_deploy(CommandEnv& env, const SessionOptions& options, const DeployRequest& r,
               const std::string& action) {
  const auto registry = env.getenv("REGISTRY");
  if (auto e = check_request(r, action, registry)) return fail(env, *e);
  Session session(options, *env.runner, *env.clock);
  const auto t0 = std::chrono::steady_clock::now();
  const Outcome out = deploy_in(env, session, r, action, registry);
  if (!out.error.empty() && out.release.result.empty())
    *env.err << "enkisys: " << out.error << "\n";
  Notice n;
  n.stage = r.stage;
  n.version = out.release.version.empty() ? (r.version.empty() ? "previous" : r.version)
                                          : out.release.version;
  n.action = action;
  n.result = out.release.result.empty() ? "failed" : out.release.result;
  n.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  n.message = out.error;
  n.actor = actor_from(env.getenv);
  n.run_url = run_url_from(env.getenv);
  n.rolled_back_to = out.release.rolled_back_to;
  for (const auto& w :
       notify(*env.http, env.getenv("NOTIFY_WEBHOOK_URL"), env.getenv("GITHUB_STEP_SUMMARY"), n)) {
    *env.err << "enkisys: warning: " << w << "\n";
  }
  if (out.exit_code == kSucceeded) {
    *env.out << action << " " << n.version << " to " << r.stage << ": succeeded\n";
  }
  return out.exit_code;
}

int run_releases(CommandEnv& env, const SessionOptions& options, const std::string& stage,
                 bool as_json) {
  if (auto e = check_stage(stage)) return fail(env, *e);
  Session session(options, *env.runner, *env.clock);
  if (auto s = session.open(false); !s.ok) return fail(env, s.message, kFailed);
  auto state = env.state(session.target(), session.state_dir(stage));
  ReleaseLedger ledger(*state);
  std::vector<Release> releases;
  std::size_t skipped = 0;
  if (auto s = ledger.read(&releases, &skipped); !s.ok) return fail(env, s.message, kFailed);
  write_releases(*env.out, releases, as_json);
  if (skipped) *env.err << "enkisys: " << skipped << " unreadable ledger line(s) skipped\n";
  return kSucceeded;
}

int run_status(CommandEnv& env, const SessionOptions& options, const std::string& only,
               const std::string& target) {
  if (target != "compose" && target != "swarm") {
    return fail(env, "--target must be compose or swarm");
  }
  std::vector<std::string> stages = {"prod", "staging", "dev1", "dev2"};
  if (!only.empty()) {
    if (auto e = check_stage(only)) return fail(env, *e);
    stages = {only};
  }
  Session session(options, *env.runner, *env.clock);
  if (auto s = session.open(target != "swarm"); !s.ok) return fail(env, s.message, kFailed);
  std::string error;
  auto flavour = detect_compose(session.target(), &error).value_or(ComposeFlavour::kV1);
  for (const auto& stage : stages) {
    auto state = env.state(session.target(), session.state_dir(stage));
    if (target == "swarm") {
      write_swarm_status(*env.out, stage, session.target(), *state);
      continue;
    }
    StageOps ops(session.target(), *env.http, session.settings(stage, flavour));
    write_stage_status(*env.out, ops, *state);
  }
  return kSucceeded;
}

int run_lock(CommandEnv& env, const SessionOptions& options, const std::string& what,
             const std::string& stage) {
  if (auto e = check_stage(stage)) return fail(env, *e);
  Session session(options, *env.runner, *env.clock);
  if (auto s = session.open(false); !s.ok) return fail(env, s.message, kFailed);
  auto state = env.state(session.target(), session.state_dir(stage));
  const Status s = what == "show" ? write_lock_show(*env.out, stage, *state, env.clock->now())
                                  : lock_release(*env.out, stage, *state);
  return s.ok ? kSucceeded : fail(env, s.message, kFailed);
}

namespace {

// Runs fn(backups) for request.stage on the target, holding the stage's lease when `locked`.
int with_backups(CommandEnv& env, const SessionOptions& options, const BackupRequest& r,
                 bool locked, const std::function<Status(Backups&)>& fn) {
  if (auto e = check_stage(r.stage)) return fail(env, *e);
  if (!r.copy_to.empty() && r.copy_to.front() != '/')
    return fail(env, "--copy-to must be absolute");
  Session session(options, *env.runner, *env.clock);
  if (auto s = session.open(false); !s.ok) return fail(env, s.message, kFailed);
  std::string error;
  auto flavour = detect_compose(session.target(), &error);
  if (!flavour) return fail(env, error, kFailed);
  auto state = env.state(session.target(), session.state_dir(r.stage));
  StageOps ops(session.target(), *env.http, session.settings(r.stage, *flavour));
  BackupConfig cfg;
  cfg.root = session.state_dir(r.stage) + "/backups";
  cfg.copy_to = r.copy_to.empty() ? "" : r.copy_to + "/" + r.stage;
  cfg.keep = r.keep;
  cfg.max_age_days = r.max_age_days;
  cfg.tools_image = !r.tools_image.empty() ? r.tools_image
                    : !env.getenv("ENKISYS_BACKUP_IMAGE").empty()
                        ? env.getenv("ENKISYS_BACKUP_IMAGE")
                        : cfg.tools_image;
  cfg.health_timeout = std::chrono::seconds(r.health_timeout);
  cfg.actor = actor_from(env.getenv);
  Backups backups(ops, *env.clock, *state, *env.err, cfg);
  std::optional<StageLock> lock;
  if (locked) {
    lock.emplace(*state, *env.clock, lease_of_this_run(env), std::chrono::seconds(r.lock_ttl));
    Lease holder;
    switch (lock->try_acquire(&holder, &error)) {
      case StageLock::Outcome::kAcquired:
        break;
      case StageLock::Outcome::kHeld:
        return fail(env, "stage " + r.stage + " is locked by " + holder.holder, kLocked);
      case StageLock::Outcome::kError:
        return fail(env, error, kFailed);
    }
  }
  const Status s = fn(backups);
  if (lock) lock->release();
  return s.ok ? kSucceeded : fail(env, s.message, kFailed);
}

}  // namespace

int run_backup(CommandEnv& env, const SessionOptions& options, const BackupRequest& r) {
  return with_backups(env, options, r, true, [&](Backups& b) {
    BackupManifest m;
    auto s = b.backup(&m);
    if (s.ok) *env.out << m.id << "\n";
    return s;
  });
}

int run_restore(CommandEnv& env, const SessionOptions& options, const BackupRequest& r) {
  if (!valid_backup_id(r.from)) return fail(env, "--from: invalid backup id '" + r.from + "'");
  return with_backups(env, options, r, true, [&](Backups& b) {
    auto s = b.restore(r.from);
    if (s.ok) *env.out << "restore " << r.from << " to " << r.stage << ": succeeded\n";
    return s;
  });
}

int run_backups(CommandEnv& env, const SessionOptions& options, const BackupRequest& r) {
  return with_backups(env, options, r, false, [&](Backups& b) {
    std::vector<BackupManifest> all;
    auto s = b.list(&all);
    if (!s.ok) return s;
    for (const auto& m : all) {
      if (r.as_json) {
        *env.out << boost::json::serialize(m.to_json()) << "\n";
        continue;
      }
      *env.out << m.id << "  " << m.database << "  " << m.entries.size() << " databases  "
               << m.total_size() << " bytes  " << (m.version.empty() ? "-" : m.version) << "\n";
    }
    return s;
  });
}

}  // namespace enkisys::cli
