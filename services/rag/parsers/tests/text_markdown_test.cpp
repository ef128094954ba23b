#include <gtest/gtest.h>

#include <string>

#include "enkisys/rag/parse.hpp"
#include "fixtures.hpp"

namespace enkisys::rag {
namespace {

using testing::dump;
using testing::parse_bytes;

TEST(TextParser, ParagraphsByBlankLinesAndBomStripped) {
  const auto doc = parse_bytes(
      "\xEF\xBB\xBF"
      "First line\ncontinues.\n\n  \n\nSecond\tone.\r\n",
      "text/plain", "notes.txt");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(dump(doc->model), "P:0:First line continues.\nP:0:Second one.\n");
  EXPECT_EQ(doc->model.title, "notes");
  EXPECT_EQ(doc->mime_type, "text/plain");
}

TEST(TextParser, Latin1NeedsADeclaredCharset) {
  const std::string latin1 = "caf\xE9 cr\xE8me";
  const auto refused = parse_bytes(latin1, "text/plain");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, core::ErrorKind::kUnprocessable);
  EXPECT_EQ(refused.error().code, "invalid_utf8");

  const auto doc = parse_bytes(latin1, "text/plain; charset=ISO-8859-1");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(dump(doc->model), "P:0:caf\xC3\xA9 cr\xC3\xA8me\n");
  const auto cp1252 = parse_bytes("\x93quoted\x94", "text/plain; charset=\"windows-1252\"");
  ASSERT_TRUE(cp1252);
  EXPECT_EQ(dump(cp1252->model), "P:0:\xE2\x80\x9Cquoted\xE2\x80\x9D\n");
}

TEST(TextParser, Utf16WithBom) {
  const std::string utf16le("\xFF\xFEH\0i\0\n\0\n\0\xE9\0", 12);
  const auto declared = parse_bytes(utf16le, "text/plain; charset=utf-16");
  ASSERT_TRUE(declared) << declared.error().message;
  EXPECT_EQ(dump(declared->model), "P:0:Hi\nP:0:\xC3\xA9\n");
  const auto sniffed = parse_bytes(utf16le, "text/plain");
  ASSERT_TRUE(sniffed) << sniffed.error().message;
  EXPECT_EQ(dump(sniffed->model), "P:0:Hi\nP:0:\xC3\xA9\n");
}

TEST(TextParser, UnknownCharsetAndInvalidBytes) {
  const auto unknown = parse_bytes("abc", "text/plain; charset=klingon-8");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "unsupported_charset");
  EXPECT_EQ(core::http_status_of(unknown.error().kind), 422U);
  const auto invalid = parse_bytes("\xC3(", "text/plain; charset=utf-8");
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, "invalid_encoding");
}

TEST(TextParser, EmptyAndTooLarge) {
  for (const std::string text : {"", " \n\t\r\n  \n"}) {
    const auto empty = parse_bytes(text, "text/plain");
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().code, "empty_document");
    EXPECT_EQ(empty.error().kind, core::ErrorKind::kUnprocessable);
  }
  ParseLimits limits;
  limits.max_text_bytes = 100;
  const auto big =
      parse_bytes(std::string(60, 'a') + "\n\n" + std::string(60, 'b'), "text/plain", {}, limits);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, "document_too_large");
  limits.max_input_bytes = 10;
  const auto input = parse_bytes(std::string(11, 'a'), "text/plain", {}, limits);
  ASSERT_FALSE(input);
  EXPECT_EQ(input.error().kind, core::ErrorKind::kPayloadTooLarge);
}

TEST(TextParser, ReadsAFileAndPrefersTheExplicitTitle) {
  ParseInput input;
  input.path = testing::write_temp("upload", "Body text.");
  input.filename = "report.final.txt";
  input.title = "  The  Report ";
  const auto doc = parse_document(input);
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->model.title, "The Report");
  input.title.clear();
  EXPECT_EQ(parse_document(input)->model.title, "report.final");
  input.path = testing::write_temp("gone", "");
  std::filesystem::remove(input.path);
  const auto gone = parse_document(input);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, "input_unreadable");
}

TEST(MarkdownParser, EveryBlockKind) {
  const std::string md =
      "Setext Title\n============\n\n"
      "Intro with a [link text](http://example.com) and `code` and **bold**.\n\n"
      "## Install\n\n"
      "- first *item*\n- second item\n  1. nested\n\n"
      "> quoted words\n\n"
      "```sh\nmake   build\n  indented\n```\n\n"
      "    indented code\n\n"
      "Sub\n---\n\n"
      "| Name | Port |\n|------|------|\n| auth | 5002 |\n| rag  | 5003 |\n\n"
      "<div>raw html</div>\n\n"
      "###### Six\n";
  const auto doc = parse_bytes(md, "text/markdown; charset=utf-8");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(dump(doc->model),
            "H:1:Setext Title\n"
            "P:0:Intro with a link text and code and bold.\n"
            "H:2:Install\n"
            "L:0:first item\n"
            "L:0:second item\n"
            "L:0:nested\n"
            "P:0:quoted words\n"
            "C:0:make   build\n  indented\n"
            "C:0:indented code\n"
            "H:2:Sub\n"
            "T:0:Name | Port\nauth | 5002\nrag | 5003\n"
            "H:6:Six\n");
  EXPECT_EQ(doc->model.title, "Setext Title");
  EXPECT_EQ(doc->format, DocumentFormat::kMarkdown);
}

TEST(MarkdownParser, NotUtf8) {
  const auto doc = parse_bytes("# caf\xE9", "text/markdown");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, "invalid_utf8");
}

}  // namespace
}  // namespace enkisys::rag
