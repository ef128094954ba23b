#include "enkisys/core/testing/process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cerrno>
#include <iostream>
#include <set>
#include <stdexcept>

#include "enkisys/core/testing.hpp"

extern char** environ;

namespace enkisys::core::testing {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/enkisys-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ServiceProcess::ServiceProcess(std::string binary, const ProcessEnv& env,
                               std::vector<std::string> args, bool wait_listening) {
  // Everything the child needs is built before fork(): after it, only async-signal-safe calls.
  std::map<std::string, std::string> given;  // a later entry for the same name wins
  for (const auto& [k, v] : env) given[k] = v;
  std::set<std::string> overridden;
  std::vector<std::string> envs;
  for (const auto& [k, v] : given) {
    overridden.insert(k);
    envs.push_back(k + "=" + v);
  }
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    if (!overridden.count(std::string(entry.substr(0, entry.find('='))))) envs.emplace_back(entry);
  }
  std::vector<char*> envp;
  envp.reserve(envs.size() + 1);
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> argv{binary.data()};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::close(out[0]);
    ::close(out[1]);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  reader_ = std::thread([this, fd = out[0]] { read_loop(fd); });
  if (wait_listening) port();
}

ServiceProcess::~ServiceProcess() {
  if (pid_ > 0) kill9();
  if (reader_.joinable()) reader_.join();
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- captured output of the service process ----\n"
              << output() << "---- end of captured output ----\n";
  }
}

void ServiceProcess::read_loop(int fd) {
  char buf[4096];
  std::string line;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard lock(mu_);
    for (ssize_t i = 0; i < n; ++i) {
      output_ += buf[i];
      if (buf[i] != '\n') {
        line += buf[i];
        continue;
      }
      boost::system::error_code ec;
      const auto v = json::parse(line, ec);
      line.clear();
      if (ec || !v.is_object()) continue;
      const auto& o = v.as_object();
      const auto* msg = o.if_contains("msg");
      const auto* port = o.if_contains("port");
      if (!msg || *msg != "listening" || !port || !port->is_int64()) continue;
      const auto* name = o.if_contains("listener");
      ports_[name && name->is_string() ? std::string(name->as_string()) : "main"] =
          static_cast<unsigned short>(port->as_int64());
    }
    cv_.notify_all();
  }
  ::close(fd);
  std::lock_guard lock(mu_);
  eof_ = true;
  cv_.notify_all();
}

std::optional<unsigned short> ServiceProcess::find_port(std::string_view listener) const {
  const auto it = ports_.find(std::string(listener));
  if (it == ports_.end()) return std::nullopt;
  return it->second;
}

unsigned short ServiceProcess::port(std::string_view listener) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, kStartTimeout, [&] { return find_port(listener) || eof_; });
  if (auto p = find_port(listener)) return *p;
  throw std::runtime_error("no \"listening\" line for listener " + std::string(listener) +
                           " (the service " + (eof_ ? "exited" : "stayed silent") + "); output:\n" +
                           output_);
}

bool ServiceProcess::wait_healthy(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const unsigned short p = port();
  // Bounded in time and in count; waits on the output between attempts (no fixed sleeps).
  for (int i = 0; i < 10'000 && Clock::now() < deadline; ++i) {
    try {
      if (status_of(http_request(p, "GET", "/health")) == 200) return true;
    } catch (const std::exception&) {  // not accepting yet
    }
    std::unique_lock lock(mu_);
    if (eof_) return false;
    cv_.wait_for(lock, std::chrono::milliseconds(20));
  }
  return false;
}

bool ServiceProcess::wait_for_output(std::string_view needle, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return output_.find(needle) != std::string::npos || eof_;
  }) && output_.find(needle) != std::string::npos;
}

void ServiceProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int ServiceProcess::reap() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (reader_.joinable()) reader_.join();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ServiceProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap();
}

int ServiceProcess::terminate(std::chrono::milliseconds timeout) {
  signal(SIGTERM);
  return wait_exit(timeout);
}

int ServiceProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  bool closed = false;
  {
    std::unique_lock lock(mu_);
    closed = cv_.wait_for(lock, timeout, [this] { return eof_; });
  }
  if (!closed) {
    kill9();
    return -2;
  }
  return reap();
}

std::string ServiceProcess::output() const {
  std::lock_guard lock(mu_);
  return output_;
}

}  // namespace enkisys::core::testing
