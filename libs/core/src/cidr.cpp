#include "enkisys/core/cidr.hpp"

#include <charconv>

namespace enkisys::core {

namespace ip = boost::asio::ip;

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  const auto slash = text.find('/');
  boost::system::error_code ec;
  const auto addr = ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) return std::nullopt;
  Cidr c;
  c.network_ = addr;
  c.prefix_ = addr.is_v4() ? 32 : 128;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto* end = digits.data() + digits.size();
    unsigned prefix = 0;
    const auto [stop, err] = std::from_chars(digits.data(), end, prefix);
    if (digits.empty() || err != std::errc{} || stop != end || prefix > c.prefix_) {
      return std::nullopt;
    }
    c.prefix_ = prefix;
  }
  // "::ffff:10.0.0.0/104" is the IPv4 network 10.0.0.0/8.
  if (addr.is_v6() && addr.to_v6().is_v4_mapped() && c.prefix_ >= 96) {
    c.network_ = ip::make_address_v4(ip::v4_mapped, addr.to_v6());
    c.prefix_ -= 96;
  }
  return c;
}

bool Cidr::contains(const ip::address& address) const {
  ip::address a = address;
  if (a.is_v6() && a.to_v6().is_v4_mapped() && network_.is_v4()) {
    a = ip::make_address_v4(ip::v4_mapped, a.to_v6());
  }
  if (a.is_v4() != network_.is_v4()) return false;
  if (a.is_v4()) {
    const std::uint32_t mask = prefix_ == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_);
    return (a.to_v4().to_uint() & mask) == (network_.to_v4().to_uint() & mask);
  }
  const auto x = a.to_v6().to_bytes();
  const auto n = network_.to_v6().to_bytes();
  unsigned bits = prefix_;
  for (std::size_t i = 0; i < x.size() && bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const auto mask = static_cast<unsigned char>(0xFF00u >> take);
    if ((x[i] & mask) != (n[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

std::string Cidr::to_string() const {
  return network_.to_string() + "/" + std::to_string(prefix_);
}

}  // namespace enkisys::core
