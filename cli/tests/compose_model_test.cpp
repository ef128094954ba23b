#include "enkisys/cli/compose_model.hpp"

#include <gtest/gtest.h>

namespace enkisys::cli {
namespace {

// Shape of `docker-compose config` (1.29) for a stage in host mode.
constexpr const char* kConfig = R"(networks:
  backend:
    internal: true
  ingress:
    external: true
    name: enkisys-dev1-ingress
  legacy:
    external:
      name: old-style-net
  public:
    internal: true
services:
  auth:
    image: enkisys/auth:v2
  gateway:
    image: enkisys/gateway:v2
    profiles:
    - local
  tools:
    image: enkisys/tools:v2
  tools-worker:
    image: enkisys/tools:v2
version: '3.9'
volumes:
  auth-data:
    external: true
    name: enkisys-dev1-auth-data
  scratch: {}
)";

TEST(ComposeModel, ReadsImagesAndExternalResources) {
  std::string error;
  auto m = parse_compose_config(kConfig, &error);
  ASSERT_TRUE(m) << error;
  ASSERT_EQ(m->services.size(), 3u);  // the profiled gateway is not started in host mode
  EXPECT_EQ(m->images(), (std::vector<std::string>{"enkisys/auth:v2", "enkisys/tools:v2"}));
  EXPECT_EQ(m->external_networks,
            (std::vector<std::string>{"enkisys-dev1-ingress", "old-style-net"}));
  EXPECT_EQ(m->external_volumes, (std::vector<std::string>{"enkisys-dev1-auth-data"}));
}

TEST(ComposeModel, RefusesNonComposeText) {
  std::string error;
  EXPECT_FALSE(parse_compose_config("just: [text", &error));
  EXPECT_FALSE(parse_compose_config("version: '3'\n", &error));
  EXPECT_NE(error.find("no services"), std::string::npos);
}

}  // namespace
}  // namespace enkisys::cli
