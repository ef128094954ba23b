// What `releases`, `status` and `lock` print: the text a user reads, built from a stage's
// state files (ledger, active, lock) and, for `status`, the target's containers and the
// gateway.
//
// Contract:
//  * write_releases: one line per release, oldest first. As a table: started_at, action,
//    version, result, color, duration, actor, then `→ rolled_back_to` and the message when
//    set; with as_json, one JSON object per line (Release::to_json).
//  * write_stage_status: a block per stage — active release, the gateway's color and
//    /{stage}/health, each color's containers (ready count, name=status/health), the lock.
//    Problems reading one source are printed in its line, never fatal. The admin token is
//    never printed.
//  * write_lock_show / lock_release print the lease; lock_release removes any lease
//    (StageLock::force_release). They return a Status for errors reading or removing it.
//  * Borrow their arguments; not thread-safe.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "enkisys/cli/ledger.hpp"
#include "enkisys/cli/stage_ops.hpp"
#include "enkisys/cli/state.hpp"

namespace enkisys::cli {

void write_releases(std::ostream& out, const std::vector<Release>& releases, bool as_json);

// ops: the stage's operations (its settings name the stage); state: its state directory.
void write_stage_status(std::ostream& out, StageOps& ops, StateStore& state);
// The same block for a stage deployed as the swarm stack enkisys-<stage>: the active release
// and `docker service ls` of the stack (name, running/desired tasks, image).
void write_swarm_status(std::ostream& out, const std::string& stage, Target& target,
                        StateStore& state);

// `now` decides whether the lease has expired.
Status write_lock_show(std::ostream& out, const std::string& stage, StateStore& state,
                       std::chrono::system_clock::time_point now);
Status lock_release(std::ostream& out, const std::string& stage, StateStore& state);

}  // namespace enkisys::cli
