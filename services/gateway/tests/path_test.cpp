#include "enkisys/gateway/path.hpp"

#include <gtest/gtest.h>

namespace enkisys::gateway {
namespace {

struct Norm {
  const char* err;
  std::string path, query;
};
Norm norm(std::string_view target) {
  std::string scratch;
  std::string_view p, q;
  const char* e = normalize_target(target, &scratch, &p, &q);
  return {e, std::string(p), std::string(q)};
}

TEST(PathTest, FastPathKeepsTargetAndSplitsQuery) {
  auto n = norm("/dev/api/tools?x=1&y=%2F");
  ASSERT_EQ(n.err, nullptr);
  EXPECT_EQ(n.path, "/dev/api/tools");
  EXPECT_EQ(n.query, "x=1&y=%2F");  // the query is not a path: encoded slashes are fine there
}

TEST(PathTest, CollapsesSlashesAndResolvesDotsWithinTheStage) {
  EXPECT_EQ(norm("//dev//api///tools").path, "/dev/api/tools");
  EXPECT_EQ(norm("/dev/./api/tools").path, "/dev/api/tools");
  EXPECT_EQ(norm("/dev/api/tools/../auth/login").path, "/dev/api/auth/login");
  EXPECT_EQ(norm("/dev/api/%2E%2e/x").path, "/dev/x");
  EXPECT_EQ(norm("/dev/api/").path, "/dev/api/");
  EXPECT_EQ(norm("/dev/a/..").path, "/dev/");
}

TEST(PathTest, RejectsEscapesAndEncodedSeparators) {
  for (const char* t :
       {"/dev/../prod/x", "/dev/%2e%2e/prod", "/dev/.%2E/prod", "/..", "/%2e%2e/x",
        "/dev/api/../../prod", "/dev/api%2ftools", "/dev/api%2Ftools", "/dev/a%5cb",
        "/dev\\..\\prod", "/dev/%00", "/dev/%zz", "/dev/%2", "http://evil/x", "*", ""}) {
    EXPECT_NE(norm(t).err, nullptr) << t;
  }
}

TEST(PathTest, KeepsOtherEscapes) {
  auto n = norm("/dev/files/a%20b");
  ASSERT_EQ(n.err, nullptr);
  EXPECT_EQ(n.path, "/dev/files/a%20b");
  EXPECT_EQ(norm("/dev/x/%2e/a%20b").path, "/dev/x/a%20b");
}

TEST(PathTest, DotsInsideNamesAreNotSegments) {
  EXPECT_EQ(norm("/dev/file..txt").path, "/dev/file..txt");
  EXPECT_EQ(norm("/dev/.well-known/jwks.json").path, "/dev/.well-known/jwks.json");
  EXPECT_EQ(norm("/dev/.../x").path, "/dev/.../x");
}

}  // namespace
}  // namespace enkisys::gateway
