#include "enkisys/gateway/client_address.hpp"

#include <charconv>

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

bool IpNetwork::contains(const ip::address& raw) const {
  const ip::address a = unmapped(raw);
  if (a.is_v4() != base.is_v4()) return false;
  if (a.is_v4()) {
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return (a.to_v4().to_uint() & mask) == (base.to_v4().to_uint() & mask);
  }
  const auto x = a.to_v6().to_bytes();
  const auto y = base.to_v6().to_bytes();
  unsigned bits = prefix;
  for (std::size_t i = 0; i < x.size() && bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const auto mask = static_cast<unsigned char>(0xFF00u >> take);
    if ((x[i] & mask) != (y[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

std::optional<IpNetwork> parse_network(std::string_view text) {
  text = trim(text);
  const auto slash = text.find('/');
  boost::system::error_code ec;
  const auto a = ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) return std::nullopt;
  IpNetwork n{unmapped(a), 0};
  const unsigned max = n.base.is_v4() ? 32 : 128;
  if (slash == std::string_view::npos) {
    n.prefix = max;
    return n;
  }
  const auto bits = text.substr(slash + 1);
  const auto [end, err] = std::from_chars(bits.data(), bits.data() + bits.size(), n.prefix);
  if (err != std::errc{} || end != bits.data() + bits.size() || bits.empty() || n.prefix > max)
    return std::nullopt;
  return n;
}

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
