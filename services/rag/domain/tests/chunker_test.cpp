#include "enkisys/rag/chunker.hpp"

#include <gtest/gtest.h>

#include <string>

namespace enkisys::rag {
namespace {

std::string words(int n, const std::string& w = "word") {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i != 0 ? " " : "") + w + std::to_string(i);
  return s;
}

TEST(Chunker, OffsetsPointIntoTheDocumentText) {
  DocumentModel doc{"d",
                    "T",
                    {{BlockKind::kHeading, "Intro", 1, 0},
                     {BlockKind::kParagraph, words(200), 0, 0},
                     {BlockKind::kHeading, "Usage", 2, 0},
                     {BlockKind::kParagraph, words(50, "use"), 0, 0}}};
  const auto chunks = chunk_document(doc, {300, 600, 50});
  ASSERT_TRUE(chunks);
  const std::string text = document_text(doc);
  ASSERT_GT(chunks->size(), 3U);
  for (const auto& c : *chunks) {
    EXPECT_EQ(c.text, text.substr(c.begin, c.end - c.begin));
    EXPECT_LE(c.text.size(), 600U);
  }
  EXPECT_EQ(chunks->front().heading_path, (std::vector<std::string>{"Intro"}));
  EXPECT_EQ(chunks->back().heading_path, (std::vector<std::string>{"Intro", "Usage"}));
  EXPECT_EQ(chunks->back().text.substr(0, 5), "Usage");  // a heading starts a chunk
}

TEST(Chunker, ConsecutiveChunksOfASectionOverlap) {
  DocumentModel doc{"d", "T", {{BlockKind::kParagraph, words(300), 0, 0}}};
  const auto chunks = chunk_document(doc, {400, 800, 80});
  ASSERT_TRUE(chunks);
  ASSERT_GE(chunks->size(), 2U);
  EXPECT_LT((*chunks)[1].begin, (*chunks)[0].end);
  EXPECT_GE((*chunks)[1].begin + 80, (*chunks)[0].end);
}

TEST(Chunker, NeverSplitsACodeBlockThatFits) {
  std::string code;
  for (int i = 0; i < 20; ++i) code += "SELECT " + std::to_string(i) + ";\n";
  DocumentModel doc{"d",
                    "T",
                    {{BlockKind::kParagraph, words(40), 0, 0},
                     {BlockKind::kCode, code, 0, 0},
                     {BlockKind::kParagraph, words(40), 0, 0}}};
  const auto chunks = chunk_document(doc, {300, 600, 100});
  ASSERT_TRUE(chunks);
  int holding = 0;
  for (const auto& c : *chunks) {
    if (c.text.find("SELECT 0;") != std::string::npos) {
      ++holding;
      EXPECT_NE(c.text.find("SELECT 19;"), std::string::npos);
    }
    // the overlap never starts inside the code block
    EXPECT_TRUE(c.text.find("SELECT 19;") == std::string::npos ||
                c.text.find("SELECT 0;") != std::string::npos);
  }
  EXPECT_EQ(holding, 1);
}

TEST(Chunker, SplitsAnOversizedCodeBlockAtLineEnds) {
  std::string code;
  for (int i = 0; i < 200; ++i) code += "line " + std::to_string(i) + "\n";
  code.pop_back();
  DocumentModel doc{"d", "T", {{BlockKind::kCode, code, 0, 0}}};
  const auto chunks = chunk_document(doc, {200, 400, 0});
  ASSERT_TRUE(chunks);
  ASSERT_GT(chunks->size(), 3U);
  for (std::size_t i = 0; i + 1 < chunks->size(); ++i) EXPECT_EQ((*chunks)[i].text.back(), '\n');
}

TEST(Chunker, CarriesThePage) {
  DocumentModel doc{"d",
                    "T",
                    {{BlockKind::kPageBreak, "", 0, 1},
                     {BlockKind::kParagraph, words(10), 0, 0},
                     {BlockKind::kPageBreak, "", 0, 2},
                     {BlockKind::kHeading, "Two", 1, 0},
                     {BlockKind::kParagraph, words(10), 0, 0}}};
  const auto chunks = chunk_document(doc, {1000, 2000, 0});
  ASSERT_TRUE(chunks);
  ASSERT_EQ(chunks->size(), 2U);
  EXPECT_EQ((*chunks)[0].page, 1);
  EXPECT_EQ((*chunks)[1].page, 2);
}

TEST(Chunker, APageStartsAChunkWithoutOverlapIntoThePreviousPage) {
  // Two short pages of running text (no heading between them) that would fit one chunk.
  DocumentModel doc{"d",
                    "T",
                    {{BlockKind::kPageBreak, "", 0, 1},
                     {BlockKind::kParagraph, words(10), 0, 0},
                     {BlockKind::kPageBreak, "", 0, 2},
                     {BlockKind::kParagraph, "second page text", 0, 0}}};
  const auto chunks = chunk_document(doc, {1000, 2000, 100});
  ASSERT_TRUE(chunks);
  ASSERT_EQ(chunks->size(), 2U);
  EXPECT_EQ((*chunks)[1].page, 2);
  EXPECT_EQ((*chunks)[1].text, "second page text");
}

TEST(Chunker, HugeTokenIsCutOnCodePointBoundaries) {
  std::string blob;
  for (int i = 0; i < 3000; ++i) blob += "ñ";
  DocumentModel doc{"d", "T", {{BlockKind::kParagraph, blob, 0, 0}}};
  const auto chunks = chunk_document(doc, {301, 600, 0});
  ASSERT_TRUE(chunks);
  std::string joined;
  for (const auto& c : *chunks) {
    EXPECT_NE(static_cast<unsigned char>(c.text.front()) & 0xC0U, 0x80U);
    joined += c.text;
  }
  EXPECT_EQ(joined, blob);
}

TEST(Chunker, EmptyDocumentAndBadOptions) {
  const auto empty = chunk_document({"d", "T", {}}, {});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(chunk_document({"d", "T", {}}, {0, 10, 0}).error().code, "invalid_chunk_options");
  EXPECT_EQ(chunk_document({"d", "T", {}}, {100, 50, 0}).error().code, "invalid_chunk_options");
  EXPECT_EQ(chunk_document({"d", "T", {}}, {100, 200, 100}).error().code, "invalid_chunk_options");
  const DocumentModel bad{"d", "T", {{BlockKind::kHeading, "x", 9, 0}}};
  EXPECT_EQ(chunk_document(bad, {}).error().code, "invalid_heading_level");
}

TEST(ParseMarkdown, RecognisesBlocks) {
  const auto doc = parse_markdown("d", "T",
                                  "## Synopsis\n\nSome text\nmore text\n\n    pg_dump db\n"
                                  "- item one\n| a | b |\n| 1 | 2 |\n\fPage two text\n");
  ASSERT_GE(doc.blocks.size(), 7U);
  EXPECT_EQ(doc.blocks[1].kind, BlockKind::kHeading);  // [0] is the page-1 break
  EXPECT_EQ(doc.blocks[1].level, 2);
  EXPECT_EQ(doc.blocks[1].text, "Synopsis");
  EXPECT_EQ(doc.blocks[2].text, "Some text\nmore text");
  EXPECT_EQ(doc.blocks[3].kind, BlockKind::kCode);
  EXPECT_EQ(doc.blocks[4].kind, BlockKind::kListItem);
  EXPECT_EQ(doc.blocks[5].kind, BlockKind::kTable);
  EXPECT_EQ(doc.blocks[5].text, "| a | b |\n| 1 | 2 |");
  EXPECT_EQ(doc.blocks[6].kind, BlockKind::kPageBreak);
  EXPECT_EQ(doc.blocks[6].page, 2);
}

}  // namespace
}  // namespace enkisys::rag
