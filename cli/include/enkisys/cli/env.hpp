// The environment the deploy logic runs in, injected LevelDB-`Env` style so the state machine
// is tested with a fake clock, fake HTTP and a fake command runner.
//
// Contract:
//  * Clock: now() is wall time (UTC); sleep_for() blocks (the fake advances its time instead).
//  * HttpClient::send never throws for network outcomes: status 0 and `error` set instead.
//    Each call is one request with its own deadline. Not required to be thread-safe.
//  * CoreHttpClient runs each request on libs/core's HttpClient (http and https) in a private
//    io_context, synchronously.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "enkisys/core/clock.hpp"

namespace enkisys::cli {

// The one clock of libs/core (wall time, steady time, sleep_for).
using Clock = core::Clock;
using SystemClock = core::SystemClock;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};
};

struct HttpResponse {
  unsigned status = 0;  // 0 = no response (see error)
  std::string body;
  std::string error;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

class CoreHttpClient final : public HttpClient {
 public:
  HttpResponse send(const HttpRequest& request) override;
};

// "2026-11-27T20:41:05Z"
std::string format_time(std::chrono::system_clock::time_point t);
// "2026-11-27T20:41:05.123Z": format_time with milliseconds (the deployers' log lines).
std::string format_time_ms(std::chrono::system_clock::time_point t);

}  // namespace enkisys::cli
