#include "enkisys/cli/notify.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>

namespace enkisys::cli {
namespace {

class RecordingHttp final : public HttpClient {
 public:
  HttpResponse send(const HttpRequest& r) override {
    sent.push_back(r);
    return answer;
  }
  std::vector<HttpRequest> sent;
  HttpResponse answer{200, "ok", ""};
};

Notice notice(const char* result) {
  Notice n;
  n.stage = "dev1";
  n.version = "3f2a9c1";
  n.action = "deploy";
  n.result = result;
  n.duration_ms = 42'500;
  n.actor = "github:octocat";
  n.run_url = "https://github.com/acme/enkisys/actions/runs/123";
  return n;
}

TEST(Notify, SlackPayloadCarriesStageVersionResultDurationAndLink) {
  auto p = slack_payload(notice("succeeded"));
  std::string text(p.at("text").as_string());
  EXPECT_NE(text.find("dev1"), std::string::npos);
  EXPECT_NE(text.find("3f2a9c1"), std::string::npos);
  EXPECT_NE(text.find("succeeded"), std::string::npos);
  EXPECT_NE(text.find("42.5 s"), std::string::npos);
  auto all = boost::json::serialize(p.at("blocks"));
  EXPECT_NE(all.find("<https://github.com/acme/enkisys/actions/runs/123|run>"), std::string::npos);
  const auto& att = p.at("attachments").as_array().at(0).as_object();
  EXPECT_EQ(att.at("color"), "good");
  EXPECT_EQ(att.at("title_link"), "https://github.com/acme/enkisys/actions/runs/123");
  EXPECT_EQ(p.at("result"), "succeeded");
}

TEST(Notify, RolledBackIsRedAndNamesTheRestoredVersion) {
  auto n = notice("rolled_back");
  n.rolled_back_to = "v2";
  auto p = slack_payload(n);
  EXPECT_EQ(p.at("attachments").as_array().at(0).at("color"), "danger");
  EXPECT_NE(std::string(p.at("text").as_string()).find("serving `v2` again"), std::string::npos);
}

TEST(Notify, RunUrlNeedsAllThreeVariables) {
  std::map<std::string, std::string> env = {{"GITHUB_SERVER_URL", "https://github.com"},
                                            {"GITHUB_REPOSITORY", "acme/enkisys"},
                                            {"GITHUB_RUN_ID", "77"}};
  auto get = [&](const char* k) { return env.count(k) ? env[k] : std::string(); };
  EXPECT_EQ(run_url_from(get), "https://github.com/acme/enkisys/actions/runs/77");
  env.erase("GITHUB_RUN_ID");
  EXPECT_EQ(run_url_from(get), "");
}

TEST(Notify, PostsJsonAndWritesTheSummary) {
  RecordingHttp http;
  auto path = std::filesystem::temp_directory_path() /
              ("enkisys-summary-" + std::to_string(::getpid()) + ".md");
  std::filesystem::remove(path);
  auto warnings = notify(http, "http://127.0.0.1:1/hook", path.string(), notice("succeeded"));
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(http.sent.size(), 1u);
  EXPECT_EQ(http.sent[0].method, "POST");
  auto body = boost::json::parse(http.sent[0].body);
  EXPECT_EQ(body.at("stage"), "dev1");
  std::ifstream f(path);
  std::string md((std::istreambuf_iterator<char>(f)), {});
  EXPECT_NE(md.find("| dev1 | `3f2a9c1` | deploy | succeeded | 42.5 s |"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(Notify, AFailingWebhookIsOnlyAWarning) {
  RecordingHttp http;
  http.answer = {0, "", "connection refused"};
  auto warnings = notify(http, "http://127.0.0.1:1/hook", "", notice("failed"));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("connection refused"), std::string::npos);
  EXPECT_EQ(warnings[0].find("127.0.0.1:1/hook"), std::string::npos);  // the URL is a secret
  http.answer = {500, "", ""};
  EXPECT_EQ(notify(http, "http://x/hook", "/nonexistent/dir/summary.md", notice("failed")).size(),
            2u);
}

}  // namespace
}  // namespace enkisys::cli
