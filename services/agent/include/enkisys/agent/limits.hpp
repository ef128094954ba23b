// Per-user limits of the conversation service: turns per minute (in memory, per process) and
// the UTC day used by the daily token budget (kept in the store).
//
// Contract: RateLimiter is thread-safe; its memory is bounded (users without a turn in the last
// minute are forgotten). Time comes from the injected Clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "enkisys/core/clock.hpp"
#include "enkisys/core/expected.hpp"

namespace enkisys::agent {

// "YYYY-MM-DD" of `t` in UTC.
std::string utc_day(core::Clock::time_point t);
// Whole seconds from `t` to the next UTC midnight (>= 1).
std::int64_t seconds_to_utc_midnight(core::Clock::time_point t);

class RateLimiter {
 public:
  RateLimiter(const core::Clock& clock, int per_minute);
  // Counts a turn of `user`; 429 rate_limited with retry_after_s when `per_minute` turns were
  // already counted in the last 60 s (the refused attempt is not counted).
  core::Status admit(const std::string& user);

 private:
  const core::Clock& clock_;
  int per_minute_;
  std::mutex mu_;
  std::unordered_map<std::string, std::deque<core::Clock::steady_time_point>> seen_;  // mu_
  core::Clock::steady_time_point last_sweep_{};                                       // mu_
};

}  // namespace enkisys::agent
