// run_service's command line: parsing, --help text, --healthcheck. Internal to libs/core.
#pragma once

#include <optional>
#include <string>

#include "enkisys/core/service.hpp"

namespace enkisys::core::detail {

struct ParsedArgs {
  enum class Action { kRun, kHelp, kVersion, kHealthcheck, kCommand, kError };
  Action action = Action::kRun;
  const ServiceCommand* command = nullptr;
  CommandLine options;
  std::string error;  // kError: why
};

// Declares the variables every service shares (PORT, BIND_ADDRESS, LOG_LEVEL, ...).
void declare_common(EnvConfig& cfg, const ServiceSpec& spec);

ParsedArgs parse_args(const ServiceSpec& spec, int argc, char** argv);
std::string options_help(const ServiceSpec& spec);

// The address --healthcheck probes: `bind_address` when it is one specific address,
// 127.0.0.1 when it is empty or a wildcard (0.0.0.0, ::) or not an IP literal.
std::string healthcheck_address(const std::string& bind_address);

// GET http://<address>:port/health with a short deadline; 0 iff the answer is 200.
int healthcheck(const std::string& address, unsigned short port);

}  // namespace enkisys::core::detail
