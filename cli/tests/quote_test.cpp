#include "enkisys/cli/quote.hpp"

#include <gtest/gtest.h>

#include "enkisys/cli/process.hpp"
#include "enkisys/cli/validate.hpp"

namespace enkisys::cli {
namespace {

const std::vector<std::string> kNasty = {
    "plain", "",          "a b",          "it's", "'", "''", "\"",    "\\",     "$(id)",
    "`id`",  "$HOME",     "; rm -rf / #", "a\nb", "*", "?",  "~root", "--help", "-oProxyCommand=x",
    "!",     "tab\there", "x'$(id)'y"};

// What a remote POSIX shell makes of the quoted word, for each shell installed here.
TEST(ShellQuote, EveryShellReadsBackTheExactWord) {
  ProcessRunner runner;
  for (const char* shell : {"sh", "dash", "bash"}) {
    if (!runner.run({{shell, "-c", "true"}}).ok()) continue;
    for (const auto& word : kNasty) {
      auto r = runner.run({{shell, "-c", "printf '%s' " + shell_quote(word)}});
      ASSERT_TRUE(r.ok()) << shell << ": " << r.err;
      EXPECT_EQ(r.out, word) << shell << " with " << shell_quote(word);
    }
  }
}

TEST(ShellQuote, QuotesSingleQuotesAndEmpty) {
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_FALSE(needs_quoting("enkisys/tools:v1"));
  EXPECT_TRUE(needs_quoting("a b"));
  EXPECT_TRUE(needs_quoting(""));
  EXPECT_EQ(render({"docker", "logs", "a b"}), "docker logs 'a b'");
}

TEST(Validate, StagesAreStrict) {
  for (const char* ok : {"prod", "staging", "dev1", "dev2"}) EXPECT_FALSE(check_stage(ok)) << ok;
  for (const char* bad : {"", "d", "Dev1", "dev-1", "dev1;rm", "../etc", "dev1 ", "$(id)", "health",
                          "admin", "metrics", "averyveryverylongstage"}) {
    EXPECT_TRUE(check_stage(bad)) << bad;
  }
}

TEST(Validate, VersionsAreImageTags) {
  for (const auto& ok : {std::string("v1"), std::string("3f2a9c1"), std::string("1.2.3-rc_1"),
                         std::string(128, 'a')}) {
    EXPECT_FALSE(check_version(ok)) << ok;
  }
  for (const auto& bad :
       {std::string(""), std::string("$(id)"), std::string("v1;id"), std::string("v1 v2"),
        std::string("-v"), std::string(".x"), std::string("a/b"), std::string("a:b"),
        std::string("`id`"), std::string("v1\n"), std::string(129, 'a')}) {
    EXPECT_TRUE(check_version(bad)) << bad;
  }
}

TEST(Validate, RegistryAndColor) {
  EXPECT_FALSE(check_registry("ghcr.io/acme"));
  EXPECT_FALSE(check_registry("registry.local:5000"));
  EXPECT_TRUE(check_registry("ghcr.io/acme;id"));
  EXPECT_TRUE(check_registry("-x"));
  EXPECT_FALSE(check_color("blue"));
  EXPECT_TRUE(check_color("red"));
}

TEST(Validate, SshUrls) {
  std::string error;
  auto a = parse_ssh_url("ssh://deploy@ec2-1-2-3-4.compute.amazonaws.com:2222", &error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->user, "deploy");
  EXPECT_EQ(a->port, 2222);
  EXPECT_EQ(a->destination(), "deploy@ec2-1-2-3-4.compute.amazonaws.com");
  auto b = parse_ssh_url("ssh://127.0.0.1", &error);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->port, 22);
  EXPECT_EQ(b->destination(), "127.0.0.1");
  auto c = parse_ssh_url("ssh://root@[::1]:22", &error);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::1");
  for (const char* bad :
       {"ssh://-oProxyCommand=id@h", "ssh://u@-oProxyCommand=id", "ssh://u@h;id", "ssh://u@h:70000",
        "ssh://u@h:0", "http://h", "ssh://u@h name", "ssh://U$(id)@h"}) {
    EXPECT_FALSE(parse_ssh_url(bad, &error)) << bad;
  }
}

}  // namespace
}  // namespace enkisys::cli
