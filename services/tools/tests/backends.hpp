// A Tool Manager wired in process on an OS-chosen port over one backend (SQLite or the
// PostgreSQL named by ENKISYS_TEST_POSTGRES_URL), with an optional upstream for http tools.
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <string>

#include "db_fixture.hpp"
#include "enkisys/core/testing.hpp"
#include "enkisys/tools/tool_runner.hpp"
#include "enkisys/tools/tool_store.hpp"
#include "enkisys/tools/tools_api.hpp"

namespace enkisys::tools::testing {

using Reply = core::testing::JsonReply;

class ToolsFixture {
 public:
  ToolsFixture(db::Backend backend, std::string egress_allowlist = "",
               std::string http_get_allowlist = "");
  ~ToolsFixture();

  // Sends the request as user "tester" unless `headers` carries its own X-User-Id.
  Reply call(const std::string& method, const std::string& target, const std::string& body = {},
             const std::string& headers = {});
  // Sends the request as `user` (roles: comma-separated, e.g. "admin").
  Reply as(const std::string& user, const std::string& method, const std::string& target,
           const std::string& body = {}, const std::string& roles = {});
  // Sends the request with no identity at all.
  Reply anonymous(const std::string& method, const std::string& target,
                  const std::string& body = {});
  db::Database& database() { return *db_; }
  const db::testing::TestStore& store() const { return *test_store_; }
  std::uint16_t port() const { return server_->port(); }

 private:
  Reply anonymous_with(const std::string& method, const std::string& target,
                       const std::string& body, const std::string& headers);

  std::unique_ptr<db::testing::TestStore> test_store_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<ToolStore> store_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<core::HttpClient> client_;
  std::unique_ptr<ToolRunner> runner_;
  core::MetricsRegistry metrics_;
  std::unique_ptr<ToolsApi> api_;
  std::unique_ptr<core::testing::TestServer> server_;
};

}  // namespace enkisys::tools::testing
