// SSRF guard: every special-purpose range, IPv4-mapped IPv6, numeric host spellings resolved by an
// injected resolver, allowlists, and the http_get rule.
#include "enkisys/tools/egress.hpp"

#include <gtest/gtest.h>

#include <map>

namespace enkisys::tools {
namespace {

namespace ip = boost::asio::ip;

AddressClass cls(const char* a) {
  return classify(ip::make_address(a));
}

struct Case {
  const char* address;
  AddressClass expected;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.address;
}

class Classify : public ::testing::TestWithParam<Case> {};

TEST_P(Classify, Range) {
  EXPECT_EQ(cls(GetParam().address), GetParam().expected) << GetParam().address;
}

INSTANTIATE_TEST_SUITE_P(
    AllRanges, Classify,
    ::testing::Values(
        Case{"8.8.8.8", AddressClass::public_}, Case{"1.1.1.1", AddressClass::public_},
        Case{"0.0.0.0", AddressClass::unspecified}, Case{"0.1.2.3", AddressClass::unspecified},
        Case{"127.0.0.1", AddressClass::loopback}, Case{"127.255.255.254", AddressClass::loopback},
        Case{"10.0.0.1", AddressClass::private_}, Case{"172.16.0.1", AddressClass::private_},
        Case{"172.31.255.255", AddressClass::private_}, Case{"172.32.0.1", AddressClass::public_},
        Case{"192.168.1.1", AddressClass::private_},
        Case{"169.254.169.254", AddressClass::link_local}, Case{"100.64.0.1", AddressClass::cgnat},
        Case{"100.127.255.255", AddressClass::cgnat}, Case{"100.128.0.1", AddressClass::public_},
        Case{"224.0.0.1", AddressClass::multicast},
        Case{"239.255.255.250", AddressClass::multicast}, Case{"240.0.0.1", AddressClass::reserved},
        Case{"255.255.255.255", AddressClass::broadcast},
        Case{"192.0.2.1", AddressClass::documentation},
        Case{"198.51.100.7", AddressClass::documentation},
        Case{"203.0.113.9", AddressClass::documentation},
        Case{"198.18.0.1", AddressClass::benchmarking}, Case{"192.0.0.8", AddressClass::reserved},
        Case{"::", AddressClass::unspecified}, Case{"::1", AddressClass::loopback},
        Case{"fe80::1", AddressClass::link_local}, Case{"febf::1", AddressClass::link_local},
        Case{"fc00::1", AddressClass::unique_local},
        Case{"fd12:3456::1", AddressClass::unique_local}, Case{"ff02::1", AddressClass::multicast},
        Case{"2001:db8::1", AddressClass::documentation},
        Case{"2606:4700:4700::1111", AddressClass::public_},
        Case{"::ffff:127.0.0.1", AddressClass::loopback},
        Case{"::ffff:169.254.169.254", AddressClass::link_local},
        Case{"::ffff:10.1.2.3", AddressClass::private_},
        Case{"::ffff:8.8.8.8", AddressClass::public_},
        Case{"::ffff:0.0.0.0", AddressClass::unspecified},
        Case{"64:ff9b::7f00:1", AddressClass::loopback},
        Case{"64:ff9b::808:808", AddressClass::public_}, Case{"64:ff9b:1::1", AddressClass::nat64},
        Case{"::127.0.0.1", AddressClass::reserved}, Case{"2002:7f00:1::1", AddressClass::reserved},
        Case{"2001::1", AddressClass::reserved}, Case{"100::1", AddressClass::reserved},
        Case{"fec0::1", AddressClass::reserved}, Case{"4000::1", AddressClass::reserved}));

class FakeResolver : public Resolver {
 public:
  std::map<std::string, std::vector<std::string>, std::less<>> table;
  int calls = 0;
  core::Expected<std::vector<ip::address>> resolve(std::string_view host) override {
    ++calls;
    auto it = table.find(host);
    if (it == table.end()) return make_error(errc::egress_refused, "cannot resolve host");
    std::vector<ip::address> out;
    for (const auto& a : it->second) out.push_back(ip::make_address(a));
    return out;
  }
};

TEST(Egress, NumericHostSpellingsAreJudgedByWhatTheyResolveTo) {
  FakeResolver r;
  r.table["2130706433"] = {"127.0.0.1"};
  r.table["0177.0.0.1"] = {"127.0.0.1"};
  r.table["0x7f.1"] = {"127.0.0.1"};
  EgressPolicy policy;
  for (const char* h : {"2130706433", "0177.0.0.1", "0x7f.1"}) {
    auto d = vet(r, policy, h);
    EXPECT_FALSE(d.allowed) << h;
    EXPECT_EQ(d.reason.find("127."), std::string::npos) << d.reason;  // no address revealed
  }
}

TEST(Egress, AnyRefusedAddressRefusesTheName) {
  FakeResolver r;
  r.table["rebind.example"] = {"93.184.216.34", "10.0.0.5"};
  auto d = vet(r, EgressPolicy{}, "rebind.example");
  EXPECT_FALSE(d.allowed);
  // The refusal does not reveal what the internal name resolves to.
  EXPECT_EQ(d.reason, "destination 'rebind.example' is not allowed");
  EXPECT_TRUE(d.addresses.empty());
}

TEST(Egress, PublicNameIsAllowedWithVettedAddresses) {
  FakeResolver r;
  r.table["api.example.com"] = {"93.184.216.34", "2606:2800:220:1::1"};
  auto d = vet(r, EgressPolicy{}, "api.example.com");
  ASSERT_TRUE(d.allowed) << d.reason;
  ASSERT_EQ(d.addresses.size(), 2u);
  EXPECT_EQ(d.addresses[0].to_string(), "93.184.216.34");
}

TEST(Egress, IpLiteralsAreCheckedWithoutTheResolver) {
  FakeResolver r;
  EXPECT_FALSE(vet(r, EgressPolicy{}, "169.254.169.254").allowed);
  EXPECT_FALSE(vet(r, EgressPolicy{}, "[::ffff:127.0.0.1]").allowed);
  EXPECT_FALSE(vet(r, EgressPolicy{}, "0.0.0.0").allowed);
  EXPECT_TRUE(vet(r, EgressPolicy{}, "8.8.8.8").allowed);
  EXPECT_EQ(r.calls, 0);
}

TEST(Egress, UnresolvableHostIsRefused) {
  FakeResolver r;
  auto d = vet(r, EgressPolicy{}, "nx.example");
  EXPECT_FALSE(d.allowed);
  EXPECT_FALSE(d.reason.empty());
}

TEST(Egress, CidrAllowlistPermitsOtherwiseRefusedAddresses) {
  FakeResolver r;
  r.table["inventory"] = {"10.1.2.3"};
  r.table["other"] = {"10.2.0.1"};
  auto policy = EgressPolicy::from_list("10.1.0.0/16, fd00::/8", false);
  ASSERT_TRUE(policy.ok());
  EXPECT_TRUE(vet(r, *policy, "inventory").allowed);
  EXPECT_FALSE(vet(r, *policy, "other").allowed);
  EXPECT_TRUE(vet(r, *policy, "[fd00::5]").allowed);
  EXPECT_TRUE(policy->allowed_cidrs[0].contains(ip::make_address("::ffff:10.1.9.9")));
}

TEST(Egress, HostAllowlistPermitsInternalUnicastButNeverUnspecifiedOrMulticast) {
  FakeResolver r;
  r.table["SVC.corp.example."] = {"192.168.0.10"};
  r.table["zero.corp.example"] = {"0.0.0.0"};
  r.table["corp.example"] = {"192.168.0.11"};
  auto policy = EgressPolicy::from_list("*.corp.example", false);
  ASSERT_TRUE(policy.ok());
  EXPECT_TRUE(vet(r, *policy, "SVC.corp.example.").allowed);
  EXPECT_FALSE(vet(r, *policy, "zero.corp.example").allowed);
  EXPECT_FALSE(vet(r, *policy, "corp.example").allowed);  // "*." matches subdomains only
}

TEST(Egress, HttpGetRefusesEverythingByDefault) {
  FakeResolver r;
  r.table["api.example.com"] = {"93.184.216.34"};
  auto d = vet(r, EgressPolicy::for_http_get({}), "api.example.com");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "host 'api.example.com' is not in the allowlist");
  EXPECT_EQ(r.calls, 0);  // refused before any DNS query
  EXPECT_FALSE(vet(r, EgressPolicy::for_http_get({}), "8.8.8.8").allowed);
}

TEST(Egress, HttpGetAllowsListedHostsButStillChecksAddresses) {
  FakeResolver r;
  r.table["api.example.com"] = {"93.184.216.34"};
  r.table["evil.example.com"] = {"127.0.0.1"};
  auto policy = EgressPolicy::for_http_get({"api.example.com"});
  EXPECT_TRUE(vet(r, policy, "api.example.com").allowed);
  EXPECT_FALSE(vet(r, policy, "evil.example.com").allowed);
  EXPECT_FALSE(vet(r, policy, "x.api.example.com").allowed);
}

TEST(Egress, AllowlistParsing) {
  EXPECT_FALSE(EgressPolicy::from_list("ok.example, bad host", false).ok());
  EXPECT_FALSE(Cidr::parse("10.0.0.0/33").has_value());
  EXPECT_FALSE(Cidr::parse("10.0.0.0/").has_value());
  ASSERT_TRUE(Cidr::parse("192.168.1.7").has_value());
  EXPECT_EQ(Cidr::parse("192.168.1.7")->to_string(), "192.168.1.7/32");
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(ip::make_address("1.2.3.4")));
}

}  // namespace
}  // namespace enkisys::tools
