// The Tool Manager's HTTP API under /api/tools (contract: ARCHITECTURE.md §2).
//
//   GET    /api/tools[?format=openai]        list (or the OpenAI `tools` array)
//   POST   /api/tools                        create → 201 | 400 | 409 | 422
//   POST   /api/tools/import                 OpenAPI 3 document → one tool per operation
//   GET    /api/tools/{name}                 → 200 | 404
//   PUT    /api/tools/{name}                 replace → 200 | 404 | 409 (built-in) | 422
//   DELETE /api/tools/{name}                 → 204 | 404 | 409 (built-in)
//   POST   /api/tools/{name}/invoke          {"arguments":{...}} → {"result":...}
//   GET    /api/tools/{name}/invocations     audit, newest first: ?limit=&before=
//
// Every invocation is recorded (tool, caller from X-User-Id, status, duration, SHA-256 of the
// arguments — never the arguments themselves).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "enkisys/tools/audit_log.hpp"
#include "enkisys/core/metrics.hpp"
#include "enkisys/core/router.hpp"
#include "enkisys/core/server.hpp"
#include "enkisys/tools/tool_runner.hpp"
#include "enkisys/tools/tool_store.hpp"

namespace enkisys::tools {

class ToolsApi {
 public:
  ToolsApi(ToolStore& store, AuditLog& audit, ToolRunner& runner, core::MetricsRegistry& metrics);
  void add_routes(core::Router& router);

 private:
  // Runs a read-only store call: inline for an embedded database, else on the blocking pool.
  template <typename Fn>
  boost::asio::awaitable<std::invoke_result_t<Fn>> read(core::RequestContext& ctx, Fn fn);

  // The JSON answer of GET /api/tools/{name}, serialised once per etag.
  std::shared_ptr<const std::string> body_of(const StoredTool& t);

  ToolStore& store_;
  AuditLog& audit_;
  ToolRunner& runner_;
  core::Family<core::Counter>& invocations_;
  std::mutex bodies_mu_;
  std::unordered_map<std::string, std::pair<std::string, std::shared_ptr<const std::string>>>
      bodies_;
};

}  // namespace enkisys::tools
