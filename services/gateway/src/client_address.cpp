#include "enkisys/gateway/client_address.hpp"

namespace enkisys::gateway {

namespace ip = boost::asio::ip;

namespace {

ip::address unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<ip::address> parse_address(std::string_view text) {
  text = trim(text);
  // "[v6]:port" and "v4:port" forms appear in the wild; take the address part.
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    text = text.substr(1, close - 1);
  } else if (const auto colon = text.find(':');
             colon != std::string_view::npos &&
             text.find(':', colon + 1) == std::string_view::npos) {
    text = text.substr(0, colon);
  }
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return unmapped(a);
}

}  // namespace

bool TrustedProxies::trusts(const ip::address& a) const {
  for (const auto& n : nets_) {
    if (n.contains(a)) return true;
  }
  return false;
}

std::string TrustedProxies::client_address(const ip::address& peer,
                                           std::string_view forwarded_for) const {
  ip::address client = unmapped(peer);
  while (!forwarded_for.empty()) {
    const auto comma = forwarded_for.rfind(',');
    const auto item =
        comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1);
    forwarded_for =
        comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
    if (trim(item).empty()) continue;
    const auto a = parse_address(item);
    if (!a) break;  // malformed: the last trusted hop is the client
    client = *a;
    if (!trusts(client)) break;
  }
  return client.to_string();
}

}  // namespace enkisys::gateway
