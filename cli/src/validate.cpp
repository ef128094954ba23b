#include "enkisys/cli/validate.hpp"

#include <charconv>
#include <regex>

#include "enkisys/core/stage.hpp"

namespace enkisys::cli {
namespace {

bool matches(std::string_view s, const std::regex& re) {
  return std::regex_match(s.begin(), s.end(), re);
}

}  // namespace

std::optional<std::string> check_stage(std::string_view stage) {
  if (core::valid_stage_name(stage)) return std::nullopt;
  return "invalid stage '" + std::string(stage) + "': must match " +
         std::string(core::kStageNameRule);
}

std::optional<std::string> check_version(std::string_view version) {
  static const std::regex re("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  if (!matches(version, re)) {
    return "invalid version '" + std::string(version) +
           "': must be an image tag, ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$";
  }
  return std::nullopt;
}

std::optional<std::string> check_registry(std::string_view registry) {
  static const std::regex re(
      "[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9][a-z0-9._-]*)*");
  if (registry.size() > 255 || !matches(registry, re)) {
    return "invalid REGISTRY '" + std::string(registry) +
           "': must be host[:port][/path] in lower case";
  }
  return std::nullopt;
}

std::optional<std::string> check_color(std::string_view color) {
  if (color == "blue" || color == "green") return std::nullopt;
  return "invalid color '" + std::string(color) + "': blue or green";
}

std::string SshUrl::destination() const {
  return user.empty() ? host : user + "@" + host;
}

std::optional<SshUrl> parse_ssh_url(std::string_view url, std::string* error) {
  static const std::regex re(
      "ssh://(?:([a-z_][a-z0-9_.-]{0,31})@)?"
      "([A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*"
      "|\\[[0-9A-Fa-f:.]{2,45}\\])"
      "(?::([0-9]{1,5}))?/?");
  std::match_results<std::string_view::const_iterator> m;
  if (url.size() > 300 || !std::regex_match(url.begin(), url.end(), m, re)) {
    *error = "invalid host '" + std::string(url) + "': expected ssh://[user@]host[:port]";
    return std::nullopt;
  }
  SshUrl out;
  out.user = m[1].str();
  out.host = m[2].str();
  if (!out.host.empty() && out.host.front() == '[')
    out.host = out.host.substr(1, out.host.size() - 2);
  if (m[3].matched) {
    auto p = m[3].str();
    int port = 0;
    std::from_chars(p.data(), p.data() + p.size(), port);
    if (port < 1 || port > 65535) {
      *error = "invalid host '" + std::string(url) + "': port must be 1..65535";
      return std::nullopt;
    }
    out.port = port;
  }
  return out;
}

std::optional<std::string> check_deploy_request(std::string_view action, std::string_view stage,
                                                std::string_view version) {
  if (auto e = check_stage(stage)) return e;
  if (action == "rollback" && version.empty()) return std::nullopt;
  return check_version(version);
}

}  // namespace enkisys::cli
