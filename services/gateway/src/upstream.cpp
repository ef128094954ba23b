#include "enkisys/gateway/upstream.hpp"

namespace enkisys::gateway {

core::Expected<UpstreamUrl> parse_upstream_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return config_error("upstream must start with http://");
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  UpstreamUrl u;
  if (slash != std::string_view::npos) {
    u.base_path = std::string(rest.substr(slash));
    while (!u.base_path.empty() && u.base_path.back() == '/') u.base_path.pop_back();
    if (u.base_path.find_first_of("?#") != std::string::npos) {
      return config_error("upstream URL must not have a query or fragment");
    }
  }
  if (authority.find('@') != std::string_view::npos)
    return config_error("upstream URL must not have userinfo");
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
  } else {
    u.host = std::string(authority);
    u.port = "80";
  }
  if (u.host.empty()) return config_error("upstream URL has no host");
  if (u.port.empty() || u.port.size() > 5 ||
      u.port.find_first_not_of("0123456789") != std::string::npos || std::stoi(u.port) < 1 ||
      std::stoi(u.port) > 65535) {
    return config_error("upstream URL has an invalid port");
  }
  return u;
}

Upstream::Upstream(std::string host, std::string port, unsigned workers)
    : host_(std::move(host)),
      port_(std::move(port)),
      authority_(host_ + ":" + port_),
      idle_(workers) {}

void Upstream::record_failure(Clock::time_point now, int eject_after,
                              std::chrono::milliseconds eject_for) {
  const int n = failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n >= eject_after) {
    ejected_until_.store((now + eject_for).time_since_epoch().count(), std::memory_order_relaxed);
    failures_.store(0, std::memory_order_relaxed);
    probe_ok_streak_.store(0, std::memory_order_relaxed);  // lifting needs fresh successes
  }
}

void Upstream::record_probe(bool ok, int status, int healthy_threshold, int unhealthy_threshold) {
  last_probe_status_.store(status, std::memory_order_relaxed);
  probes_.fetch_add(1, std::memory_order_relaxed);
  if (ok) {
    probe_fail_streak_.store(0, std::memory_order_relaxed);
    const int n = probe_ok_streak_.fetch_add(1, std::memory_order_relaxed) + 1;
    const Active a = active();
    if (a == Active::kUnknown || n >= healthy_threshold) {
      active_.store(Active::kHealthy, std::memory_order_relaxed);
      if (n >= healthy_threshold) ejected_until_.store(0, std::memory_order_relaxed);
    }
    return;
  }
  probe_ok_streak_.store(0, std::memory_order_relaxed);
  const int n = probe_fail_streak_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n >= unhealthy_threshold) active_.store(Active::kUnhealthy, std::memory_order_relaxed);
}

std::vector<boost::asio::ip::tcp::endpoint> Upstream::endpoints() const {
  std::lock_guard lock(ep_mu_);
  return endpoints_;
}
void Upstream::set_endpoints(std::vector<boost::asio::ip::tcp::endpoint> eps) {
  std::lock_guard lock(ep_mu_);
  endpoints_ = std::move(eps);
}

std::shared_ptr<Upstream> UpstreamRegistry::get(const std::string& host, const std::string& port) {
  std::lock_guard lock(mu_);
  auto& slot = by_authority_[host + ":" + port];
  if (!slot) slot = std::make_shared<Upstream>(host, port, workers_);
  return slot;
}

std::vector<std::shared_ptr<Upstream>> UpstreamRegistry::all() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Upstream>> out;
  for (const auto& [k, v] : by_authority_) out.push_back(v);
  return out;
}

}  // namespace enkisys::gateway
