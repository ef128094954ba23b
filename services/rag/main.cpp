// enkisys-rag: the RAG service (port 5003): documents in, cited passages out. Wiring only.
#include <unistd.h>

#include <array>
#include <filesystem>

#include "enkisys/core/service.hpp"
#include "enkisys/db/database.hpp"
#include "enkisys/rag/collection_index.hpp"
#include "enkisys/rag/embeddings_client.hpp"
#include "enkisys/rag/indexer.hpp"
#include "enkisys/rag/rag_api.hpp"
#include "enkisys/rag/store.hpp"
#include "service_database.hpp"

namespace {

using namespace enkisys;
namespace fs = std::filesystem;

struct RagService {
  std::unique_ptr<db::Database> database;
  std::unique_ptr<rag::RagStore> store;
  std::unique_ptr<rag::IndexSet> indexes;
  std::unique_ptr<core::HttpClient> worker_http;  // the worker's client, on the service io_context
  std::unique_ptr<rag::EmbeddingsClient> worker_embeddings;
  std::unique_ptr<rag::EmbeddingsClient> query_embeddings;  // on the server's threads
  std::unique_ptr<rag::Indexer> indexer;
  std::unique_ptr<rag::RagApi> api;
};

std::string host_name() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "rag";
  return buf.data();
}

fs::path data_subdir(const std::string& root, const char* name) {
  fs::path dir = fs::path(root) / name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw core::ConfigError("RAG_DATA_DIR: cannot create " + dir.string() + ": " + ec.message());
  }
  return dir;
}

}  // namespace

int main(int argc, char** argv) {
  core::ServiceSpec spec;
  spec.name = "rag";
  spec.summary = "RAG: collections of documents, hybrid BM25 + vector search with citations";
  spec.default_port = 5003;
  spec.declare = [](core::EnvConfig& c) {
    db::declare_database(c, "sqlite:///data/rag.db");
    c.add({"RAG_DATA_DIR", "folder of the index files and upload staging (the volume)", "/data"});
    c.add({"EMBEDDINGS_BASE_URL",
           "OpenAI-compatible embeddings API base (e.g. https://api.openai.com/v1); unset: the "
           "built-in model-free embedder",
           ""});
    c.add({"EMBEDDINGS_MODEL", "embedding model name sent to EMBEDDINGS_BASE_URL",
           "text-embedding-3-small"});
    c.add({"EMBEDDINGS_API_KEY_FILE", "file holding the embeddings API key (optional)", ""});
    c.add({"EMBEDDINGS_BATCH_SIZE", "texts per embeddings request", "64", false, false,
           core::integer_in(1, 2048)});
    c.add({"RAG_MAX_UPLOAD_BYTES",
           "largest document upload (the gateway route allows it plus 64 KiB)", "26214400", false,
           false, core::integer_in(1024, 1LL << 32)});
    c.add({"RAG_MAX_QUERY_BYTES", "longest search query", "2048", false, false,
           core::integer_in(16, 65536)});
    c.add({"RAG_CHUNK_TARGET_BYTES", "target chunk size", "900", false, false,
           core::integer_in(100, 100000)});
    c.add({"RAG_CHUNK_OVERLAP_BYTES", "overlap of consecutive chunks (< target)", "120", false,
           false, core::integer_in(0, 50000)});
    c.add({"RAG_RRF_K", "k of reciprocal rank fusion", "60", false, false,
           core::integer_in(1, 1000)});
    c.add({"RAG_INGEST_LEASE_S",
           "seconds a claimed ingestion job stays reserved without a heartbeat", "60", false, false,
           core::integer_in(5, 86400)});
    c.add({"RAG_INDEX_SAVE_INTERVAL_S", "seconds between saves of changed indexes", "10", false,
           false, core::integer_in(1, 3600)});
  };
  spec.wire = [](core::ServiceEnv& env) -> std::shared_ptr<void> {
    auto s = std::make_shared<RagService>();
    const std::string data_dir = env.config.get("RAG_DATA_DIR");
    const fs::path index_dir = data_subdir(data_dir, "index");
    const fs::path upload_dir = data_subdir(data_dir, "uploads");

    s->database = db::open_service_database(env);
    s->store = std::make_unique<rag::RagStore>(*s->database, host_name(),
                                               env.config.get_int("RAG_INGEST_LEASE_S"));
    s->store->migrate();

    rag::IndexConfig ic;
    const std::string base_url = env.config.get("EMBEDDINGS_BASE_URL");
    if (!base_url.empty()) {
      rag::EmbeddingsOptions eo;
      eo.base_url = base_url;
      eo.model = env.config.get("EMBEDDINGS_MODEL");
      eo.batch_size = static_cast<std::size_t>(env.config.get_int("EMBEDDINGS_BATCH_SIZE"));
      if (env.config.is_set("EMBEDDINGS_API_KEY_FILE")) {
        auto key = env.config.secret_file("EMBEDDINGS_API_KEY_FILE");
        if (!key) throw core::ConfigError("EMBEDDINGS_API_KEY_FILE could not be read");
        eo.api_key = *key;
      }
      s->worker_http = std::make_unique<core::HttpClient>();
      s->worker_embeddings = std::make_unique<rag::EmbeddingsClient>(*s->worker_http, eo);
      s->query_embeddings = std::make_unique<rag::EmbeddingsClient>(env.http, eo);
      ic.model = "remote:" + eo.model;
      ic.dim = 0;
    }
    s->indexes = std::make_unique<rag::IndexSet>(index_dir, ic);

    rag::IndexerOptions io;
    io.chunking.target_bytes =
        static_cast<std::size_t>(env.config.get_int("RAG_CHUNK_TARGET_BYTES"));
    io.chunking.max_bytes = 2 * io.chunking.target_bytes;
    io.chunking.overlap_bytes =
        static_cast<std::size_t>(env.config.get_int("RAG_CHUNK_OVERLAP_BYTES"));
    if (io.chunking.overlap_bytes >= io.chunking.target_bytes) {
      throw core::ConfigError("RAG_CHUNK_OVERLAP_BYTES must be below RAG_CHUNK_TARGET_BYTES");
    }
    io.save_interval = std::chrono::seconds(env.config.get_int("RAG_INDEX_SAVE_INTERVAL_S"));
    s->indexer = std::make_unique<rag::Indexer>(
        *s->store, *s->indexes,
        rag::RemoteEmbedding{s->worker_embeddings.get(), &env.hooks.io_context()}, env.log,
        env.metrics, io);
    rag::Indexer* indexer = s->indexer.get();
    env.hooks.add_thread_worker("ingest",
                                [indexer](const std::stop_token& st) { indexer->run(st); });
    env.health.add("index", [indexer] {
      return indexer->ready() ? core::CheckResult{true, "ready"}
                              : core::CheckResult{false, "loading the search indexes"};
    });

    rag::ApiOptions ao;
    ao.upload_dir = upload_dir;
    ao.max_upload_bytes = static_cast<std::uint64_t>(env.config.get_int("RAG_MAX_UPLOAD_BYTES"));
    ao.max_query_bytes = static_cast<std::size_t>(env.config.get_int("RAG_MAX_QUERY_BYTES"));
    ao.hybrid.rrf_k = static_cast<double>(env.config.get_int("RAG_RRF_K"));
    ao.parse_limits.max_input_bytes = ao.max_upload_bytes;
    s->api = std::make_unique<rag::RagApi>(*s->store, *s->indexes, *s->indexer,
                                           s->query_embeddings.get(), env.metrics, ao);
    s->api->add_routes(env.router);
    return s;
  };
  return core::run_service(spec, argc, argv);
}
