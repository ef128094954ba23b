// Client address behind trusted proxies: the network matcher, the X-Forwarded-For walk, and the
// gateway end to end (upstream headers, per-IP rate limit keyed by the real client).
#include "enkisys/gateway/client_address.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "test_support.hpp"

namespace enkisys::gateway {
namespace {

using namespace testing;
namespace ip = boost::asio::ip;

TrustedProxies trusted(std::initializer_list<const char*> nets) {
  std::vector<core::Cidr> v;
  for (const char* n : nets) {
    auto p = core::Cidr::parse(n);
    EXPECT_TRUE(p) << n;
    if (p) v.push_back(*p);
  }
  return TrustedProxies(std::move(v));
}

TEST(ClientAddressTest, NetworksMatchByPrefixAcrossFamiliesAndMappedAddresses) {
  const auto ten = core::Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(ten);
  EXPECT_TRUE(ten->contains(ip::make_address("10.255.1.2")));
  EXPECT_FALSE(ten->contains(ip::make_address("11.0.0.1")));
  EXPECT_TRUE(ten->contains(ip::make_address("::ffff:10.1.2.3")));  // IPv4-mapped peer
  EXPECT_FALSE(ten->contains(ip::make_address("fd00::1")));
  const auto v6 = core::Cidr::parse("fd00:ab::/33");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(ip::make_address("fd00:ab:7fff::1")));
  EXPECT_FALSE(v6->contains(ip::make_address("fd00:ab:8000::1")));
  const auto host = core::Cidr::parse("192.0.2.7");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->prefix(), 32u);
  EXPECT_FALSE(host->contains(ip::make_address("192.0.2.8")));
  EXPECT_TRUE(core::Cidr::parse("0.0.0.0/0")->contains(ip::make_address("8.8.8.8")));
  for (const char* bad : {"", "10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/8x",
                          "example.com", "10.0.0/8", "/8"}) {
    EXPECT_FALSE(core::Cidr::parse(bad)) << bad;
  }
}

TEST(ClientAddressTest, ForwardedForIsWalkedFromTheRightSkippingTrustedHops) {
  const auto t = trusted({"127.0.0.0/8", "10.0.0.0/8"});
  const auto lb = ip::make_address("127.0.0.1");
  EXPECT_EQ(t.client_address(lb, ""), "127.0.0.1");
  EXPECT_EQ(t.client_address(lb, "203.0.113.9"), "203.0.113.9");
  // The client may put anything on the left; only the hops our proxies added count.
  EXPECT_EQ(t.client_address(lb, "1.1.1.1, 203.0.113.9, 10.0.0.5"), "203.0.113.9");
  EXPECT_EQ(t.client_address(lb, "10.0.0.9, 10.0.0.5"), "10.0.0.9");  // all trusted: leftmost
  EXPECT_EQ(t.client_address(lb, "garbage, 10.0.0.5"), "10.0.0.5");   // malformed stops
  EXPECT_EQ(t.client_address(lb, "203.0.113.9:5555"), "203.0.113.9");
  EXPECT_EQ(t.client_address(lb, "[2001:db8::1]:443, 10.0.0.5"), "2001:db8::1");
  EXPECT_EQ(t.client_address(lb, " , 198.51.100.1 ,"), "198.51.100.1");
}

boost::json::object echo_headers(const StringResponse& r) {
  return boost::json::parse(r.body()).at("headers").as_object();
}

std::string config(const FakeUpstream& up, const std::string& trusted) {
  return replace_all(replace_all(R"(
trusted_proxies: TRUSTED
rate_limits:
  per_ip: {per: ip, rate_per_s: 0.001, burst: 1}
stages:
  dev:
    routes:
      - {prefix: /api, upstream: "{UP}", rate_limit: per_ip}
)",
                                 "{UP}", up.url()),
                     "TRUSTED", trusted);
}

TEST(ClientAddressTest, BehindATrustedProxyTheForwardedClientIsUsedAndTheChainExtended) {
  FakeUpstream up;
  Gateway gw(config(up, "[127.0.0.0/8]"));
  auto r = get(gw.port(), "/dev/api/a",
               {{"X-Forwarded-For", "203.0.113.9"}, {"X-Forwarded-Proto", "https"}});
  ASSERT_EQ(r.result_int(), 200) << r.body();
  auto h = echo_headers(r);
  EXPECT_EQ(h.at("x-forwarded-for"), "203.0.113.9, 127.0.0.1");
  EXPECT_EQ(h.at("x-forwarded-proto"), "https");
  // Rate limits are per real client: another client behind the same proxy has its own bucket;
  // the first one's is spent.
  EXPECT_EQ(get(gw.port(), "/dev/api/a", {{"X-Forwarded-For", "203.0.113.10"}}).result_int(), 200);
  EXPECT_EQ(get(gw.port(), "/dev/api/a", {{"X-Forwarded-For", "203.0.113.9"}}).result_int(), 429);
  // A bogus proto is not passed on.
  auto bogus = get(gw.port(), "/dev/api/a",
                   {{"X-Forwarded-For", "203.0.113.11"}, {"X-Forwarded-Proto", "gopher"}});
  EXPECT_EQ(echo_headers(bogus).at("x-forwarded-proto"), "http");
}

TEST(ClientAddressTest, FromAnUntrustedPeerForwardedForIsReplacedAndCannotDodgeLimits) {
  FakeUpstream up;
  Gateway gw(config(up, "[10.0.0.0/8]"));  // the test client (127.0.0.1) is not trusted
  auto r = get(gw.port(), "/dev/api/a",
               {{"X-Forwarded-For", "203.0.113.9"}, {"X-Forwarded-Proto", "https"}});
  ASSERT_EQ(r.result_int(), 200) << r.body();
  auto h = echo_headers(r);
  EXPECT_EQ(h.at("x-forwarded-for"), "127.0.0.1");
  EXPECT_EQ(h.at("x-forwarded-proto"), "http");
  // A spoofed X-Forwarded-For does not buy a fresh bucket.
  EXPECT_EQ(get(gw.port(), "/dev/api/a", {{"X-Forwarded-For", "198.51.100.1"}}).result_int(), 429);
}

TEST(ClientAddressTest, InvalidTrustedProxiesAreRefusedWithTheLine) {
  auto c = load_config_text(R"(
trusted_proxies: [10.0.0.0/8, "10.0.0.0/99"]
stages:
  dev:
    routes:
      - {prefix: /, upstream: "http://a:1"}
)");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("line 2"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("10.0.0.0/99"), std::string::npos) << c.error().message;
}

}  // namespace
}  // namespace enkisys::gateway
