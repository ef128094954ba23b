#include "enkisys/core/stage.hpp"

#include <gtest/gtest.h>

#include <string>

namespace enkisys::core {
namespace {

TEST(StageName, AcceptsTheStagesOfAHostAndTheLocalOne) {
  for (const char* ok : {"prod", "staging", "dev1", "dev2", "dev", "qa", "eu1", "pr1234"}) {
    EXPECT_TRUE(valid_stage_name(ok)) << ok;
  }
  EXPECT_TRUE(valid_stage_name(std::string(kMaxStageNameLength, 'a')));
}

TEST(StageName, RefusesWhatIsNotASafeNameSegment) {
  for (const char* bad :
       {"",       "d",     "Dev1",    "PROD",        "dev-1",  "dev_1",   "1dev",
        "dev.1",  "..",    "../etc",  "a/b",         "dev1 ",  " dev1",   "dev 1",
        "dev1\n", "$(id)", "dev1;rm", "caf\xc3\xa9", "health", "metrics", "admin"}) {
    EXPECT_FALSE(valid_stage_name(bad)) << bad;
  }
  EXPECT_FALSE(valid_stage_name(std::string(kMaxStageNameLength + 1, 'a')));
  EXPECT_FALSE(valid_stage_name(std::string_view("dev\0", 4)));
}

}  // namespace
}  // namespace enkisys::core
