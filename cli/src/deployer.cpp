#include "enkisys/cli/deployer.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <iostream>
#include <set>
#include <sstream>

#include "enkisys/cli/backup.hpp"
#include "enkisys/cli/validate.hpp"

namespace enkisys::cli {
namespace json = boost::json;
using std::chrono::system_clock;

struct Deployer::Run {
  std::string action;
  std::string version;
  Release rel;
  system_clock::time_point t0;
  StageLock* lock = nullptr;
  std::string old_color;
  std::string new_color;
  bool old_running = false;
  json::object vars;
  std::vector<Release> history;
  std::optional<Active> active;
  ComposeModel model;

  bool fail(std::string message) {
    rel.result = "failed";
    rel.message = std::move(message);
    return false;
  }
};

namespace {

std::string other(const std::string& color) {
  return color == "blue" ? "green" : "blue";
}

std::string tail(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : s.substr(s.size() - n);
}

// "registry:5000/enkisys/tools:v1" -> "registry:5000/enkisys/tools"
std::string repository(const std::string& image) {
  auto slash = image.rfind('/');
  auto colon = image.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return image;
  return image.substr(0, colon);
}

}  // namespace

Deployer::Deployer(DeployEnv env, DeployConfig config)
    : env_(env),
      cfg_(std::move(config)),
      ops_(*env.target, *env.http, cfg_.stage),
      ledger_(*env.state) {}

std::ostream& Deployer::log() {
  auto& o = env_.log ? *env_.log : std::cerr;
  return o << format_time_ms(env_.clock->now()) << " enkisys " << cfg_.stage.stage << ": ";
}

std::int64_t Deployer::since_ms(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(env_.clock->now() - t).count();
}

Outcome Deployer::deploy(const std::string& version) {
  return execute("deploy", version);
}
Outcome Deployer::rollback(const std::string& to) {
  return execute("rollback", to);
}

Outcome Deployer::execute(const std::string& action, const std::string& version) {
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
  me.purpose = action + (version.empty() ? "" : " " + version);
  StageLock lock(*env_.state, *env_.clock, me, cfg_.lock_ttl, cfg_.poll);
  Lease holder;
  std::string error;
  auto got = lock.acquire(cfg_.lock_wait, &holder, &error);
  if (got == StageLock::Outcome::kHeld) {
    out.exit_code = 3;
    out.error = "stage " + cfg_.stage.stage + " is locked by " + holder.describe();
    if (cfg_.lock_wait.count() > 0) {
      out.error += " (waited " + std::to_string(cfg_.lock_wait.count()) + " s)";
    }
    return out;
  }
  if (got == StageLock::Outcome::kError) {
    out.error = error;
    return out;
  }
  run.lock = &lock;
  log() << "lock taken (" << lock.lease().describe() << ")\n";

  if (prepare(run) && start_and_switch(run)) finish_success(run);

  auto end = env_.clock->now();
  run.rel.finished_at = format_time(end);
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

bool Deployer::prepare(Run& run) {
  if (auto s = ops_.load_admin_token(); !s.ok) return run.fail(s.message);
  std::string error;
  auto vars = ops_.variables(&error);
  if (!vars) return run.fail(error);
  run.vars = *vars;
  if (auto s = ledger_.read(&run.history); !s.ok) return run.fail(s.message);
  if (auto s = ledger_.read_active(&run.active); !s.ok) return run.fail(s.message);

  std::string live;
  if (auto* c = run.vars.if_contains("color"); c && c->is_string()) live = c->get_string();
  if (check_color(live)) live = run.active ? run.active->color : "";
  run.old_color = check_color(live) ? "green" : live;  // nothing known: first color is blue
  run.new_color = other(run.old_color);
  auto old = ops_.containers(run.old_color, &error);
  if (!old) return run.fail(error);
  run.old_running = std::any_of(old->begin(), old->end(), [](auto& c) { return c.ready(); });
  if (run.active && run.active->color == run.old_color)
    run.rel.previous_version = run.active->version;

  if (run.action == "rollback" && run.version.empty()) {
    auto good = ReleaseLedger::last_good(run.history, run.rel.previous_version);
    if (!good) return run.fail("no earlier good release in the ledger to roll back to");
    run.version = good->version;
    run.rel.version = good->version;
  }
  log() << run.action << " " << run.version << ": live color " << run.old_color
        << (run.old_running ? " (running " + run.rel.previous_version + ")" : " (not running)")
        << ", starting " << run.new_color << "\n";

  if (auto s = ops_.load_database(); !s.ok) return run.fail(s.message);
  auto model = ops_.config(run.new_color, run.version, &error);
  if (!model) return run.fail(error);
  run.model = std::move(*model);
  if (run.model.services.empty()) return run.fail("the stage's compose config has no services");

  auto t = env_.clock->now();
  if (!ship(run)) return false;
  run.rel.timings["ship_ms"] = since_ms(t);
  for (const auto& n : run.model.external_networks) {
    if (auto s = ops_.ensure_network(n); !s.ok) return run.fail(s.message);
  }
  for (const auto& v : run.model.external_volumes) {
    if (auto s = ops_.ensure_volume(v); !s.ok) return run.fail(s.message);
  }
  if (!start_database(run)) return false;
  if (!backup_first(run)) return false;
  for (const auto& image : run.model.images()) {
    std::vector<std::string> digests;
    auto id = ops_.image_id(image, &digests);
    run.rel.images[image] = json::object{{"id", id}, {"digests", json::value_from(digests)}};
  }
  if (auto s = run.lock->renew(); !s.ok) return run.fail(s.message);
  return true;
}

bool Deployer::ship(Run& run) {
  auto& local = *env_.local;
  auto local_run = [&](Argv a) {
    return local.run(Command{std::move(a), {}, std::chrono::minutes(30)});
  };
  for (const auto& image : run.model.images()) {
    if (!cfg_.registry.empty()) {
      const auto remote = cfg_.registry + "/" + image;
      if (run.action == "deploy") {
        auto tag = local_run({"docker", "tag", image, remote});
        if (!tag.ok()) return run.fail("docker tag " + image + ": " + tag.err);
        auto push = local_run({"docker", "push", remote});
        if (!push.ok()) return run.fail("docker push " + remote + ": " + push.err);
      }
      if (!ops_.image_id(image).empty() && run.action == "rollback") continue;
      auto pull = ops_.target().run({"docker", "pull", remote}, {}, std::chrono::minutes(30));
      if (!pull.ok()) return run.fail("docker pull " + remote + ": " + pull.err);
      auto tag = ops_.target().run({"docker", "tag", remote, image});
      if (!tag.ok()) return run.fail("docker tag " + remote + ": " + tag.err);
      continue;
    }
    const auto there = ops_.image_id(image);
    if (run.action == "rollback" || !ops_.target().remote()) {
      if (there.empty())
        return run.fail("image " + image + " is not on " + ops_.target().describe());
      continue;
    }
    auto here = local_run({"docker", "image", "inspect", "--format", "{{.Id}}", image});
    std::string id = here.out.substr(0, here.out.find('\n'));
    if (!here.ok() || id.empty()) return run.fail("image " + image + " is not on the local engine");
    if (id == there) {
      log() << "image " << image << " already on the host (" << id.substr(0, 19) << ")\n";
      continue;
    }
    log() << "shipping " << image << " (docker save | docker load)\n";
    auto r = ops_.target().pipe_in({"docker", "save", image}, {"docker", "load"});
    if (!r.ok()) return run.fail("shipping " + image + " failed: " + tail(r.err, 500));
    if (ops_.image_id(image) != id) return run.fail("image " + image + " did not arrive intact");
  }
  return true;
}

bool Deployer::start_and_switch(Run& run) {
  auto t = env_.clock->now();
  ops_.run_compose(run.new_color, run.version, {"down", "--remove-orphans"},
                   std::chrono::minutes(5));
  auto up = ops_.run_compose(run.new_color, run.version, {"up", "-d", "--no-build"},
                             std::chrono::minutes(10));
  run.rel.timings["start_ms"] = since_ms(t);
  if (!up.ok()) {
    run.rel.message = "compose up failed: " + tail(up.err, 1000);
    restore(run, false);
    return false;
  }
  t = env_.clock->now();
  bool healthy = wait_healthy(run);
  run.rel.timings["health_ms"] = since_ms(t);
  if (!healthy) {
    restore(run, false);
    return false;
  }
  if (auto s = run.lock->renew(); !s.ok) {
    run.rel.message = s.message;
    restore(run, false);
    return false;
  }
  t = env_.clock->now();
  if (!switch_to(run, run.new_color)) {
    restore(run, true);
    return false;
  }
  log() << "gateway switched to " << run.new_color << "\n";
  bool confirmed = confirm_gateway(run, "gateway");
  run.rel.timings["switch_ms"] = since_ms(t);
  if (!confirmed) {
    restore(run, true);
    return false;
  }
  return true;
}

bool Deployer::backup_first(Run& run) {
  if (run.action != "deploy" || cfg_.backup_root.empty() || !run.active) return true;
  if (ops_.image_id(cfg_.backup_image).empty()) {
    // Without its tools image no backup can be taken; say so loudly, in the log and the ledger.
    log() << "warning: no backup before the deploy: image " << cfg_.backup_image
          << " is not on the host (make image-postgres, or ENKISYS_BACKUP_IMAGE)\n";
    run.rel.health["backup"] = json::object{{"skipped", "no image " + cfg_.backup_image}};
    return true;
  }
  BackupConfig bc;
  bc.root = cfg_.backup_root;
  bc.tools_image = cfg_.backup_image;
  bc.poll = cfg_.poll;
  bc.actor = cfg_.actor;
  Backups backups(ops_, *env_.clock, *env_.state, log(), bc);
  const auto t = env_.clock->now();
  BackupManifest m;
  if (auto s = backups.backup(&m); !s.ok)
    return run.fail("backup before the deploy failed: " + s.message);
  run.rel.timings["backup_ms"] = since_ms(t);
  run.rel.health["backup"] = json::object{{"id", m.id}, {"size", m.total_size()}};
  if (auto s = run.lock->renew(); !s.ok) return run.fail(s.message);
  return true;
}

bool Deployer::start_database(Run& run) {
  if (ops_.settings().database != "postgres") return true;
  if (auto s = ops_.start_database(); !s.ok) return run.fail(s.message);
  const auto deadline = env_.clock->now() + cfg_.health_timeout;
  std::string error;
  for (;;) {
    auto cs = ops_.containers("postgres", &error);
    if (cs && !cs->empty() &&
        std::all_of(cs->begin(), cs->end(), [](auto& c) { return c.ready(); })) {
      log() << "the stage's PostgreSQL is healthy\n";
      return true;
    }
    if (cs && std::any_of(cs->begin(), cs->end(), [](auto& c) { return c.broken(); })) {
      return run.fail("the stage's PostgreSQL is not healthy: " +
                      (cs->empty() ? std::string() : tail(ops_.logs(cs->front().id, 20), 1000)));
    }
    if (auto s = run.lock->renew_if_due(); !s.ok) return run.fail(s.message);
    if (env_.clock->now() >= deadline) {
      return run.fail("the stage's PostgreSQL did not become healthy" +
                      (error.empty() ? std::string() : ": " + error));
    }
    env_.clock->sleep_for(cfg_.poll);
  }
}

bool Deployer::wait_healthy(Run& run) {
  const auto deadline = env_.clock->now() + cfg_.health_timeout;
  const auto expected = run.model.services.size();
  std::optional<ContainerState> failing;
  std::vector<ContainerState> last;
  std::string error;
  for (;;) {
    auto cs = ops_.containers(run.new_color, &error);
    if (cs) last = *cs;
    if (cs && cs->size() >= expected) {
      auto broken = std::find_if(cs->begin(), cs->end(), [](auto& c) { return c.broken(); });
      if (broken != cs->end()) {
        failing = *broken;
        break;
      }
      if (std::all_of(cs->begin(), cs->end(), [](auto& c) { return c.ready(); })) break;
    }
    if (auto s = run.lock->renew_if_due(); !s.ok) {
      run.rel.message = s.message;
      return false;
    }
    if (env_.clock->now() >= deadline) {
      auto slow = std::find_if(last.begin(), last.end(), [](auto& c) { return !c.ready(); });
      failing = slow != last.end() ? *slow : ContainerState{"", "(missing)", "absent", "none"};
      break;
    }
    env_.clock->sleep_for(cfg_.poll);
  }
  json::array containers;
  for (const auto& c : last) {
    containers.push_back(
        json::object{{"name", c.name}, {"status", c.status}, {"health", c.health}});
  }
  run.rel.health["containers"] = std::move(containers);
  if (!failing) {
    log() << "all " << last.size() << " containers of " << ops_.project(run.new_color)
          << " healthy\n";
    return true;
  }
  run.rel.message = "health gate failed: container " + failing->name + " is " + failing->status +
                    "/" + failing->health;
  log() << run.rel.message << "\n";
  run.rel.health["failing_container"] = failing->name;
  if (!failing->id.empty()) {
    auto logs = ops_.logs(failing->id, 80);
    auto& o = env_.log ? *env_.log : std::cerr;
    o << "----- logs of " << failing->name << " (last 80 lines) -----\n"
      << logs << (logs.empty() || logs.back() == '\n' ? "" : "\n") << "-----\n";
    run.rel.health["failing_logs_tail"] = tail(logs, 2000);
  }
  return false;
}

bool Deployer::switch_to(Run& run, const std::string& color) {
  auto vars = run.vars;
  vars["color"] = color;
  auto s = ops_.put_variables(vars);
  if (!s.ok) {
    run.rel.message = (run.rel.message.empty() ? "" : run.rel.message + "; ") + s.message;
    return false;
  }
  run.vars = std::move(vars);
  return true;
}

bool Deployer::confirm_gateway(Run& run, const char* evidence_key) {
  const auto deadline = env_.clock->now() + cfg_.confirm_timeout;
  HttpResponse last;
  for (;;) {
    last = ops_.stage_health();
    if (last.status == 200 || env_.clock->now() >= deadline) break;
    env_.clock->sleep_for(cfg_.poll);
  }
  run.rel.health[evidence_key] = json::object{{"url", "/" + cfg_.stage.stage + "/health"},
                                              {"status", last.status},
                                              {"body", tail(last.body, 500)}};
  if (last.status == 200) return true;
  run.rel.message = "gateway /" + cfg_.stage.stage + "/health is " +
                    (last.status ? "HTTP " + std::to_string(last.status) : last.error) +
                    " after the switch";
  log() << run.rel.message << "\n";
  return false;
}

void Deployer::restore(Run& run, bool switched) {
  const auto t = env_.clock->now();
  log() << "rolling back: " << run.rel.message << "\n";
  bool back = !switched;
  for (int attempt = 0; attempt < 3 && !back; ++attempt) {
    if (attempt > 0) env_.clock->sleep_for(cfg_.poll);
    back = switch_to(run, run.old_color);
  }
  if (switched && back) log() << "gateway switched back to " << run.old_color << "\n";
  auto down = ops_.run_compose(run.new_color, run.version, {"down", "--remove-orphans"},
                               std::chrono::minutes(5));
  if (!down.ok()) log() << "warning: stopping " << ops_.project(run.new_color) << " failed\n";
  run.rel.color = run.old_color;
  if (run.old_running && back) {
    auto good = ReleaseLedger::last_good(run.history);
    run.rel.result = "rolled_back";
    run.rel.rolled_back_to = !run.rel.previous_version.empty() ? run.rel.previous_version
                             : good                            ? good->version
                                                               : run.old_color;
    std::string message = run.rel.message;
    if (!confirm_gateway(run, "restored")) {
      run.rel.message = message + "; after rollback: " + run.rel.message;
    } else {
      run.rel.message = message;
    }
  } else {
    run.rel.result = "failed";
    run.rel.color.clear();
    if (!back) run.rel.message += "; could not switch the gateway back to " + run.old_color;
    if (!run.old_running) run.rel.message += "; nothing was serving before, nothing to restore";
  }
  run.rel.timings["rollback_ms"] = since_ms(t);
}

void Deployer::finish_success(Run& run) {
  run.rel.result = "succeeded";
  run.rel.color = run.new_color;
  if (auto s = ledger_.write_active({run.new_color, run.version, format_time(env_.clock->now())});
      !s.ok) {
    log() << "warning: " << s.message << "\n";
  }
  auto t = env_.clock->now();
  if (run.old_running) {
    log() << "draining " << ops_.project(run.old_color) << " for " << cfg_.drain.count() << " s\n";
    env_.clock->sleep_for(cfg_.drain);
  }
  auto down = ops_.run_compose(
      run.old_color, run.rel.previous_version.empty() ? run.version : run.rel.previous_version,
      {"down", "--remove-orphans"}, std::chrono::minutes(5));
  if (!down.ok()) log() << "warning: stopping " << ops_.project(run.old_color) << " failed\n";
  run.rel.timings["drain_ms"] = since_ms(t);
  prune(run);
}

void Deployer::prune(Run& run) {
  auto all = run.history;
  all.push_back(run.rel);
  auto refs =
      stale_images(ops_.target(), all, cfg_.keep, run.rel.previous_version, run.model.images());
  if (refs.empty()) return;
  log() << "pruning " << refs.size() << " image(s) of releases older than the last " << cfg_.keep
        << "\n";
  if (auto s = ops_.remove_images(refs); !s.ok) log() << "warning: " << s.message << "\n";
}

std::vector<std::string> stale_images(Target& target, const std::vector<Release>& releases,
                                      std::size_t keep, const std::string& previous,
                                      const std::vector<std::string>& images) {
  auto kept = ReleaseLedger::kept_versions(releases, keep);
  const auto& current = releases.back().version;
  std::set<std::string> old;
  for (const auto& r : releases) {
    if (std::find(kept.begin(), kept.end(), r.version) == kept.end() && r.version != current &&
        r.version != previous) {
      old.insert(r.version);
    }
  }
  if (old.empty()) return {};
  auto ls = target.run({"docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"});
  if (!ls.ok()) return {};
  std::set<std::string> present;
  std::istringstream in(ls.out);
  for (std::string line; std::getline(in, line);) present.insert(line);
  std::vector<std::string> refs;
  for (const auto& image : images) {
    for (const auto& v : old) {
      auto ref = repository(image) + ":" + v;
      if (present.count(ref)) refs.push_back(ref);
    }
  }
  return refs;
}

}  // namespace enkisys::cli
