// Cidr: an IPv4 or IPv6 network ("10.0.0.0/8", "fd00::/8", or a bare address = /32 or /128).
// Used by the tools' egress allow-list and the gateway's trusted_proxies.
//
// Contract:
//  * parse() ignores surrounding spaces/tabs; the prefix is 0..32 (IPv4) or 0..128 (IPv6), digits
//    only; anything else (a host name, "10.0.0/8", "10.0.0.0/", "/8") is nullopt. An
//    IPv4-mapped network of prefix >= 96 is the IPv4 network it embeds (::ffff:10.0.0.0/104 is
//    10.0.0.0/8).
//  * contains(): an IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches an IPv4 network by its
//    embedded address; otherwise families must agree.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace enkisys::core {

class Cidr {
 public:
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const boost::asio::ip::address& address) const;
  unsigned prefix() const { return prefix_; }
  std::string to_string() const;

 private:
  boost::asio::ip::address network_;
  unsigned prefix_ = 0;
};

}  // namespace enkisys::core
