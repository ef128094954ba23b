// kill -9 of the real enkisys-rag during ingestion, on both backends: after a restart on the same
// data every document is either ready and fully searchable (each of its chunks exactly once) or
// back in the queue and then processed — never half.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

#include "rag_fixture.hpp"

namespace enkisys::rag::testing {
namespace {

namespace json = boost::json;
using db::Backend;

class RagDurabilityTest : public ::testing::TestWithParam<Backend> {};

core::testing::ServiceProcess start_rag(const std::string& url, const std::filesystem::path& dir) {
  return core::testing::ServiceProcess(ENKISYS_RAG_BIN, {{"PORT", "0"},
                                                         {"BIND_ADDRESS", "127.0.0.1"},
                                                         {"DATABASE_URL", url},
                                                         {"RAG_DATA_DIR", dir.string()},
                                                         {"RAG_INDEX_SAVE_INTERVAL_S", "1"},
                                                         {"ACCESS_LOG", "off"}});
}

json::value call(unsigned short port, const std::string& method, const std::string& target,
                 const std::string& body = {}) {
  const std::string raw =
      core::testing::http_request(port, method, target, body, "X-User-Id: durable\r\n");
  boost::system::error_code ec;
  return json::parse(core::testing::body_of(raw), ec);
}

// A document of `words` distinct-ish words, so each takes a while to index.
std::string long_text(int n, int words) {
  std::string t = "# Report " + std::to_string(n) + "\n\n";
  for (int i = 0; i < words; ++i) {
    t += "word" + std::to_string((i * 7919 + n) % 5000) + (i % 40 == 39 ? ".\n\n" : " ");
  }
  return t + "\n\nmarker" + std::to_string(n) + " closes the report.\n";
}

TEST_P(RagDurabilityTest, KillNineDuringIngestionLeavesNoHalfDocument) {
  ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
  db::testing::TestStore store(GetParam());
  core::testing::TempDir dir;
  constexpr int kDocs = 12;
  std::string cid;
  std::map<std::string, int> docs;  // id -> n
  {
    auto p = start_rag(store.process_url(), dir.path());
    cid = std::string(call(p.port(), "POST", "/api/rag/collections", R"({"name":"reports"})")
                          .at("id")
                          .as_string());
    for (int n = 0; n < kDocs; ++n) {
      const auto r = call(p.port(), "POST", "/api/rag/collections/" + cid + "/documents",
                          json::serialize(json::object{{"title", "Report " + std::to_string(n)},
                                                       {"text", long_text(n, 30000)}}));
      docs[std::string(r.at("id").as_string())] = n;
    }
    // Kill as soon as the first document is ready: the rest are queued or mid-way.
    ASSERT_TRUE(p.wait_for_output("\"document ready\"", std::chrono::seconds(60)));
    p.kill9();
  }
  auto p = start_rag(store.process_url(), dir.path());
  ASSERT_TRUE(p.wait_healthy());
  // Every document reaches ready (bounded wait: each poll waits for a log line or 60 s overall).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    int ready = 0;
    for (const auto& [id, n] : docs) {
      const auto d = call(p.port(), "GET", "/api/rag/collections/" + cid + "/documents/" + id);
      ASSERT_NE(d.at("status"), "failed") << d;
      ready += d.at("status") == "ready" ? 1 : 0;
    }
    if (ready == kDocs) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "only " << ready << " ready";
    p.wait_for_output("\"document ready\"", std::chrono::seconds(2));
  }
  for (const auto& [id, n] : docs) {
    const auto d = call(p.port(), "GET", "/api/rag/collections/" + cid + "/documents/" + id);
    const auto chunks = d.at("chunks").to_number<int>();
    // Each document's own marker finds it, and its chunks are each indexed exactly once.
    const auto r = call(p.port(), "POST", "/api/rag/search",
                        json::serialize(json::object{{"query", "marker" + std::to_string(n)},
                                                     {"collections", json::array{cid}},
                                                     {"mode", "bm25"},
                                                     {"k", 50}}));
    ASSERT_FALSE(r.at("results").as_array().empty()) << r;
    EXPECT_EQ(r.at("results").at(0).at("document_id"), json::value(id));
    const auto filtered = call(
        p.port(), "POST", "/api/rag/search",
        json::serialize(json::object{{"query", "word" + std::to_string((7919 + n) % 5000)},
                                     {"filter", json::object{{"document_ids", json::array{id}}}},
                                     {"mode", "bm25"},
                                     {"k", 50}}));
    std::set<std::string> seen;
    for (const auto& x : filtered.at("results").as_array()) {
      EXPECT_TRUE(seen.insert(std::string(x.at("chunk_id").as_string())).second);
    }
    EXPECT_LE(static_cast<int>(seen.size()), chunks);
  }
  EXPECT_EQ(p.terminate(), 0);
}

ENKISYS_DB_ON_BOTH_BACKENDS(RagDurabilityTest);

}  // namespace
}  // namespace enkisys::rag::testing
