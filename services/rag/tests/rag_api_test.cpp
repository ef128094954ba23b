// The RAG API on both backends: collections and who sees them (through search too), uploads of
// every kind and their refusals (nothing written), idempotency under a race, search modes,
// filters, citations, deletes, hostile input.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <set>
#include <thread>

#include "rag_fixture.hpp"

namespace enkisys::rag::testing {
namespace {

namespace json = boost::json;
using db::Backend;

class RagApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
    store_ = std::make_unique<db::testing::TestStore>(GetParam());
    rag_ = std::make_unique<RagFixture>(*store_);
  }
  void TearDown() override {
    rag_.reset();
    store_.reset();
  }
  std::int64_t documents_in(const std::string& cid) {
    return store_->open()
        ->query("SELECT COUNT(*) FROM rag_documents WHERE collection_id = $1", {cid})
        .one()
        .i64(0);
  }
  std::unique_ptr<db::testing::TestStore> store_;
  std::unique_ptr<RagFixture> rag_;
};

std::string search_body(const std::string& query, const std::string& extra = {}) {
  std::string b = json::serialize(json::object{{"query", query}});
  if (!extra.empty()) {
    b.pop_back();
    b += "," + extra + "}";
  }
  return b;
}

TEST_P(RagApiTest, CollectionsAreCreatedListedRenamedAndDeleted) {
  const std::string id = rag_->collection("owner", "notes");
  auto r = rag_->as("owner", "GET", "/api/rag/collections/" + id);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body.at("visibility"), "private");
  EXPECT_EQ(r.body.at("language"), "auto");

  r = rag_->as("owner", "POST", "/api/rag/collections", R"({"name":"notes"})");
  EXPECT_EQ(r.status, 409) << r.raw;
  EXPECT_EQ(r.body.at("error").at("code"), "name_taken");
  // Another user may use the same name for their own collection.
  EXPECT_EQ(rag_->as("other", "POST", "/api/rag/collections", R"({"name":"notes"})").status, 201);

  r = rag_->as("owner", "PATCH", "/api/rag/collections/" + id,
               R"({"name":"papers","language":"es"})");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body.at("name"), "papers");
  EXPECT_EQ(r.body.at("language"), "es");
  EXPECT_EQ(
      rag_->as("owner", "PATCH", "/api/rag/collections/" + id, R"({"visibility":"shared"})").status,
      400);

  r = rag_->as("owner", "GET", "/api/rag/collections");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.body.at("collections").as_array().size(), 1U);

  EXPECT_EQ(rag_->as("owner", "DELETE", "/api/rag/collections/" + id).status, 204);
  EXPECT_EQ(rag_->as("owner", "GET", "/api/rag/collections/" + id).status, 404);
}

TEST_P(RagApiTest, BadCollectionRequestsAreRefusedClearly) {
  for (const char* body :
       {R"({})", R"({"name":""})", R"({"name":"   "})", R"({"name":42})",
        R"({"name":"x","visibility":"public"})", R"({"name":"x","language":"fr"})",
        R"({"name":"x","owner":"someone-else"})", R"({"name":"a\u0000b"})"}) {
    const auto r = rag_->as("owner", "POST", "/api/rag/collections", body);
    EXPECT_EQ(r.status, 400) << body << " " << r.raw;
    EXPECT_TRUE(r.body.at("error").as_object().contains("code")) << r.raw;
  }
  EXPECT_EQ(rag_->as("", "GET", "/api/rag/collections").status, 401);
  EXPECT_EQ(
      rag_->as("owner", "GET", "/api/rag/collections").body.at("collections").as_array().size(),
      0U);
}

TEST_P(RagApiTest, PrivateChunksNeverReachAnotherUserEvenThroughSearch) {
  const std::string mine = rag_->collection("alice", "diary");
  auto up = rag_->add_text("alice", mine, "Secret plans",
                           "The zorblax launch code is hidden under the blue teapot.");
  ASSERT_EQ(up.status, 202) << up.raw;
  const std::string doc(up.body.at("id").as_string());
  rag_->drain();
  // Alice finds it.
  EXPECT_EQ(RagFixture::result_docs(rag_->search("alice", search_body("zorblax teapot"))),
            std::vector<std::string>{doc});
  // Bob searching everything he can see: nothing of Alice's.
  for (const char* mode : {"hybrid", "bm25", "vector"}) {
    const auto r = rag_->search(
        "bob", search_body("zorblax teapot", std::string(R"("mode":")") + mode + "\""));
    ASSERT_EQ(r.status, 200) << r.raw;
    EXPECT_TRUE(r.body.at("results").as_array().empty()) << mode << r.raw;
  }
  // Naming her collection, or reaching for it any other way: it does not exist for him, nor for
  // an admin (private means private).
  for (const std::string roles : {"", "admin"}) {
    EXPECT_EQ(
        rag_->search("bob", search_body("zorblax", R"("collections":[")" + mine + "\"]"), roles)
            .status,
        404);
    EXPECT_EQ(rag_->as("bob", "GET", "/api/rag/collections/" + mine, {}, roles).status, 404);
    EXPECT_EQ(rag_->as("bob", "GET", rag_->documents_url(mine), {}, roles).status, 404);
    EXPECT_EQ(rag_->as("bob", "GET", rag_->documents_url(mine) + "/" + doc, {}, roles).status, 404);
    EXPECT_EQ(rag_->as("bob", "DELETE", rag_->documents_url(mine) + "/" + doc, {}, roles).status,
              404);
    EXPECT_EQ(rag_->add_text("bob", mine, "x", "planted text", {}, roles).status, 404);
    EXPECT_EQ(rag_->as("bob", "PATCH", "/api/rag/collections/" + mine, R"({"name":"mine"})", roles)
                  .status,
              404);
    EXPECT_EQ(rag_->as("bob", "DELETE", "/api/rag/collections/" + mine, {}, roles).status, 404);
  }
  // Bob's own document with the same words is his alone.
  const std::string his = rag_->collection("bob", "diary");
  ASSERT_EQ(rag_->add_text("bob", his, "Bob's", "zorblax teapot notes of bob").status, 202);
  rag_->drain();
  const auto alice = RagFixture::result_docs(rag_->search("alice", search_body("zorblax teapot")));
  EXPECT_EQ(alice, std::vector<std::string>{doc});
  EXPECT_EQ(documents_in(mine), 1);
}

TEST_P(RagApiTest, SharedCollectionsAreReadByAllAndWrittenByAdmins) {
  EXPECT_EQ(rag_->as("user", "POST", "/api/rag/collections",
                     R"({"name":"handbook","visibility":"shared"})")
                .status,
            403);
  const std::string shared = rag_->collection("root", "handbook", "shared", "admin");
  auto up = rag_->add_text("root", shared, "Holidays", "Employees get 25 vacation days a year.", {},
                           "admin");
  ASSERT_EQ(up.status, 202) << up.raw;
  const std::string doc(up.body.at("id").as_string());
  rag_->drain();
  const auto r = rag_->search("user", search_body("how many vacation days"));
  EXPECT_EQ(RagFixture::result_docs(r), std::vector<std::string>{doc});
  EXPECT_EQ(rag_->as("user", "GET", rag_->documents_url(shared) + "/" + doc).status, 200);
  EXPECT_EQ(rag_->add_text("user", shared, "x", "planted").status, 403);
  EXPECT_EQ(rag_->as("user", "DELETE", rag_->documents_url(shared) + "/" + doc).status, 403);
  EXPECT_EQ(rag_->as("user", "DELETE", "/api/rag/collections/" + shared).status, 403);
  EXPECT_EQ(rag_->as("user", "PATCH", "/api/rag/collections/" + shared, R"({"name":"x"})").status,
            403);
  EXPECT_EQ(documents_in(shared), 1);
}

TEST_P(RagApiTest, UploadsOfEachFormatBecomeCitedPassages) {
  const std::string id = rag_->collection("u", "docs");
  auto md = rag_->add_file("u", id, "guide.md", "text/markdown",
                           "# Install guide\n\nIntro text.\n\n## Firewall\n\nOpen port 8443 for "
                           "the quasar dashboard.\n\n```\nufw allow 8443\n```\n");
  ASSERT_EQ(md.status, 202) << md.raw;
  EXPECT_EQ(md.body.at("status"), "queued");
  EXPECT_EQ(md.body.at("format"), "markdown");
  auto html = rag_->add_file(
      "u", id, "page.html", "text/html",
      "<html><head><title>Release notes</title><script>var leak='scriptword';</script></head>"
      "<body><h1>Version 2</h1><p>The nebulator feature replaces the old exporter.</p></body>"
      "</html>");
  ASSERT_EQ(html.status, 202) << html.raw;
  EXPECT_EQ(html.body.at("title"), "Release notes");
  auto text = rag_->add_text("u", id, "Plain", "Just a plain note about the obsidian garden.");
  ASSERT_EQ(text.status, 202) << text.raw;
  EXPECT_EQ(rag_->drain(), 3);

  const std::string md_id(md.body.at("id").as_string());
  auto got = rag_->as("u", "GET", rag_->documents_url(id) + "/" + md_id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body.at("status"), "ready");
  EXPECT_EQ(got.body.at("progress").to_number<double>(), 1.0);
  EXPECT_GE(got.body.at("chunks").to_number<int>(), 1);
  EXPECT_EQ(got.body.at("language"), "en");

  auto r = rag_->search("u", search_body("which port for the quasar dashboard"));
  ASSERT_EQ(r.status, 200) << r.raw;
  const auto& first = r.body.at("results").as_array().at(0).as_object();
  EXPECT_EQ(first.at("document_id"), json::value(md_id));
  EXPECT_EQ(first.at("collection_id"), json::value(id));
  EXPECT_EQ(first.at("title"), "Install guide");
  EXPECT_EQ(first.at("heading_path"), json::parse(R"(["Install guide","Firewall"])"));
  EXPECT_NE(std::string(first.at("text").as_string()).find("8443"), std::string::npos);
  EXPECT_LT(first.at("location").at("start").to_number<int>(),
            first.at("location").at("end").to_number<int>());
  EXPECT_TRUE(first.at("ranks").at("bm25").is_int64());
  // Scripts are not content.
  EXPECT_TRUE(rag_->search("u", search_body("scriptword", R"("mode":"bm25")"))
                  .body.at("results")
                  .as_array()
                  .empty());
  EXPECT_EQ(RagFixture::result_docs(rag_->search("u", search_body("nebulator")))[0],
            std::string(html.body.at("id").as_string()));
}

TEST_P(RagApiTest, TheSameContentTwiceIsOneDocumentEvenInARace) {
  const std::string id = rag_->collection("u", "docs");
  constexpr int kThreads = 8;
  std::vector<Reply> replies(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      replies[i] = rag_->add_text("u", id, "Same", "identical content uploaded by everyone");
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> ids;
  int created = 0;
  for (const auto& r : replies) {
    ASSERT_TRUE(r.status == 202 || r.status == 200) << r.raw;
    created += r.status == 202 ? 1 : 0;
    EXPECT_EQ(r.body.at("duplicate").as_bool(), r.status == 200);
    ids.insert(std::string(r.body.at("id").as_string()));
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(ids.size(), 1U);
  EXPECT_EQ(documents_in(id), 1);
  EXPECT_EQ(rag_->drain(), 1);
  // Uploaded again once ready: still the one document, not queued again.
  const auto again = rag_->add_text("u", id, "Same", "identical content uploaded by everyone");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body.at("status"), "ready");
  EXPECT_EQ(rag_->drain(), 0);
}

TEST_P(RagApiTest, BadDocumentsAreRefusedAndWriteNothing) {
  const std::string id = rag_->collection("u", "docs");
  struct Case {
    std::string filename, type, bytes;
    int status;
    std::string code;
  };
  const std::string elf = std::string(
                              "\x7f"
                              "ELF\x02\x01\x01",
                              7) +
                          std::string(64, '\0');
  const std::vector<Case> cases{
      {"tool", "application/octet-stream", elf, 415, "unsupported_media_type"},
      {"photo.png", "image/png", "\x89PNG\r\n\x1a\n0000", 415, "unsupported_media_type"},
      {"empty.txt", "text/plain", "   \n\n  ", 422, "empty_document"},
      {"latin1.txt", "text/plain", "caf\xe9 cr\xe8me", 422, "invalid_utf8"},
      {"broken.pdf", "application/pdf", "%PDF-1.4\nthis is not a pdf at all", 422, "corrupt_pdf"},
      {"broken.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
       "PK\x03\x04 not really a zip", 422, "corrupt_docx"},
      {"big.txt", "text/plain", std::string(2 * 1024 * 1024, 'a'), 413, ""},
  };
  for (const auto& c : cases) {
    const auto r = rag_->add_file("u", id, c.filename, c.type, c.bytes);
    EXPECT_EQ(r.status, c.status) << c.filename << " " << r.raw.substr(0, 300);
    if (!c.code.empty() && r.body.is_object()) {
      EXPECT_EQ(r.body.at("error").at("code"), json::value(c.code)) << c.filename;
    }
  }
  // JSON uploads too.
  EXPECT_EQ(rag_->add_text("u", id, "t", "").status, 422);
  EXPECT_EQ(rag_->as("u", "POST", rag_->documents_url(id), R"({"title":"no text"})").status, 400);
  EXPECT_EQ(
      rag_->as("u", "POST", rag_->documents_url(id), R"({"text":"x","metadata":{"n":1}})").status,
      400);
  EXPECT_EQ(
      rag_->as("u", "POST", rag_->documents_url(id), R"({"text":"x","mime_type":"image/gif"})")
          .status,
      415);
  EXPECT_EQ(documents_in(id), 0);
  // A declared charset is honoured.
  const auto latin1 =
      rag_->add_file("u", id, "latin1.txt", "text/plain; charset=iso-8859-1", "caf\xe9 cr\xe8me");
  EXPECT_EQ(latin1.status, 202) << latin1.raw;
  // Nothing is left in the upload folder.
  EXPECT_TRUE(std::filesystem::is_empty(rag_->data_dir() / "uploads"));
}

TEST_P(RagApiTest, SearchModesFiltersAndRanks) {
  const std::string id = rag_->collection("u", "docs");
  const auto a = rag_->add_text("u", id, "Alpha", "Velvet thunder rolls over the granite hills.",
                                R"({"team":"red"})");
  const auto b = rag_->add_text("u", id, "Beta", "Velvet curtains hang in the granite hall.",
                                R"({"team":"blue"})");
  ASSERT_EQ(a.status, 202) << a.raw;
  ASSERT_EQ(b.status, 202) << b.raw;
  rag_->drain();
  const std::string ida(a.body.at("id").as_string());
  const std::string idb(b.body.at("id").as_string());

  auto r = rag_->search("u", search_body("velvet granite", R"("mode":"bm25","k":1)"));
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body.at("results").as_array().size(), 1U);
  EXPECT_TRUE(r.body.at("results").at(0).at("ranks").at("vector").is_null());
  EXPECT_EQ(r.body.at("results").at(0).at("ranks").at("bm25"), 1);
  r = rag_->search("u", search_body("velvet granite", R"("mode":"vector")"));
  ASSERT_EQ(r.body.at("results").as_array().size(), 2U);
  EXPECT_TRUE(r.body.at("results").at(0).at("ranks").at("bm25").is_null());
  r = rag_->search("u", search_body("velvet granite"));
  ASSERT_EQ(r.body.at("results").as_array().size(), 2U);
  EXPECT_FALSE(r.body.at("results").at(0).at("ranks").at("bm25").is_null());
  EXPECT_FALSE(r.body.at("results").at(0).at("ranks").at("vector").is_null());

  EXPECT_EQ(RagFixture::result_docs(rag_->search(
                "u", search_body("velvet", R"("filter":{"metadata":{"team":"blue"}})"))),
            std::vector<std::string>{idb});
  // A collection named twice is searched once (no duplicate results).
  for (const char* mode : {"bm25", "vector", "hybrid"}) {
    r = rag_->search("u", search_body("velvet", R"("collections":[")" + id + "\",\"" + id +
                                                    R"("],"mode":")" + mode + "\""));
    EXPECT_EQ(r.body.at("results").as_array().size(), 2U) << mode << r.raw;
  }
  EXPECT_EQ(RagFixture::result_docs(rag_->search(
                "u", search_body("velvet", R"("filter":{"document_ids":[")" + ida + "\"]}"))),
            std::vector<std::string>{ida});
  EXPECT_TRUE(RagFixture::result_docs(
                  rag_->search("u", search_body("velvet", R"("filter":{"document_ids":[]})")))
                  .empty());
  // Bad searches.
  for (const std::string extra :
       {R"("k":0)", R"("k":51)", R"("k":"3")", R"("mode":"semantic")", R"("filter":{"owner":"x"})",
        R"("filter":[])", R"("collections":"all")", R"("collections":[1])", R"("extra":true)"}) {
    EXPECT_EQ(rag_->search("u", search_body("velvet", extra)).status, 400) << extra;
  }
  EXPECT_EQ(rag_->search("u", R"({"query":"  "})").status, 400);
  EXPECT_EQ(rag_->search("u", R"({})").status, 400);
  const auto long_query = rag_->search("u", search_body(std::string(2049, 'q')));
  EXPECT_EQ(long_query.status, 400);
  EXPECT_EQ(long_query.body.at("error").at("code"), "query_too_long");
  EXPECT_EQ(rag_->search("u", search_body(std::string(2048, 'q'))).status, 200);
}

TEST_P(RagApiTest, DeletedDocumentsAndCollectionsLeaveSearchAtOnce) {
  const std::string id = rag_->collection("u", "docs");
  const auto a = rag_->add_text("u", id, "Gone", "The marmalade protocol is obsolete.");
  rag_->drain();
  const std::string doc(a.body.at("id").as_string());
  ASSERT_EQ(RagFixture::result_docs(rag_->search("u", search_body("marmalade protocol"))).size(),
            1U);
  EXPECT_EQ(rag_->as("u", "DELETE", rag_->documents_url(id) + "/" + doc).status, 204);
  EXPECT_TRUE(RagFixture::result_docs(rag_->search("u", search_body("marmalade"))).empty());
  EXPECT_EQ(rag_->as("u", "GET", rag_->documents_url(id) + "/" + doc).status, 404);
  EXPECT_EQ(rag_->as("u", "DELETE", rag_->documents_url(id) + "/" + doc).status, 404);
  // Re-uploading the content after the delete is a new document.
  const auto again = rag_->add_text("u", id, "Gone", "The marmalade protocol is obsolete.");
  EXPECT_EQ(again.status, 202);
  rag_->drain();
  EXPECT_EQ(rag_->as("u", "DELETE", "/api/rag/collections/" + id).status, 204);
  EXPECT_TRUE(RagFixture::result_docs(rag_->search("u", search_body("marmalade"))).empty());
  EXPECT_EQ(rag_->search("u", search_body("marmalade", R"("collections":[")" + id + "\"]")).status,
            404);
}

TEST_P(RagApiTest, HostileInputIsDataNeverCode) {
  const std::string name = "x'); DROP TABLE rag_chunks; --";
  const std::string id = rag_->collection("u", name);
  auto got = rag_->as("u", "GET", "/api/rag/collections/" + id);
  EXPECT_EQ(got.body.at("name"), json::value(name));
  const auto up = rag_->add_file("u", id, "../../../etc/passwd.txt", "text/plain",
                                 "the ' OR '1'='1 payload is just text");
  ASSERT_EQ(up.status, 202) << up.raw;
  EXPECT_EQ(up.body.at("filename"), "../../../etc/passwd.txt");
  rag_->drain();
  const auto r = rag_->search("u", search_body("' OR '1'='1 --"));
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body.at("results").as_array().size(), 1U);
  for (const std::string& target : std::vector<std::string>{
           "/api/rag/collections/..%2f..%2fetc", "/api/rag/collections/%27%20OR%201%3D1",
           "/api/rag/collections/" + id + "/documents/%27%20OR%20%271%27%3D%271"}) {
    EXPECT_EQ(rag_->as("u", "GET", target).status, 404) << target;
  }
  EXPECT_EQ(rag_->as("u\x01x", "GET", "/api/rag/collections").status, 400);
  EXPECT_EQ(rag_->as(std::string(200, 'u'), "GET", "/api/rag/collections").status, 400);
  // The chunks table is still there.
  EXPECT_EQ(rag_->store().chunks_of(std::string(up.body.at("id").as_string())).size(), 1U);
}

TEST_P(RagApiTest, FailedDocumentsSayWhyAndRetryWhenSentAgain) {
  const std::string id = rag_->collection("u", "docs");
  NewDocument nd;
  nd.title = "Broken";
  nd.mime_type = "text/plain";
  nd.format = "text";
  nd.sha256 = "00";
  nd.payload = "not a document model";
  auto added = rag_->store().add_document({"u", false}, id, nd);
  ASSERT_TRUE(added.ok());
  rag_->drain();
  auto r = rag_->as("u", "GET", rag_->documents_url(id) + "/" + added->document.id);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.at("status"), "failed");
  EXPECT_EQ(r.body.at("error").at("code"), "invalid_payload");
  // The same content again puts it back in the queue.
  nd.payload = R"({"id":"","title":"Broken","blocks":[{"k":"p","t":"now fine"}]})";
  auto again = rag_->store().add_document({"u", false}, id, nd);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->document.status, "queued");
  EXPECT_EQ(rag_->drain(), 1);
  EXPECT_EQ(
      rag_->as("u", "GET", rag_->documents_url(id) + "/" + added->document.id).body.at("status"),
      "ready");
}

TEST_P(RagApiTest, DocumentsArePaged) {
  const std::string id = rag_->collection("u", "docs");
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(rag_->add_text("u", id, "d" + std::to_string(i), "text " + std::to_string(i)).status,
              202);
  }
  std::set<std::string> seen;
  std::string after;
  for (int page = 0; page < 5; ++page) {
    const auto r =
        rag_->as("u", "GET",
                 rag_->documents_url(id) + "?limit=2" + (after.empty() ? "" : "&after=" + after));
    ASSERT_EQ(r.status, 200) << r.raw;
    for (const auto& d : r.body.at("documents").as_array()) {
      seen.insert(std::string(d.at("id").as_string()));
    }
    if (r.body.at("next_after").is_null()) break;
    after = r.body.at("next_after").as_string();
  }
  EXPECT_EQ(seen.size(), 5U);
  EXPECT_EQ(rag_->as("u", "GET", rag_->documents_url(id) + "?limit=0").status, 400);
}

TEST_P(RagApiTest, SearchWaitsForTheIndexesToLoad) {
  rag_.reset();
  FixtureOptions o;
  o.start_indexer = false;
  rag_ = std::make_unique<RagFixture>(*store_, o);
  const auto r = rag_->search("u", search_body("anything"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body.at("error").at("code"), "index_loading");
  EXPECT_NE(r.raw.find("Retry-After: 5"), std::string::npos);
  rag_->indexer().start_up();
  EXPECT_EQ(rag_->search("u", search_body("anything")).status, 200);
}

ENKISYS_DB_ON_BOTH_BACKENDS(RagApiTest);

}  // namespace
}  // namespace enkisys::rag::testing
