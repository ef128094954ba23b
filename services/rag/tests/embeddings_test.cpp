// The OpenAI-compatible embeddings client against a scripted fake endpoint the test starts:
// batching, order by index, retries (429 with Retry-After, 5xx), refusals, dimension checks; and
// the service indexing and searching with remote vectors.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <mutex>

#include "rag_fixture.hpp"

namespace enkisys::rag::testing {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

// A fake embeddings API: 16-dim bags of hashed words; `script` answers come first.
class FakeEmbeddings {
 public:
  struct Scripted {
    unsigned status;
    std::string body;
    std::string retry_after;
  };
  FakeEmbeddings()
      : server_([this](core::Router& r) {
          r.add(http::verb::post, "/v1/embeddings",
                [this](core::Request& req, core::RequestContext&)
                    -> boost::asio::awaitable<core::Response> { co_return answer(req); });
        }) {}

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()) + "/v1"; }
  void script(Scripted s) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(s));
  }
  int requests() const { return requests_.load(); }
  std::string last_authorization() const {
    std::lock_guard lock(mu_);
    return authorization_;
  }
  std::size_t dim = 16;
  bool reverse = true;  // answer items in reverse order (the client must use "index")

  static std::vector<float> embed(const std::string& text, std::size_t dim) {
    std::vector<float> v(dim, 0.0F);
    std::string word;
    auto flush = [&] {
      if (word.size() > 2) v[std::hash<std::string>{}(word) % dim] += 1.0F;
      word.clear();
    };
    for (const char c : text) {
      if (std::isalpha(static_cast<unsigned char>(c)) != 0) {
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else {
        flush();
      }
    }
    flush();
    v[0] += 0.01F;
    return v;
  }

 private:
  core::Response answer(const core::Request& req) {
    requests_.fetch_add(1);
    Scripted s{200, "", ""};
    {
      std::lock_guard lock(mu_);
      authorization_ = std::string(req[http::field::authorization]);
      if (!script_.empty()) {
        s = script_.front();
        script_.erase(script_.begin());
      }
    }
    if (s.status == 200) {
      const auto in = json::parse(req.body()).as_object();
      json::array data;
      const auto& inputs = in.at("input").as_array();
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        json::array e;
        for (const float x : embed(std::string(inputs[i].as_string()), dim)) e.emplace_back(x);
        data.emplace_back(json::object{{"object", "embedding"}, {"index", i}, {"embedding", e}});
      }
      if (reverse) std::reverse(data.begin(), data.end());
      s.body = json::serialize(json::object{{"data", data}, {"model", in.at("model")}});
    }
    core::Response res{static_cast<http::status>(s.status), 11};
    res.set(http::field::content_type, "application/json");
    if (!s.retry_after.empty()) res.set(http::field::retry_after, s.retry_after);
    res.body() = s.body;
    res.prepare_payload();
    return res;
  }

  mutable std::mutex mu_;
  std::vector<Scripted> script_;
  std::string authorization_;
  std::atomic<int> requests_{0};
  core::testing::TestServer server_;
};

// Runs one embed() to completion. Every call of a test uses the same io_context: the client's
// pooled connections belong to the context that opened them (client.hpp).
core::Expected<std::vector<std::vector<float>>> run(EmbeddingsClient& c,
                                                    std::vector<std::string> texts) {
  static boost::asio::io_context ioc;
  auto f = boost::asio::co_spawn(ioc, c.embed(std::move(texts)), boost::asio::use_future);
  ioc.restart();
  ioc.run();
  return f.get();
}

EmbeddingsOptions options_for(const FakeEmbeddings& fake) {
  EmbeddingsOptions o;
  o.base_url = fake.url() + "/";
  o.model = "fake-model";
  o.api_key = "sk-test-secret-key";
  o.batch_size = 2;
  o.max_attempts = 3;
  o.initial_backoff = std::chrono::milliseconds(1);
  o.max_backoff = std::chrono::milliseconds(50);
  return o;
}

TEST(EmbeddingsClientTest, BatchesKeepTheirOrderAndRetryOn429And5xx) {
  FakeEmbeddings fake;
  fake.script({429, R"({"error":{"message":"slow down"}})", "0"});
  fake.script({503, "overloaded", ""});
  core::HttpClient http;
  EmbeddingsClient client(http, options_for(fake));
  const std::vector<std::string> texts{"alpha words", "beta words", "gamma", "delta", "epsilon"};
  auto got = run(client, texts);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ((*got)[i], FakeEmbeddings::embed(texts[i], 16)) << i;
  }
  EXPECT_EQ(fake.requests(), 3 + 2);  // three batches of at most two, two retried answers
  EXPECT_EQ(fake.last_authorization(), "Bearer sk-test-secret-key");
  EXPECT_EQ(client.dimension(), 16U);
}

TEST(EmbeddingsClientTest, RefusalsAreNotRetriedAndNeverShowTheKey) {
  FakeEmbeddings fake;
  fake.script({401, R"({"error":{"message":"invalid api key sk-test-secret-key"}})", ""});
  core::HttpClient http;
  auto o = options_for(fake);
  EmbeddingsClient client(http, o);
  auto got = run(client, {"x"});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, "embeddings_failed");
  EXPECT_EQ(fake.requests(), 1);
  EXPECT_NE(got.error().message.find("401"), std::string::npos);

  // Retries end: three 500s in a row is an error after max_attempts.
  for (int i = 0; i < 3; ++i) fake.script({500, "boom", ""});
  got = run(client, {"y"});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(fake.requests(), 1 + 3);
}

TEST(EmbeddingsClientTest, MalformedAnswersAndDimensionChangesAreRefused) {
  FakeEmbeddings fake;
  core::HttpClient http;
  EmbeddingsClient client(http, options_for(fake));
  ASSERT_TRUE(run(client, {"first"}).ok());
  fake.dim = 8;  // the model behind the URL changed
  auto got = run(client, {"second"});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, "embeddings_invalid");
  for (const char* body : {R"({"data":[]})", R"(not json)", R"({"data":[{"embedding":["a"]}]})",
                           R"({"data":[{"index":7,"embedding":[1,2]}]})"}) {
    fake.script({200, body, ""});
    auto bad = run(client, {"third"});
    EXPECT_FALSE(bad.ok()) << body;
  }
}

TEST(EmbeddingsClientTest, TheServiceIndexesAndSearchesWithRemoteVectors) {
  FakeEmbeddings fake;
  db::testing::TestStore store(db::Backend::kSqlite);
  FixtureOptions o;
  o.embeddings_base_url = fake.url();
  RagFixture rag(store, o);
  const std::string cid = rag.collection("u", "docs");
  const auto a = rag.add_text("u", cid, "Boats", "sailing boats harbour anchor");
  const auto b = rag.add_text("u", cid, "Trains", "railway trains station platform");
  ASSERT_EQ(rag.drain(), 2);
  const auto r = rag.search("u", R"({"query":"trains platform","mode":"vector"})");
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_FALSE(RagFixture::result_docs(r).empty());
  EXPECT_EQ(RagFixture::result_docs(r)[0], std::string(b.body.at("id").as_string()));
  EXPECT_FALSE(r.body.at("results").at(0).at("ranks").at("vector").is_null());

  // The endpoint refuses: the document fails with the reason, nothing half-indexed.
  fake.script({400, R"({"error":{"message":"input too long"}})", ""});
  const auto c = rag.add_text("u", cid, "Planes", "airport runway planes");
  ASSERT_EQ(rag.drain(), 1);
  const auto got =
      rag.as("u", "GET", rag.documents_url(cid) + "/" + std::string(c.body.at("id").as_string()));
  EXPECT_EQ(got.body.at("status"), "failed");
  EXPECT_EQ(got.body.at("error").at("code"), "embeddings_failed");
  EXPECT_TRUE(
      RagFixture::result_docs(rag.search("u", R"({"query":"runway","mode":"bm25"})")).empty());
  (void)a;
}

}  // namespace
}  // namespace enkisys::rag::testing
