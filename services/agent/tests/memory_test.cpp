// The memory window and citations as pure functions.
#include "enkisys/agent/memory.hpp"

#include <gtest/gtest.h>

#include "enkisys/agent/turn.hpp"

namespace enkisys::agent {
namespace {

std::vector<StoredMessage> history(int turns, std::size_t bytes) {
  std::vector<StoredMessage> out;
  std::int64_t seq = 0;
  for (int i = 0; i < turns; ++i) {
    StoredMessage u;
    u.role = "user";
    u.seq = ++seq;
    u.content = "question " + std::to_string(i) + " " + std::string(bytes, 'q');
    StoredMessage a;
    a.role = "assistant";
    a.seq = ++seq;
    a.content = "answer " + std::to_string(i) + " " + std::string(bytes, 'a');
    out.push_back(u);
    out.push_back(a);
  }
  return out;
}

TEST(Memory, KeepsTheNewestWholeTurnsWithinTheBudgetAndSummarisesTheRest) {
  const auto h = history(200, 400);
  const Memory m = build_memory(h, "", 0, 1000);
  EXPECT_LE(m.window_tokens, 1000);
  int sum = 0;
  for (std::size_t i = 0; i < m.window.size(); ++i) sum += message_tokens(m.window.view(i));
  EXPECT_LE(sum, 1000);
  ASSERT_FALSE(m.window.empty());
  EXPECT_EQ(m.window.messages.front()->role(), "user");
  EXPECT_NE(m.window.view(m.window.size() - 1).content.find("answer 199"), std::string::npos);
  EXPECT_TRUE(m.summary_changed);
  EXPECT_LE(m.summary.size(), 2000U);
  EXPECT_NE(m.summary.find("question"), std::string::npos);
  // Everything before the window is folded into the summary.
  EXPECT_EQ(m.summarized_upto + static_cast<std::int64_t>(m.window.size()), 400);
}

TEST(Memory, WithinTheBudgetNothingIsSummarised) {
  const Memory m = build_memory(history(3, 10), "", 0, 6000);
  EXPECT_EQ(m.window.size(), 6U);
  EXPECT_FALSE(m.summary_changed);
}

TEST(Memory, ToolCallsWithoutResultsAreSentAsText) {
  StoredMessage u{"m1", "c", 1, "user", "2+2?", {}, "", "", "[]", "", {}, false, ""};
  StoredMessage a{"m2", "c", 2,  "assistant", "", {{"call_1", "calculator", "{}"}}, "", "",
                  "[]", "",  {}, true,        ""};
  const Memory m = build_memory({u, a}, "", 0, 6000);
  ASSERT_EQ(m.window.size(), 2U);
  EXPECT_TRUE(m.window.view(1).tool_calls.empty());
  EXPECT_EQ(m.window.view(1).content, "(interrupted)");
  EXPECT_EQ(m.window.without_calls, std::vector<std::uint32_t>{1});
}

TEST(Citations, OnlyThePassagesTheAnswerCites) {
  std::vector<Passage> ps(4);
  for (int i = 0; i < 4; ++i) ps[i].index = i + 1;
  auto c = cited(ps, "Rome is the capital [2]. See also [4, 1] and [x] and [9].");
  ASSERT_EQ(c.size(), 3U);
  EXPECT_EQ(c[0].index, 1);
  EXPECT_EQ(c[1].index, 2);
  EXPECT_EQ(c[2].index, 4);
  EXPECT_TRUE(cited(ps, "no citations here").empty());
}

}  // namespace
}  // namespace enkisys::agent
