#include <gtest/gtest.h>

#include <string>

#include "enkisys/rag/parse.hpp"
#include "fixtures.hpp"

namespace enkisys::rag {
namespace {

using testing::make_pdf;
using testing::make_zip;
using testing::parse_bytes;

core::Expected<DocumentFormat> detect(const std::string& bytes, std::string type,
                                      std::string filename = {}) {
  ParseInput input;
  input.content_type = std::move(type);
  input.filename = std::move(filename);
  input.data = bytes;
  return detect_format(input);
}

TEST(DetectFormat, NamesAndMimeTypes) {
  EXPECT_EQ(format_name(DocumentFormat::kText), "text");
  EXPECT_EQ(format_name(DocumentFormat::kMarkdown), "markdown");
  EXPECT_EQ(format_name(DocumentFormat::kHtml), "html");
  EXPECT_EQ(format_name(DocumentFormat::kPdf), "pdf");
  EXPECT_EQ(format_name(DocumentFormat::kDocx), "docx");
  EXPECT_EQ(mime_type_of(DocumentFormat::kPdf), "application/pdf");
}

TEST(DetectFormat, DeclaredTypeThenExtensionThenSniff) {
  EXPECT_EQ(*detect("hello", "text/plain; charset=utf-8"), DocumentFormat::kText);
  EXPECT_EQ(*detect("# hi", "TEXT/Markdown"), DocumentFormat::kMarkdown);
  EXPECT_EQ(*detect("# hi", "text/plain", "notes.md"), DocumentFormat::kMarkdown);
  EXPECT_EQ(*detect("# hi", "application/octet-stream", "notes.MARKDOWN"),
            DocumentFormat::kMarkdown);
  EXPECT_EQ(*detect("<p>x</p>", "", "C:\\docs\\page.htm"), DocumentFormat::kHtml);
  EXPECT_EQ(*detect("  <!DOCTYPE html><p>x</p>", ""), DocumentFormat::kHtml);
  EXPECT_EQ(*detect("plain words", ""), DocumentFormat::kText);
}

TEST(DetectFormat, MagicWinsOverDeclaredTypeAndExtension) {
  const std::string pdf = make_pdf({{{{"Hello"}}}});
  EXPECT_EQ(*detect(pdf, "text/plain", "notes.txt"), DocumentFormat::kPdf);
  const auto parsed = parse_bytes(pdf, "text/plain", "notes.txt");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->format, DocumentFormat::kPdf);
  EXPECT_EQ(parsed->mime_type, "application/pdf");
  const std::string zip = make_zip({{"word/document.xml", "<x/>"}});
  EXPECT_EQ(*detect(zip, "application/octet-stream", "report.docx"), DocumentFormat::kDocx);
}

TEST(DetectFormat, RefusesOtherTypesNamingThem) {
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(20, '\0');
  for (const auto& [bytes, type, name, named] :
       std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
           {png, "text/plain", "a.txt", "image/png"},
           {"GIF89a....", "", "", "image/gif"},
           {std::string("\x7F"
                        "ELF\x02\x01",
                        6),
            "", "tool", "application/x-executable"},
           {make_zip({{"a.txt", "x"}}), "application/zip", "a.zip", "application/zip"},
           {"<svg/>", "image/svg+xml", "", "image/svg+xml"},
           {"data", "", "movie.mp4", ".mp4"},
           {std::string("MZ\x90\0\x03\0\0\0", 8), "", "", "application/octet-stream"}}) {
    const auto format = detect(bytes, type, name);
    ASSERT_FALSE(format) << named;
    EXPECT_EQ(format.error().kind, core::ErrorKind::kUnsupportedMediaType);
    EXPECT_EQ(core::http_status_of(format.error().kind), 415U);
    EXPECT_EQ(format.error().code, "unsupported_media_type");
    EXPECT_NE(format.error().message.find(named), std::string::npos) << format.error().message;
  }
  const auto parsed = parse_bytes(png, "image/png");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, "unsupported_media_type");
}

TEST(DetectFormat, ReadsTheHeadOfAFile) {
  ParseInput input;
  input.path = testing::write_temp("doc.bin", make_pdf({{{{"Hello"}}}}));
  EXPECT_EQ(*detect_format(input), DocumentFormat::kPdf);
}

}  // namespace
}  // namespace enkisys::rag
