#include "rag_fixture.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace enkisys::rag::testing {

namespace json = boost::json;

Multipart multipart_file(const std::string& filename, const std::string& content_type,
                         const std::string& bytes,
                         const std::vector<std::pair<std::string, std::string>>& fields) {
  const std::string boundary = "enkisys-test-boundary-7d1f";
  std::string body;
  for (const auto& [name, value] : fields) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" +
            value + "\r\n";
  }
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
          filename + "\"\r\nContent-Type: " + content_type + "\r\n\r\n" + bytes + "\r\n--" +
          boundary + "--\r\n";
  return {"multipart/form-data; boundary=" + boundary, body};
}

RagFixture::RagFixture(db::testing::TestStore& store, FixtureOptions options,
                       std::filesystem::path data_dir)
    : work_(boost::asio::make_work_guard(ioc_)) {
  if (data_dir.empty()) {
    temp_ = std::make_unique<core::testing::TempDir>();
    data_dir = temp_->path();
  }
  data_dir_ = data_dir;
  std::filesystem::create_directories(data_dir_ / "uploads");
  ioc_thread_ = std::thread([this] { ioc_.run(); });
  db_ = store.open();
  store_ = std::make_unique<RagStore>(*db_, "test-instance");
  store_->migrate();
  IndexConfig ic;
  EmbeddingsClient* worker_embeddings = nullptr;
  if (!options.embeddings_base_url.empty()) {
    EmbeddingsOptions eo;
    eo.base_url = options.embeddings_base_url;
    eo.model = "fake-embedder";
    eo.initial_backoff = std::chrono::milliseconds(1);
    worker_http_ = std::make_unique<core::HttpClient>();
    query_http_ = std::make_unique<core::HttpClient>();
    worker_embeddings_ = std::make_unique<EmbeddingsClient>(*worker_http_, eo);
    query_embeddings_ = std::make_unique<EmbeddingsClient>(*query_http_, eo);
    worker_embeddings = worker_embeddings_.get();
    ic.model = "remote:" + eo.model;
    ic.dim = 0;
  }
  indexes_ = std::make_unique<IndexSet>(data_dir_ / "index", ic);
  IndexerOptions io;
  io.chunking.target_bytes = 300;
  io.chunking.max_bytes = 600;
  io.chunking.overlap_bytes = 40;
  indexer_ = std::make_unique<Indexer>(
      *store_, *indexes_, RemoteEmbedding{worker_embeddings, &ioc_}, log_, metrics_, io);
  if (options.start_indexer) indexer_->start_up();
  ApiOptions ao;
  ao.upload_dir = data_dir_ / "uploads";
  ao.max_upload_bytes = options.max_upload_bytes;
  ao.parse_limits.max_input_bytes = options.max_upload_bytes;
  api_ = std::make_unique<RagApi>(*store_, *indexes_, *indexer_, query_embeddings_.get(), metrics_,
                                  ao);
  server_ =
      std::make_unique<core::testing::TestServer>([this](core::Router& r) { api_->add_routes(r); });
}

RagFixture::~RagFixture() {
  server_.reset();
  work_.reset();
  ioc_.stop();
  if (ioc_thread_.joinable()) ioc_thread_.join();
}

Reply RagFixture::as(const std::string& user, const std::string& method, const std::string& target,
                     const std::string& body, const std::string& roles,
                     const std::string& headers) {
  std::string h = headers;
  if (!user.empty()) h += "X-User-Id: " + user + "\r\n";
  if (!roles.empty()) h += "X-User-Roles: " + roles + "\r\n";
  return core::testing::json_reply(
      core::testing::http_request(server_->port(), method, target, body, h));
}

Reply RagFixture::add_text(const std::string& user, const std::string& collection,
                           const std::string& title, const std::string& text,
                           const std::string& metadata_json, const std::string& roles) {
  json::object o{{"title", title}, {"text", text}};
  std::string body = json::serialize(o);
  if (!metadata_json.empty()) {
    body.pop_back();
    body += ",\"metadata\":" + metadata_json + "}";
  }
  return as(user, "POST", documents_url(collection), body, roles);
}

Reply RagFixture::add_file(const std::string& user, const std::string& collection,
                           const std::string& filename, const std::string& content_type,
                           const std::string& bytes, const std::string& roles) {
  const Multipart m = multipart_file(filename, content_type, bytes);
  // http_request adds Content-Type: application/json; a later header of ours must not be
  // ambiguous, so send the request raw.
  std::string req = "POST " + documents_url(collection) +
                    " HTTP/1.1\r\nHost: test\r\nConnection: close\r\nX-User-Id: " + user + "\r\n" +
                    (roles.empty() ? "" : "X-User-Roles: " + roles + "\r\n") +
                    "Content-Type: " + m.content_type +
                    "\r\nContent-Length: " + std::to_string(m.body.size()) + "\r\n\r\n" + m.body;
  return core::testing::json_reply(core::testing::raw_exchange(server_->port(), req));
}

std::string RagFixture::collection(const std::string& user, const std::string& name,
                                   const std::string& visibility, const std::string& roles) {
  const Reply r =
      as(user, "POST", "/api/rag/collections",
         json::serialize(json::object{{"name", name}, {"visibility", visibility}}), roles);
  EXPECT_EQ(r.status, 201) << r.raw;
  if (r.status != 201) return "missing";
  return std::string(r.body.at("id").as_string());
}

Reply RagFixture::search(const std::string& user, const std::string& body,
                         const std::string& roles) {
  return as(user, "POST", "/api/rag/search", body, roles);
}

std::vector<std::string> RagFixture::result_docs(const Reply& r) {
  std::vector<std::string> out;
  if (!r.body.is_object() || !r.body.as_object().contains("results")) return out;
  for (const auto& x : r.body.at("results").as_array()) {
    out.emplace_back(x.at("document_id").as_string());
  }
  return out;
}

int RagFixture::drain() {
  int n = 0;
  while (n < 10000 && indexer_->process_next()) ++n;
  return n;
}

}  // namespace enkisys::rag::testing
