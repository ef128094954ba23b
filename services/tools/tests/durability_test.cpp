// kill -9 during a burst of writes loses no acknowledged write, on both backends: the real
// enkisys-tools binary is started, tools are created one by one, the process is SIGKILLed
// mid-burst, restarted on the same database, and every tool that got a 201 must be there.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <cstdio>
#include <thread>

#include "backends.hpp"

namespace enkisys::tools::testing {
namespace {

using db::Backend;

class Process {
 public:
  // Starts ENKISYS_TOOLS_BIN with PORT=0 and the given DATABASE_URL; reads its log until the
  // "listening" line and returns the port it bound.
  explicit Process(const std::string& database_url) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      setenv("PORT", "0", 1);
      setenv("BIND_ADDRESS", "127.0.0.1", 1);
      setenv("DATABASE_URL", database_url.c_str(), 1);
      setenv("ACCESS_LOG", "off", 1);
      execl(ENKISYS_TOOLS_BIN, ENKISYS_TOOLS_BIN, static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    log_ = fdopen(out[0], "r");
    char line[4096];
    // Bounded: the service logs a handful of lines before "listening", or exits.
    for (int i = 0; i < 50 && fgets(line, sizeof line, log_); ++i) {
      boost::system::error_code ec;
      auto v = boost::json::parse(line, ec);
      if (!ec && v.is_object() && v.as_object().contains("msg") && v.at("msg") == "listening") {
        port_ = static_cast<unsigned short>(v.at("port").to_number<int>());
        return;
      }
    }
    throw std::runtime_error("enkisys-tools did not start");
  }
  ~Process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (log_) fclose(log_);
  }
  unsigned short port() const { return port_; }
  void kill9() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  int terminate() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  FILE* log_ = nullptr;
  unsigned short port_ = 0;
};

class DurabilityTest : public ::testing::TestWithParam<Backend> {};

std::string url_for(const db::testing::TestStore& s) {
  if (s.backend() == Backend::kSqlite) return s.url();
  const std::string sep = s.url().find('?') == std::string::npos ? "?" : "&";
  return s.url() + sep + "options=-csearch_path%3D" + s.schema();
}

TEST_P(DurabilityTest, KillNineLosesNoAcknowledgedWrite) {
  ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
  db::testing::TestStore store(GetParam());
  const std::string url = url_for(store);
  std::vector<std::string> acked;
  {
    Process p(url);
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      // Bounded burst: at most 5000 writes.
      for (int i = 0; i < 5000 && !stop; ++i) {
        const std::string name = "t" + std::to_string(i);
        const std::string body =
            R"({"name":")" + name +
            R"(","kind":"http","http":{"method":"GET","url":"https://x.example/)" + name + R"("}})";
        std::string raw;
        try {
          raw = core::testing::http_request(p.port(), "POST", "/api/tools", body);
        } catch (const std::exception&) {
          break;  // the process is gone
        }
        if (core::testing::status_of(raw) != 201) break;
        acked.push_back(name);  // only the writer thread touches `acked` until join
      }
    });
    // Kill mid-burst, once tool t200 is acknowledged-and-visible (bounded polling).
    for (int polls = 0; polls < 20000; ++polls) {
      if (core::testing::status_of(
              core::testing::http_request(p.port(), "GET", "/api/tools/t200")) == 200) {
        break;
      }
    }
    p.kill9();
    stop = true;
    writer.join();
  }
  ASSERT_GE(acked.size(), 200U);
  Process again(url);
  for (const auto& name : acked) {
    ASSERT_EQ(core::testing::status_of(
                  core::testing::http_request(again.port(), "GET", "/api/tools/" + name)),
              200)
        << name << " was acknowledged but is gone after kill -9";
  }
  EXPECT_EQ(again.terminate(), 0);  // and SIGTERM is a clean exit
}

INSTANTIATE_TEST_SUITE_P(Backends, DurabilityTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& p) {
                           return p.param == Backend::kSqlite ? "sqlite" : "postgres";
                         });

}  // namespace
}  // namespace enkisys::tools::testing
