#include "enkisys/cli/report.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <sstream>

#include "enkisys/cli/lock.hpp"
#include "fakes.hpp"

namespace enkisys::cli {
namespace {

using std::chrono::system_clock;

// A fixed ledger as it lies on the host: two good deploys and a rolled-back one.
const char* kLedger =
    R"({"stage":"dev1","version":"v1","action":"deploy","result":"succeeded","color":"blue","previous_version":"","actor":"alice","started_at":"2026-11-27T20:41:05Z","finished_at":"2026-11-27T20:41:24Z","duration_ms":18900,"images":{},"health":{},"timings":{},"message":""})"
    "\n"
    R"({"stage":"dev1","version":"v3","action":"deploy","result":"rolled_back","color":"blue","previous_version":"v1","rolled_back_to":"v1","actor":"github:octocat","started_at":"2026-11-27T21:02:00Z","finished_at":"2026-11-27T21:02:11Z","duration_ms":11500,"images":{},"health":{},"timings":{},"message":"container exited","run_url":"https://github.com/o/r/actions/runs/42"})"
    "\n";

std::vector<Release> fixed_releases() {
  testing::MemoryStateStore store;
  store.files["releases.jsonl"] = kLedger;
  std::vector<Release> out;
  EXPECT_TRUE(ReleaseLedger(store).read(&out).ok);
  return out;
}

TEST(Report, ReleasesAsATable) {
  std::ostringstream out;
  write_releases(out, fixed_releases(), false);
  EXPECT_EQ(out.str(),
            "2026-11-27T20:41:05Z  deploy   v1            succeeded   blue      18900 ms  alice\n"
            "2026-11-27T21:02:00Z  deploy   v3            rolled_back blue      11500 ms  "
            "github:octocat  → v1  container exited\n");
}

TEST(Report, ReleasesAsJsonLines) {
  std::ostringstream out;
  write_releases(out, fixed_releases(), true);
  std::istringstream lines(out.str());
  std::vector<std::string> got;
  for (std::string l; std::getline(lines, l);) got.push_back(l);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].rfind(R"({"stage":"dev1","version":"v1","action":"deploy")", 0), 0u) << got[0];
  EXPECT_NE(got[1].find(R"("rolled_back_to":"v1")"), std::string::npos);
  EXPECT_NE(got[1].find(R"("run_url":"https://github.com/o/r/actions/runs/42")"),
            std::string::npos);
  for (const auto& l : got) EXPECT_TRUE(Release::from_json(boost::json::parse(l))) << l;
}

Lease lease(system_clock::time_point expires) {
  Lease l;
  l.holder = "alice";
  l.host = "ci-runner";
  l.pid = 42;
  l.token = "t0k3n";
  l.purpose = "deploy v2";
  l.acquired = expires - std::chrono::minutes(15);
  l.expires = expires;
  return l;
}

StageSettings dev1() {
  StageSettings s;
  s.stage = "dev1";
  s.project_dir = "/opt/enkisys";
  s.admin_token_file = "/opt/enkisys/deploy/edge/secrets/gateway_admin_token";
  return s;
}

TEST(Report, StatusOfAServingStage) {
  testing::FakeHost host;
  host.running["enkisys-dev1-blue"] = "v1";
  Target target(host);
  StageOps ops(target, host, dev1());
  testing::MemoryStateStore state;
  state.files["active"] = Active{"blue", "v1", "2026-11-27T20:41:24Z"}.to_json();
  const auto expires = system_clock::time_point(std::chrono::seconds(1'800'000'900));
  state.files["lock"] = lease(expires).to_json();
  std::ostringstream out;
  write_stage_status(out, ops, state);
  EXPECT_EQ(out.str(),
            "dev1:\n"
            "  active:  blue v1 (since 2026-11-27T20:41:24Z)\n"
            "  gateway: color blue, /dev1/health 200\n"
            "  blue   1/1 containers ready  enkisys-dev1-blue-tools-1=running/healthy\n"
            "  green  0/0 containers ready\n"
            "  lock:    " +
                lease(expires).describe() + "\n");
  EXPECT_EQ(out.str().find("admin-token"), std::string::npos);
}

TEST(Report, StatusNamesWhatItCouldNotRead) {
  testing::FakeHost host;
  Target target(host);
  auto s = dev1();
  s.admin_url = "http://127.0.0.1:9901/elsewhere";  // the fake gateway answers 404 there
  StageOps ops(target, host, s);
  testing::MemoryStateStore state;
  state.files["lock"] = "{not a lease";
  std::ostringstream out;
  write_stage_status(out, ops, state);
  EXPECT_EQ(out.str(),
            "dev1:\n"
            "  active:  none recorded\n"
            "  gateway: color unknown (gateway admin GET /admin/stages: HTTP 404), "
            "/dev1/health 503\n"
            "  blue   0/0 containers ready\n"
            "  green  0/0 containers ready\n"
            "  lock:    unreadable\n");
}

TEST(Report, LockShowAndRelease) {
  testing::MemoryStateStore state;
  const auto now = system_clock::time_point(std::chrono::seconds(1'800'000'000));
  std::ostringstream out;
  ASSERT_TRUE(write_lock_show(out, "dev1", state, now).ok);
  EXPECT_EQ(out.str(), "dev1: free\n");

  state.files["lock"] = lease(now + std::chrono::minutes(5)).to_json();
  out.str("");
  ASSERT_TRUE(write_lock_show(out, "dev1", state, now).ok);
  EXPECT_EQ(out.str(), "dev1: " + lease(now + std::chrono::minutes(5)).describe() + "\n");

  out.str("");
  ASSERT_TRUE(write_lock_show(out, "dev1", state, now + std::chrono::minutes(6)).ok);
  EXPECT_EQ(out.str(), "dev1: " + lease(now + std::chrono::minutes(5)).describe() +
                           " — EXPIRED (the next deploy takes it over)\n");

  out.str("");
  ASSERT_TRUE(lock_release(out, "dev1", state).ok);
  EXPECT_EQ(out.str(), "dev1: released lock held by " +
                           lease(now + std::chrono::minutes(5)).describe() + "\n");
  EXPECT_FALSE(state.files.count("lock"));
  out.str("");
  ASSERT_TRUE(lock_release(out, "dev1", state).ok);
  EXPECT_EQ(out.str(), "dev1: already free\n");
}

}  // namespace
}  // namespace enkisys::cli
