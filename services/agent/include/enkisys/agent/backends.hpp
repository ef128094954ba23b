// The other services a turn calls over the stage network (never through the gateway): rag for
// context, tools for the tool list and invocations. Every call carries the caller's identity
// (X-User-Id, X-User-Roles, X-Request-Id) so those services apply their own access rules.
//
// Contract:
//  * Thread-safe as the HttpSender they use; no state of their own.
//  * Errors are values: kUpstream "rag_error"/"tools_error" for an unreachable service or a
//    malformed answer; a tool's own JSON error comes back as the Error it carried (kind from
//    the status, its code and message), so the model can be told what went wrong.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "enkisys/agent/model.hpp"
#include "enkisys/core/client.hpp"
#include "enkisys/core/expected.hpp"

namespace enkisys::agent {

// Who a turn acts for, passed on to rag and tools.
struct Caller {
  std::string user_id;
  std::string roles;  // X-User-Roles as received
  std::string request_id;
};

class RagClient {
 public:
  RagClient(core::HttpSender& http, std::string base_url);
  // POST {base}/api/rag/search {"query","collections","k"}: passages numbered 1..n.
  boost::asio::awaitable<core::Expected<std::vector<Passage>>> search(
      const Caller& caller, std::string query, std::vector<std::string> collections, int k);
  // GET {base}/api/rag/collections: the ids the caller may search.
  boost::asio::awaitable<core::Expected<std::vector<std::string>>> collections(
      const Caller& caller);

 private:
  core::HttpSender& http_;
  std::string base_;
};

class ToolsClient {
 public:
  ToolsClient(core::HttpSender& http, std::string base_url);
  // GET {base}/api/tools?format=openai as ToolSpecs.
  boost::asio::awaitable<core::Expected<std::vector<ToolSpec>>> list(const Caller& caller);
  // POST {base}/api/tools/{name}/invoke {"arguments":...} → the "result" value.
  boost::asio::awaitable<core::Expected<boost::json::value>> invoke(
      const Caller& caller, std::string name, boost::json::object arguments,
      std::chrono::milliseconds timeout);

 private:
  core::HttpSender& http_;
  std::string base_;
};

}  // namespace enkisys::agent
