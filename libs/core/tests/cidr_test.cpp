#include "enkisys/core/cidr.hpp"

#include <gtest/gtest.h>

namespace enkisys::core {
namespace {

namespace ip = boost::asio::ip;

TEST(CidrTest, MappedNetworksAreTheIpv4NetworksTheyEmbed) {
  const auto net = Cidr::parse(" ::ffff:10.0.0.0/104 ");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->to_string(), "10.0.0.0/8");
  EXPECT_TRUE(net->contains(ip::make_address("10.9.8.7")));
  EXPECT_TRUE(net->contains(ip::make_address("::ffff:10.9.8.7")));
  EXPECT_FALSE(net->contains(ip::make_address("11.0.0.1")));
  EXPECT_EQ(Cidr::parse("::ffff:192.0.2.1")->to_string(), "192.0.2.1/32");
  // Below /96 a mapped prefix spans more than IPv4: it stays an IPv6 network.
  EXPECT_EQ(Cidr::parse("::ffff:0:0/80")->to_string(), "::ffff:0.0.0.0/80");
}

TEST(CidrTest, PrefixesAreDigitsWithinTheFamily) {
  EXPECT_EQ(Cidr::parse("fd00::/8")->prefix(), 8u);
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(ip::make_address("203.0.113.1")));
  EXPECT_TRUE(Cidr::parse("::/0")->contains(ip::make_address("2001:db8::1")));
  EXPECT_FALSE(Cidr::parse("::/0")->contains(ip::make_address("203.0.113.1")));
  for (const char* bad : {"10.0.0.0/+8", "10.0.0.0/-1", "fd00::/129", "10.0.0.0/ 8", "x/8"}) {
    EXPECT_FALSE(Cidr::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace enkisys::core
