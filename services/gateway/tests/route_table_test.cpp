#include "enkisys/gateway/route_table.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace enkisys::gateway {
namespace {

std::shared_ptr<const Generation> build(const std::string& yaml, UpstreamRegistry& reg) {
  auto g = compile(testing::parse_or_die(yaml), reg, 1);
  if (!g.ok()) throw std::runtime_error(g.error().message);
  return g.value();
}

TEST(RouteTableTest, LongestPrefixWinsOnSegmentBoundaries) {
  UpstreamRegistry reg(1);
  auto g = build(R"(
stages:
  dev:
    routes:
      - {prefix: /, upstream: "http://front:1"}
      - {prefix: /api, upstream: "http://api:1"}
      - {prefix: /api/tools, upstream: "http://tools:1"}
)",
                 reg);
  std::string_view rest;
  const auto* s = g->find_stage("/dev/api/tools/x", &rest);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(rest, "/api/tools/x");
  EXPECT_EQ(s->match("/api/tools/x")->prefix, "/api/tools");
  EXPECT_EQ(s->match("/api/tools")->prefix, "/api/tools");
  EXPECT_EQ(s->match("/api/toolsX")->prefix, "/api");
  EXPECT_EQ(s->match("/apix")->prefix, "/");
  EXPECT_EQ(g->find_stage("/prod/x", &rest), nullptr);
  EXPECT_EQ(g->find_stage("/devx/x", &rest), nullptr);
  ASSERT_NE(g->find_stage("/dev", &rest), nullptr);
  EXPECT_EQ(rest, "/");
}

TEST(RouteTableTest, NoCatchAllMeansNoMatch) {
  UpstreamRegistry reg(1);
  auto g = build(
      "stages:\n  dev:\n    routes:\n      - {prefix: /api/auth, upstream: \"http://a:1\"}\n", reg);
  EXPECT_EQ(g->stages[0].match("/api/tools"), nullptr);
}

TEST(RouteTableTest, UpstreamsAreSharedAcrossGenerations) {
  UpstreamRegistry reg(1);
  auto a = build(
      "stages:\n  dev:\n    routes:\n      - {prefix: /, upstream: \"http://a:1/base/\"}\n", reg);
  auto b =
      build("stages:\n  dev:\n    routes:\n      - {prefix: /, upstream: \"http://a:1\"}\n", reg);
  EXPECT_EQ(a->stages[0].routes[0].primary.upstream, b->stages[0].routes[0].primary.upstream);
  EXPECT_EQ(a->stages[0].routes[0].primary.base_path, "/base");
}

TEST(RouteTableTest, CanaryTargetsUseOverriddenVariables) {
  UpstreamRegistry reg(1);
  auto g = build(R"(
stages:
  dev:
    variables: {color: blue}
    canary: {percent: 10, variables: {color: green}}
    routes:
      - {prefix: /, upstream: "http://app-${color}:1"}
)",
                 reg);
  EXPECT_EQ(g->stages[0].routes[0].primary.url, "http://app-blue:1");
  EXPECT_EQ(g->stages[0].routes[0].canary.url, "http://app-green:1");
}

TEST(RouteTableTest, UpstreamUrlParsing) {
  EXPECT_EQ(parse_upstream_url("http://h")->port, "80");
  EXPECT_FALSE(parse_upstream_url("http://h:99999").ok());
  EXPECT_FALSE(parse_upstream_url("http://u@h:1").ok());
  EXPECT_FALSE(parse_upstream_url("http://:1").ok());
  EXPECT_FALSE(parse_upstream_url("http://h:1/x?q").ok());
}

}  // namespace
}  // namespace enkisys::gateway
