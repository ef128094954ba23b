#include "enkisys/cli/target.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "enkisys/cli/quote.hpp"

namespace enkisys::cli {
namespace {

class ScriptedRunner final : public CommandRunner {
 public:
  std::function<CommandResult(const Argv&)> answer;
  std::vector<Argv> seen;
  CommandResult run(const Command& c) override {
    seen.push_back(c.argv);
    return answer(c.argv);
  }
  CommandResult pipe(const Command& a, const Command& b) override {
    seen.push_back(a.argv);
    seen.push_back(b.argv);
    return {};
  }
  std::unique_ptr<BackgroundProcess> start(const Argv& argv) override {
    seen.push_back(argv);
    return nullptr;
  }
};

SshUrl url() {
  std::string e;
  return *parse_ssh_url("ssh://deploy@host.example:2222", &e);
}

TEST(Target, LocalRunsTheArgvUnchanged) {
  ScriptedRunner r;
  r.answer = [](const Argv&) { return CommandResult{}; };
  Target t(r);
  EXPECT_EQ(t.wrap({"docker", "ps"}), (Argv{"docker", "ps"}));
  t.run({"docker", "logs", "$(id)"});
  EXPECT_EQ(r.seen.back(), (Argv{"docker", "logs", "$(id)"}));
}

TEST(Target, RemoteQuotesEveryWordAfterTheDestination) {
  ScriptedRunner r;
  Target t(r, url(), SshOptions{"/k/id", "/k/known", "", std::chrono::seconds(15)});
  auto a = t.wrap({"docker", "image", "inspect", "enkisys/tools:v1; rm -rf /"});
  ASSERT_GE(a.size(), 6u);
  EXPECT_EQ(a[0], "ssh");
  auto dd = std::find(a.begin(), a.end(), "--");
  ASSERT_NE(dd, a.end());
  EXPECT_EQ(*(dd + 1), "deploy@host.example");
  EXPECT_EQ(Argv(dd + 2, a.end()),
            (Argv{"'docker'", "'image'", "'inspect'", "'enkisys/tools:v1; rm -rf /'"}));
  for (const char* opt :
       {"BatchMode=yes", "StrictHostKeyChecking=yes", "UserKnownHostsFile=/k/known"}) {
    EXPECT_NE(std::find(a.begin(), dd, opt), dd) << opt;
  }
  EXPECT_NE(std::find(a.begin(), dd, "2222"), dd);
}

// ssh joins the words after the destination with spaces and hands the line to the remote
// shell: run exactly that line through sh and get the original argv back.
TEST(Target, RemoteShellSeesTheOriginalArgv) {
  ScriptedRunner r;
  Target t(r, url(), {});
  Argv words = {"printf", "%s|", "a b", "$(id)", "it's", "`id`", "x;y", "\n", ""};
  auto a = t.wrap(words);
  auto dd = std::find(a.begin(), a.end(), "--");
  std::string line;
  for (auto it = dd + 2; it != a.end(); ++it) line += (line.empty() ? "" : " ") + *it;
  ProcessRunner real;
  auto out = real.run({{"sh", "-c", line}});
  ASSERT_TRUE(out.ok()) << out.err;
  EXPECT_EQ(out.out, "a b|$(id)|it's|`id`|x;y|\n||");
}

TEST(Target, PipeInSendsALocalProducerToARemoteConsumer) {
  ScriptedRunner r;
  Target t(r, url(), {});
  t.pipe_in({"docker", "save", "enkisys/tools:v2"}, {"docker", "load"});
  ASSERT_EQ(r.seen.size(), 2u);
  EXPECT_EQ(r.seen[0], (Argv{"docker", "save", "enkisys/tools:v2"}));
  EXPECT_EQ(r.seen[1].front(), "ssh");
  EXPECT_EQ(r.seen[1].back(), "'load'");
}

TEST(Target, ForwardUsesItsOwnConnection) {
  ScriptedRunner r;
  r.answer = [](const Argv&) { return CommandResult{}; };
  Target t(r, url(), SshOptions{"", "", "/tmp/cm", std::chrono::seconds(15)});
  t.forward(40001, 9901);
  const auto& a = r.seen.back();
  EXPECT_NE(std::find(a.begin(), a.end(), "127.0.0.1:40001:127.0.0.1:9901"), a.end());
  EXPECT_NE(std::find(a.begin(), a.end(), "ExitOnForwardFailure=yes"), a.end());
  EXPECT_EQ(std::find(a.begin(), a.end(), "ControlMaster=auto"), a.end());
  t.run({"true"});
  EXPECT_NE(std::find(r.seen.back().begin(), r.seen.back().end(), "ControlMaster=auto"),
            r.seen.back().end());
}

TEST(ComposeDetection, PrefersV2ThenV1) {
  ScriptedRunner r;
  Target t(r);
  std::string error;
  r.answer = [](const Argv& a) { return CommandResult{a[0] == "docker" ? 0 : 1, false, "", ""}; };
  EXPECT_EQ(detect_compose(t, &error), ComposeFlavour::kV2);
  r.answer = [](const Argv& a) {
    return CommandResult{a[0] == "docker-compose" ? 0 : 125, false, "", "unknown command"};
  };
  EXPECT_EQ(detect_compose(t, &error), ComposeFlavour::kV1);
  EXPECT_EQ(r.seen.back(), (Argv{"docker-compose", "version"}));
  r.answer = [](const Argv&) { return CommandResult{127, false, "", "not found"}; };
  EXPECT_FALSE(detect_compose(t, &error));
  EXPECT_NE(error.find("neither"), std::string::npos);
  EXPECT_EQ(compose_prefix(ComposeFlavour::kV2), (Argv{"docker", "compose"}));
  EXPECT_EQ(compose_prefix(ComposeFlavour::kV1), (Argv{"docker-compose"}));
}

}  // namespace
}  // namespace enkisys::cli
