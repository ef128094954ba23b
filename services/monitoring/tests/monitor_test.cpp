// The poller against in-process fake services and a fake webhook, on a FakeClock: down within
// two polls and alerted once, recovered once, no storm from a flapping service, silences, error
// rate, the active color, history across a restart, and the page agreeing with the JSON.
#include "enkisys/monitoring/monitor.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>

#include "enkisys/core/testing.hpp"
#include "enkisys/core/testing/fakes.hpp"
#include "enkisys/core/testing/process.hpp"
#include "enkisys/monitoring/api.hpp"
#include "fake_service.hpp"

namespace enkisys::monitoring {
namespace {

namespace json = boost::json;
using testing::FakeService;
using testing::FakeWebhook;

class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override { open_store(); }
  void open_store() {
    monitor_.reset();
    store_.reset();
    db_ = db::Database::open("sqlite://" + (dir_.path() / "monitoring.db").string());
    store_ = std::make_unique<MonitorStore>(*db_);
    store_->migrate();
  }
  Monitor& make(MonitorOptions o = {}) {
    if (o.targets.empty())
      o.targets = {{"dev", "tools", tools_.url()}, {"dev", "auth", auth_.url()}};
    o.webhook_url = hook_.url();
    o.timeout = std::chrono::milliseconds(1000);
    monitor_ = std::make_unique<Monitor>(*store_, clock_, log_, o);
    monitor_->start();
    return *monitor_;
  }
  // One poll interval later.
  void poll() {
    clock_.advance(std::chrono::seconds(5));
    monitor_->poll();
  }
  json::object service(const std::string& stage, const std::string& name) {
    const auto st = monitor_->status();
    for (const auto& s : st.at("stages").as_array()) {
      if (s.at("stage").as_string() != stage) continue;
      for (const auto& v : s.at("services").as_array()) {
        if (v.at("service").as_string() == name) return v.as_object();
      }
    }
    return {};
  }
  std::string state(const std::string& name) {
    return std::string(service("dev", name).at("state").as_string());
  }

  core::testing::TempDir dir_;
  core::testing::FakeClock clock_;
  core::Logger log_{"monitoring-test", core::LogLevel::kError};
  FakeService tools_, auth_;
  FakeWebhook hook_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<MonitorStore> store_;
  std::unique_ptr<Monitor> monitor_;
};

TEST_F(MonitorTest, StoppedServiceIsDownWithinTwoPollsAlertedOnceThenRecoveredOnce) {
  make();
  poll();
  EXPECT_EQ(state("tools"), "up");
  EXPECT_EQ(hook_.count(), 0);
  tools_.stop();
  poll();
  EXPECT_EQ(hook_.count(), 0);  // one poll is not yet a state
  poll();
  EXPECT_EQ(state("tools"), "down");
  EXPECT_EQ(state("auth"), "up");
  ASSERT_EQ(hook_.count(), 1);
  const auto msg = json::parse(hook_.bodies()[0]).as_object();
  EXPECT_NE(std::string(msg.at("text").as_string()).find("tools of dev is down"),
            std::string::npos);
  EXPECT_EQ(msg.at("attachments").as_array()[0].at("color"), "danger");
  for (int i = 0; i < 5; ++i) poll();
  EXPECT_EQ(hook_.count(), 1);  // still down: nothing more
  tools_.start();
  poll();
  poll();
  EXPECT_EQ(state("tools"), "up");
  ASSERT_EQ(hook_.count(), 2);
  EXPECT_NE(hook_.bodies()[1].find("tools of dev recovered"), std::string::npos);
  for (int i = 0; i < 3; ++i) poll();
  EXPECT_EQ(hook_.count(), 2);
  const auto u = service("dev", "tools").at("uptime").as_object();
  ASSERT_TRUE(u.contains("1h"));
  EXPECT_LT(u.at("1h").as_double(), 1.0);
}

TEST_F(MonitorTest, FlappingServiceProducesNoStorm) {
  make();
  for (int i = 0; i < 30; ++i) {
    tools_.health = i % 2 ? 503 : 200;  // never the same state two polls in a row
    poll();
  }
  EXPECT_EQ(hook_.count(), 0);
  // Held down, then back: exactly two messages.
  tools_.health = 503;
  for (int i = 0; i < 4; ++i) poll();
  tools_.health = 200;
  for (int i = 0; i < 4; ++i) poll();
  EXPECT_EQ(hook_.count(), 2);
}

TEST_F(MonitorTest, ManyChangesInOnePollBecomeOneMessage) {
  std::vector<std::unique_ptr<FakeService>> many;
  MonitorOptions o;
  o.max_messages_per_poll = 3;
  for (int i = 0; i < 6; ++i) {
    many.push_back(std::make_unique<FakeService>());
    o.targets.push_back({"dev", "svc" + std::to_string(i), many.back()->url()});
  }
  make(o);
  poll();
  for (auto& s : many) s->stop();
  poll();
  poll();
  ASSERT_EQ(hook_.count(), 1);
  EXPECT_NE(hook_.bodies()[0].find("6 changes"), std::string::npos);
}

TEST_F(MonitorTest, SilencedStageSendsNothingAndTheSilenceHolds) {
  make();
  poll();
  ASSERT_TRUE(monitor_->silence("dev", 10, "upgrade").ok());
  EXPECT_FALSE(monitor_->silence("nope", 10, "").ok());
  EXPECT_FALSE(monitor_->silence("dev", 0, "").ok());
  tools_.stop();
  for (int i = 0; i < 4; ++i) poll();
  EXPECT_EQ(state("tools"), "down");
  EXPECT_EQ(hook_.count(), 0);
  const auto st = monitor_->status();
  EXPECT_TRUE(st.at("stages").as_array()[0].at("silenced_until").is_string());
  // The silence is on disk: a new monitor on the same store keeps it.
  make();
  clock_.advance(std::chrono::minutes(5));
  poll();
  EXPECT_EQ(hook_.count(), 0);
  clock_.advance(std::chrono::minutes(6));  // past the silence
  tools_.start();
  poll();
  poll();
  EXPECT_EQ(hook_.count(), 1);  // the recovery
}

TEST_F(MonitorTest, ErrorRateAboveThresholdAlertsAndShowsDegraded) {
  make();
  tools_.ok = 100;
  tools_.fast = 100;
  poll();
  poll();
  EXPECT_EQ(state("tools"), "up");
  tools_.ok += 50;  // 50 %
  tools_.errors += 50;
  tools_.fast += 100;
  poll();
  const auto s = service("dev", "tools");
  EXPECT_DOUBLE_EQ(s.at("error_ratio").as_double(), 0.5);
  EXPECT_DOUBLE_EQ(s.at("req_per_s").as_double(), 20.0);  // 100 requests in 5 s
  tools_.ok += 50;
  tools_.errors += 50;
  tools_.fast += 100;
  poll();
  EXPECT_EQ(state("tools"), "degraded");
  ASSERT_EQ(hook_.count(), 1);
  EXPECT_NE(hook_.bodies()[0].find("error rate 50.0 %"), std::string::npos);
  EXPECT_EQ(service("dev", "tools").at("version"), "v1.2.3");
}

TEST_F(MonitorTest, ActiveColorFromTheGatewayElseTheOneAnswering) {
  // Colors stand for ports here: "{color}" of the target becomes the port of that color.
  FakeService blue;
  const std::string blue_port = std::to_string(blue.port());
  blue.stop();  // the blue color is not running
  const std::string green_port = std::to_string(tools_.port());
  MonitorOptions o;
  o.colors = {blue_port, green_port};
  o.targets = {{"dev", "tools", "http://127.0.0.1:{color}"}};
  make(o);
  poll();
  EXPECT_EQ(service("dev", "tools").at("color").as_string(), green_port);
  EXPECT_EQ(state("tools"), "up");
  // With the gateway's admin API the active color is asked, not guessed.
  const std::string token = "0123456789abcdef-admin";
  core::testing::TestServer admin([&](core::Router& r) {
    r.add(boost::beast::http::verb::get, "/admin/stages",
          [&, token](core::Request& req,
                     core::RequestContext&) -> boost::asio::awaitable<core::Response> {
            const bool ok = req[boost::beast::http::field::authorization] == "Bearer " + token;
            co_return core::json_response(
                ok ? boost::beast::http::status::ok : boost::beast::http::status::unauthorized,
                json::parse(R"({"stages":[{"name":"dev","variables":{"color":")" + blue_port +
                            R"("}}]})"),
                req.version());
          });
  });
  o.gateway_admin_url = "http://127.0.0.1:" + std::to_string(admin.port());
  o.gateway_admin_token = token;
  o.thresholds.hold_polls = 1;
  make(o);
  poll();
  EXPECT_EQ(state("tools"), "down");  // the gateway says blue, and blue does not answer
}

TEST_F(MonitorTest, HistoryAndAlertStateSurviveARestart) {
  make();
  poll();
  tools_.stop();
  poll();
  poll();
  ASSERT_EQ(hook_.count(), 1);
  open_store();  // the process restarts over the same file
  make();
  poll();
  poll();
  EXPECT_EQ(hook_.count(), 1);  // still down: no second "down" after the restart
  const auto u = service("dev", "tools").at("uptime").as_object();
  ASSERT_TRUE(u.contains("1h"));
  EXPECT_LT(u.at("1h").as_double(), 0.5);  // 1 up poll of 5
  const auto st = monitor_->status();
  EXPECT_FALSE(st.at("timeline").as_array().empty());
}

TEST_F(MonitorTest, RollbackInTheLedgerIsAlertedOnceAndShownInTheTimeline) {
  const auto ledger = dir_.path() / "ledger";
  std::filesystem::create_directories(ledger / "dev");
  const auto file = ledger / "dev" / "releases.jsonl";
  {
    std::ofstream(file)
        << R"({"stage":"dev","version":"v1","action":"deploy","result":"succeeded","color":"blue","finished_at":"2026-11-30T10:00:00Z"})"
        << "\n";
  }
  MonitorOptions o;
  o.ledger_dir = ledger.string();
  make(o);
  poll();
  EXPECT_EQ(hook_.count(), 0);  // what was in the ledger before the start is history
  std::ofstream(file, std::ios::app)
      << R"({"stage":"dev","version":"v2","action":"deploy","result":"rolled_back","color":"green","rolled_back_to":"v1","finished_at":"2026-11-30T11:00:00Z"})"
      << "\n";
  poll();
  poll();
  ASSERT_EQ(hook_.count(), 1);
  EXPECT_NE(hook_.bodies()[0].find("rolled_back"), std::string::npos);
  const auto st = monitor_->status();
  EXPECT_EQ(st.at("stages").as_array()[0].at("version"), "v1");
  EXPECT_NE(json::serialize(st.at("timeline")).find("deploy v2 rolled_back"), std::string::npos);
  EXPECT_NE(monitor_->federate().find("enkisys_stage_rollbacks_total{stage=\"dev\"} 1"),
            std::string::npos);
}

TEST_F(MonitorTest, PageAndJsonAgreeAndFederateLabelsEveryTarget) {
  make();
  poll();
  tools_.stop();
  poll();
  poll();
  core::testing::TestServer server([&](core::Router& r) { add_routes(r, *monitor_); });
  const auto j = core::testing::http_request(server.port(), "GET", "/api/status");
  ASSERT_EQ(core::testing::status_of(j), 200) << j;
  const auto page = core::testing::http_request(server.port(), "GET", "/", "",
                                                "X-Forwarded-Prefix: /monitoring\r\n");
  ASSERT_EQ(core::testing::status_of(page), 200);
  EXPECT_NE(page.find("script-src 'self'"), std::string::npos);
  EXPECT_NE(page.find("<base href=\"/monitoring/\">"), std::string::npos);
  EXPECT_EQ(page.find("<script>"), std::string::npos);  // no inline script
  const auto status = json::parse(core::testing::body_of(j));
  int rows = 0;
  for (const auto& st : status.at("stages").as_array()) {
    for (const auto& s : st.at("services").as_array()) {
      const std::string row = "data-row=\"" + std::string(st.at("stage").as_string()) + "/" +
                              std::string(s.at("service").as_string()) + "\" data-state=\"" +
                              std::string(s.at("state").as_string()) + "\"";
      EXPECT_NE(page.find(row), std::string::npos) << row;
      ++rows;
    }
  }
  EXPECT_EQ(rows, 2);
  EXPECT_NE(page.find("class=\"st-down\""), std::string::npos);
  EXPECT_EQ(core::testing::status_of(core::testing::http_request(server.port(), "GET", "/app.js")),
            200);
  const auto fed =
      core::testing::body_of(core::testing::http_request(server.port(), "GET", "/federate"));
  EXPECT_NE(fed.find("up{stage=\"dev\",service=\"tools\",color=\"\"} 0"), std::string::npos) << fed;
  EXPECT_NE(fed.find("up{stage=\"dev\",service=\"auth\",color=\"\"} 1"), std::string::npos);
  EXPECT_NE(fed.find("http_requests_total{stage=\"dev\",service=\"auth\",color=\"\",route="),
            std::string::npos);
  const auto parsed = parse_text(fed);
  EXPECT_EQ(parsed.families.at("http_requests_total").type, "counter");
  // Silences through the API: the admin role is required.
  EXPECT_EQ(core::testing::status_of(core::testing::http_request(
                server.port(), "PUT", "/api/silences/dev", R"({"minutes":5})",
                "Content-Type: application/json\r\nX-User-Roles: user\r\n")),
            403);
  EXPECT_EQ(core::testing::status_of(core::testing::http_request(
                server.port(), "PUT", "/api/silences/dev", R"({"minutes":"x"})",
                "Content-Type: application/json\r\nX-User-Roles: admin\r\n")),
            400);
  EXPECT_EQ(core::testing::status_of(core::testing::http_request(
                server.port(), "PUT", "/api/silences/dev", R"({"minutes":5,"reason":"r"})",
                "Content-Type: application/json\r\nX-User-Roles: user,admin\r\n")),
            200);
  EXPECT_NE(core::testing::http_request(server.port(), "GET", "/api/silences").find("\"dev\""),
            std::string::npos);
}

}  // namespace
}  // namespace enkisys::monitoring
