// Who may see and change which tool: the ownership model of the Tool Manager.
//
//  * A user's own tool (scope "user"): its owner and admins change or delete it.
//  * A stage-wide tool (scope "stage"): only admins create, change or delete it; every user of
//    the stage lists and invokes it.
//  * Built-in tools: read-only for everyone.
//  * A user sees built-ins, stage-wide tools and their own; another user's tool does not exist
//    for them (404). Admins see every tool.
//
// Identity is what the gateway sets from a verified token: X-User-Id and X-User-Roles (comma
// separated; "admin" makes an admin). Pure functions; thread-safe.
#pragma once

#include <string>

#include "enkisys/core/expected.hpp"
#include "enkisys/core/http.hpp"
#include "enkisys/core/request.hpp"

namespace enkisys::tools {

struct StoredTool;

using core::Actor;     // the identity helpers are shared by every service
using core::actor_of;  // (enkisys/core/request.hpp)

enum class Scope { kUser, kStage };

// "user" | "stage". Errors: 400 invalid_request naming `field`.
core::Expected<Scope> parse_scope(std::string_view text, const std::string& field);

bool can_see(const StoredTool& tool, const Actor& actor);
// May change, delete and read the change history: admins, and the owner of a user's tool.
// Never true for a built-in.
bool can_manage(const StoredTool& tool, const Actor& actor);

// Whether `actor` may change or delete `tool` (null: no such tool). Errors: 404 not_found (no
// such tool, or one the actor cannot see), 409 read_only (built-in), 403 forbidden.
core::Status check_change(const StoredTool* tool, const Actor& actor, const std::string& name);
// Whether `actor` may create a tool of `scope`. Errors: 403 forbidden (stage scope, not admin).
core::Status check_create(Scope scope, const Actor& actor);

core::Error not_found(const std::string& name);

}  // namespace enkisys::tools
