// enkisys-tools: the Tool Manager service (port 5001). Wiring only.
#include "enkisys/core/service.hpp"
#include "enkisys/db/database.hpp"
#include "enkisys/tools/builtins.hpp"
#include "enkisys/tools/tool_runner.hpp"
#include "enkisys/tools/tool_store.hpp"
#include "enkisys/tools/tools_api.hpp"
#include "service_database.hpp"

namespace {

using namespace enkisys;

struct ToolsService {
  std::unique_ptr<db::Database> database;
  std::unique_ptr<tools::ToolStore> store;
  std::unique_ptr<tools::AuditLog> audit;
  std::unique_ptr<tools::ToolRunner> runner;
  std::unique_ptr<tools::ToolsApi> api;
};

tools::EgressPolicy policy_or_throw(const std::string& var, const std::string& list, bool strict) {
  auto p = tools::EgressPolicy::from_list(list, strict);
  if (!p) throw std::runtime_error(var + ": " + p.error().message);
  return std::move(p).value();
}

}  // namespace

int main(int argc, char** argv) {
  core::ServiceSpec spec;
  spec.name = "tools";
  spec.summary = "Tool Manager: tool registry, JSON-Schema-checked invocation, OpenAI tool format";
  spec.default_port = 5001;
  spec.declare = [](core::EnvConfig& c) {
    db::declare_database(c, "sqlite:///data/tools.db");
    c.add({"TOOLS_EGRESS_ALLOWLIST",
           "comma-separated hosts (api.example.com, *.corp.example) and CIDRs that http tools may "
           "reach even on private/loopback addresses",
           ""});
    c.add({"TOOLS_HTTP_GET_ALLOWLIST", "hosts the http_get built-in may fetch (empty: none)", ""});
    c.add({"TZDIR", "IANA time zone database directory", "/usr/share/zoneinfo"});
  };
  spec.wire = [](core::ServiceEnv& env) -> std::shared_ptr<void> {
    auto s = std::make_shared<ToolsService>();
    s->database = db::open_service_database(env);
    s->store = std::make_unique<tools::ToolStore>(*s->database);
    s->store->migrate(tools::builtin_tool_definitions());

    tools::RunnerConfig rc;
    rc.http_tools =
        policy_or_throw("TOOLS_EGRESS_ALLOWLIST", env.config.get("TOOLS_EGRESS_ALLOWLIST"), false);
    rc.http_get = policy_or_throw("TOOLS_HTTP_GET_ALLOWLIST",
                                  env.config.get("TOOLS_HTTP_GET_ALLOWLIST"), true);
    rc.zoneinfo_dir = env.config.get("TZDIR");
    core::Clock* clock = &env.clock;
    s->runner = std::make_unique<tools::ToolRunner>(env.http, rc, [clock] { return clock->now(); });
    s->audit = std::make_unique<tools::AuditLog>(*s->store);
    s->api = std::make_unique<tools::ToolsApi>(*s->store, *s->audit, *s->runner, env.metrics);
    s->api->add_routes(env.router);

    return s;
  };
  return core::run_service(spec, argc, argv);
}
