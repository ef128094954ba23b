#include "enkisys/cli/process.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "enkisys/cli/state.hpp"

namespace enkisys::cli {
namespace {

TEST(ProcessRunner, PassesArgvVerbatimAndFeedsStdin) {
  ProcessRunner runner;
  auto r = runner.run({{"printf", "%s|", "$(id)", "a b", "it's"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.out, "$(id)|a b|it's|");
  auto cat = runner.run({{"cat"}, "hello\nworld"});
  EXPECT_EQ(cat.out, "hello\nworld");
}

TEST(ProcessRunner, ReportsExitCodesMissingProgramsAndTimeouts) {
  ProcessRunner runner;
  auto r = runner.run({{"sh", "-c", "echo oops >&2; exit 7"}});
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_EQ(r.err, "oops\n");
  EXPECT_EQ(runner.run({{"enkisys-no-such-program"}}).exit_code, 127);
  auto t0 = std::chrono::steady_clock::now();
  auto slow = runner.run({{"sleep", "30"}, "", std::chrono::milliseconds(200)});
  EXPECT_TRUE(slow.timed_out);
  EXPECT_EQ(slow.exit_code, 124);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

TEST(ProcessRunner, PipesLargeStreamsBetweenTwoPrograms) {
  ProcessRunner runner;
  auto r = runner.pipe({{"head", "-c", "20000000", "/dev/zero"}}, {{"wc", "-c"}});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(std::stol(r.out), 20000000);
  auto bad = runner.pipe({{"sh", "-c", "exit 3"}}, {{"cat"}});
  EXPECT_EQ(bad.exit_code, 3);
}

TEST(ProcessRunner, BackgroundProcessIsStoppedOnDestruction) {
  ProcessRunner runner;
  auto child = runner.start({"sleep", "30"});
  ASSERT_TRUE(child);
  EXPECT_TRUE(child->running());
  auto t0 = std::chrono::steady_clock::now();
  child.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

class StateDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("enkisys cli 'state' " + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(StateDir, TargetStateStoreOnTheLocalEngine) {
  ProcessRunner runner;
  Target local(runner);
  TargetStateStore store(local, (dir_ / "dev1").string());
  std::optional<std::string> text = "x";
  ASSERT_TRUE(store.read("lock", &text).ok);
  EXPECT_FALSE(text);
  std::string error;
  EXPECT_EQ(store.create_exclusive("lock", "{\"a\":1}", &error), StateStore::Create::kCreated);
  EXPECT_EQ(store.create_exclusive("lock", "{\"b\":2}", &error), StateStore::Create::kExists);
  ASSERT_TRUE(store.read("lock", &text).ok);
  EXPECT_EQ(text, "{\"a\":1}");
  ASSERT_TRUE(store.replace("lock", "$(touch pwned) 'q'").ok);
  ASSERT_TRUE(store.read("lock", &text).ok);
  EXPECT_EQ(text, "$(touch pwned) 'q'");
  ASSERT_TRUE(store.append("releases.jsonl", "one").ok);
  ASSERT_TRUE(store.append("releases.jsonl", "two").ok);
  ASSERT_TRUE(store.read("releases.jsonl", &text).ok);
  EXPECT_EQ(text, "one\ntwo\n");
  ASSERT_TRUE(store.remove("lock").ok);
  ASSERT_TRUE(store.read("lock", &text).ok);
  EXPECT_FALSE(text);
  EXPECT_FALSE(std::filesystem::exists("pwned"));
  // No temporary files are left behind.
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir_ / "dev1")) ++files;
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace enkisys::cli
