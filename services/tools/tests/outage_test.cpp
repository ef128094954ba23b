// PostgreSQL killed under write load (kill -9 of the postmaster of a cluster of the test's own,
// scripts/pg-test-server.sh): the real enkisys-tools keeps running, answers 503 (JSON error) to
// writes and on /health while the server is gone, reconnects by itself once it is back on the
// same port, and no write it acknowledged (201) is lost.
// And a full volume, SQLite's or PostgreSQL's: 503 storage_full, then writes again once space
// returns.
// Needs the PostgreSQL 15 server binaries and ENKISYS_TEST_POSTGRES_URL (the PostgreSQL half of
// the tests is enabled); skips otherwise.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "db_fixture.hpp"
#include "enkisys/core/testing.hpp"
#include "enkisys/core/testing/process.hpp"

namespace enkisys::tools::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";
constexpr const char* kUser = "X-User-Id: outage\r\n";

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// The cluster's directory; its server started, killed and restarted on one port.
class Cluster {
 public:
  Cluster() {
    std::string templ = (fs::temp_directory_path() / "enkisys-outage-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = templ;
    fs::permissions(dir_, fs::perms::all, fs::perm_options::replace);
    url_ = run_capture(std::string(ENKISYS_PG_TEST_SERVER) + " start " + dir_ + " 2>&1");
    port_ = url_.substr(url_.rfind(':') + 1);
    port_ = port_.substr(0, port_.find('/'));
  }
  ~Cluster() {
    std::system(
        (std::string(ENKISYS_PG_TEST_SERVER) + " stop " + dir_ + " >/dev/null 2>&1").c_str());
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& url() const { return url_; }
  bool started() const { return url_.rfind("postgres://", 0) == 0; }
  void kill9() {
    std::ifstream pidfile(dir_ + "/data/postmaster.pid");
    pid_t pid = 0;
    pidfile >> pid;
    ASSERT_GT(pid, 0);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
  }
  // Starts the server again on the same port; the backends of the killed one may take a
  // moment to go (bounded retries).
  bool restart() {
    const std::string as = geteuid() == 0 ? "runuser -u postgres -- " : "";
    const std::string cmd = as + kPgBin + "/pg_ctl -D " + dir_ + "/data -l " + dir_ +
                            "/server.log -w -t 30 -o '-c listen_addresses=127.0.0.1 -p " + port_ +
                            " -k " + dir_ + " -c fsync=off' start >/dev/null 2>&1";
    for (int attempt = 0; attempt < 20; ++attempt) {
      if (std::system(cmd.c_str()) == 0) return true;
      std::this_thread::sleep_for(500ms);
    }
    return false;
  }

 private:
  std::string dir_, url_, port_;
};

int health(unsigned short port) {
  return core::testing::status_of(core::testing::http_request(port, "GET", "/health"));
}

bool wait_health(unsigned short port, int want, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (health(port) == want) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

TEST(PostgresOutageTest, KillNineOfTheServerLosesNoAcknowledgedWriteAndTheServiceReconnects) {
  if (db::testing::postgres_test_url().empty()) GTEST_SKIP() << db::testing::kHowToSetPostgres;
  if (!fs::exists(std::string(kPgBin) + "/pg_ctl")) GTEST_SKIP() << "no PostgreSQL 15 binaries";
  Cluster pg;
  ASSERT_TRUE(pg.started()) << pg.url();
  core::testing::ServiceProcess tools(ENKISYS_TOOLS_BIN, {{"PORT", "0"},
                                                          {"BIND_ADDRESS", "127.0.0.1"},
                                                          {"DATABASE_URL", pg.url()},
                                                          {"ACCESS_LOG", "off"}});
  const auto port = tools.port();
  ASSERT_TRUE(wait_health(port, 200, 30s));

  std::mutex mu;
  std::vector<std::string> acked;
  std::set<int> statuses;
  std::string unavailable_body;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    for (int i = 0; i < 20000 && !stop && std::chrono::steady_clock::now() < deadline; ++i) {
      const std::string name = "o" + std::to_string(i);
      const std::string body =
          R"({"name":")" + name +
          R"(","kind":"http","http":{"method":"GET","url":"https://x.example/"}})";
      const auto raw = core::testing::http_request(port, "POST", "/api/tools", body, kUser);
      const int status = core::testing::status_of(raw);
      std::lock_guard lock(mu);
      statuses.insert(status);
      if (status == 201) acked.push_back(name);
      if (status == 503 && unavailable_body.empty()) unavailable_body = core::testing::body_of(raw);
    }
  });
  auto acked_count = [&] {
    std::lock_guard lock(mu);
    return acked.size();
  };
  auto wait_acked = [&](std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (acked_count() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    return acked_count() >= n;
  };
  ASSERT_TRUE(wait_acked(100));
  pg.kill9();
  EXPECT_TRUE(wait_health(port, 503, 30s)) << "health stayed " << health(port);
  const auto during = acked_count();
  ASSERT_TRUE(pg.restart());
  EXPECT_TRUE(wait_health(port, 200, 60s)) << "no reconnect: health " << health(port);
  const bool wrote_again = wait_acked(during + 50);
  stop = true;
  writer.join();
  EXPECT_TRUE(wrote_again) << "no write succeeded after the server came back";
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(statuses.count(503)) << "writes during the outage were not answered 503";
    if (!unavailable_body.empty()) {
      EXPECT_NE(unavailable_body.find("\"error\""), std::string::npos) << unavailable_body;
    }
    EXPECT_FALSE(statuses.count(500)) << "a write during the outage answered 500";
  }
  for (const auto& name : acked) {
    ASSERT_EQ(core::testing::status_of(
                  core::testing::http_request(port, "GET", "/api/tools/" + name, {}, kUser)),
              200)
        << name << " was acknowledged but is gone after the server's kill -9";
  }
  EXPECT_EQ(tools.terminate(), 0);
}

// A tmpfs of `size` mounted on a fresh folder for the test's life; mounted() is false (and the
// test skips) without root.
class Tmpfs {
 public:
  explicit Tmpfs(const std::string& size) {
    std::string templ = (fs::temp_directory_path() / "enkisys-full-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) return;
    dir_ = templ;
    mounted_ =
        geteuid() == 0 &&
        std::system(
            ("mount -t tmpfs -o size=" + size + " tmpfs " + dir_ + " 2>/dev/null").c_str()) == 0;
  }
  ~Tmpfs() {
    if (mounted_) std::system(("umount " + dir_).c_str());
    std::error_code ec;
    if (!dir_.empty()) fs::remove(dir_, ec);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// The tools service on `port` keeps its data on the volume `dir`: a file then fills it. Writes
// answer 503 storage_full (JSON) while reads keep working; once the file is gone writes succeed
// again and the refused one was not half-written.
void expect_full_volume_refuses_then_recovers(unsigned short port, const std::string& dir) {
  auto post = [&](const std::string& name) {
    const std::string body =
        R"({"name":")" + name + R"(","description":")" + std::string(200, 'd') +
        R"(","kind":"http","http":{"method":"GET","url":"https://x.example/"}})";
    return core::testing::http_request(port, "POST", "/api/tools", body, kUser);
  };
  auto get = [&](const std::string& name) {
    return core::testing::status_of(
        core::testing::http_request(port, "GET", "/api/tools/" + name, {}, kUser));
  };
  ASSERT_EQ(core::testing::status_of(post("before")), 201);
  std::system(("dd if=/dev/zero of=" + dir + "/filler bs=64k >/dev/null 2>&1").c_str());
  std::string raw;
  int i = 0;
  for (; i < 2000; ++i) {
    raw = post("full" + std::to_string(i));
    if (core::testing::status_of(raw) != 201) break;
  }
  ASSERT_LT(i, 2000) << "the full volume never refused a write";
  EXPECT_EQ(core::testing::status_of(raw), 503) << raw;
  EXPECT_NE(core::testing::body_of(raw).find("\"storage_full\""), std::string::npos) << raw;
  const std::string refused = "full" + std::to_string(i);
  EXPECT_EQ(get("before"), 200) << "reads stopped while the volume was full";
  fs::remove(dir + "/filler");
  EXPECT_EQ(core::testing::status_of(post("after")), 201);
  EXPECT_EQ(get(refused), 404) << "the refused write was half-written";
  EXPECT_EQ(get("before"), 200);
}

// A full volume (a 4 MiB tmpfs as the SQLite data folder, filled up by a file): writes answer
// 503 storage_full (JSON, nothing half-written), and succeed again once space returns.
// Needs root (mount); skips otherwise.
TEST(DiskFullTest, AFullVolumeIsA503AndWritesResumeWhenSpaceReturns) {
  Tmpfs volume("4m");
  if (!volume.mounted()) GTEST_SKIP() << "cannot mount a tmpfs (needs root)";
  core::testing::ServiceProcess tools(ENKISYS_TOOLS_BIN,
                                      {{"PORT", "0"},
                                       {"BIND_ADDRESS", "127.0.0.1"},
                                       {"DATABASE_URL", "sqlite://" + volume.dir() + "/tools.db"},
                                       {"ACCESS_LOG", "off"}});
  expect_full_volume_refuses_then_recovers(tools.port(), volume.dir());
  EXPECT_EQ(tools.terminate(), 0);
}

// PostgreSQL with its data volume full: the tools' tables live in a tablespace on an 8 MiB
// tmpfs (the database's default_tablespace, so the service's own migrations put them there),
// which a file then fills. Writes answer 503 storage_full (SQLSTATE 53100, JSON), nothing is
// half-written, reads keep working, and writes succeed again once space returns — no restart.
// Needs root (mount) and the PostgreSQL half of the tests; skips otherwise.
TEST(DiskFullTest, AFullPostgresVolumeIsA503AndWritesResumeWhenSpaceReturns) {
  if (db::testing::postgres_test_url().empty()) GTEST_SKIP() << db::testing::kHowToSetPostgres;
  if (!fs::exists(std::string(kPgBin) + "/pg_ctl")) GTEST_SKIP() << "no PostgreSQL 15 binaries";
  Tmpfs volume("8m");
  if (!volume.mounted()) GTEST_SKIP() << "cannot mount a tmpfs (needs root)";
  const std::string& dir = volume.dir();
  ASSERT_EQ(std::system(("chown postgres:postgres " + dir).c_str()), 0);
  Cluster pg;
  ASSERT_TRUE(pg.started()) << pg.url();
  const std::string psql = "psql -X -q -v ON_ERROR_STOP=1 '" + pg.url() + "' -c ";
  ASSERT_EQ(std::system((psql + "\"CREATE TABLESPACE small LOCATION '" + dir + "'\"").c_str()), 0);
  ASSERT_EQ(std::system((psql + "\"ALTER DATABASE " + pg.url().substr(pg.url().rfind('/') + 1) +
                         " SET default_tablespace = small\"")
                            .c_str()),
            0);
  core::testing::ServiceProcess tools(ENKISYS_TOOLS_BIN, {{"PORT", "0"},
                                                          {"BIND_ADDRESS", "127.0.0.1"},
                                                          {"DATABASE_URL", pg.url()},
                                                          {"ACCESS_LOG", "off"}});
  const auto port = tools.port();
  ASSERT_TRUE(wait_health(port, 200, 30s));
  expect_full_volume_refuses_then_recovers(port, dir);
  EXPECT_EQ(tools.terminate(), 0);
}

}  // namespace
}  // namespace enkisys::tools::testing
