// What the CLI needs from a stage's resolved compose configuration (`compose config` output):
// the services' images and the external networks and volumes to create before `up`.
//
// Contract: parse_compose_config() is pure; it returns nullopt and *error for text that is not
// a compose document with a `services` mapping. External resources are reported by their real
// name (`name:`, the legacy `external: {name: ...}`, or else the key). Services with
// `profiles` are left out: the CLI never enables a profile. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace enkisys::cli {

struct ComposeModel {
  struct Service {
    std::string name;
    std::string image;
  };
  std::vector<Service> services;
  std::vector<std::string> external_networks;
  std::vector<std::string> external_volumes;
  std::vector<std::string> images() const;  // distinct, in service order
};

std::optional<ComposeModel> parse_compose_config(const std::string& yaml, std::string* error);

}  // namespace enkisys::cli
