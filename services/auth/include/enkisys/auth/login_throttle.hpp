// LoginThrottle: growing delays after failed logins, per account and per client IP.
//
// Contract:
//  * Thread-safe (one mutex; every call is O(1) amortised).
//  * A key (e.g. "account:ann@example.com", "ip:203.0.113.9") may fail `free_failures` times
//    freely; each further failure locks it for base_delay * 2^(extra - 1), capped at max_delay.
//    A key whose last failure is older than `forget_after` starts again from zero.
//  * retry_after() is the remaining lock (0 = may try now). success() clears a key.
//  * Memory is bounded: at most `max_keys` keys; beyond that the stalest keys are dropped
//    (forgotten failures are the safe direction only for the oldest, idle keys).
//  * Time comes from the injected Clock (tests need no sleeps).
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "enkisys/security/clock.hpp"

namespace enkisys::auth {

struct ThrottleRule {
  int free_failures = 5;
  std::chrono::seconds base_delay{1};
  std::chrono::seconds max_delay{900};
};

class LoginThrottle {
 public:
  LoginThrottle(const security::Clock& clock,
                std::chrono::seconds forget_after = std::chrono::hours(1),
                std::size_t max_keys = 100000);

  std::chrono::seconds retry_after(const std::string& key) const;
  // Records a failure under `rule`; returns the lock it now carries (0 if still free).
  std::chrono::seconds failure(const std::string& key, const ThrottleRule& rule);
  void success(const std::string& key);
  std::size_t size() const;

 private:
  struct Entry {
    int failures = 0;
    security::Clock::time_point last_failure{};
    security::Clock::time_point locked_until{};
  };
  void prune_locked(security::Clock::time_point now);

  const security::Clock& clock_;
  std::chrono::seconds forget_after_;
  std::size_t max_keys_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace enkisys::auth
