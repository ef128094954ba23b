// The Indexer and the index files: saved indexes load without a rebuild, damaged or stale ones
// are brought back in line with the store, languages are told apart, crashing jobs end.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>

#include "rag_fixture.hpp"

namespace enkisys::rag::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using db::Backend;

class IndexerTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
    store_ = std::make_unique<db::testing::TestStore>(GetParam());
  }
  std::unique_ptr<RagFixture> start() {
    return std::make_unique<RagFixture>(*store_, FixtureOptions{}, dir_.path());
  }
  std::unique_ptr<db::testing::TestStore> store_;
  core::testing::TempDir dir_;
};

// A lexical search: exact membership (the vector retriever also returns weak neighbours).
std::string query(const std::string& q) {
  return json::serialize(json::object{{"query", q}, {"mode", "bm25"}});
}

TEST_P(IndexerTest, SavedIndexesLoadWithoutRebuildingAndAnswerTheSame) {
  std::string cid;
  std::vector<std::string> before;
  {
    auto rag = start();
    cid = rag->collection("u", "docs");
    for (int i = 0; i < 6; ++i) {
      ASSERT_EQ(rag->add_text("u", cid, "Doc " + std::to_string(i),
                              "Entry " + std::to_string(i) + " about lanterns and harbours " +
                                  std::string(static_cast<std::size_t>(i), '!'))
                    .status,
                202);
    }
    rag->drain();
    before = RagFixture::result_docs(rag->search("u", query("lanterns harbours")));
    rag->indexer().save();
  }
  ASSERT_TRUE(fs::exists(dir_.path() / "index" / cid / "bm25.idx"));
  auto rag = start();  // start_up: loads the files, reconcile finds nothing to do
  EXPECT_EQ(rag->indexer().reconcile(), 0U);
  EXPECT_EQ(RagFixture::result_docs(rag->search("u", query("lanterns harbours"))), before);
  EXPECT_EQ(rag->indexes().find(cid)->chunk_count(), 6U);
}

TEST_P(IndexerTest, DamagedOrStaleIndexFilesAreRebuiltFromTheStore) {
  std::string cid;
  std::string late;
  {
    auto rag = start();
    cid = rag->collection("u", "docs");
    ASSERT_EQ(rag->add_text("u", cid, "Early", "The albatross migrates in spring.").status, 202);
    rag->drain();
    rag->indexer().save();
    // Ready after the last save: the files do not know it (a crash before the next save).
    const auto r = rag->add_text("u", cid, "Late", "The pelican nests in autumn.");
    late = std::string(r.body.at("id").as_string());
    rag->drain();
  }
  {
    auto rag = start();
    EXPECT_EQ(RagFixture::result_docs(rag->search("u", query("pelican"))),
              std::vector<std::string>{late});
    rag->indexer().save();
  }
  // Flip one byte of the BM25 file: refused, rebuilt, still answering.
  const fs::path bm25 = dir_.path() / "index" / cid / "bm25.idx";
  {
    std::fstream f(bm25, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(bm25) / 2));
    f.put('\x5a');
  }
  auto rag = start();
  EXPECT_EQ(RagFixture::result_docs(rag->search("u", query("pelican"))),
            std::vector<std::string>{late});
  EXPECT_EQ(RagFixture::result_docs(rag->search("u", query("albatross"))).size(), 1U);
  // A document deleted by another instance leaves this one's index at the next reconcile.
  store_->open()->query("DELETE FROM rag_chunks WHERE document_id = $1", {late});
  store_->open()->query("DELETE FROM rag_documents WHERE id = $1", {late});
  EXPECT_EQ(rag->indexer().reconcile(), 1U);
  EXPECT_TRUE(RagFixture::result_docs(rag->search("u", query("pelican"))).empty());
}

TEST_P(IndexerTest, EachDocumentIsAnalysedInItsLanguage) {
  auto rag = start();
  const std::string cid = rag->collection("u", "mixed");
  const auto es = rag->add_text(
      "u", cid, "Copias",
      "Las copias de seguridad de la base de datos se guardan cada noche en el servidor.");
  const auto en = rag->add_text("u", cid, "Copies", "The copies of the reports are printed.");
  rag->drain();
  auto got = rag->as("u", "GET",
                     rag->documents_url(cid) + "/" + std::string(es.body.at("id").as_string()));
  EXPECT_EQ(got.body.at("language"), "es");
  got = rag->as("u", "GET",
                rag->documents_url(cid) + "/" + std::string(en.body.at("id").as_string()));
  EXPECT_EQ(got.body.at("language"), "en");
  // Spanish stemming: "guardada" and "servidores" reach "guardan" and "servidor".
  const auto r = rag->search("u", R"({"query":"copia guardada servidores","mode":"bm25"})");
  ASSERT_FALSE(RagFixture::result_docs(r).empty()) << r.raw;
  EXPECT_EQ(RagFixture::result_docs(r)[0], std::string(es.body.at("id").as_string()));
  // A collection set to one language analyses every document in it.
  EXPECT_EQ(rag->as("u", "PATCH", "/api/rag/collections/" + cid, R"({"language":"en"})").status,
            200);
}

TEST_P(IndexerTest, AJobThatKeepsCrashingFailsInsteadOfLoopingForever) {
  auto rag = start();
  const std::string cid = rag->collection("u", "docs");
  const auto up = rag->add_text("u", cid, "Poison", "a document whose job keeps dying");
  const std::string id(up.body.at("id").as_string());
  for (int life = 0; life < 3; ++life) {  // claimed, then the process "dies" and comes back
    auto job = rag->store().claim_next();
    ASSERT_TRUE(job.has_value());
    EXPECT_EQ(job->document.attempts, life + 1);
    EXPECT_EQ(rag->store().reset_own_claims(), 1);
  }
  EXPECT_FALSE(rag->store().claim_next().has_value());
  const auto r = rag->as("u", "GET", rag->documents_url(cid) + "/" + id);
  EXPECT_EQ(r.body.at("status"), "failed");
  EXPECT_EQ(r.body.at("error").at("code"), "ingest_crashed");
}

ENKISYS_DB_ON_BOTH_BACKENDS(IndexerTest);

}  // namespace
}  // namespace enkisys::rag::testing
