#include "enkisys/core/config.hpp"

#include <gtest/gtest.h>

#include <map>

namespace enkisys::core {
namespace {

EnvConfig::Getenv env(std::map<std::string, std::string> m) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(m));
  return [shared](const char* n) -> const char* {
    auto it = shared->find(n);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(EnvConfig, AppliesDefaultsAndReadsValues) {
  EnvConfig c("enkisys-x", "test");
  c.add({"PORT", "port", "5001", false, false, integer_in(1, 65535)});
  c.add({"NAME", "name", "def"});
  std::string err;
  ASSERT_TRUE(c.load(env({{"NAME", "given"}}), &err)) << err;
  EXPECT_EQ(c.get_int("PORT"), 5001);
  EXPECT_EQ(c.get("NAME"), "given");
  EXPECT_TRUE(c.is_set("NAME"));
  EXPECT_FALSE(c.is_set("PORT"));
}

TEST(EnvConfig, ReportsEveryInvalidVariableByName) {
  EnvConfig c("enkisys-x", "test");
  c.add({"PORT", "port", "5001", false, false, integer_in(1, 65535)});
  c.add({"LEVEL", "level", "info", false, false, one_of({"info", "debug"})});
  c.add({"TOKEN_FILE", "token", "", true, true});
  std::string err;
  EXPECT_FALSE(c.load(env({{"PORT", "99999"}, {"LEVEL", "loud"}}), &err));
  EXPECT_NE(err.find("PORT: must be between 1 and 65535"), std::string::npos) << err;
  EXPECT_NE(err.find("LEVEL: must be one of: info debug"), std::string::npos) << err;
  EXPECT_NE(err.find("TOKEN_FILE: is required"), std::string::npos) << err;
}

TEST(EnvConfig, SecretValuesAreNeverEchoed) {
  EnvConfig c("enkisys-x", "test");
  c.add({"SECRET", "a secret", "", false, true, integer_in(0, 1)});
  std::string err;
  EXPECT_FALSE(c.load(env({{"SECRET", "hunter2-password"}}), &err));
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
  EXPECT_EQ(c.help_text().find("hunter2"), std::string::npos);
}

TEST(EnvConfig, HelpListsEveryVariableWithDefault) {
  EnvConfig c("enkisys-tools", "Tool Manager");
  c.add({"PORT", "TCP port", "5001"});
  c.add({"DATABASE_URL", "where data lives", "sqlite:///data/tools.db"});
  const auto help = c.help_text();
  EXPECT_NE(help.find("PORT"), std::string::npos);
  EXPECT_NE(help.find("[default: sqlite:///data/tools.db]"), std::string::npos);
}

}  // namespace
}  // namespace enkisys::core
