#include "enkisys/rag/bm25_index.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "enkisys/rag/text.hpp"

namespace enkisys::rag {
namespace {

ChunkRecord record(const std::string& id, const std::string& doc, const std::string& text,
                   const std::string& heading = "", std::map<std::string, std::string> meta = {}) {
  Analyzer a(Language::kEnglish);
  return {id, doc, std::move(meta), a.terms(text), a.terms(heading)};
}

std::vector<std::string> query(const std::string& text) {
  return Analyzer(Language::kEnglish).terms(text);
}

class Bm25IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(index_.add(
        record("a#0", "a", "vacuum reclaims storage of dead rows", "Vacuum", {{"lang", "en"}})));
    ASSERT_TRUE(index_.add(
        record("b#0", "b", "savepoint rolls back part of a transaction", "", {{"lang", "en"}})));
    ASSERT_TRUE(index_.add(record("c#0", "c", "the planner uses statistics; vacuum too", "Planner",
                                  {{"lang", "es"}})));
    path_ = (std::filesystem::temp_directory_path() /
             ("bm25-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  Bm25Index index_;
  std::string path_;
};

TEST_F(Bm25IndexTest, RanksByBm25WithHeadingBoost) {
  const auto hits = index_.search(query("vacuum"), 10);
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_EQ(hits[0].chunk_id, "a#0");  // "vacuum" in the heading too
  EXPECT_GT(hits[0].score, hits[1].score);
  EXPECT_TRUE(index_.search(query("nonexistentword"), 10).empty());
  EXPECT_TRUE(index_.search({}, 10).empty());
}

TEST_F(Bm25IndexTest, FiltersByDocumentAndMetadata) {
  SearchFilter by_doc;
  by_doc.doc_ids = {"c"};
  const auto hits = index_.search(query("vacuum"), 10, by_doc);
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].doc_id, "c");
  SearchFilter by_meta;
  by_meta.metadata = {{"lang", "en"}};
  const auto meta_hits = index_.search(query("vacuum"), 10, by_meta);
  ASSERT_EQ(meta_hits.size(), 1U);
  EXPECT_EQ(meta_hits[0].doc_id, "a");
}

TEST_F(Bm25IndexTest, RemoveDocumentAndRefuseDuplicates) {
  EXPECT_EQ(index_.add(record("a#0", "a", "again")).error().code, "duplicate_chunk");
  EXPECT_EQ(index_.add(record("", "a", "x")).error().code, "invalid_chunk");
  EXPECT_EQ(index_.remove_document("a"), 1U);
  EXPECT_EQ(index_.remove_document("a"), 0U);
  EXPECT_EQ(index_.size(), 2U);
  const auto hits = index_.search(query("vacuum"), 10);
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].doc_id, "c");
  EXPECT_TRUE(index_.add(record("a#0", "a", "vacuum back")));  // the id is free again
}

TEST_F(Bm25IndexTest, SaveLoadRoundTrip) {
  index_.remove_document("b");
  ASSERT_TRUE(index_.save(path_));
  const auto loaded = Bm25Index::load(path_);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->size(), 2U);
  const auto a = index_.search(query("vacuum statistics"), 10);
  const auto b = loaded->search(query("vacuum statistics"), 10);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].chunk_id, b[i].chunk_id);
    EXPECT_FLOAT_EQ(a[i].score, b[i].score);
  }
}

TEST_F(Bm25IndexTest, LoadRefusesADamagedFile) {
  ASSERT_TRUE(index_.save(path_));
  std::string bytes;
  {
    std::ifstream in(path_, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto write = [&](const std::string& b) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << b;
  };
  for (const std::size_t at :
       {std::size_t{0}, std::size_t{9}, bytes.size() / 2, bytes.size() - 1}) {
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5A);
    write(damaged);
    const auto loaded = Bm25Index::load(path_);
    ASSERT_FALSE(loaded) << "flipped byte " << at;
    EXPECT_EQ(loaded.error().code, "index_corrupt");
  }
  write(bytes.substr(0, bytes.size() - 3));
  EXPECT_EQ(Bm25Index::load(path_).error().code, "index_corrupt");
  write("");
  EXPECT_EQ(Bm25Index::load(path_).error().code, "index_corrupt");
  std::filesystem::remove(path_);
  EXPECT_EQ(Bm25Index::load(path_).error().code, "index_missing");
}

}  // namespace
}  // namespace enkisys::rag
