// Who the client is when the gateway sits behind trusted proxies (a load balancer, a CDN).
//
// Contract:
//  * Networks are core::Cidr ("10.0.0.0/8", "fd00::/8" or a bare address); IPv4-mapped IPv6
//    peers (::ffff:a.b.c.d) match IPv4 networks.
//  * client_address(): when the TCP peer is not trusted, the client is the peer and the
//    request's X-Forwarded-For is ignored (spoofing it changes nothing). When the peer is
//    trusted, X-Forwarded-For is read from the right: trusted hops are skipped and the first
//    untrusted address is the client; if every hop is trusted, the leftmost is; a malformed
//    entry stops the walk and the last trusted hop seen is the client (as nginx's realip with
//    real_ip_recursive does). Several X-Forwarded-For fields count as one comma-joined list.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/core/cidr.hpp"

namespace enkisys::gateway {

class TrustedProxies {
 public:
  TrustedProxies() = default;
  explicit TrustedProxies(std::vector<core::Cidr> nets) : nets_(std::move(nets)) {}
  bool empty() const { return nets_.empty(); }
  bool trusts(const boost::asio::ip::address& a) const;

  // The client address for a request from `peer` carrying `forwarded_for` (the joined
  // X-Forwarded-For values, may be empty). Only call when trusts(peer).
  std::string client_address(const boost::asio::ip::address& peer,
                             std::string_view forwarded_for) const;

 private:
  std::vector<core::Cidr> nets_;
};

}  // namespace enkisys::gateway
