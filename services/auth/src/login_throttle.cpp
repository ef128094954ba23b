#include "enkisys/auth/login_throttle.hpp"

#include <algorithm>
#include <vector>

namespace enkisys::auth {

using std::chrono::seconds;

LoginThrottle::LoginThrottle(const security::Clock& clock, seconds forget_after,
                             std::size_t max_keys)
    : clock_(clock), forget_after_(forget_after), max_keys_(std::max<std::size_t>(max_keys, 16)) {}

seconds LoginThrottle::retry_after(const std::string& key) const {
  const auto now = clock_.now();
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.locked_until <= now) return seconds(0);
  return std::chrono::ceil<seconds>(it->second.locked_until - now);
}

seconds LoginThrottle::failure(const std::string& key, const ThrottleRule& rule) {
  const auto now = clock_.now();
  std::lock_guard lock(mu_);
  if (entries_.size() >= max_keys_ && !entries_.contains(key)) prune_locked(now);
  Entry& e = entries_[key];
  if (e.failures > 0 && now - e.last_failure > forget_after_) e = Entry{};
  e.failures = std::min(e.failures + 1, 1000);
  e.last_failure = now;
  const int extra = e.failures - rule.free_failures;
  if (extra <= 0) return seconds(0);
  // base * 2^(extra-1), computed without overflow.
  seconds delay = rule.base_delay;
  for (int i = 1; i < extra && delay < rule.max_delay; ++i) delay *= 2;
  delay = std::min(delay, rule.max_delay);
  e.locked_until = now + delay;
  return delay;
}

void LoginThrottle::success(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_.erase(key);
}

std::size_t LoginThrottle::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void LoginThrottle::prune_locked(security::Clock::time_point now) {
  // First drop what has been forgotten anyway; if still full, drop the stalest half.
  std::erase_if(entries_, [&](const auto& kv) {
    return now - kv.second.last_failure > forget_after_ && kv.second.locked_until <= now;
  });
  if (entries_.size() < max_keys_) return;
  std::vector<security::Clock::time_point> times;
  times.reserve(entries_.size());
  for (const auto& kv : entries_) times.push_back(kv.second.last_failure);
  auto mid = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
  std::nth_element(times.begin(), mid, times.end());
  const auto cutoff = *mid;
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.last_failure <= cutoff; });
}

}  // namespace enkisys::auth
