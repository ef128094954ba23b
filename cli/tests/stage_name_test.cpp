// The stage-name rule exists twice: enkisys::core::valid_stage_name (CLI, gateway) and
// valid_stage_name in deploy/lib/stage.sh (deploy scripts). Both must give the same answer.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "enkisys/cli/process.hpp"
#include "enkisys/cli/validate.hpp"
#include "enkisys/core/stage.hpp"

namespace enkisys::cli {
namespace {

const std::vector<std::string>& names() {
  static const std::vector<std::string> list = {
      // accepted
      "prod", "staging", "dev1", "dev2", "dev", "qa", "eu1", "pr1234", std::string(16, 'a'),
      // refused
      "", "d", "Dev1", "PROD", "dev-1", "dev_1", "1dev", "dev.1", ".", "..", "../etc", "a/b",
      "/prod", "dev1 ", " dev1", "dev 1", "dev1\n", "\ndev1", "dev1\t", "$(id)", "`id`", "dev1;rm",
      "dev*", "dev?", "d[e]v", "caf\xc3\xa9", std::string(15, 'a') + "\xc3\xa9",
      std::string(17, 'a'), "health", "metrics", "admin", "prod\\", "pr'od", "-prod"};
  return list;
}

// One bash run over every name: a '1' or '0' per name.
std::string shell_verdicts(const Argv& prefix) {
  Argv argv = prefix;
  argv.insert(argv.end(), {"bash", "-c",
                           ". \"$1\" || exit 99; shift; for n in \"$@\"; do "
                           "if valid_stage_name \"$n\"; then printf 1; else printf 0; fi; done",
                           "bash", ENKISYS_STAGE_SH});
  argv.insert(argv.end(), names().begin(), names().end());
  ProcessRunner runner;
  auto r = runner.run({argv, "", std::chrono::seconds(30)});
  EXPECT_TRUE(r.ok()) << r.exit_code << " " << r.err;
  return r.out;
}

void expect_agreement(const std::string& verdicts) {
  ASSERT_EQ(verdicts.size(), names().size()) << verdicts;
  for (std::size_t i = 0; i < names().size(); ++i) {
    const bool cpp = core::valid_stage_name(names()[i]);
    EXPECT_EQ(verdicts[i] == '1', cpp) << "'" << names()[i] << "': C++ says " << cpp;
    EXPECT_EQ(!check_stage(names()[i]), cpp) << names()[i];
  }
}

TEST(StageNameRule, ShellAndCppAgree) {
  expect_agreement(shell_verdicts({}));
}

TEST(StageNameRule, ShellAndCppAgreeInAUtf8Locale) {
  expect_agreement(shell_verdicts({"env", "LC_ALL=C.UTF-8"}));
}

TEST(StageNameRule, TheStagesOfAHostAndTheLocalStageAreValid) {
  for (const char* s : {"prod", "staging", "dev1", "dev2", "dev"}) {
    EXPECT_TRUE(core::valid_stage_name(s)) << s;
  }
}

}  // namespace
}  // namespace enkisys::cli
