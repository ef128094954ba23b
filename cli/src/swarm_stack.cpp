#include "enkisys/cli/swarm_stack.hpp"

#include <yaml-cpp/yaml.h>

#include <stdexcept>

namespace enkisys::cli {
namespace {

struct Refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* const kDropped[] = {"build",           "container_name", "depends_on", "restart",
                                "scale",           "cap_add",        "cap_drop",   "security_opt",
                                "profiles",        "pids_limit",     "cpus",       "mem_limit",
                                "mem_reservation", "tmpfs"};

// A scalar that must stay a string (`cpus: "1.0"`): emitted double-quoted.
YAML::Node quoted(const std::string& value) {
  YAML::Node n(value);
  n.SetTag("!");
  return n;
}

// Like YAML::Emitter << node, but every scalar that was quoted in the input (or made by
// quoted()) stays quoted, so that the stack loader types it as a string.
void emit(YAML::Emitter& out, const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& kv : n) {
        out << YAML::Key;
        emit(out, kv.first);
        out << YAML::Value;
        emit(out, kv.second);
      }
      out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& v : n) emit(out, v);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      if (n.Tag() == "!") {
        out << YAML::DoubleQuoted << n.Scalar();
      } else {
        out << n.Scalar();
      }
      break;
    default:
      out << YAML::Null;
  }
}

// "…/deploy/gateway/gateway.yaml" -> "gateway-yaml"
std::string key_of(const std::string& path) {
  auto base = path.substr(path.rfind('/') + 1);
  std::string out;
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '-';
  }
  return out;
}

class Renderer {
 public:
  Renderer(const StackOptions& o, const FileDigest& digest) : o_(o), digest_(digest) {}

  YAML::Node render(const YAML::Node& in) {
    YAML::Node out;
    out["version"] = quoted("3.8");
    YAML::Node services(YAML::NodeType::Map);
    for (const auto& kv : in["services"]) {
      const auto& def = kv.second;
      if (!def.IsMap()) throw Refused("service " + kv.first.as<std::string>() + " is not a map");
      if (def["profiles"] && def["profiles"].size() > 0) continue;
      services[kv.first.as<std::string>()] = service(kv.first.as<std::string>(), def);
    }
    out["services"] = services;
    if (in["networks"] && in["networks"].IsMap()) out["networks"] = networks(in["networks"]);
    if (in["volumes"] && in["volumes"].IsMap()) out["volumes"] = YAML::Clone(in["volumes"]);
    if (in["secrets"] && in["secrets"].IsMap()) out["secrets"] = named_files(in["secrets"]);
    YAML::Node configs = in["configs"] && in["configs"].IsMap() ? named_files(in["configs"])
                                                                : YAML::Node(YAML::NodeType::Map);
    for (const auto& [key, path] : bind_configs_) {
      configs[key] = named_file(key, path);
    }
    if (configs.size() > 0) out["configs"] = configs;
    return out;
  }

 private:
  YAML::Node service(const std::string& name, const YAML::Node& def) {
    YAML::Node s = YAML::Clone(def);
    YAML::Node deploy = s["deploy"] ? s["deploy"] : YAML::Node(YAML::NodeType::Map);
    YAML::Node limits = deploy["resources"]["limits"];
    if (def["cpus"] && !limits["cpus"]) limits["cpus"] = quoted(def["cpus"].as<std::string>());
    if (def["mem_limit"] && !limits["memory"])
      limits["memory"] = quoted(def["mem_limit"].as<std::string>());
    if (limits.size() > 0) deploy["resources"]["limits"] = limits;
    if (def["mem_reservation"] && !deploy["resources"]["reservations"]["memory"]) {
      deploy["resources"]["reservations"]["memory"] =
          quoted(def["mem_reservation"].as<std::string>());
    }
    if (deploy["resources"]["limits"]["cpus"]) {  // the loader wants a string
      deploy["resources"]["limits"]["cpus"] =
          quoted(deploy["resources"]["limits"]["cpus"].as<std::string>());
    }
    for (const char* key : kDropped) s.remove(key);
    if (def["user"]) s["user"] = quoted(def["user"].as<std::string>());  // "10001:10001"
    if (def["image"] && !o_.registry.empty()) {
      s["image"] = quoted(o_.registry + "/" + def["image"].as<std::string>());
    }

    if (def["environment"] && def["environment"].IsMap()) {
      YAML::Node env(YAML::NodeType::Map);
      for (const auto& e : def["environment"]) {
        if (!e.second.IsNull()) env[e.first] = e.second;
      }
      s["environment"] = env;
    }
    if (def["ports"] && o_.endpoint_mode != "dnsrr") {
      s["ports"] = ports(def["ports"]);
    } else {
      s.remove("ports");
    }
    if (!o_.endpoint_mode.empty()) deploy["endpoint_mode"] = o_.endpoint_mode;

    YAML::Node volumes(YAML::NodeType::Sequence);
    YAML::Node configs = s["configs"] ? s["configs"] : YAML::Node(YAML::NodeType::Sequence);
    bool stateful = false;
    if (def["volumes"]) {
      for (const auto& v : def["volumes"]) {
        auto m = mount(v);
        if (m.type == "bind") {
          if (!m.read_only) {
            throw Refused("service " + name + ": writable bind mount " + m.source +
                          " (no such file on the other nodes; use a volume)");
          }
          auto source = m.source;
          if (o_.gateway_config && def["environment"].IsMap() &&
              def["environment"]["GATEWAY_CONFIG"] &&
              def["environment"]["GATEWAY_CONFIG"].as<std::string>() == m.target) {
            source = o_.gateway_config(m.source);
            if (source.empty()) {
              throw Refused("service " + name + ": no gateway configuration for stage " + o_.stage);
            }
          }
          auto key = key_of(source);
          bind_configs_.emplace_back(key, source);
          YAML::Node c;
          c["source"] = key;
          c["target"] = m.target;
          configs.push_back(c);
          continue;
        }
        if (m.type == "volume" && !m.source.empty()) stateful = true;
        volumes.push_back(v);
      }
    }
    if (def["tmpfs"]) {
      YAML::Node paths = def["tmpfs"];
      auto add = [&](const std::string& target) {
        YAML::Node t;
        t["type"] = "tmpfs";
        t["target"] = target;
        volumes.push_back(t);
      };
      if (paths.IsScalar()) add(paths.as<std::string>());
      if (paths.IsSequence()) {
        for (const auto& p : paths) add(p.as<std::string>());
      }
    }
    if (volumes.size() > 0) {
      s["volumes"] = volumes;
    } else {
      s.remove("volumes");
    }
    if (configs.size() > 0) s["configs"] = configs;
    if (stateful && !deploy["placement"]["constraints"]) {
      YAML::Node c(YAML::NodeType::Sequence);
      c.push_back(o_.stateful_constraint);
      deploy["placement"]["constraints"] = c;
    }
    if (deploy.size() > 0) s["deploy"] = deploy;
    return s;
  }

  struct Mount {
    std::string type, source, target;
    bool read_only = false;
  };

  static Mount mount(const YAML::Node& v) {
    Mount m;
    if (v.IsMap()) {
      m.type = v["type"] ? v["type"].as<std::string>() : "volume";
      m.source = v["source"] ? v["source"].as<std::string>() : "";
      m.target = v["target"] ? v["target"].as<std::string>() : "";
      m.read_only = v["read_only"] && v["read_only"].as<bool>();
      return m;
    }
    auto text = v.as<std::string>();  // source:target[:mode] or target
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (auto colon = text.find(':'); colon != std::string::npos; colon = text.find(':', start)) {
      parts.push_back(text.substr(start, colon - start));
      start = colon + 1;
    }
    parts.push_back(text.substr(start));
    if (parts.size() == 1) {
      m.type = "volume";  // anonymous
      m.target = parts[0];
      return m;
    }
    m.source = parts[0];
    m.target = parts[1];
    m.read_only = parts.size() > 2 && parts[2].find("ro") != std::string::npos;
    bool path =
        !m.source.empty() && (m.source[0] == '/' || m.source[0] == '.' || m.source[0] == '~');
    m.type = path ? "bind" : "volume";
    return m;
  }

  YAML::Node ports(const YAML::Node& in) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& p : in) {
      int target = 0;
      std::string protocol = "tcp";
      if (p.IsMap()) {
        target = p["target"].as<int>();
        if (p["protocol"]) protocol = p["protocol"].as<std::string>();
      } else {
        auto text = p.as<std::string>();  // [ip:][published:]target[/protocol]
        if (auto slash = text.find('/'); slash != std::string::npos) {
          protocol = text.substr(slash + 1);
          text.erase(slash);
        }
        target = std::stoi(text.substr(text.rfind(':') + 1));
      }
      YAML::Node port;
      port["target"] = target;
      if (o_.published_port > 0) port["published"] = o_.published_port;
      port["protocol"] = protocol;
      port["mode"] = "ingress";
      out.push_back(port);
    }
    return out;
  }

  static YAML::Node networks(const YAML::Node& in) {
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& kv : in) {
      YAML::Node n = kv.second.IsMap() ? YAML::Clone(kv.second) : YAML::Node(YAML::NodeType::Map);
      if (!n["external"]) {
        n["driver"] = "overlay";
        n["attachable"] = true;
      }
      out[kv.first] = n;
    }
    return out;
  }

  YAML::Node named_file(const std::string& key, const std::string& path) {
    auto d = digest_(path);
    if (d.empty()) throw Refused("cannot read " + path + " (for " + key + ")");
    YAML::Node n;
    n["name"] = quoted("enkisys-" + o_.stage + "-" + key + "-" + d.substr(0, 12));
    n["file"] = quoted(path);
    return n;
  }

  YAML::Node named_files(const YAML::Node& in) {
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& kv : in) {
      const auto key = kv.first.as<std::string>();
      if (kv.second.IsMap() && kv.second["file"]) {
        out[key] = named_file(key, kv.second["file"].as<std::string>());
      } else {
        out[key] = YAML::Clone(kv.second);
      }
    }
    return out;
  }

  const StackOptions& o_;
  const FileDigest& digest_;
  std::vector<std::pair<std::string, std::string>> bind_configs_;
};

}  // namespace

std::optional<std::string> gateway_config_for_stage(const std::string& yaml,
                                                    const std::string& stage, std::string* error) {
  constexpr const char* kLocal = "dev";  // the application stage of the local stack's file
  try {
    YAML::Node in = YAML::Load(yaml);
    if (!in.IsMap() || !in["stages"] || !in["stages"].IsMap() || !in["stages"][kLocal]) {
      *error = "the gateway configuration has no stage dev";
      return std::nullopt;
    }
    if (stage == kLocal) return yaml;
    if (in["stages"][stage]) {
      *error = "the gateway configuration already has a stage " + stage;
      return std::nullopt;
    }
    YAML::Node stages(YAML::NodeType::Map);
    for (const auto& kv : in["stages"]) {
      const auto name = kv.first.as<std::string>();
      YAML::Node def = YAML::Clone(kv.second);
      if (def.IsMap() && def["jwt_stage"] && def["jwt_stage"].as<std::string>() == kLocal) {
        def["jwt_stage"] = stage;
      }
      stages[name == kLocal ? stage : name] = def;
    }
    YAML::Node out = YAML::Clone(in);
    out["stages"] = stages;
    YAML::Emitter text;
    emit(text, out);
    return std::string(text.c_str()) + "\n";
  } catch (const std::exception& e) {
    *error = std::string("gateway configuration: ") + e.what();
  }
  return std::nullopt;
}

std::optional<std::string> render_stack(const std::string& config_yaml, const StackOptions& options,
                                        const FileDigest& digest, std::string* error) {
  try {
    YAML::Node in = YAML::Load(config_yaml);
    if (!in.IsMap() || !in["services"] || !in["services"].IsMap()) {
      *error = "compose config has no services";
      return std::nullopt;
    }
    Renderer r(options, digest);
    YAML::Emitter out;
    emit(out, r.render(in));
    return std::string(out.c_str()) + "\n";
  } catch (const Refused& e) {
    *error = e.what();
  } catch (const std::exception& e) {
    *error = std::string("compose config: ") + e.what();
  }
  return std::nullopt;
}

}  // namespace enkisys::cli
