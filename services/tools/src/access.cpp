#include "enkisys/tools/access.hpp"

#include "enkisys/tools/text.hpp"
#include "enkisys/tools/tool_store.hpp"

namespace enkisys::tools {

using core::ErrorKind;

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
