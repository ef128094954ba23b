// Save/load of the vector index (with and without its HNSW graph) and of the built-in embedder.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>

#include "enkisys/rag/embedder.hpp"
#include "enkisys/rag/text.hpp"
#include "enkisys/rag/vector_index.hpp"

namespace enkisys::rag {
namespace {

class PersistenceTest : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove(path_); }

  std::string bytes() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void write(const std::string& b) const {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << b;
  }
  // Every single flipped byte and every truncation of the saved file is refused as corrupt.
  void expect_damage_refused(const std::function<core::Status()>& load) const {
    const std::string good = bytes();
    ASSERT_GT(good.size(), 32U);
    for (std::size_t at = 0; at < good.size(); ++at) {
      std::string damaged = good;
      damaged[at] = static_cast<char>(damaged[at] ^ 0x21);
      write(damaged);
      const auto st = load();
      ASSERT_FALSE(st) << "flipped byte " << at << " of " << good.size();
      ASSERT_EQ(st.error().code, "index_corrupt");
    }
    for (std::size_t len = 0; len < good.size(); len += 1 + len / 4) {
      write(good.substr(0, len));
      const auto st = load();
      ASSERT_FALSE(st) << "truncated to " << len;
      ASSERT_EQ(st.error().code, "index_corrupt");
    }
    write(good);
    ASSERT_TRUE(load());
    std::filesystem::remove(path_);
    EXPECT_EQ(load().error().code, "index_missing");
  }

  const std::string path_ = (std::filesystem::temp_directory_path() /
                             ("enkisys-rag-persist-" + std::to_string(::getpid()) + ".idx"))
                                .string();
};

std::vector<float> random_vector(std::mt19937& rng, std::size_t dim) {
  std::normal_distribution<float> n;
  std::vector<float> v(dim);
  for (auto& x : v) x = n(rng);
  return v;
}

VectorIndex filled_index(std::size_t exact_threshold, std::size_t count, std::size_t dim) {
  VectorIndexOptions o;
  o.dim = dim;
  o.exact_threshold = exact_threshold;
  o.hnsw_m = 8;
  o.ef_search = 32;
  o.model = kBuiltinEmbedderModel;
  auto index = VectorIndex::create(o);
  std::mt19937 rng(11);
  for (std::size_t i = 0; i < count; ++i) {
    EXPECT_TRUE(
        index->add("c" + std::to_string(i), "d" + std::to_string(i % 7), random_vector(rng, dim)));
  }
  EXPECT_EQ(index->remove_document("d3"), (count + 3) / 7);  // dead slots are saved too
  return std::move(*index);
}

void expect_same_results(const VectorIndex& a, const VectorIndex& b) {
  std::mt19937 rng(5);
  for (int q = 0; q < 20; ++q) {
    const auto v = random_vector(rng, a.dim());
    for (const auto& filter : {std::unordered_set<std::string>{}, {"d1", "d2"}}) {
      const auto x = a.search(v, 10, filter);
      const auto y = b.search(v, 10, filter);
      ASSERT_EQ(x.size(), y.size());
      for (std::size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(x[i].chunk_id, y[i].chunk_id);
        EXPECT_EQ(x[i].doc_id, y[i].doc_id);
        EXPECT_EQ(x[i].score, y[i].score);
      }
    }
  }
}

TEST_F(PersistenceTest, VectorIndexRoundTripsWithAndWithoutItsGraph) {
  for (const std::size_t threshold : {std::size_t{100000}, std::size_t{50}}) {
    const VectorIndex index = filled_index(threshold, 400, 24);
    ASSERT_TRUE(index.save(path_));
    auto loaded = VectorIndex::load(path_);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->uses_hnsw(), threshold == 50);
    EXPECT_EQ(loaded->size(), index.size());
    EXPECT_EQ(loaded->options().model, "builtin-hashing-v1");
    EXPECT_EQ(loaded->options().hnsw_m, 8U);
    EXPECT_EQ(loaded->options().ef_search, 32U);
    EXPECT_EQ(loaded->vector_of("c3"), nullptr);  // removed before the save
    expect_same_results(index, *loaded);
    // The loaded index keeps working: add, remove, search.
    ASSERT_TRUE(loaded->add("new", "dn", std::vector<float>(24, 1.0F)));
    EXPECT_EQ(loaded->search(std::vector<float>(24, 1.0F), 1)[0].chunk_id, "new");
    EXPECT_EQ(loaded->add("c1", "d1", std::vector<float>(24, 1.0F)).error().code,
              "duplicate_chunk");
    EXPECT_EQ(loaded->remove_document("d1"),
              index.search_exact(std::vector<float>(24, 1.0F), 400, {"d1"}).size());
  }
}

// The graph holds the vectors: the file stores each vector once (the graph's level-0 block),
// and the loaded index reads vector_of/search_exact from it. A file of version 1 (vectors
// twice) is refused as corrupt, so the service rebuilds the index.
TEST_F(PersistenceTest, GraphIndexStoresEachVectorOnceAndRefusesTheOldVersion) {
  constexpr std::size_t kDim = 256;
  constexpr std::size_t kCount = 200;
  const VectorIndex index = filled_index(10, kCount, kDim);
  ASSERT_TRUE(index.uses_hnsw());
  ASSERT_TRUE(index.save(path_));
  const std::string file = bytes();
  EXPECT_LT(file.size(), kCount * kDim * sizeof(float) * 5 / 4) << "vectors stored twice";
  auto loaded = VectorIndex::load(path_);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->uses_hnsw());
  for (std::size_t i = 0; i < kCount; ++i) {
    const std::string id = "c" + std::to_string(i);
    const float* a = index.vector_of(id);
    const float* b = loaded->vector_of(id);
    ASSERT_EQ(a == nullptr, b == nullptr) << id;
    if (a != nullptr) {
      EXPECT_EQ(std::vector<float>(a, a + kDim), std::vector<float>(b, b + kDim));
    }
  }
  std::mt19937 rng(9);
  for (int q = 0; q < 5; ++q) {
    const auto v = random_vector(rng, kDim);
    const auto x = index.search_exact(v, 50, {"d1", "d3"});
    const auto y = loaded->search_exact(v, 50, {"d1", "d3"});
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].chunk_id, y[i].chunk_id);
      EXPECT_EQ(x[i].score, y[i].score);
    }
  }
  expect_same_results(index, *loaded);
  EXPECT_EQ(loaded->remove_document("d1"), (kCount + 5) / 7);
  EXPECT_EQ(loaded->vector_of("c1"), nullptr);
  EXPECT_TRUE(loaded->search_exact(random_vector(rng, kDim), 10, {"d1"}).empty());

  std::string old = file;
  const std::uint32_t version = 1;
  std::memcpy(old.data() + 8, &version, sizeof version);  // after the 8-byte magic
  write(old);
  auto refused = VectorIndex::load(path_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "index_corrupt");
}

TEST_F(PersistenceTest, VectorIndexRefusesEveryFlippedByteAndTruncation) {
  const VectorIndex index = filled_index(20, 40, 4);  // small: every byte is tried
  ASSERT_TRUE(index.uses_hnsw());
  ASSERT_TRUE(index.save(path_));
  expect_damage_refused([&]() -> core::Status {
    auto loaded = VectorIndex::load(path_);
    if (!loaded) return loaded.error();
    return core::ok_status();
  });
}

TEST_F(PersistenceTest, EmbedderRoundTripsAndRefusesDamage) {
  EmbedderOptions o;
  o.dim = 64;
  o.buckets = 256;
  auto e = HashingEmbedder::create(o);
  ASSERT_TRUE(e);
  Analyzer a(Language::kEnglish);
  e->observe(a.terms("vacuum reclaims storage of dead rows"));
  e->observe(a.terms("savepoints roll back part of a transaction"));
  ASSERT_TRUE(e->save(path_));
  auto loaded = HashingEmbedder::load(path_);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->units(), 2U);
  EXPECT_EQ(loaded->model(), "builtin-hashing-v1");
  for (const char* text : {"vacuum the storage", "roll back a savepoint", "unseen words here"}) {
    EXPECT_EQ(loaded->embed(a.terms(text)), e->embed(a.terms(text))) << text;
  }
  expect_damage_refused([&]() -> core::Status {
    auto l = HashingEmbedder::load(path_);
    if (!l) return l.error();
    return core::ok_status();
  });
}

}  // namespace
}  // namespace enkisys::rag
