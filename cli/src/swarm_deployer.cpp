#include "enkisys/cli/swarm_deployer.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <iostream>
#include <set>
#include <sstream>

#include "enkisys/cli/session.hpp"
#include "enkisys/cli/swarm_stack.hpp"
#include "enkisys/cli/validate.hpp"

namespace enkisys::cli {
namespace json = boost::json;
using std::chrono::system_clock;

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string tail(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : s.substr(s.size() - n);
}

std::vector<std::string> split(const std::string& s, char sep, std::size_t max_parts) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (out.size() + 1 < max_parts) {
    auto at = s.find(sep, start);
    if (at == std::string::npos) break;
    out.push_back(s.substr(start, at - start));
    start = at + 1;
  }
  out.push_back(s.substr(start));
  return out;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) {
    if (!trim(line).empty()) out.push_back(trim(line));
  }
  return out;
}

// "enkisys/agent:v2@sha256:…" -> "enkisys/agent:v2"
std::string without_digest(const std::string& image) {
  return image.substr(0, image.find('@'));
}

bool fresh(const SwarmService& s, const std::map<std::string, std::string>& baseline) {
  if (s.state.empty()) return false;
  auto it = baseline.find(s.name);
  return it == baseline.end() || it->second != s.started_at;
}

}  // namespace

SwarmVerdict judge_swarm(const std::vector<SwarmService>& services,
                         const std::vector<SwarmTask>& tasks,
                         const std::map<std::string, std::string>& baseline, bool rolling_back) {
  SwarmVerdict pending;
  for (const auto& s : services) {
    const bool is_fresh = fresh(s, baseline);
    if (is_fresh && (s.state == "paused" || s.state == "rollback_paused" ||
                     (s.state == "rollback_completed" && !rolling_back))) {
      return {SwarmVerdict::Kind::kFailed, s.name,
              "update " + s.state + (s.message.empty() ? "" : ": " + s.message)};
    }
    std::string wait;
    if (is_fresh && (s.state == "updating" || s.state == "rollback_started")) {
      wait = "update " + s.state;
    } else {
      int running = 0;
      bool stale = false;
      for (const auto& t : tasks) {
        if (t.service != s.name) continue;
        if (!t.running || without_digest(t.image) != without_digest(s.image)) {
          stale = true;
        } else {
          ++running;
        }
      }
      if (stale || running != s.replicas) {
        wait = std::to_string(running) + "/" + std::to_string(s.replicas) + " tasks running " +
               without_digest(s.image);
      }
    }
    if (!wait.empty() && pending.service.empty())
      pending = {SwarmVerdict::Kind::kPending, s.name, wait};
  }
  if (!pending.service.empty()) return pending;
  return {SwarmVerdict::Kind::kSettled, "", ""};
}

struct SwarmDeployer::Run {
  std::string action;
  std::string version;
  Release rel;
  system_clock::time_point t0;
  StageLock* lock = nullptr;
  std::vector<Release> history;
  std::optional<Active> active;
  std::map<std::string, std::string> baseline;  // service -> UpdateStatus.StartedAt before
  std::vector<SwarmService> last;
  std::vector<std::string> images;  // the stage's, as the compose config names them

  bool fail(std::string message) {
    rel.result = "failed";
    rel.message = std::move(message);
    return false;
  }
};

SwarmDeployer::SwarmDeployer(DeployEnv env, DeployConfig config, SwarmSettings swarm)
    : env_(env), cfg_(std::move(config)), swarm_(std::move(swarm)), ledger_(*env.state) {}

std::ostream& SwarmDeployer::log() {
  auto& o = env_.log ? *env_.log : std::cerr;
  return o << format_time_ms(env_.clock->now()) << " enkisys " << cfg_.stage.stage << " (swarm): ";
}

std::int64_t SwarmDeployer::since_ms(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(env_.clock->now() - t).count();
}

Outcome SwarmDeployer::deploy(const std::string& version) {
  return execute("deploy", version);
}
Outcome SwarmDeployer::rollback(const std::string& to) {
  return execute("rollback", to);
}

Outcome SwarmDeployer::execute(const std::string& action, const std::string& version) {
  Outcome out;
  if (auto e = check_deploy_request(action, cfg_.stage.stage, version)) {
    out.error = *e;
    return out;
  }
  Run run;
  run.action = action;
  run.version = version;
  run.t0 = env_.clock->now();
  run.rel.stage = cfg_.stage.stage;
  run.rel.version = version;
  run.rel.action = action;
  run.rel.actor = cfg_.actor;
  run.rel.run_url = cfg_.run_url;
  run.rel.started_at = format_time(run.t0);

  Lease me = cfg_.me;
  me.purpose = action + " (swarm)" + (version.empty() ? "" : " " + version);
  StageLock lock(*env_.state, *env_.clock, me, cfg_.lock_ttl, cfg_.poll);
  Lease holder;
  std::string error;
  auto got = lock.acquire(cfg_.lock_wait, &holder, &error);
  if (got == StageLock::Outcome::kHeld) {
    out.exit_code = 3;
    out.error = "stage " + cfg_.stage.stage + " is locked by " + holder.describe();
    return out;
  }
  if (got == StageLock::Outcome::kError) {
    out.error = error;
    return out;
  }
  run.lock = &lock;
  log() << "lock taken (" << lock.lease().describe() << ")\n";

  if (run_steps(run)) {
    run.rel.result = "succeeded";
    run.rel.color = "swarm";
    if (auto s = ledger_.write_active({"swarm", run.version, format_time(env_.clock->now())});
        !s.ok) {
      log() << "warning: " << s.message << "\n";
    }
    prune(run);
  }
  run.rel.finished_at = format_time(env_.clock->now());
  run.rel.duration_ms = since_ms(run.t0);
  if (auto s = ledger_.append(run.rel); s.ok) {
    out.recorded = true;
  } else {
    log() << "warning: ledger not written: " << s.message << "\n";
  }
  if (auto s = lock.release(); !s.ok) log() << "warning: lock not released: " << s.message << "\n";
  log() << action << " " << run.rel.version << ": " << run.rel.result << " in "
        << run.rel.duration_ms << " ms" << (run.rel.message.empty() ? "" : " — ") << run.rel.message
        << "\n";
  out.release = run.rel;
  out.exit_code = run.rel.result == "succeeded" ? 0 : 1;
  if (out.exit_code != 0) out.error = run.rel.message;
  return out;
}

bool SwarmDeployer::run_steps(Run& run) {
  if (auto s = ledger_.read(&run.history); !s.ok) return run.fail(s.message);
  if (auto s = ledger_.read_active(&run.active); !s.ok) return run.fail(s.message);
  if (run.active && run.active->color == "swarm") run.rel.previous_version = run.active->version;
  if (run.action == "rollback" && run.version.empty()) {
    auto good = ReleaseLedger::last_good(run.history, run.rel.previous_version);
    if (!good) return run.fail("no earlier good release in the ledger to roll back to");
    run.version = good->version;
    run.rel.version = good->version;
  }
  log() << run.action << " " << run.version << " as stack " << stack() << " ("
        << (run.rel.previous_version.empty() ? "nothing recorded before"
                                             : "running " + run.rel.previous_version)
        << ")\n";
  std::string stack_yaml;
  auto t = env_.clock->now();
  if (!render(run, &stack_yaml)) return false;
  run.rel.timings["render_ms"] = since_ms(t);
  if (auto s = run.lock->renew(); !s.ok) return run.fail(s.message);

  std::string error;
  std::vector<SwarmTask> tasks;
  if (!inspect(&run.last, &tasks, &error)) return run.fail(error);
  for (const auto& s : run.last) run.baseline[s.name] = s.started_at;

  t = env_.clock->now();
  auto& target = *env_.target;
  auto up =
      target.run({"docker", "stack", "deploy", "--prune", "--with-registry-auth", "--resolve-image",
                  cfg_.registry.empty() ? "never" : "always", "-c", "-", stack()},
                 stack_yaml, std::chrono::minutes(10));
  if (!up.ok()) return run.fail("docker stack deploy failed: " + tail(trim(up.err), 1000));
  log() << "stack " << stack() << " deployed; waiting for every service to settle\n";

  auto verdict = wait_settled(run, run.baseline, false);
  run.rel.timings["update_ms"] = since_ms(t);
  if (verdict.kind == SwarmVerdict::Kind::kSettled && confirm_health(run, "gateway")) {
    log() << "all " << run.last.size() << " services of " << stack() << " settled on "
          << run.version << "\n";
    return true;
  }
  if (verdict.kind == SwarmVerdict::Kind::kSettled) {
    verdict = {SwarmVerdict::Kind::kFailed, stack() + "_gateway", run.rel.message};
  }
  roll_back_changed(run, verdict);
  return false;
}

bool SwarmDeployer::render(Run& run, std::string* stack_yaml) {
  auto& target = *env_.target;
  const auto& d = cfg_.stage.project_dir;
  const auto& stage = cfg_.stage.stage;
  auto exists = [&](const std::string& path) {
    return target.run({"test", "-f", path}, {}, std::chrono::seconds(30)).ok();
  };
  Argv a = {"env", "STAGE=" + stage, "COLOR=swarm", "ENKISYS_TAG=" + run.version};
  for (auto& w : compose_prefix(cfg_.stage.compose)) a.push_back(w);
  a.insert(a.end(), {"-p", stack(), "--project-directory", d});
  if (const auto env_file = d + "/deploy/" + stage + "/stage.env"; exists(env_file)) {
    a.insert(a.end(), {"--env-file", env_file});
  }
  a.insert(a.end(), {"-f", d + "/compose.yaml"});
  if (const auto own = d + "/deploy/compose." + stage + ".yaml"; exists(own)) {
    a.insert(a.end(), {"-f", own});
  }
  a.insert(a.end(), {"-f", d + "/deploy/swarm/stack.yaml", "config"});
  auto config = target.run(a, {}, std::chrono::seconds(60));
  if (!config.ok()) return run.fail("compose config failed: " + tail(trim(config.err), 1000));

  std::string error;
  auto model = parse_compose_config(config.out, &error);
  if (!model) return run.fail(error);
  if (model->services.empty()) return run.fail("the stage's compose config has no services");
  run.images = model->images();
  if (!ship(run, run.images)) return false;

  StackOptions options;
  options.stage = stage;
  options.registry = cfg_.registry;
  options.endpoint_mode = swarm_.endpoint_mode;
  options.published_port = gateway_port();
  if (options.published_port == 0) options.published_port = swarm_.published_port;
  auto digest = [&](const std::string& path) {
    auto r = target.run({"sha256sum", "--", path}, {}, std::chrono::seconds(30));
    return r.ok() ? r.out.substr(0, r.out.find(' ')) : std::string();
  };
  // The stack's gateway serves this stage under its own name: the local file rewritten for it,
  // kept beside the ledger on the target (a changed file is a new swarm config).
  std::string gateway_error;
  options.gateway_config = [&](const std::string& source) -> std::string {
    auto file = target.run({"cat", "--", source}, {}, std::chrono::seconds(30));
    if (!file.ok()) {
      gateway_error = "cannot read " + source;
      return {};
    }
    auto own = gateway_config_for_stage(file.out, stage, &gateway_error);
    if (!own) return {};
    if (auto st = env_.state->replace("gateway.yaml", *own); !st.ok) {
      gateway_error = st.message;
      return {};
    }
    return env_.state->describe("gateway.yaml");
  };
  auto rendered = render_stack(config.out, options, digest, &error);
  if (!rendered && !gateway_error.empty()) error += " (" + gateway_error + ")";
  if (!rendered) return run.fail("rendering the stack: " + error);
  *stack_yaml = std::move(*rendered);
  return true;
}

// Images of releases beyond the newest cfg_.keep on this node (the manager). Other nodes keep
// what they pulled (deploy/README.md: prune them there). An image that a stopped task of the
// service's history still names stays (docker refuses it): a warning.
void SwarmDeployer::prune(Run& run) {
  auto all = run.history;
  all.push_back(run.rel);
  auto refs = stale_images(*env_.target, all, cfg_.keep, run.rel.previous_version, run.images);
  if (refs.empty()) return;
  log() << "pruning " << refs.size() << " image(s) of releases older than the last " << cfg_.keep
        << "\n";
  Argv a = {"docker", "image", "rm"};
  a.insert(a.end(), refs.begin(), refs.end());
  if (auto r = env_.target->run(a, {}, std::chrono::minutes(2)); !r.ok()) {
    log() << "warning: docker image rm: " << tail(trim(r.err), 300) << "\n";
  }
}

bool SwarmDeployer::ship(Run& run, const std::vector<std::string>& images) {
  auto& target = *env_.target;
  for (const auto& image : images) {
    if (!cfg_.registry.empty()) {
      const auto remote = cfg_.registry + "/" + image;
      if (run.action == "deploy") {
        auto tag =
            env_.local->run(Command{{"docker", "tag", image, remote}, {}, std::chrono::minutes(5)});
        if (!tag.ok()) return run.fail("docker tag " + image + ": " + trim(tag.err));
        auto push =
            env_.local->run(Command{{"docker", "push", remote}, {}, std::chrono::minutes(30)});
        if (!push.ok()) return run.fail("docker push " + remote + ": " + tail(trim(push.err), 500));
      }
      run.rel.images[remote] = json::object{{"pushed", run.action == "deploy"}};
      continue;
    }
    auto r = target.run({"docker", "image", "inspect", "--format", "{{.Id}}", image}, {},
                        std::chrono::seconds(30));
    auto id = trim(r.out);
    if (!r.ok() || id.empty()) {
      return run.fail("image " + image + " is not on " + target.describe() +
                      " (without REGISTRY every image must be on the swarm's node already)");
    }
    run.rel.images[image] = json::object{{"id", id}};
  }
  return true;
}

bool SwarmDeployer::inspect(std::vector<SwarmService>* services, std::vector<SwarmTask>* tasks,
                            std::string* error) {
  auto& target = *env_.target;
  services->clear();
  tasks->clear();
  auto ls = target.run(
      {"docker", "service", "ls", "-q", "--filter", "label=com.docker.stack.namespace=" + stack()},
      {}, std::chrono::seconds(30));
  if (!ls.ok()) {
    *error = "docker service ls failed: " + trim(ls.err);
    return false;
  }
  auto ids = lines(ls.out);
  if (ids.empty()) return true;
  // name|replicas|update state|update started|image|update message
  const std::string format =
      "{{.Spec.Name}}|{{if .Spec.Mode.Replicated}}{{.Spec.Mode.Replicated.Replicas}}"
      "{{else}}0{{end}}|{{if .UpdateStatus}}{{.UpdateStatus.State}}|"
      "{{.UpdateStatus.StartedAt}}{{else}}|{{end}}|{{.Spec.TaskTemplate.ContainerSpec.Image}}|"
      "{{if .UpdateStatus}}{{.UpdateStatus.Message}}{{end}}";
  Argv a = {"docker", "service", "inspect", "--format", format};
  a.insert(a.end(), ids.begin(), ids.end());
  auto r = target.run(a, {}, std::chrono::seconds(30));
  if (!r.ok()) {
    *error = "docker service inspect failed: " + trim(r.err);
    return false;
  }
  for (const auto& line : lines(r.out)) {
    auto f = split(line, '|', 6);
    if (f.size() != 6) continue;
    SwarmService s{f[0], std::atoi(f[1].c_str()), f[2], f[3], f[4], f[5]};
    services->push_back(std::move(s));
  }
  Argv p = {"docker",   "service",
            "ps",       "--no-trunc",
            "--filter", "desired-state=running",
            "--format", "{{.Name}}|{{.CurrentState}}|{{.Image}}"};
  p.insert(p.end(), ids.begin(), ids.end());
  auto ps = target.run(p, {}, std::chrono::seconds(30));
  if (!ps.ok()) {
    *error = "docker service ps failed: " + trim(ps.err);
    return false;
  }
  for (const auto& line : lines(ps.out)) {
    auto f = split(line, '|', 3);
    if (f.size() != 3) continue;
    SwarmTask t;
    t.service = f[0].substr(0, f[0].rfind('.'));  // enkisys-dev1_agent.2 -> enkisys-dev1_agent
    t.running = f[1].rfind("Running", 0) == 0;
    t.image = f[2];
    tasks->push_back(std::move(t));
  }
  return true;
}

SwarmVerdict SwarmDeployer::wait_settled(Run& run,
                                         const std::map<std::string, std::string>& baseline,
                                         bool rolling_back) {
  const auto deadline = env_.clock->now() + cfg_.health_timeout;
  SwarmVerdict v;
  std::string said;
  // Settled counts when seen on two polls in a row: right after `docker stack deploy` an
  // update whose image did not change (a new secret, an env change) may not have started yet.
  bool settled_once = false;
  for (;;) {
    std::vector<SwarmTask> tasks;
    std::string error;
    if (inspect(&run.last, &tasks, &error)) {
      v = judge_swarm(run.last, tasks, baseline, rolling_back);
      if (run.last.empty()) v = {SwarmVerdict::Kind::kPending, stack(), "no services yet"};
    } else {
      v = {SwarmVerdict::Kind::kPending, stack(), error};
    }
    if (v.kind == SwarmVerdict::Kind::kFailed) break;
    if (v.kind == SwarmVerdict::Kind::kSettled) {
      if (settled_once) break;
      settled_once = true;
      v = {SwarmVerdict::Kind::kPending, stack(), "settled; confirming"};
    } else {
      settled_once = false;
    }
    if (v.service + v.reason != said) {
      log() << "waiting: " << v.service << " " << v.reason << "\n";
      said = v.service + v.reason;
    }
    if (auto s = run.lock->renew_if_due(); !s.ok)
      return {SwarmVerdict::Kind::kFailed, "", s.message};
    if (env_.clock->now() >= deadline) {
      v.kind = SwarmVerdict::Kind::kFailed;
      v.reason = "not settled after " + std::to_string(cfg_.health_timeout.count()) + " s (" +
                 v.reason + ")";
      break;
    }
    env_.clock->sleep_for(cfg_.poll);
  }
  json::array services;
  for (const auto& s : run.last) {
    services.push_back(json::object{{"name", s.name},
                                    {"replicas", s.replicas},
                                    {"update", s.state},
                                    {"image", without_digest(s.image)}});
  }
  run.rel.health[rolling_back ? "services_after_rollback" : "services"] = std::move(services);
  return v;
}

void SwarmDeployer::roll_back_changed(Run& run, const SwarmVerdict& failure) {
  const auto t = env_.clock->now();
  auto error = last_task_error(failure.service);
  run.rel.message = "health gate failed: service " + failure.service + ": " + failure.reason +
                    (error.empty() ? "" : " (last task error: " + error + ")");
  run.rel.health["failing_service"] = failure.service;
  if (!error.empty()) run.rel.health["failing_task_error"] = error;
  log() << run.rel.message << "\n";

  // Every service this deploy changed goes back to its previous spec; the failing one is
  // rolled back by swarm itself (failure_action: rollback) or here when it paused.
  std::map<std::string, std::string> now;
  for (const auto& s : run.last) {
    now[s.name] = s.started_at;
    if (!fresh(s, run.baseline) || s.state == "rollback_completed" ||
        s.state == "rollback_started") {
      continue;
    }
    log() << "rolling back " << s.name << " (update " << s.state << ")\n";
    auto r = env_.target->run({"docker", "service", "rollback", "--detach", s.name}, {},
                              std::chrono::minutes(2));
    if (!r.ok())
      log() << "warning: docker service rollback " << s.name << ": " << trim(r.err) << "\n";
  }
  auto back = wait_settled(run, run.baseline, true);
  run.rel.timings["rollback_ms"] = since_ms(t);
  const bool restored = back.kind == SwarmVerdict::Kind::kSettled &&
                        !run.rel.previous_version.empty() && confirm_health(run, "restored");
  if (restored) {
    run.rel.result = "rolled_back";
    run.rel.color = "swarm";
    run.rel.rolled_back_to = run.rel.previous_version;
    run.rel.message = "health gate failed: service " + failure.service + ": " + failure.reason +
                      (error.empty() ? "" : " (last task error: " + error + ")");
  } else {
    run.rel.result = "failed";
    if (run.rel.previous_version.empty()) {
      run.rel.message += "; nothing was serving before, nothing to restore";
    } else if (back.kind != SwarmVerdict::Kind::kSettled) {
      run.rel.message += "; the rollback did not settle: " + back.service + " " + back.reason;
    }
  }
}

std::string SwarmDeployer::last_task_error(const std::string& service) {
  if (service.empty()) return {};
  auto r =
      env_.target->run({"docker", "service", "ps", "--no-trunc", "--format", "{{.Error}}", service},
                       {}, std::chrono::seconds(30));
  for (const auto& line : lines(r.out)) return tail(line, 300);
  return {};
}

int SwarmDeployer::gateway_port() {
  const std::string format =
      "{{range .Endpoint.Ports}}{{if eq .TargetPort 8080}}{{.PublishedPort}}{{end}}{{end}}";
  auto r =
      env_.target->run({"docker", "service", "inspect", "--format", format, stack() + "_gateway"},
                       {}, std::chrono::seconds(30));
  return r.ok() ? std::atoi(trim(r.out).c_str()) : 0;
}

bool SwarmDeployer::confirm_health(Run& run, const char* evidence_key) {
  const int port = swarm_.gateway_url.empty() ? gateway_port() : 0;
  if (port <= 0 && swarm_.gateway_url.empty()) {
    run.rel.message = "the stack's gateway publishes no port (and no --gateway-url was given)";
    return false;
  }
  std::unique_ptr<BackgroundProcess> tunnel;
  int local_port = port;
  if (port > 0 && env_.target->remote()) {
    local_port = free_loopback_port();
    tunnel = env_.target->forward(local_port, port);
  }
  const auto base = !swarm_.gateway_url.empty() ? swarm_.gateway_url
                                                : "http://127.0.0.1:" + std::to_string(local_port);
  const auto deadline = env_.clock->now() + cfg_.confirm_timeout;
  json::object evidence;
  const auto stage_health =
      swarm_.health_path.empty() ? "/" + cfg_.stage.stage + "/health" : swarm_.health_path;
  for (const std::string& path : {std::string("/health"), stage_health}) {
    HttpResponse last;
    for (;;) {
      last = env_.http->send({"GET", base + path, {}, "", std::chrono::seconds(5)});
      if (last.status == 200 || env_.clock->now() >= deadline) break;
      env_.clock->sleep_for(cfg_.poll);
    }
    evidence[path] = json::object{{"status", last.status}, {"body", tail(last.body, 300)}};
    if (last.status != 200) {
      run.rel.health[evidence_key] = std::move(evidence);
      run.rel.message = "stack gateway " + path + " is " +
                        (last.status ? "HTTP " + std::to_string(last.status) : last.error);
      log() << run.rel.message << "\n";
      return false;
    }
  }
  evidence["url"] = base;
  run.rel.health[evidence_key] = std::move(evidence);
  return true;
}

}  // namespace enkisys::cli
