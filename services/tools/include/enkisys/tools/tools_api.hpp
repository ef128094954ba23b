// The Tool Manager's HTTP API under /api/tools (contract: ARCHITECTURE.md §2).
//
//   GET    /api/tools[?format=openai][&owner=]  the tools the caller sees (or the OpenAI array)
//   POST   /api/tools                        create → 201 | 400 | 403 | 409 | 422
//   POST   /api/tools/import                 OpenAPI 3 document → one tool per operation
//   GET    /api/tools/{name}                 → 200 | 304 | 404
//   PUT    /api/tools/{name}                 replace → 200 | 403 | 404 | 409 | 422
//   DELETE /api/tools/{name}                 → 204 | 403 | 404 | 409
//   POST   /api/tools/{name}/invoke          {"arguments":{...}} → {"result":...}
//   GET    /api/tools/{name}/invocations     audit, newest first: ?limit=&before=
//   GET    /api/tools/{name}/history         changes, newest first: ?limit=&before=
//
// Every route needs the caller's identity (X-User-Id, X-User-Roles as the gateway sets them;
// 401 without it) and applies the ownership model of access.hpp. Every invocation is recorded
// (tool, caller, status, duration, SHA-256 of the arguments — never the arguments themselves).
// Every answer is valid UTF-8 JSON; errors are {"error":{"code","message","request_id"}}.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "enkisys/core/metrics.hpp"
#include "enkisys/core/router.hpp"
#include "enkisys/core/server.hpp"
#include "enkisys/tools/audit_log.hpp"
#include "enkisys/tools/tool_runner.hpp"
#include "enkisys/tools/tool_store.hpp"

namespace enkisys::tools {

class ToolsApi {
 public:
  ToolsApi(ToolStore& store, AuditLog& audit, ToolRunner& runner, core::MetricsRegistry& metrics);
  void add_routes(core::Router& router);

 private:
  boost::asio::awaitable<core::Response> list(core::Request& req, core::RequestContext& ctx);
  boost::asio::awaitable<core::Response> create(core::Request& req, core::RequestContext& ctx);
  boost::asio::awaitable<core::Response> import(core::Request& req, core::RequestContext& ctx);
  boost::asio::awaitable<core::Response> get(core::Request& req, core::RequestContext& ctx);
  boost::asio::awaitable<core::Response> replace(core::Request& req, core::RequestContext& ctx);
  boost::asio::awaitable<core::Response> remove(core::Request& req, core::RequestContext& ctx);
  boost::asio::awaitable<core::Response> invoke(core::Request& req, core::RequestContext& ctx);
  boost::asio::awaitable<core::Response> invocations(core::Request& req, core::RequestContext& ctx);
  boost::asio::awaitable<core::Response> history(core::Request& req, core::RequestContext& ctx);

  // The tool `name` if `actor` may see it; throws ApiError 404 otherwise. Blocks: run it
  // through read().
  ToolPtr visible(const std::string& name, const Actor& actor);

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
