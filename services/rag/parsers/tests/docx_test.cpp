#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>

#include "enkisys/rag/parse.hpp"
#include "fixtures.hpp"

namespace enkisys::rag {
namespace {

using testing::dump;
using testing::make_docx;
using testing::make_zip;
using testing::parse_bytes;
using testing::ZipEntry;

constexpr const char* kDocxType =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

std::string para(const std::string& text, const std::string& ppr = {}) {
  return "<w:p>" + (ppr.empty() ? "" : "<w:pPr>" + ppr + "</w:pPr>") + "<w:r><w:t>" + text +
         "</w:t></w:r></w:p>";
}

std::string styled(const std::string& text, const std::string& style) {
  return para(text, "<w:pStyle w:val=\"" + style + "\"/>");
}

core::Expected<ParsedDocument> parse_docx(const std::string& bytes,
                                          const ParseLimits& limits = {}) {
  return parse_bytes(bytes, kDocxType, "file.docx", limits);
}

// Sets every (local and central) uncompressed-size field of the archive to `size`.
void lie_about_sizes(std::string& zip, std::uint32_t size) {
  const auto patch = [&](std::size_t at) { std::memcpy(&zip[at], &size, sizeof(size)); };
  for (std::size_t at = zip.find("PK\x03\x04"); at != std::string::npos;
       at = zip.find("PK\x03\x04", at + 4)) {
    patch(at + 22);
  }
  for (std::size_t at = zip.find("PK\x01\x02"); at != std::string::npos;
       at = zip.find("PK\x01\x02", at + 4)) {
    patch(at + 24);
  }
}

TEST(DocxParser, HeadingsListsTablesAndTitle) {
  const std::string body =
      styled("Document Title", "Title") + styled("Intro", "Heading1") +
      "<w:p><w:r><w:t xml:space=\"preserve\">Split </w:t></w:r><w:r><w:t>run</w:t><w:tab/>"
      "<w:t>tab</w:t></w:r><w:del><w:r><w:delText>gone</w:delText></w:r></w:del></w:p>" +
      styled("Details", "Heading2") + para("Outline", "<w:outlineLvl w:val=\"2\"/>") +
      para("bullet one", "<w:numPr><w:ilvl w:val=\"0\"/><w:numId w:val=\"1\"/></w:numPr>") +
      para("bullet two", "<w:numPr><w:ilvl w:val=\"0\"/><w:numId w:val=\"1\"/></w:numPr>") +
      "<w:tbl><w:tr><w:tc>" + para("Name") + "</w:tc><w:tc>" + para("Port") +
      "</w:tc></w:tr><w:tr><w:tc>" + para("auth") + "</w:tc><w:tc>" + para("50") + para("02") +
      "</w:tc></w:tr></w:tbl>" + styled("Deep", "Heading9") + para("   ") +
      "<w:p><w:r><mc:AlternateContent xmlns:mc=\"http://schemas.openxmlformats.org/"
      "markup-compatibility/2006\"><mc:Choice Requires=\"wps\"><w:t>boxed</w:t></mc:Choice>"
      "<mc:Fallback><w:t>boxed</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>";
  const auto doc = parse_docx(make_docx(body, "Core &amp; Title"));
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(dump(doc->model),
            "H:1:Document Title\n"
            "H:1:Intro\n"
            "P:0:Split run tab\n"
            "H:2:Details\n"
            "H:3:Outline\n"
            "L:0:bullet one\n"
            "L:0:bullet two\n"
            "T:0:Name | Port\nauth | 50 02\n"
            "H:6:Deep\n"
            "P:0:boxed\n");
  EXPECT_EQ(doc->model.title, "Core & Title");
  EXPECT_EQ(doc->mime_type, kDocxType);
  const auto untitled = parse_docx(make_docx(styled("First Heading", "Heading1") + para("x")));
  ASSERT_TRUE(untitled);
  EXPECT_EQ(untitled->model.title, "First Heading");
}

TEST(DocxParser, LocalizedHeadingStylesFromStylesXml) {
  const std::string styles =
      R"(<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">)"
      R"(<w:style w:type="paragraph" w:styleId="berschrift2"><w:name w:val="heading 2"/></w:style>)"
      R"(<w:style w:type="paragraph" w:styleId="Kapitel"><w:name w:val="Kapitel"/>)"
      R"(<w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>)"
      R"(<w:style w:type="paragraph" w:styleId="Aufzhlung"><w:name w:val="Aufzaehlung"/>)"
      R"(<w:pPr><w:numPr><w:numId w:val="3"/></w:numPr></w:pPr></w:style></w:styles>)";
  const std::string body = styled("Kapitel eins", "Kapitel") + styled("Abschnitt", "berschrift2") +
                           styled("Punkt", "Aufzhlung") + para("Text");
  const auto doc = parse_docx(
      make_zip({{"word/document.xml", testing::document_xml(body)}, {"word/styles.xml", styles}}));
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(dump(doc->model), "H:1:Kapitel eins\nH:2:Abschnitt\nL:0:Punkt\nP:0:Text\n");
}

TEST(DocxParser, CorruptArchives) {
  std::string truncated = make_docx(para("hello"));
  truncated.resize(truncated.size() / 2);
  const std::string missing = make_zip({{"word/other.xml", "<x/>"}});
  const std::string bad_xml = make_zip({{"word/document.xml", "<w:document><w:body><w:p>"}});
  for (const std::string& bytes : {std::string("PK\x03\x04 this is not a zip"), truncated, missing,
                                   bad_xml, std::string("plain words")}) {
    const auto doc = parse_docx(bytes);
    ASSERT_FALSE(doc);
    EXPECT_EQ(doc.error().code, "corrupt_docx") << doc.error().message;
    EXPECT_EQ(core::http_status_of(doc.error().kind), 422U);
  }
}

TEST(DocxParser, ZipBombDeclaredHonestly) {
  // 1 GiB of zeros deflates to about 1 MiB: the ratio cap stops the read early.
  const std::string bomb = make_zip({{"word/document.xml", {}, std::uint64_t{1} << 30U}});
  const auto start = std::chrono::steady_clock::now();
  const auto doc = parse_docx(bomb);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, "archive_too_large") << doc.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(DocxParser, ZipBombLyingAboutItsSize) {
  // The headers say 1000 bytes; 64 MiB come out.
  std::string bomb = make_zip({{"word/document.xml", {}, std::uint64_t{64} << 20U}});
  lie_about_sizes(bomb, 1000);
  const auto doc = parse_docx(bomb);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, "archive_too_large") << doc.error().message;
  // With no ratio cap, the total cap counts the bytes actually inflated.
  ParseLimits limits;
  limits.max_compression_ratio = 1e12;
  limits.max_unpacked_bytes = std::uint64_t{8} << 20U;
  const auto total = parse_docx(bomb, limits);
  ASSERT_FALSE(total);
  EXPECT_EQ(total.error().code, "archive_too_large") << total.error().message;
}

TEST(DocxParser, TooManyEntries) {
  std::vector<ZipEntry> entries{{"word/document.xml", testing::document_xml(para("x"))}};
  for (int i = 0; i < 5; ++i) entries.push_back({"extra" + std::to_string(i), "x"});
  ParseLimits limits;
  limits.max_zip_entries = 4;
  const auto doc = parse_docx(make_zip(entries), limits);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, "archive_too_large");
  limits.max_zip_entries = 6;
  EXPECT_TRUE(parse_docx(make_zip(entries), limits));
}

TEST(DocxParser, ExternalEntitiesAreNeverRead) {
  const auto secret = testing::write_temp("secret.txt", "TOP-SECRET-DOCX");
  const std::string xml =
      "<?xml version=\"1.0\"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM \"file://" +
      secret.string() +
      "\">]><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
      "<w:body><w:p><w:r><w:t>before &xxe; after</w:t></w:r></w:p></w:body></w:document>";
  const auto doc = parse_docx(make_zip({{"word/document.xml", xml}}));
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(dump(doc->model).find("TOP-SECRET"), std::string::npos) << dump(doc->model);
  EXPECT_NE(dump(doc->model).find("before"), std::string::npos) << dump(doc->model);
}

TEST(DocxParser, InternalEntitiesAreNotExpanded) {
  // A billion laughs: the references are dropped unexpanded (as predefined ones are kept).
  std::string dtd = "<!ENTITY lol0 \"INTERNAL\">";
  for (int i = 1; i < 10; ++i) {
    dtd += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) dtd += "&lol" + std::to_string(i - 1) + ";";
    dtd += "\">";
  }
  const std::string xml =
      "<?xml version=\"1.0\"?><!DOCTYPE w:document [" + dtd +
      "]><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
      "<w:body><w:p><w:r><w:t>before &lol9; &lol0; &amp; after</w:t></w:r></w:p></w:body>"
      "</w:document>";
  const auto start = std::chrono::steady_clock::now();
  const auto doc = parse_docx(make_zip({{"word/document.xml", xml}}));
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(dump(doc->model), "P:0:before & after\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(DocxParser, DeepNestingOnASmallStack) {
  std::string body;
  for (int i = 0; i < 200000; ++i) body += "<w:customXml>";
  body += para("deep");
  for (int i = 0; i < 200000; ++i) body += "</w:customXml>";
  body += para("after");
  ParseLimits limits;
  limits.max_compression_ratio = 1e6;  // the nesting compresses very well
  const auto doc =
      testing::parse_on_small_stack(std::size_t{256} << 10U, make_docx(body), kDocxType, limits);
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(dump(doc->model), "P:0:deep\nP:0:after\n");
}

TEST(DocxParser, EmptyBody) {
  const auto doc = parse_docx(make_docx(para(" ")));
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, "empty_document");
}

}  // namespace
}  // namespace enkisys::rag
