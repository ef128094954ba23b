// PDF and DOCX through the whole service: uploaded as multipart, parsed, chunked by page and
// heading, found with their citations; encrypted or bomb-shaped files refused, nothing written.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "fixtures.hpp"
#include "rag_fixture.hpp"

namespace enkisys::rag::testing {
namespace {

namespace json = boost::json;
using db::Backend;

constexpr const char* kDocx =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

std::string para(const std::string& text, const std::string& style = {}) {
  return "<w:p>" + (style.empty() ? "" : "<w:pPr><w:pStyle w:val=\"" + style + "\"/></w:pPr>") +
         "<w:r><w:t>" + text + "</w:t></w:r></w:p>";
}

std::string search(const std::string& q) {
  return json::serialize(json::object{{"query", q}, {"mode", "bm25"}});
}

class FormatsTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
    store_ = std::make_unique<db::testing::TestStore>(GetParam());
    FixtureOptions o;
    o.max_upload_bytes = 4 * 1024 * 1024;
    rag_ = std::make_unique<RagFixture>(*store_, o);
    cid_ = rag_->collection("u", "papers");
  }
  std::int64_t documents() {
    return store_->open()
        ->query("SELECT COUNT(*) FROM rag_documents WHERE collection_id = $1", {cid_})
        .one()
        .i64(0);
  }
  std::unique_ptr<db::testing::TestStore> store_;
  std::unique_ptr<RagFixture> rag_;
  std::string cid_;
};

TEST_P(FormatsTest, APdfPassageIsCitedWithItsPage) {
  const std::string pdf =
      make_pdf({PdfPage{{{"Observatory handbook."}, {"General rules for visitors."}}},
                PdfPage{{{"The telescope dome opens at dusk"}, {"when humidity is low."}}}},
               "Observatory Handbook");
  const auto up = rag_->add_file("u", cid_, "handbook.pdf", "application/pdf", pdf);
  ASSERT_EQ(up.status, 202) << up.raw;
  EXPECT_EQ(up.body.at("format"), "pdf");
  EXPECT_EQ(up.body.at("pages"), 2);
  EXPECT_EQ(up.body.at("title"), "Observatory Handbook");
  ASSERT_EQ(rag_->drain(), 1);
  const auto r = rag_->search("u", search("when does the telescope dome open"));
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_FALSE(r.body.at("results").as_array().empty()) << r.raw;
  const auto& hit = r.body.at("results").at(0);
  EXPECT_EQ(hit.at("location").at("page"), 2) << r.raw;
  EXPECT_NE(std::string(hit.at("text").as_string()).find("dome opens at dusk"), std::string::npos);
}

TEST_P(FormatsTest, ADocxKeepsItsHeadings) {
  const std::string docx =
      make_docx(para("Operations Manual", "Title") + para("Backups", "Heading1") +
                    para("Snapshots of the volume are taken every four hours.") +
                    para("Restore", "Heading2") + para("Restores start from the latest snapshot."),
                "Operations Manual");
  const auto up = rag_->add_file("u", cid_, "manual.docx", kDocx, docx);
  ASSERT_EQ(up.status, 202) << up.raw;
  EXPECT_EQ(up.body.at("format"), "docx");
  ASSERT_EQ(rag_->drain(), 1);
  const auto r = rag_->search("u", search("how often are snapshots taken"));
  ASSERT_FALSE(r.body.at("results").as_array().empty()) << r.raw;
  EXPECT_EQ(r.body.at("results").at(0).at("heading_path").at(0), "Backups") << r.raw;
}

TEST_P(FormatsTest, LockedPdfsAndZipBombsAreRefusedAndWriteNothing) {
  const auto locked =
      rag_->add_file("u", cid_, "secret.pdf", "application/pdf",
                     make_pdf({PdfPage{{{"classified"}}}}, "Secret", /*locked=*/true));
  EXPECT_EQ(locked.status, 422) << locked.raw;
  EXPECT_EQ(locked.body.at("error").at("code"), "encrypted_pdf");
  // 256 MiB of zeros declared honestly: a small upload, refused while inflating (ratio cap).
  const std::string bomb = make_zip({{"word/document.xml", "", 256ULL << 20U}});
  const auto b = rag_->add_file("u", cid_, "bomb.docx", kDocx, bomb);
  EXPECT_EQ(b.status, 422) << b.raw.substr(0, 300);
  EXPECT_EQ(b.body.at("error").at("code"), "archive_too_large");
  EXPECT_EQ(documents(), 0);
  EXPECT_EQ(rag_->drain(), 0);
}

ENKISYS_DB_ON_BOTH_BACKENDS(FormatsTest);

}  // namespace
}  // namespace enkisys::rag::testing
