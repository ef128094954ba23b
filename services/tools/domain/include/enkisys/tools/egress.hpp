// Outbound-request (SSRF) guard for the `http_get` builtin and `http` tools.
//
// Contract
// * classify() names the IANA special-purpose range an address belongs to. IPv4-mapped IPv6
//   (::ffff:a.b.c.d) and NAT64 (64:ff9b::/96) addresses are classified by their embedded IPv4
//   address, so ::ffff:127.0.0.1 is loopback. Everything except AddressClass::public_ is refused
//   by default.
// * EgressPolicy::check() decides on RESOLVED addresses, never on the host text: a name (or a
//   numeric spelling such as "2130706433" or "0177.0.0.1") is judged by what the resolver
//   returned, and it is refused if ANY of its addresses is refused. Exceptions:
//     - allowed_cidrs: addresses inside these ranges are permitted for any host;
//     - allowed_hosts ("api.example.com" exact, or "*.example.com" for subdomains): these names
//       may also reach non-public unicast addresses (internal services).
//   Unspecified (0.0.0.0, ::), multicast and broadcast addresses are refused even then.
//   With require_allowed_host (the http_get rule) a host not in allowed_hosts is refused,
//   so an empty allowlist refuses everything.
// * DNS rebinding: the caller MUST connect to one of Decision::addresses (the vetted ones) and
//   never resolve the name again; redirects must be vetted again before following them.
// * All functions are pure and thread-safe except Resolver implementations, which document
//   their own behaviour.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/core/cidr.hpp"
#include "enkisys/tools/errors.hpp"

namespace enkisys::tools {

enum class AddressClass {
  public_,
  unspecified,    // 0.0.0.0/8, ::
  loopback,       // 127/8, ::1
  private_,       // 10/8, 172.16/12, 192.168/16
  link_local,     // 169.254/16 (incl. 169.254.169.254 metadata), fe80::/10
  unique_local,   // fc00::/7
  cgnat,          // 100.64/10
  multicast,      // 224/4, ff00::/8
  broadcast,      // 255.255.255.255
  documentation,  // 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32
  benchmarking,   // 198.18/15
  nat64,          // 64:ff9b:1::/48 (local-use NAT64)
  reserved,       // 240/4, 192.0.0/24, 192.88.99/24, IPv4-compatible, 6to4, Teredo, 100::/64,
                  // site-local, anything outside 2000::/3
};

std::string_view to_string(AddressClass c);

AddressClass classify(const boost::asio::ip::address& address);

// Networks of the allow-list (libs/core).
using core::Cidr;

struct Decision {
  bool allowed = false;
  std::string reason;                               // why refused; empty when allowed
  std::vector<boost::asio::ip::address> addresses;  // vetted addresses to connect to
};

struct EgressPolicy {
  std::vector<std::string> allowed_hosts;
  std::vector<Cidr> allowed_cidrs;
  bool require_allowed_host = false;

  // The http_get rule: only listed hosts (exact or "*.suffix"); an empty list refuses all.
  static EgressPolicy for_http_get(std::vector<std::string> hosts);

  // Parses a comma-separated allowlist ("api.example.com,*.corp.example,10.1.0.0/16"): entries
  // that parse as CIDR go to allowed_cidrs, the rest to allowed_hosts. Errors name the entry.
  static core::Expected<EgressPolicy> from_list(std::string_view list, bool require_allowed_host);

  bool host_allowed(std::string_view host) const;
  Decision check(std::string_view host, std::span<const boost::asio::ip::address> resolved) const;
};

// Name resolution, injectable for tests.
class Resolver {
 public:
  virtual ~Resolver() = default;
  // Errors: errc::egress_refused "cannot resolve host".
  virtual core::Expected<std::vector<boost::asio::ip::address>> resolve(std::string_view host) = 0;
};

// Blocking getaddrinfo() through Boost.Asio; call it off the I/O threads. Thread-safe.
class SystemResolver final : public Resolver {
 public:
  core::Expected<std::vector<boost::asio::ip::address>> resolve(std::string_view host) override;
};

// Resolves `host` and checks every address. An IP literal host is "resolved" to itself.
Decision vet(Resolver& resolver, const EgressPolicy& policy, std::string_view host);

}  // namespace enkisys::tools
