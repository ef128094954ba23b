#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "enkisys/rag/parse.hpp"
#include "fixtures.hpp"

namespace enkisys::rag {
namespace {

using testing::dump;
using testing::make_pdf;
using testing::parse_bytes;
using testing::PdfPage;

const std::vector<PdfPage> kPages{
    {{{"Alpha first line", "alpha second line"}, {"Alpha next paragraph"}}},
    {{{"Beta page text"}}},
    {{{"Gamma (parens) text"}}}};

TEST(PdfParser, PageBreaksBeforeEachPageAndMetadataTitle) {
  const auto doc = parse_bytes(make_pdf(kPages, "Quarterly Report"), "application/pdf", "q.pdf");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->pages, 3U);
  EXPECT_EQ(doc->model.title, "Quarterly Report");
  EXPECT_EQ(dump(doc->model),
            "B:1:\n"
            "P:0:Alpha first line alpha second line\n"
            "P:0:Alpha next paragraph\n"
            "B:2:\n"
            "P:0:Beta page text\n"
            "B:3:\n"
            "P:0:Gamma (parens) text\n");
  const auto untitled = parse_bytes(make_pdf(kPages), "", "scan.pdf");
  ASSERT_TRUE(untitled);
  EXPECT_EQ(untitled->model.title, "scan");
}

TEST(PdfParser, TooManyPages) {
  ParseLimits limits;
  limits.max_pages = 2;
  const auto doc = parse_bytes(make_pdf(kPages), "application/pdf", {}, limits);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, "too_many_pages");
  EXPECT_EQ(doc.error().kind, core::ErrorKind::kUnprocessable);
}

TEST(PdfParser, CorruptIsRefusedSilently) {
  std::string damaged = make_pdf(kPages);
  damaged.resize(damaged.size() / 3);
  for (const std::string& bytes :
       {std::string("%PDF-1.7\ngarbage"), damaged, std::string("not a pdf at all")}) {
    ::testing::internal::CaptureStderr();
    const auto doc = parse_bytes(bytes, "application/pdf");
    const std::string stderr_text = ::testing::internal::GetCapturedStderr();
    ASSERT_FALSE(doc);
    EXPECT_TRUE(doc.error().code == "corrupt_pdf" || doc.error().code == "empty_document")
        << doc.error().code;
    EXPECT_EQ(stderr_text, "");
  }
  const auto garbage = parse_bytes("%PDF-1.7\ngarbage", "application/pdf");
  EXPECT_EQ(garbage.error().code, "corrupt_pdf");
}

TEST(PdfParser, LockedByAPassword) {
  const auto doc = parse_bytes(make_pdf(kPages, "t", true), "application/pdf");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, "encrypted_pdf");
}

// A real encryption (AES-256) by qpdf (deps/apt-test.txt), when it is installed.
TEST(PdfParser, LockedByQpdf) {
  if (std::system("qpdf --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "qpdf not installed";
  const auto plain = testing::write_temp("plain.pdf", make_pdf(kPages));
  const auto locked = plain.string() + ".locked.pdf";
  const std::string cmd = "qpdf --encrypt user-pw owner-pw 256 -- '" + plain.string() + "' '" +
                          locked + "' > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ParseInput input;
  input.path = locked;
  const auto doc = parse_document(input);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, "encrypted_pdf");
}

}  // namespace
}  // namespace enkisys::rag
