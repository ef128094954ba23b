// The other services a turn calls over the stage network (never through the gateway): rag for
// context, tools for the tool list and invocations. Every call carries the caller's identity
// (X-User-Id, X-User-Roles, X-Request-Id) so those services apply their own access rules.
//
// Contract:
//  * Thread-safe as the HttpSender they use. RagClient keeps no state; ToolsClient may keep a
//    short-lived cache of tool listings (ToolsCacheOptions), guarded by a mutex.
//  * Errors are values: kUpstream "rag_error"/"tools_error" for an unreachable service or a
//    malformed answer; a tool's own JSON error comes back as the Error it carried (kind from
//    the status, its code and message), so the model can be told what went wrong.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "enkisys/agent/model.hpp"
#include "enkisys/core/client.hpp"
#include "enkisys/core/clock.hpp"
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

// The tools listing cache: the tools service decides which tools a caller sees from its user
// id and roles, so one listing is kept per (X-User-Id, X-User-Roles) for `ttl` after it was
// fetched (zero: no cache). A tool registered, removed or re-permissioned in the tools service
// is seen within `ttl`; a conversation's own tool choice is applied after the cache, so a
// changed conversation takes effect at once. An invocation answered 403 or 404 (the tool is
// gone or no longer the caller's) drops the caller's listing; failed listings are not kept. At
// most `max_entries` listings are kept (expired ones are dropped first, then all).
struct ToolsCacheOptions {
  std::chrono::milliseconds ttl{0};
  std::size_t max_entries = 4096;
};

class ToolsClient {
 public:
  // REQUIRES: `clock` outlives the client (it times the cache).
  ToolsClient(core::HttpSender& http, std::string base_url, const core::Clock& clock,
              ToolsCacheOptions cache = {});
  // GET {base}/api/tools?format=openai as ToolSpecs (from the cache while fresh).
  boost::asio::awaitable<core::Expected<std::vector<ToolSpec>>> list(const Caller& caller);
  // POST {base}/api/tools/{name}/invoke {"arguments":...} → the "result" value.
  boost::asio::awaitable<core::Expected<boost::json::value>> invoke(
      const Caller& caller, std::string name, boost::json::object arguments,
      std::chrono::milliseconds timeout);

 private:
  struct Cached {
    std::shared_ptr<const std::vector<ToolSpec>> tools;
    core::Clock::steady_time_point expires;
  };
  static std::string cache_key(const Caller& caller);
  std::shared_ptr<const std::vector<ToolSpec>> cached(const std::string& key);
  void keep(const std::string& key, std::shared_ptr<const std::vector<ToolSpec>> tools);
  void forget(const std::string& key);

  core::HttpSender& http_;
  std::string base_;
  const core::Clock& clock_;
  ToolsCacheOptions cache_options_;
  std::mutex mu_;
  std::map<std::string, Cached> cache_;  // guarded by mu_
};

}  // namespace enkisys::agent
