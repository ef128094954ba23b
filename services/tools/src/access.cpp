#include "enkisys/tools/access.hpp"

#include "enkisys/core/utf8.hpp"
#include "enkisys/tools/text.hpp"
#include "enkisys/tools/tool_store.hpp"

namespace enkisys::tools {

using core::ErrorKind;

core::Expected<Actor> actor_of(const core::Request& req) {
  const std::string_view id = req["X-User-Id"];
  if (id.empty()) {
    return core::make_error(ErrorKind::kUnauthenticated, "unauthenticated",
                            "no user identity (X-User-Id)");
  }
  const bool printable = std::none_of(id.begin(), id.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
  });
  if (id.size() > 128 || !printable || !core::valid_utf8(id)) {
    return core::make_error(ErrorKind::kInvalidArgument, "invalid_request",
                            "X-User-Id must be 1-128 bytes of printable UTF-8");
  }
  Actor a{std::string(id), false};
  std::string_view roles = req["X-User-Roles"];
  while (!roles.empty()) {
    const auto comma = std::min(roles.find(','), roles.size());
    std::string_view role = roles.substr(0, comma);
    while (!role.empty() && role.front() == ' ') role.remove_prefix(1);
    while (!role.empty() && role.back() == ' ') role.remove_suffix(1);
    if (role == "admin") a.admin = true;
    roles.remove_prefix(std::min(comma + 1, roles.size()));
  }
  return a;
}

core::Expected<Scope> parse_scope(std::string_view text, const std::string& field) {
  if (text == "user") return Scope::kUser;
  if (text == "stage") return Scope::kStage;
  return core::make_error(ErrorKind::kInvalidArgument, "invalid_request",
                          "scope must be \"user\" or \"stage\"", field);
}

bool can_see(const StoredTool& tool, const Actor& actor) {
  return tool.builtin || tool.owner.empty() || actor.admin || tool.owner == actor.id;
}

bool can_manage(const StoredTool& tool, const Actor& actor) {
  return !tool.builtin && (actor.admin || (!tool.owner.empty() && tool.owner == actor.id));
}

core::Error not_found(const std::string& name) {
  return core::make_error(ErrorKind::kNotFound, "not_found", "no tool named '" + name + "'");
}

core::Status check_change(const StoredTool* tool, const Actor& actor, const std::string& name) {
  if (!tool || !can_see(*tool, actor)) return not_found(name);
  if (tool->builtin) {
    return core::make_error(ErrorKind::kConflict, "read_only",
                            "'" + name + "' is a built-in tool and cannot be changed");
  }
  if (!can_manage(*tool, actor)) {
    return core::make_error(ErrorKind::kPermissionDenied, "forbidden",
                            "'" + name + "' is a stage-wide tool: only admins change it");
  }
  return core::ok_status();
}

core::Status check_create(Scope scope, const Actor& actor) {
  if (scope == Scope::kStage && !actor.admin) {
    return core::make_error(ErrorKind::kPermissionDenied, "forbidden",
                            "only admins create or change stage-wide tools", "/scope");
  }
  return core::ok_status();
}

}  // namespace enkisys::tools
