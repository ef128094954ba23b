// The deploy/rollback state machine for one stage (ARCHITECTURE.md §5):
//   lock → read the live color from the gateway → resolve the compose config → ship images
//   (deploy) or check them (rollback) → create external networks/volumes → start the other
//   color → wait for every container's health → switch the gateway's `color` → confirm
//   /{stage}/health through the gateway → mark active → drain, stop the old color → ledger →
//   prune images beyond the last N releases → unlock.
// Any failure once the new color has started restores the release that was serving (switch
// back if switched, stop the broken color): result `rolled_back` (or `failed` when nothing
// was serving before), non-zero exit. Failures before that leave the stage untouched.
//
// Contract:
//  * Everything outside goes through DeployEnv (Target → CommandRunner, Clock, HttpClient,
//    StateStore), so the whole flow runs against fakes in tests.
//  * Every run that took the lock appends exactly one ledger line and releases the lock
//    (unless the process is killed: the lease then expires).
//  * Progress lines go to DeployEnv::log. Not thread-safe.
#pragma once

#include <chrono>
#include <ostream>
#include <string>

#include "enkisys/cli/env.hpp"
#include "enkisys/cli/ledger.hpp"
#include "enkisys/cli/lock.hpp"
#include "enkisys/cli/stage_ops.hpp"

namespace enkisys::cli {

struct DeployEnv {
  Target* target = nullptr;
  CommandRunner* local = nullptr;  // the machine the CLI runs on (docker save / push)
  Clock* clock = nullptr;
  HttpClient* http = nullptr;
  StateStore* state = nullptr;
  std::ostream* log = nullptr;
};

struct DeployConfig {
  StageSettings stage;
  std::string registry;  // empty: docker save | docker load over ssh
  std::chrono::seconds health_timeout{120};
  std::chrono::seconds confirm_timeout{20};
  std::chrono::seconds drain{5};
  std::chrono::seconds lock_ttl{900};
  std::chrono::seconds lock_wait{0};
  std::chrono::milliseconds poll{1000};
  std::size_t keep = 5;
  Lease me;  // holder/host/pid of this run
  std::string actor;
  std::string run_url;
  // A deploy over a serving release first takes a backup of the stage's databases
  // (backup.hpp) into backup_root (empty: no backup): its migrations may change them, and a
  // rollback to the previous images does not undo a migration. A failed backup fails the
  // deploy before anything starts. Rollbacks take none. Without backup_image on the host the
  // backup is skipped with a warning (recorded in the release's health.backup).
  std::string backup_root;
  std::string backup_image = "enkisys/postgres:15";
};

struct Outcome {
  // 0 succeeded; 1 failed or rolled back; 3 stage locked by someone else.
  int exit_code = 1;
  bool recorded = false;  // a ledger line was appended
  Release release;
  std::string error;
};

// The images (repository:tag of `images`, the stage's services) of releases older than the
// newest `keep` succeeded ones that are present on the target: what a successful run removes.
// `releases` is the ledger with this run's release last; that release and `previous` (the one
// it replaced) are always kept. Empty when `docker image ls` fails.
std::vector<std::string> stale_images(Target& target, const std::vector<Release>& releases,
                                      std::size_t keep, const std::string& previous,
                                      const std::vector<std::string>& images);

class Deployer {
 public:
  Deployer(DeployEnv env, DeployConfig config);
  Outcome deploy(const std::string& version);
  // to empty: the newest succeeded release other than the active one.
  Outcome rollback(const std::string& to);

 private:
  struct Run;
  Outcome execute(const std::string& action, const std::string& version);
  bool prepare(Run& run);
  bool start_and_switch(Run& run);
  void restore(Run& run, bool switched);
  void finish_success(Run& run);
  bool ship(Run& run);
  bool wait_healthy(Run& run);
  // DATABASE=postgres: the stage's PostgreSQL up and healthy before the new color starts.
  bool start_database(Run& run);
  // DeployConfig::backup_root: a backup of the serving release's data before a deploy.
  bool backup_first(Run& run);
  bool confirm_gateway(Run& run, const char* evidence_key);
  bool switch_to(Run& run, const std::string& color);
  void prune(Run& run);
  std::int64_t since_ms(std::chrono::system_clock::time_point t);
  std::ostream& log();

  DeployEnv env_;
  DeployConfig cfg_;
  StageOps ops_;
  ReleaseLedger ledger_;
};

}  // namespace enkisys::cli
