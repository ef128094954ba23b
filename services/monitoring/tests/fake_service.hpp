// A fake polled service: /health (status set by the test) and /metrics (libs/core's server
// metric names, counters moved by the test) on 127.0.0.1; stop() closes its port and start()
// brings it back on the same one. Also a fake webhook that counts the messages it gets.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "enkisys/core/log.hpp"
#include "enkisys/core/metrics.hpp"
#include "enkisys/core/router.hpp"
#include "enkisys/core/server.hpp"

namespace enkisys::monitoring::testing {

class FakeService {
 public:
  FakeService();
  ~FakeService();
  void start();  // on the port it had (or an OS-chosen one the first time)
  void stop();
  unsigned short port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::atomic<int> health{200};
  std::atomic<long> ok{0}, errors{0};  // requests answered 200 / 503
  std::atomic<long> fast{0};           // of those, answered within 5 ms (else 1.5 s)
  std::atomic<int> metrics_scrapes{0};

 private:
  core::Logger log_{"fake", core::LogLevel::kError};
  core::MetricsRegistry metrics_;
  core::Router router_;
  std::unique_ptr<core::HttpServer> server_;
  std::thread thread_;
  unsigned short port_ = 0;
};

class FakeWebhook {
 public:
  FakeWebhook();
  ~FakeWebhook();
  std::string url() const;
  int count() const;
  std::vector<std::string> bodies() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace enkisys::monitoring::testing
