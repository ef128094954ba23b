// The real binary: starts on port 0 over a fresh store, answers /health, serves a turn with the
// offline model when the model layer is built in (otherwise that part is skipped).
#include "enkisys/core/testing/process.hpp"

#include <boost/json.hpp>

#include "db_fixture.hpp"
#include "enkisys/core/testing.hpp"

namespace enkisys::agent {
namespace {

namespace json = boost::json;
using core::testing::ServiceProcess;

class ProcessTest : public db::testing::DbTest {};

TEST_P(ProcessTest, StartsAnswersHealthAndATurn) {
  core::testing::TempDir dir;
  ServiceProcess p(ENKISYS_AGENT_BIN, {{"PORT", "0"},
                                       {"BIND_ADDRESS", "127.0.0.1"},
                                       {"DATABASE_URL", store_->process_url()},
                                       {"RAG_URL", "http://127.0.0.1:9"},
                                       {"TOOLS_URL", "http://127.0.0.1:9"}});
  ASSERT_TRUE(p.wait_healthy());
  const auto port = p.port();
  const std::string health = core::testing::http_request(port, "GET", "/health");
  EXPECT_EQ(core::testing::status_of(health), 200) << health;
  const std::string created = core::testing::http_request(port, "POST", "/api/chat/conversations",
                                                          R"({"title":"t"})", "X-User-Id: u1\r\n");
  ASSERT_EQ(core::testing::status_of(created), 201) << created;
  const std::string id(json::parse(core::testing::body_of(created)).at("id").as_string());
  const std::string models =
      core::testing::http_request(port, "GET", "/api/chat/models", "", "X-User-Id: u1\r\n");
  EXPECT_NE(models.find("enkisys-offline"), std::string::npos) << models;
  const std::string turn =
      core::testing::http_request(port, "POST", "/api/chat/conversations/" + id + "/messages",
                                  R"({"content":"what is 2+3?"})", "X-User-Id: u1\r\n");
  EXPECT_EQ(p.terminate(), 0);
  ASSERT_EQ(core::testing::status_of(turn), 200) << turn;
  const auto msg = json::parse(core::testing::body_of(turn)).at("message");
  EXPECT_EQ(msg.at("role"), "assistant");
  EXPECT_EQ(msg.at("model"), "enkisys-offline");
}

TEST(ProcessHelp, ListsTheVariables) {
  ServiceProcess p(ENKISYS_AGENT_BIN, {}, {"--help"}, false);
  EXPECT_EQ(p.wait_exit(), 0);
  const std::string out = p.output();
  for (const char* v : {"AGENT_CONTEXT_TOKENS", "AGENT_SERVICE_SECRET_FILE", "LLM_BASE_URL",
                        "AGENT_DAILY_TOKENS", "TOOLS_URL", "RAG_URL"}) {
    EXPECT_NE(out.find(v), std::string::npos) << v;
  }
}

TEST(ProcessConfig, BadLimitIsRefusedAtStart) {
  ServiceProcess p(ENKISYS_AGENT_BIN, {{"AGENT_RATE_PER_MIN", "zero"}, {"PORT", "0"}}, {}, false);
  EXPECT_EQ(p.wait_exit(), 2);
}

ENKISYS_DB_ON_BOTH_BACKENDS(ProcessTest);

}  // namespace
}  // namespace enkisys::agent
