// Deploys of a stage as a Docker Swarm stack `enkisys-<stage>` (deploy/README.md, "Docker
// Swarm"):
//   lock → resolve the compose config (compose.yaml [+ deploy/compose.<stage>.yaml] +
//   deploy/swarm/stack.yaml) → ship images (REGISTRY: tag + push, the nodes pull) → render the
//   stack (swarm_stack.hpp) → `docker stack deploy --prune --with-registry-auth -c -` → health
//   gate → the stack gateway's /health and /<stage>/health → prune this node's images of
//   releases beyond the last `keep` → ledger → unlock. The stack's gateway serves the stage
//   under its own name (gateway_config_for_stage; the file is kept in the stage's state
//   directory as gateway.yaml).
// Swarm itself rolls each service (start-first, health-gated, failure_action: rollback). The
// gate polls every service of the stack until each has settled (judge_swarm) or
// health_timeout passes. When a service fails (swarm rolled it back, or its update paused) or
// the gate times out, every other service this deploy changed is rolled back too
// (`docker service rollback`), so the stage runs the previous release again: result
// `rolled_back` (naming the failing service and its last task error) when that settles,
// `failed` otherwise; exit 1 either way.
//
// Contract: as Deployer (deployer.hpp): everything outside goes through DeployEnv, every run
// that took the lock appends exactly one ledger line and releases the lock. Not thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "enkisys/cli/deployer.hpp"

namespace enkisys::cli {

// One service of the stack as `docker service inspect` reports it.
struct SwarmService {
  std::string name;        // enkisys-dev1_gateway
  int replicas = 0;        // desired (replicated mode)
  std::string state;       // UpdateStatus.State: "", updating, completed, paused,
                           // rollback_started, rollback_paused, rollback_completed
  std::string started_at;  // UpdateStatus.StartedAt, as printed
  std::string image;       // the spec's image
  std::string message;     // UpdateStatus.Message
};

// One task whose desired state is running.
struct SwarmTask {
  std::string service;
  bool running = false;  // its current state is running
  std::string image;
};

struct SwarmVerdict {
  enum class Kind { kPending, kSettled, kFailed };
  Kind kind = Kind::kPending;
  std::string service;  // the failing (or first pending) service
  std::string reason;
};

// The gate's decision. An update status counts only when it is fresh: its started_at differs
// from baseline[name] (the status before this deploy). A fresh paused / rollback_paused
// status fails; a fresh rollback_completed fails unless rolling_back (then it is the goal);
// a fresh updating / rollback_started is pending. A service is settled when exactly
// `replicas` tasks run, all on the spec's image, and no fresh status is in progress.
// kSettled when every service is; kFailed as soon as one fails. Pure.
SwarmVerdict judge_swarm(const std::vector<SwarmService>& services,
                         const std::vector<SwarmTask>& tasks,
                         const std::map<std::string, std::string>& baseline, bool rolling_back);

struct SwarmSettings {
  int published_port = 0;     // the gateway's, when first published; 0 = swarm picks one
  std::string health_path;    // on the stack's gateway, after /health; empty = /<stage>/health
  std::string endpoint_mode;  // StackOptions::endpoint_mode
  // Where the gate reaches the stack's gateway (a load balancer in front of it); empty =
  // 127.0.0.1:<its published port> (through an ssh tunnel when remote).
  std::string gateway_url;
};

class SwarmDeployer {
 public:
  SwarmDeployer(DeployEnv env, DeployConfig config, SwarmSettings swarm);
  Outcome deploy(const std::string& version);
  // to empty: the newest succeeded release other than the active one.
  Outcome rollback(const std::string& to);

  std::string stack() const { return "enkisys-" + cfg_.stage.stage; }

 private:
  struct Run;
  Outcome execute(const std::string& action, const std::string& version);
  bool run_steps(Run& run);
  bool render(Run& run, std::string* stack_yaml);
  bool ship(Run& run, const std::vector<std::string>& images);
  void prune(Run& run);
  bool inspect(std::vector<SwarmService>* services, std::vector<SwarmTask>* tasks,
               std::string* error);
  SwarmVerdict wait_settled(Run& run, const std::map<std::string, std::string>& baseline,
                            bool rolling_back);
  void roll_back_changed(Run& run, const SwarmVerdict& failure);
  bool confirm_health(Run& run, const char* evidence_key);
  int gateway_port();
  std::string last_task_error(const std::string& service);
  std::int64_t since_ms(std::chrono::system_clock::time_point t);
  std::ostream& log();

  DeployEnv env_;
  DeployConfig cfg_;
  SwarmSettings swarm_;
  ReleaseLedger ledger_;
};

}  // namespace enkisys::cli
