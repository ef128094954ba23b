#include "enkisys/agent/limits.hpp"

#include <cstdio>

namespace enkisys::agent {

namespace {
constexpr std::chrono::seconds kWindow{60};
}

std::string utc_day(core::Clock::time_point t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::int64_t seconds_to_utc_midnight(core::Clock::time_point t) {
  const auto next = std::chrono::floor<std::chrono::days>(t) + std::chrono::days(1);
  const auto s = std::chrono::ceil<std::chrono::seconds>(next - t).count();
  return s < 1 ? 1 : s;
}

RateLimiter::RateLimiter(const core::Clock& clock, int per_minute)
    : clock_(clock), per_minute_(per_minute) {}

core::Status RateLimiter::admit(const std::string& user) {
  const auto now = clock_.steady_now();
  std::lock_guard lock(mu_);
  if (now - last_sweep_ > kWindow) {
    for (auto it = seen_.begin(); it != seen_.end();) {
      if (it->second.empty() || now - it->second.back() >= kWindow) {
        it = seen_.erase(it);
      } else {
        ++it;
      }
    }
    last_sweep_ = now;
  }
  auto& q = seen_[user];
  while (!q.empty() && now - q.front() >= kWindow) q.pop_front();
  if (static_cast<int>(q.size()) >= per_minute_) {
    auto e = core::make_error(
        core::ErrorKind::kResourceExhausted, "rate_limited",
        "too many messages: at most " + std::to_string(per_minute_) + " per minute");
    e.retry_after_s = std::max<std::int64_t>(
        1, std::chrono::ceil<std::chrono::seconds>(kWindow - (now - q.front())).count());
    return e;
  }
  q.push_back(now);
  return core::ok_status();
}

}  // namespace enkisys::agent
