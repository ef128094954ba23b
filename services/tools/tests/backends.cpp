#include "backends.hpp"

#include <boost/json/parse.hpp>

#include "enkisys/tools/builtins.hpp"

namespace enkisys::tools::testing {

ToolsFixture::ToolsFixture(db::Backend backend, std::string egress_allowlist,
                           std::string http_get_allowlist) {
  test_store_ = std::make_unique<db::testing::TestStore>(backend);
  db_ = test_store_->open();
  store_ = std::make_unique<ToolStore>(*db_);
  store_->migrate(builtin_tool_definitions());
  RunnerConfig rc;
  rc.http_tools = EgressPolicy::from_list(egress_allowlist, false).value();
  rc.http_get = EgressPolicy::from_list(http_get_allowlist, true).value();
  rc.zoneinfo_dir = "/usr/share/zoneinfo";
  client_ = std::make_unique<core::HttpClient>();
  runner_ = std::make_unique<ToolRunner>(*client_, rc, [] {
    // A fixed instant: 2024-07-01T12:00:00Z.
    return std::chrono::system_clock::time_point(std::chrono::seconds(1719835200));
  });
  audit_ = std::make_unique<AuditLog>(*store_);
  api_ = std::make_unique<ToolsApi>(*store_, *audit_, *runner_, metrics_);
  server_ =
      std::make_unique<core::testing::TestServer>([this](core::Router& r) { api_->add_routes(r); });
}

ToolsFixture::~ToolsFixture() {
  server_.reset();
}

Reply ToolsFixture::call(const std::string& method, const std::string& target,
                         const std::string& body, const std::string& headers) {
  if (headers.find("X-User-Id:") != std::string::npos) {
    return anonymous_with(method, target, body, headers);
  }
  return anonymous_with(method, target, body, "X-User-Id: tester\r\n" + headers);
}

Reply ToolsFixture::as(const std::string& user, const std::string& method,
                       const std::string& target, const std::string& body,
                       const std::string& roles) {
  std::string headers = "X-User-Id: " + user + "\r\n";
  if (!roles.empty()) headers += "X-User-Roles: " + roles + "\r\n";
  return anonymous_with(method, target, body, headers);
}

Reply ToolsFixture::anonymous(const std::string& method, const std::string& target,
                              const std::string& body) {
  return anonymous_with(method, target, body, {});
}

Reply ToolsFixture::anonymous_with(const std::string& method, const std::string& target,
                                   const std::string& body, const std::string& headers) {
  return core::testing::json_reply(
      core::testing::http_request(server_->port(), method, target, body, headers));
}

}  // namespace enkisys::tools::testing
