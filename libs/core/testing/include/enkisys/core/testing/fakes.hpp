// Test doubles of the service environment: a clock moved by hand and an HTTP client that
// answers from a script and records every request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "enkisys/core/client.hpp"
#include "enkisys/core/clock.hpp"

namespace enkisys::core::testing {

// Wall and steady time start at `start` and move only by advance()/set()/sleep_for().
// Thread-safe (atomics): a test thread may advance it while the code under test reads it.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::sys_seconds start =
                         std::chrono::sys_seconds(std::chrono::seconds(1'800'000'000)));
  time_point now() const override;
  steady_time_point steady_now() const override;
  void sleep_for(std::chrono::milliseconds d) override;  // advances; adds to slept()
  void advance(std::chrono::nanoseconds d);              // both clocks
  void set(time_point t);                                // wall clock only
  std::chrono::milliseconds slept() const;

 private:
  std::atomic<std::int64_t> wall_ns_{0}, steady_ns_{0}, slept_ms_{0};
};

// HttpSender that answers from a script. Each scripted answer matches requests whose URL
// starts with `url_prefix` (and, if not unknown, whose method is `method`) and is used `times`
// times (0: forever); the first matching answer with uses left wins. A request nothing matches
// gets ClientError kConnect "no scripted response". Every request is recorded. Thread-safe.
// With ClientOptions::on_body the scripted body is handed over in three pieces (fewer for
// short bodies) until on_body returns false, and the returned body is empty.
class FakeHttpClient final : public HttpSender {
 public:
  void respond(std::string url_prefix, unsigned status, std::string body,
               std::vector<std::pair<std::string, std::string>> headers = {}, int times = 0,
               http::verb method = http::verb::unknown);
  void fail(std::string url_prefix, ClientError::Code code, std::string message, int times = 0);

  boost::asio::awaitable<ClientResult> send(ClientRequest request, ClientOptions options = {},
                                            EndpointVetter vetter = {}) override;

  std::vector<ClientRequest> requests() const;
  std::vector<ClientOptions> options() const;

 private:
  struct Answer {
    std::string prefix;
    http::verb method;
    ClientResult result;
    int left;  // < 0: forever
  };
  mutable std::mutex mu_;
  std::vector<Answer> script_;
  std::vector<ClientRequest> requests_;
  std::vector<ClientOptions> options_;
};

}  // namespace enkisys::core::testing
