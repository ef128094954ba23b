// The CLI's commands (deploy, rollback, releases, status, lock show|release), each a function
// of its parsed arguments and an injected CommandEnv; main.cpp only parses options into these
// structs and returns what they return.
//
// Contract:
//  * Every argument is validated (stage, version, REGISTRY, paths) before anything runs;
//    invalid input → kInvalidInput and one `enkisys: ...` line on env.err.
//  * Results go to env.out, progress, warnings and errors to env.err. Secrets (admin token,
//    webhook URL) are never printed.
//  * Exit codes: kSucceeded, kFailed (failed, rolled back, or host unreachable), kInvalidInput,
//    kLocked (deploy/rollback only: the stage is locked by someone else).
//  * Not thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "enkisys/cli/env.hpp"
#include "enkisys/cli/process.hpp"
#include "enkisys/cli/session.hpp"
#include "enkisys/cli/state.hpp"

namespace enkisys::cli {

enum ExitCode : int { kSucceeded = 0, kFailed = 1, kInvalidInput = 2, kLocked = 3 };

struct CommandEnv {
  CommandRunner* runner = nullptr;  // runs local programs and ssh
  HttpClient* http = nullptr;
  Clock* clock = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // The process environment: the value of a variable, "" when unset or empty.
  std::function<std::string(const char*)> getenv;
  // The stage's state directory on the target (production: TargetStateStore).
  std::function<std::unique_ptr<StateStore>(Target&, const std::string& dir)> state;
  std::string hostname;  // of the machine the CLI runs on, for the lease
  long pid = 0;
};

struct DeployRequest {
  std::string stage;
  std::string version;  // deploy: required; rollback: empty = the previous good release
  int health_timeout = 120;
  int confirm_timeout = 20;
  int drain = 5;
  int lock_ttl = 900;
  int wait = 0;
  std::size_t keep = 5;
  bool backup = true;  // deploy: back up the stage's databases first (STATE/S/backups)
  // "compose" (blue/green on one host) or "swarm" (the stack enkisys-<stage>, swarm_deployer.hpp).
  std::string target = "compose";
  int publish = 0;  // swarm: the gateway's published port on a first deploy (0: swarm picks)
  std::string health_path;    // swarm: checked on the stack's gateway; empty = /<stage>/health
  std::string endpoint_mode;  // swarm: "" (vip) or "dnsrr"
  std::string gateway_url;    // swarm: the stack's gateway as the gate reaches it
};

// The global options' own rules (absolute paths); nullopt when valid, else the reason.
std::optional<std::string> check_session_options(const SessionOptions& options);

// action: "deploy" or "rollback".
int run_deploy(CommandEnv& env, const SessionOptions& options, const DeployRequest& request,
               const std::string& action);
int run_releases(CommandEnv& env, const SessionOptions& options, const std::string& stage,
                 bool as_json);
// only: one stage; empty = prod, staging, dev1, dev2. target "swarm": per stage the active
// release and the services of the stack enkisys-<stage> (name, running/desired, image).
int run_status(CommandEnv& env, const SessionOptions& options, const std::string& only,
               const std::string& target = "compose");
// what: "show" or "release".
int run_lock(CommandEnv& env, const SessionOptions& options, const std::string& what,
             const std::string& stage);

struct BackupRequest {
  std::string stage;
  std::string from;         // restore: the backup id
  std::string copy_to;      // backup: a second folder on the host ("" = none)
  std::size_t keep = 7;     // backups kept
  int max_age_days = 30;    // older backups removed (0 = no age limit)
  std::string tools_image;  // "" = $ENKISYS_BACKUP_IMAGE or enkisys/postgres:15
  int health_timeout = 120;
  int lock_ttl = 900;
  bool as_json = false;  // backups
};

// backup.hpp: `backup` and `restore` hold the stage's lease (no deploy meanwhile); `backups`
// lists the complete backups (a table, or one JSON manifest per line).
int run_backup(CommandEnv& env, const SessionOptions& options, const BackupRequest& request);
int run_restore(CommandEnv& env, const SessionOptions& options, const BackupRequest& request);
int run_backups(CommandEnv& env, const SessionOptions& options, const BackupRequest& request);

// The actor of this run: "github:$GITHUB_ACTOR", else $USER, $LOGNAME, "unknown".
std::string actor_from(const std::function<std::string(const char*)>& getenv);

}  // namespace enkisys::cli
