// The real binary of a service, driven from a test: spawned with an environment (port 0, a temp
// data dir), its port learnt from its "listening" log line, waited on until /health answers 200,
// killed with SIGKILL or stopped with SIGTERM and its exit code, restarted on the same data by
// spawning it again with the same environment.
//
// Contract:
//  * The child inherits the test's environment plus `env` (which wins; in `env`, the last entry
//    for a name wins). Its stdout and stderr
//    are captured from the start by a reader thread (the pipe never fills) and available as
//    output(); when the current test has failed, the destructor prints them to stderr.
//  * Every wait has a deadline; nothing sleeps for a fixed time.
//  * The destructor SIGKILLs a child still running. Not thread-safe: one test thread drives it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace enkisys::core::testing {

using ProcessEnv = std::vector<std::pair<std::string, std::string>>;

// A fresh directory under $TMPDIR (or /tmp), removed with its contents by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class ServiceProcess {
 public:
  static constexpr std::chrono::milliseconds kStartTimeout{30'000};

  // Spawns `binary` with `args`. With `wait_listening`, waits for the "listening" log line of
  // the main listener and throws std::runtime_error (with the captured output) if the process
  // exits or stays silent for kStartTimeout first.
  ServiceProcess(std::string binary, const ProcessEnv& env, std::vector<std::string> args = {},
                 bool wait_listening = true);
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // The port of a listener from its "listening" line ("main" unless the line names another);
  // waits for the line up to kStartTimeout. Throws when it never comes.
  unsigned short port(std::string_view listener = "main");
  // GET /health on port() until it answers 200; false at the deadline.
  bool wait_healthy(std::chrono::milliseconds timeout = kStartTimeout);
  // Waits until the captured output contains `needle`; false at the deadline.
  bool wait_for_output(std::string_view needle, std::chrono::milliseconds timeout = kStartTimeout);

  void signal(int sig);  // REQUIRES: running
  // SIGKILL and reap.
  void kill9();
  // SIGTERM, then wait_exit(timeout).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits for the process to exit; its exit code, or -1 when it died of a signal. At the
  // deadline the process is SIGKILLed and -2 returned.
  int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool running() const { return pid_ > 0; }

  std::string output() const;  // everything captured so far (stdout and stderr interleaved)

 private:
  void read_loop(int fd);
  std::optional<unsigned short> find_port(std::string_view listener) const;  // REQUIRES: mu_
  int reap();

  pid_t pid_ = -1;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string output_;                           // guarded by mu_
  std::map<std::string, unsigned short> ports_;  // guarded by mu_
  bool eof_ = false;                             // guarded by mu_
};

}  // namespace enkisys::core::testing
