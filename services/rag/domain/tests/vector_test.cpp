#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "enkisys/rag/embedder.hpp"
#include "enkisys/rag/fusion.hpp"
#include "enkisys/rag/text.hpp"
#include "enkisys/rag/vector_index.hpp"

namespace enkisys::rag {
namespace {

TEST(Embedder, UnitNormDeterministicAndSimilarForRelatedText) {
  auto e = HashingEmbedder::create({});
  ASSERT_TRUE(e);
  Analyzer a(Language::kEnglish);
  e->observe(a.terms("vacuum reclaims storage"));
  e->observe(a.terms("savepoints inside a transaction"));
  const auto v1 = e->embed(a.terms("vacuuming reclaims the storage"));
  const auto v2 = e->embed(a.terms("vacuum storage"));
  const auto v3 = e->embed(a.terms("savepoint transaction"));
  double norm = 0;
  double near = 0;
  double far = 0;
  for (std::size_t i = 0; i < v1.size(); ++i) {
    norm += static_cast<double>(v1[i] * v1[i]);
    near += static_cast<double>(v1[i] * v2[i]);
    far += static_cast<double>(v1[i] * v3[i]);
  }
  EXPECT_NEAR(norm, 1.0, 1e-4);
  EXPECT_GT(near, far + 0.3);
  EXPECT_EQ(v1, e->embed(a.terms("vacuuming reclaims the storage")));
  const auto zero = e->embed({});
  EXPECT_TRUE(std::all_of(zero.begin(), zero.end(), [](float x) { return x == 0.0F; }));
  EXPECT_EQ(HashingEmbedder::create({0}).error().code, "invalid_embedder_options");
}

std::vector<float> random_vector(std::mt19937& rng, std::size_t dim) {
  std::normal_distribution<float> n;
  std::vector<float> v(dim);
  for (auto& x : v) x = n(rng);
  return v;
}

TEST(VectorIndex, HnswAgreesWithExactSearch) {
  VectorIndexOptions o;
  o.dim = 32;
  o.exact_threshold = 500;
  auto index = VectorIndex::create(o);
  ASSERT_TRUE(index);
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(index->add("c" + std::to_string(i), "d" + std::to_string(i % 100),
                           random_vector(rng, o.dim)));
  }
  EXPECT_TRUE(index->uses_hnsw());
  double recall = 0;
  for (int q = 0; q < 50; ++q) {
    const auto v = random_vector(rng, o.dim);
    const auto approx = index->search(v, 10);
    const auto exact = index->search_exact(v, 10);
    ASSERT_EQ(exact.size(), 10U);
    for (const auto& e : exact) {
      recall += std::any_of(approx.begin(), approx.end(),
                            [&](const ScoredChunk& a) { return a.chunk_id == e.chunk_id; })
                    ? 0.1
                    : 0.0;
    }
  }
  EXPECT_GE(recall / 50, 0.95);
}

TEST(VectorIndex, FiltersRemovesAndRefusesBadVectors) {
  for (const std::size_t threshold : {std::size_t{1000}, std::size_t{1}}) {  // exact, then HNSW
    VectorIndexOptions o;
    o.dim = 3;
    o.exact_threshold = threshold;
    auto index = VectorIndex::create(o);
    ASSERT_TRUE(index->add("a", "da", {1, 0, 0}));
    ASSERT_TRUE(index->add("b", "db", {0.9F, 0.1F, 0}));
    ASSERT_TRUE(index->add("c", "dc", {0, 1, 0}));
    EXPECT_EQ(index->search({1, 0, 0}, 1)[0].chunk_id, "a");
    EXPECT_EQ(index->search({1, 0, 0}, 1, {"dc"})[0].chunk_id, "c");
    EXPECT_EQ(index->remove_document("da"), 1U);
    EXPECT_EQ(index->search({1, 0, 0}, 1)[0].chunk_id, "b");
    EXPECT_EQ(index->add("x", "d", {1, 0}).error().code, "invalid_vector");
    EXPECT_EQ(index->add("x", "d", {0, 0, 0}).error().code, "invalid_vector");
    EXPECT_EQ(index->add("x", "d", {NAN, 0, 1}).error().code, "invalid_vector");
    EXPECT_EQ(index->add("b", "d", {1, 0, 0}).error().code, "duplicate_chunk");
  }
}

void expect_same_results(const std::vector<ScoredChunk>& x, const std::vector<ScoredChunk>& y) {
  ASSERT_EQ(x.size(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].chunk_id, y[i].chunk_id);
    EXPECT_EQ(x[i].doc_id, y[i].doc_id);
    EXPECT_EQ(x[i].score, y[i].score);
  }
}

// Once the graph is built it holds the only copy of the vectors: vector_of, search_exact,
// remove and the filtered fallback read them from it and answer exactly as an index that never
// built a graph (the same vectors kept in its array).
TEST(VectorIndex, GraphBackedVectorsAnswerLikeTheExactIndex) {
  VectorIndexOptions o;
  o.dim = 16;
  o.hnsw_m = 4;
  o.exact_threshold = 10;
  auto graph = VectorIndex::create(o);
  o.exact_threshold = 100000;
  auto exact = VectorIndex::create(o);
  std::mt19937 rng(3);
  auto add = [&](int i) {
    const auto v = random_vector(rng, o.dim);
    const std::string doc = "d" + std::to_string(i % 6);
    ASSERT_TRUE(graph->add("c" + std::to_string(i), doc, v));
    ASSERT_TRUE(exact->add("c" + std::to_string(i), doc, v));
  };
  for (int i = 0; i < 9; ++i) add(i);
  EXPECT_EQ(graph->remove_document("d5"), 1U);  // c5: a slot the graph never sees
  EXPECT_EQ(exact->remove_document("d5"), 1U);
  for (int i = 9; i < 80; ++i) add(i);
  ASSERT_TRUE(graph->uses_hnsw());
  ASSERT_FALSE(exact->uses_hnsw());
  EXPECT_EQ(graph->remove_document("d4"), 13U);  // removed from the graph: marked deleted
  EXPECT_EQ(exact->remove_document("d4"), 13U);
  EXPECT_EQ(graph->size(), exact->size());
  for (int i = 0; i < 80; ++i) {
    const std::string id = "c" + std::to_string(i);
    const float* g = graph->vector_of(id);
    const float* e = exact->vector_of(id);
    ASSERT_EQ(g == nullptr, e == nullptr) << id;
    EXPECT_EQ(g == nullptr, i % 6 == 4 || i == 5) << id;
    if (g != nullptr) {
      EXPECT_EQ(std::vector<float>(g, g + o.dim), std::vector<float>(e, e + o.dim));
    }
  }
  for (int q = 0; q < 10; ++q) {
    const auto v = random_vector(rng, o.dim);
    expect_same_results(graph->search_exact(v, 80), exact->search_exact(v, 80));
    expect_same_results(graph->search_exact(v, 5, {"d1", "d4"}), exact->search(v, 5, {"d1", "d4"}));
    // d2 has 13 live chunks, fewer than k: the filtered search falls back to exact search.
    expect_same_results(graph->search(v, 14, {"d2"}), exact->search(v, 14, {"d2"}));
  }
  // Adds after the build go to the graph only and are read back from it.
  ASSERT_TRUE(graph->add("late", "dl", std::vector<float>(o.dim, 2.0F)));
  EXPECT_EQ(graph->vector_of("late")[0], 0.25F);  // unit vector of 16 equal values
  EXPECT_EQ(graph->search_exact(std::vector<float>(o.dim, 1.0F), 1)[0].chunk_id, "late");
}

TEST(Fusion, ReciprocalRankFusionCarriesEachRetrieversRank) {
  const std::vector<ScoredChunk> lexical{{"x", "dx", 9}, {"y", "dy", 5}};
  const std::vector<ScoredChunk> semantic{{"y", "dy", 0.9F}, {"z", "dz", 0.8F}};
  const auto fused = reciprocal_rank_fusion({lexical, semantic}, 60.0, 10);
  ASSERT_EQ(fused.size(), 3U);
  EXPECT_EQ(fused[0].chunk_id, "y");
  EXPECT_EQ(fused[0].ranks, (std::vector<std::size_t>{2, 1}));
  EXPECT_NEAR(fused[0].score, 1.0 / 62 + 1.0 / 61, 1e-12);
  EXPECT_EQ(fused[1].chunk_id, "x");
  EXPECT_EQ(fused[1].ranks, (std::vector<std::size_t>{1, 0}));
  EXPECT_EQ(fused[2].ranks, (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(reciprocal_rank_fusion({lexical, semantic}, 60.0, 1).size(), 1U);
  EXPECT_TRUE(reciprocal_rank_fusion({}, 60.0, 10).empty());
}

TEST(Fusion, HybridSearchFusesBothRetrieversAndHonoursTheFilter) {
  Analyzer a(Language::kEnglish);
  auto e = HashingEmbedder::create({});
  Bm25Index bm25;
  VectorIndexOptions o;
  auto vectors = VectorIndex::create(o);
  const std::vector<std::pair<std::string, std::string>> chunks{
      {"vac", "vacuum reclaims storage occupied by dead tuples"},
      {"vacuuming", "vacuuming tables regularly"},  // stem shared with the query, other words
      {"sp", "savepoints roll back part of a transaction"}};
  for (const auto& [id, text] : chunks) e->observe(a.terms(text));
  for (const auto& [id, text] : chunks) {
    ASSERT_TRUE(bm25.add({id, "d" + id, {}, a.terms(text), {}}));
    ASSERT_TRUE(vectors->add(id, "d" + id, e->embed(a.terms(text))));
  }
  const auto terms = a.terms("storage occupied by dead tuples");
  const auto lexical_only = hybrid_search(bm25, *vectors, terms, std::vector<float>(o.dim), 10);
  ASSERT_EQ(lexical_only.size(), 1U);  // a zero query vector: the BM25 ranking alone
  EXPECT_EQ(lexical_only[0].chunk_id, "vac");
  EXPECT_EQ(lexical_only[0].ranks.size(), 1U);
  const auto fused = hybrid_search(bm25, *vectors, terms, e->embed(terms), 10);
  ASSERT_GE(fused.size(), 1U);
  EXPECT_EQ(fused[0].chunk_id, "vac");
  EXPECT_EQ(fused[0].ranks, (std::vector<std::size_t>{1, 1}));
  const auto filtered =
      hybrid_search(bm25, *vectors, terms, e->embed(terms), 10, {}, SearchFilter{{"dsp"}, {}});
  ASSERT_LE(filtered.size(), 1U);
  for (const auto& f : filtered) EXPECT_EQ(f.doc_id, "dsp");
}

}  // namespace
}  // namespace enkisys::rag
