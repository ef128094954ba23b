#include "enkisys/tools/egress.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cctype>

namespace enkisys::tools {
namespace {

namespace ip = boost::asio::ip;
using Bytes16 = ip::address_v6::bytes_type;

struct V4Range {
  std::uint32_t net;
  unsigned prefix;
  AddressClass cls;
};

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// Most specific ranges first.
constexpr std::array<V4Range, 17> kV4 = {{
    {v4(255, 255, 255, 255), 32, AddressClass::broadcast},
    {v4(0, 0, 0, 0), 8, AddressClass::unspecified},
    {v4(10, 0, 0, 0), 8, AddressClass::private_},
    {v4(100, 64, 0, 0), 10, AddressClass::cgnat},
    {v4(127, 0, 0, 0), 8, AddressClass::loopback},
    {v4(169, 254, 0, 0), 16, AddressClass::link_local},
    {v4(172, 16, 0, 0), 12, AddressClass::private_},
    {v4(192, 0, 0, 0), 24, AddressClass::reserved},
    {v4(192, 0, 2, 0), 24, AddressClass::documentation},
    {v4(192, 88, 99, 0), 24, AddressClass::reserved},
    {v4(192, 168, 0, 0), 16, AddressClass::private_},
    {v4(198, 18, 0, 0), 15, AddressClass::benchmarking},
    {v4(198, 51, 100, 0), 24, AddressClass::documentation},
    {v4(203, 0, 113, 0), 24, AddressClass::documentation},
    {v4(224, 0, 0, 0), 4, AddressClass::multicast},
    {v4(240, 0, 0, 0), 4, AddressClass::reserved},
    {v4(0, 0, 0, 0), 0, AddressClass::public_},
}};

bool in_prefix(std::uint32_t a, std::uint32_t net, unsigned prefix) {
  if (prefix == 0) return true;
  const std::uint32_t mask = prefix >= 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> prefix);
  return (a & mask) == (net & mask);
}

AddressClass classify_v4(std::uint32_t a) {
  for (const auto& r : kV4) {
    if (in_prefix(a, r.net, r.prefix)) return r.cls;
  }
  return AddressClass::public_;
}

bool prefix_match(const Bytes16& b, std::initializer_list<unsigned> lead, unsigned bits) {
  Bytes16 net{};
  std::size_t i = 0;
  for (unsigned v : lead) net[i++] = static_cast<unsigned char>(v);
  for (unsigned k = 0; k < bits; ++k) {
    const unsigned byte = k / 8, bit = 7 - k % 8;
    if (((b[byte] >> bit) & 1u) != ((net[byte] >> bit) & 1u)) return false;
  }
  return true;
}

std::uint32_t embedded_v4(const Bytes16& b) {
  return (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) | (std::uint32_t{b[14]} << 8) |
         b[15];
}

AddressClass classify_v6(const ip::address_v6& a) {
  const Bytes16 b = a.to_bytes();
  if (a.is_unspecified()) return AddressClass::unspecified;
  if (a.is_loopback()) return AddressClass::loopback;
  if (a.is_v4_mapped()) return classify_v4(embedded_v4(b));
  if (prefix_match(b, {0x00, 0x64, 0xff, 0x9b}, 96)) {  // 64:ff9b::/96 well-known NAT64
    const auto inner = classify_v4(embedded_v4(b));
    return inner == AddressClass::public_ ? AddressClass::public_ : inner;
  }
  if (prefix_match(b, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48)) return AddressClass::nat64;
  if (prefix_match(b, {}, 96)) return AddressClass::reserved;  // IPv4-compatible (deprecated)
  if (prefix_match(b, {0x01, 0x00}, 64)) return AddressClass::reserved;  // discard-only
  if (prefix_match(b, {0xff}, 8)) return AddressClass::multicast;
  if (prefix_match(b, {0xfe, 0x80}, 10)) return AddressClass::link_local;
  if (prefix_match(b, {0xfe, 0xc0}, 10)) return AddressClass::reserved;  // site-local
  if (prefix_match(b, {0xfc}, 7)) return AddressClass::unique_local;
  if (prefix_match(b, {0x20, 0x01, 0x0d, 0xb8}, 32)) return AddressClass::documentation;
  if (prefix_match(b, {0x20, 0x02}, 16)) return AddressClass::reserved;              // 6to4
  if (prefix_match(b, {0x20, 0x01, 0x00, 0x00}, 23)) return AddressClass::reserved;  // incl. Teredo
  if (!prefix_match(b, {0x20}, 3)) return AddressClass::reserved;  // not global unicast
  return AddressClass::public_;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string_view strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

std::string_view to_string(AddressClass c) {
  switch (c) {
    case AddressClass::public_:
      return "public";
    case AddressClass::unspecified:
      return "unspecified";
    case AddressClass::loopback:
      return "loopback";
    case AddressClass::private_:
      return "private";
    case AddressClass::link_local:
      return "link-local";
    case AddressClass::unique_local:
      return "unique-local";
    case AddressClass::cgnat:
      return "carrier-grade NAT";
    case AddressClass::multicast:
      return "multicast";
    case AddressClass::broadcast:
      return "broadcast";
    case AddressClass::documentation:
      return "documentation";
    case AddressClass::benchmarking:
      return "benchmarking";
    case AddressClass::nat64:
      return "NAT64";
    case AddressClass::reserved:
      return "reserved";
  }
  return "reserved";
}

AddressClass classify(const ip::address& address) {
  if (address.is_v4()) return classify_v4(address.to_v4().to_uint());
  return classify_v6(address.to_v6());
}

EgressPolicy EgressPolicy::for_http_get(std::vector<std::string> hosts) {
  EgressPolicy p;
  p.allowed_hosts = std::move(hosts);
  p.require_allowed_host = true;
  return p;
}

core::Expected<EgressPolicy> EgressPolicy::from_list(std::string_view list,
                                                     bool require_allowed_host) {
  EgressPolicy p;
  p.require_allowed_host = require_allowed_host;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = std::min(list.find(',', start), list.size());
    std::string entry(list.substr(start, comma - start));
    start = comma + 1;
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    if (entry.empty()) continue;
    if (auto cidr = Cidr::parse(entry)) {
      p.allowed_cidrs.push_back(*cidr);
      continue;
    }
    const std::string_view name =
        entry.rfind("*.", 0) == 0 ? std::string_view(entry).substr(2) : entry;
    const bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '-' || c == '.';
    });
    if (!ok) return make_error(errc::invalid_request, "invalid allowlist entry '" + entry + "'");
    p.allowed_hosts.push_back(lower(entry));
  }
  return p;
}

bool EgressPolicy::host_allowed(std::string_view host) const {
  const std::string h = lower(strip_brackets(host));
  for (const auto& entry : allowed_hosts) {
    const std::string e = lower(entry);
    if (e.rfind("*.", 0) == 0) {
      const std::string suffix = e.substr(1);  // ".example.com"
      if (h.size() > suffix.size() &&
          h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return true;
      }
    } else if (h == e) {
      return true;
    }
  }
  return false;
}

Decision EgressPolicy::check(std::string_view host, std::span<const ip::address> resolved) const {
  Decision d;
  const bool listed = host_allowed(host);
  if (require_allowed_host && !listed) {
    d.reason = "host '" + std::string(host) + "' is not in the allowlist";
    return d;
  }
  if (resolved.empty()) {
    d.reason = "host '" + std::string(host) + "' did not resolve to any address";
    return d;
  }
  for (const auto& a : resolved) {
    const AddressClass c = classify(a);
    if (c == AddressClass::public_) continue;
    if (std::any_of(allowed_cidrs.begin(), allowed_cidrs.end(),
                    [&](const Cidr& r) { return r.contains(a); })) {
      continue;
    }
    const bool never = c == AddressClass::unspecified || c == AddressClass::multicast ||
                       c == AddressClass::broadcast;
    if (listed && !never) continue;
    // Never name the address: an error must not reveal what an internal name resolves to.
    d.reason = "destination '" + std::string(host) + "' is not allowed";
    return d;
  }
  d.allowed = true;
  d.addresses.assign(resolved.begin(), resolved.end());
  return d;
}

core::Expected<std::vector<ip::address>> SystemResolver::resolve(std::string_view host) {
  boost::asio::io_context io;
  ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto results = resolver.resolve(std::string(host), "", ec);
  if (ec)
    return make_error(errc::egress_refused, "cannot resolve host '" + std::string(host) + "'");
  std::vector<ip::address> out;
  for (const auto& r : results) out.push_back(r.endpoint().address());
  return out;
}

Decision vet(Resolver& resolver, const EgressPolicy& policy, std::string_view host) {
  const std::string_view bare = strip_brackets(host);
  boost::system::error_code ec;
  const auto literal = ip::make_address(std::string(bare), ec);
  if (!ec) return policy.check(host, std::span<const ip::address>(&literal, 1));
  if (policy.require_allowed_host && !policy.host_allowed(host)) return policy.check(host, {});
  auto resolved = resolver.resolve(bare);
  if (!resolved) {
    Decision d;
    d.reason = resolved.error().message;
    return d;
  }
  return policy.check(host, *resolved);
}

}  // namespace enkisys::tools
