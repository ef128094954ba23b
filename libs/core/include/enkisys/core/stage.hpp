// The stage-name rule of the platform, shared by the CLI and the gateway (the deploy scripts
// apply the same rule through deploy/lib/stage.sh; a test checks that both agree).
//
// Rule: a stage name is ^[a-z][a-z0-9]{1,15}$ — 2 to 16 characters, a lower-case ASCII letter
// then lower-case ASCII letters or digits — and not one of the gateway's own top-level paths
// (health, metrics, admin).
//
// Why: a stage name becomes part of compose project names (enkisys-<stage>-<color>), volume
// and network names (enkisys-<stage>-tools-data), DNS aliases (tools.<stage>), a directory
// (deploy/<stage>/) and the first URL path segment (/<stage>/...). Such a name is valid in all
// of them, cannot climb a path (`..`, `/`), needs no quoting, and having no `-` or `_` keeps
// `enkisys-<stage>-<suffix>` names unambiguous. It accepts prod, staging, dev1, dev2 and dev.
//
// Contract: pure, thread-safe, never throws; any byte string is a valid input.
#pragma once

#include <cstddef>
#include <string_view>

namespace enkisys::core {

inline constexpr std::size_t kMaxStageNameLength = 16;

// True if `name` follows the rule above.
bool valid_stage_name(std::string_view name);

// The rule in one line, for error messages.
inline constexpr std::string_view kStageNameRule =
    "^[a-z][a-z0-9]{1,15}$, not health, metrics or admin";

}  // namespace enkisys::core
