// The per-stage deploy lease: file `lock` in the stage's state directory, JSON with holder,
// pid, host, token and expiry. At most one deploy/rollback of a stage runs at a time; a lease
// left by a killed run expires after its TTL and may then be taken over.
//
// Contract:
//  * try_acquire() creates the lease atomically (StateStore::create_exclusive). If a lease
//    exists and has not expired it returns kHeld with that lease in *holder. An expired lease
//    is taken over under a short-lived guard file (`lock.takeover`) after re-checking that it
//    is still the same expired lease, so two contenders cannot both take it.
//  * acquire(wait) retries every poll interval until `wait` has passed (Clock time).
//  * renew() extends our lease; it refuses (error) if the file no longer holds our token.
//  * release() removes the lease only if it is ours; force_release() removes any lease.
//  * Not thread-safe; one StageLock per process and stage.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "enkisys/cli/env.hpp"
#include "enkisys/cli/state.hpp"

namespace enkisys::cli {

struct Lease {
  std::string holder;  // actor, e.g. "github:octocat run 42" or "alice"
  std::string host;    // machine the CLI runs on
  long pid = 0;
  std::string token;    // unique per acquisition
  std::string purpose;  // "deploy v2", "rollback"
  std::chrono::system_clock::time_point acquired{};
  std::chrono::system_clock::time_point expires{};

  std::string to_json() const;
  static std::optional<Lease> parse(const std::string& text);
  // "alice (pid 42 on ci-runner, deploy v2, expires 2026-...Z)"
  std::string describe() const;
};

class StageLock {
 public:
  enum class Outcome { kAcquired, kHeld, kError };

  // `me` supplies holder/host/pid/purpose; token and times are set on acquisition.
  StageLock(StateStore& store, Clock& clock, Lease me, std::chrono::seconds ttl,
            std::chrono::milliseconds poll = std::chrono::seconds(2))
      : store_(&store), clock_(&clock), me_(std::move(me)), ttl_(ttl), poll_(poll) {}

  Outcome try_acquire(Lease* holder, std::string* error);
  Outcome acquire(std::chrono::seconds wait, Lease* holder, std::string* error);
  Status renew();
  // renew() when less than half of the TTL is left; cheap to call in polling loops.
  Status renew_if_due();
  Status release();
  bool held() const { return held_; }
  const Lease& lease() const { return me_; }

  static Status force_release(StateStore& store);
  static constexpr const char* kFile = "lock";
  static constexpr const char* kGuard = "lock.takeover";

 private:
  Lease fresh_lease();
  StateStore* store_;
  Clock* clock_;
  Lease me_;
  std::chrono::seconds ttl_;
  std::chrono::milliseconds poll_;
  bool held_ = false;
};

}  // namespace enkisys::cli
