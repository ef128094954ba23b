// The RAG service wired in process on an OS-chosen port over one backend (SQLite or the
// PostgreSQL named by ENKISYS_TEST_POSTGRES_URL). The Indexer does not run on a thread of its
// own: a test drains the queue with drain(), so every step is deterministic.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <thread>

#include "db_fixture.hpp"
#include "enkisys/core/testing.hpp"
#include "enkisys/core/testing/process.hpp"
#include "enkisys/rag/collection_index.hpp"
#include "enkisys/rag/embeddings_client.hpp"
#include "enkisys/rag/indexer.hpp"
#include "enkisys/rag/rag_api.hpp"
#include "enkisys/rag/store.hpp"

namespace enkisys::rag::testing {

using Reply = core::testing::JsonReply;

struct FixtureOptions {
  std::uint64_t max_upload_bytes = 1024 * 1024;
  bool start_indexer = true;        // false: searches answer 503 until start_up()
  std::string embeddings_base_url;  // set: remote embeddings at this URL
};

// A multipart/form-data body with one file part (field "file") and text fields.
struct Multipart {
  std::string content_type;
  std::string body;
};
Multipart multipart_file(const std::string& filename, const std::string& content_type,
                         const std::string& bytes,
                         const std::vector<std::pair<std::string, std::string>>& fields = {});

class RagFixture {
 public:
  // `data_dir` empty: a fresh temporary one. A second fixture on the same store and data dir
  // behaves as the same service restarted.
  explicit RagFixture(db::testing::TestStore& store, FixtureOptions options = {},
                      std::filesystem::path data_dir = {});
  ~RagFixture();

  Reply as(const std::string& user, const std::string& method, const std::string& target,
           const std::string& body = {}, const std::string& roles = {},
           const std::string& headers = {});
  // POST .../documents as JSON {"title","text"[,"metadata"]}.
  Reply add_text(const std::string& user, const std::string& collection, const std::string& title,
                 const std::string& text, const std::string& metadata_json = {},
                 const std::string& roles = {});
  Reply add_file(const std::string& user, const std::string& collection,
                 const std::string& filename, const std::string& content_type,
                 const std::string& bytes, const std::string& roles = {});
  // Creates a collection and returns its id (fails the test otherwise).
  std::string collection(const std::string& user, const std::string& name,
                         const std::string& visibility = "private", const std::string& roles = {});
  // POST /api/rag/search with `body`.
  Reply search(const std::string& user, const std::string& body, const std::string& roles = {});
  // Document ids of a search's results, in order.
  static std::vector<std::string> result_docs(const Reply& r);
  // Processes every queued document; returns how many.
  int drain();

  RagStore& store() { return *store_; }
  Indexer& indexer() { return *indexer_; }
  IndexSet& indexes() { return *indexes_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  std::uint16_t port() const { return server_->port(); }
  std::string documents_url(const std::string& collection) const {
    return "/api/rag/collections/" + collection + "/documents";
  }

 private:
  std::unique_ptr<core::testing::TempDir> temp_;
  std::filesystem::path data_dir_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<RagStore> store_;
  std::unique_ptr<IndexSet> indexes_;
  core::Logger log_{"rag-test", core::LogLevel::kError};
  core::MetricsRegistry metrics_;
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread ioc_thread_;
  std::unique_ptr<core::HttpClient> worker_http_;
  std::unique_ptr<core::HttpClient> query_http_;
  std::unique_ptr<EmbeddingsClient> worker_embeddings_;
  std::unique_ptr<EmbeddingsClient> query_embeddings_;
  std::unique_ptr<Indexer> indexer_;
  std::unique_ptr<RagApi> api_;
  std::unique_ptr<core::testing::TestServer> server_;
};

}  // namespace enkisys::rag::testing
