// Strict validation of everything a user or a pipeline passes to the CLI, done before any
// command runs. Anything that does not match is refused with a message naming the rule.
//
// Contract: pure functions, thread-safe; they return std::nullopt when valid, else the reason.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace enkisys::cli {

// Stage: core::valid_stage_name (^[a-z][a-z0-9]{1,15}$, not health, metrics or admin).
std::optional<std::string> check_stage(std::string_view stage);
// Version = image tag: ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ (Docker's tag grammar).
std::optional<std::string> check_version(std::string_view version);
// A deploy or rollback request: the stage, and the version unless it is a rollback without one
// (to the previous good release).
std::optional<std::string> check_deploy_request(std::string_view action, std::string_view stage,
                                                std::string_view version);
// Registry prefix: host[:port][/path...], lower case, no leading '-' or '.' in any part.
std::optional<std::string> check_registry(std::string_view registry);
// Color: blue | green.
std::optional<std::string> check_color(std::string_view color);

// ssh://[user@]host[:port] — user ^[a-z_][a-z0-9_.-]{0,31}$, host a DNS name, an IPv4 address
// or a bracketed IPv6 address, port 1..65535 (default 22).
struct SshUrl {
  std::string user;  // empty = ssh's default
  std::string host;  // without brackets
  int port = 22;
  // "user@host" / "host" as ssh's destination argument.
  std::string destination() const;
};
std::optional<SshUrl> parse_ssh_url(std::string_view url, std::string* error);

}  // namespace enkisys::cli
