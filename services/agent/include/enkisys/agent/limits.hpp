// Per-user limits of the conversation service: turns per minute (in memory, per process) and
// the UTC day used by the daily token budget (kept in the store).
//
// Contract: RateLimiter is thread-safe and keeps one time point per user (users whose allowance
// is whole again are forgotten). Time comes from the injected Clock.
#pragma once

#include <chrono>
#include <cstdint>
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

// Turns per user per minute as a token bucket in its GCRA form (generic cell rate algorithm):
// a user may send `per_minute` turns at once, then one every 60 s / per_minute. It keeps one
// time point per user, where a log of the last minute's turns keeps up to `per_minute` (a
// high limit made that megabytes at a few hundred busy users).
class RateLimiter {
 public:
  RateLimiter(const core::Clock& clock, int per_minute);
  // Counts a turn of `user`; 429 rate_limited with retry_after_s (the wait until the next turn
  // is allowed, >= 1) when the user's allowance is spent; a refused attempt is not counted.
  core::Status admit(const std::string& user);
  std::size_t users() const;  // users remembered (for tests)

 private:
  const core::Clock& clock_;
  int per_minute_;
  std::chrono::steady_clock::duration interval_;  // 60 s / per_minute
  mutable std::mutex mu_;
  // When each user's bucket is full again (the theoretical arrival time of GCRA).
  std::unordered_map<std::string, core::Clock::steady_time_point> full_at_;  // mu_
  core::Clock::steady_time_point last_sweep_{};                              // mu_
};

}  // namespace enkisys::agent
