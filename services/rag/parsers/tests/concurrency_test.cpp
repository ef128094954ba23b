#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "enkisys/rag/parse.hpp"
#include "fixtures.hpp"

namespace enkisys::rag {
namespace {

using testing::dump;
using testing::parse_bytes;

// Every format parsed from several threads at once gives the single-threaded answer.
TEST(ParseDocument, ConcurrentParsesOfEveryFormatAgree) {
  const std::vector<std::pair<std::string, std::string>> inputs{
      {"plain\n\ntext", "text/plain"},
      {"# Head\n\n- item\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", "text/markdown"},
      {"<title>T</title><h2>Head</h2><p>Body</p>", "text/html"},
      {testing::make_pdf({{{{"Page one"}}}, {{{"Page two"}}}}, "Title"), "application/pdf"},
      {testing::make_docx("<w:p><w:r><w:t>Docx body</w:t></w:r></w:p>", "Title"),
       "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}};
  std::vector<std::string> expected;
  for (const auto& [bytes, type] : inputs) {
    const auto doc = parse_bytes(bytes, type);
    ASSERT_TRUE(doc) << type << ": " << doc.error().message;
    expected.push_back(doc->model.title + "\n" + dump(doc->model));
  }
  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 40; ++round) {
        for (std::size_t i = 0; i < inputs.size(); ++i) {
          const std::size_t k = (i + static_cast<std::size_t>(t)) % inputs.size();
          const auto doc = parse_bytes(inputs[k].first, inputs[k].second);
          if (!doc || doc->model.title + "\n" + dump(doc->model) != expected[k]) {
            ++mismatches[static_cast<std::size_t>(t)];
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(kThreads, 0));
}

}  // namespace
}  // namespace enkisys::rag
