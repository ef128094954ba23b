// ToolRunner: executes a validated invocation of a tool — the built-ins in process, `http`
// tools through the shared HTTP client behind the egress (SSRF) policy.
//
// Contract:
//  * run() is a coroutine on the caller's I/O executor; it never blocks (built-ins are pure CPU
//    work bounded by their own limits; http tools are asynchronous).
//  * Outbound requests connect only to addresses the policy vetted after DNS resolution, follow
//    no redirects, and honour the tool's timeout and response size cap.
//  * Outcome::error uses the domain error codes (tools::errc) plus "upstream_error" and
//    "upstream_timeout" for failures of the remote side.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <memory>

#include "enkisys/core/client.hpp"
#include "enkisys/tools/egress.hpp"
#include "enkisys/tools/time_zone.hpp"
#include "enkisys/tools/tool_definition.hpp"

namespace enkisys::tools {

struct RunOutcome {
  bool ok = false;
  boost::json::value result;  // when ok
  Error error;                // when !ok
  unsigned upstream_status = 0;
};

struct RunnerConfig {
  EgressPolicy http_tools;  // for kind "http"
  EgressPolicy http_get;    // for the http_get built-in (allowlist only)
  std::string zoneinfo_dir;
};

class ToolRunner {
 public:
  ToolRunner(core::HttpClient& client, RunnerConfig config, Clock clock);

  boost::asio::awaitable<RunOutcome> run(const ToolDefinition& tool,
                                         const boost::json::object& arguments);

 private:
  boost::asio::awaitable<RunOutcome> fetch(const EgressPolicy& policy, core::ClientRequest req,
                                           core::ClientOptions opts);

  core::HttpClient& client_;
  RunnerConfig config_;
  TimeZoneDb tzdb_;
  Clock clock_;
};

}  // namespace enkisys::tools
