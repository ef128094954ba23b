#include "enkisys/cli/compose_model.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace enkisys::cli {
namespace {

std::vector<std::string> externals(const YAML::Node& section) {
  std::vector<std::string> out;
  if (!section || !section.IsMap()) return out;
  for (const auto& kv : section) {
    const auto& def = kv.second;
    if (!def || !def.IsMap() || !def["external"]) continue;
    const auto& ext = def["external"];
    std::string name = kv.first.as<std::string>();
    if (ext.IsMap()) {
      if (ext["name"]) name = ext["name"].as<std::string>();
    } else if (ext.IsScalar() && ext.as<std::string>() == "true") {
      if (def["name"]) name = def["name"].as<std::string>();
    } else {
      continue;
    }
    out.push_back(name);
  }
  return out;
}

}  // namespace

std::vector<std::string> ComposeModel::images() const {
  std::vector<std::string> out;
  for (const auto& s : services) {
    if (!s.image.empty() && std::find(out.begin(), out.end(), s.image) == out.end()) {
      out.push_back(s.image);
    }
  }
  return out;
}

std::optional<ComposeModel> parse_compose_config(const std::string& yaml, std::string* error) {
  try {
    YAML::Node root = YAML::Load(yaml);
    if (!root.IsMap() || !root["services"] || !root["services"].IsMap()) {
      *error = "compose config has no services";
      return std::nullopt;
    }
    ComposeModel m;
    for (const auto& kv : root["services"]) {
      // Services behind a profile (e.g. the local-only gateway) never start in host mode.
      if (kv.second.IsMap() && kv.second["profiles"] && kv.second["profiles"].size() > 0) continue;
      ComposeModel::Service s;
      s.name = kv.first.as<std::string>();
      if (kv.second.IsMap() && kv.second["image"]) s.image = kv.second["image"].as<std::string>();
      m.services.push_back(std::move(s));
    }
    m.external_networks = externals(root["networks"]);
    m.external_volumes = externals(root["volumes"]);
    return m;
  } catch (const YAML::Exception& e) {
    *error = std::string("compose config is not YAML: ") + e.what();
    return std::nullopt;
  }
}

}  // namespace enkisys::cli
