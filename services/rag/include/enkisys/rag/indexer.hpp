// Indexer: the ingestion worker of the RAG service and the keeper of its indexes' consistency
// with the store.
//
// Contract:
//  * run() is the service's thread worker. At start it puts back the jobs a previous life of this
//    instance was processing, loads every saved collection index (a damaged or missing one is
//    rebuilt from the store's chunks, and said so in the log) and reconciles the indexes with the
//    store; only then is it ready() (the /health check "index" fails until then, and searches
//    answer 503 index_loading). Then it takes queued documents one at a time, and while idle
//    reconciles every `reconcile_interval` (documents ready or deleted by another instance) and
//    saves changed indexes every `save_interval` and once more when stopping.
//  * One job: parse the queued model → chunk → analyse → embed → add to the collection's index →
//    store every chunk and mark the document ready in one transaction. If that transaction finds
//    the document gone (deleted meanwhile) the chunks leave the index again. A document is
//    therefore searchable exactly when it is ready; after kill -9 at any point it is either ready
//    (and reconciled into the index at the next start) or queued again.
//  * A failing job is marked failed with "<code>: <message>"; a job that crashes the process
//    three times is failed by the store (ingest_crashed).
//  * Thread safety: run() on one thread; notify(), ready(), forget_*() from any thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>

#include "enkisys/core/log.hpp"
#include "enkisys/core/metrics.hpp"
#include "enkisys/rag/chunker.hpp"
#include "enkisys/rag/collection_index.hpp"
#include "enkisys/rag/embeddings_client.hpp"
#include "enkisys/rag/store.hpp"

namespace enkisys::rag {

struct IndexerOptions {
  ChunkOptions chunking;
  std::chrono::milliseconds reconcile_interval{5'000};
  std::chrono::milliseconds save_interval{10'000};
};

// Remote embeddings as the worker thread uses them: the client's coroutines run on `ioc`
// (which must be running) while the worker waits.
struct RemoteEmbedding {
  EmbeddingsClient* client = nullptr;
  boost::asio::io_context* ioc = nullptr;
};

class Indexer {
 public:
  Indexer(RagStore& store, IndexSet& indexes, RemoteEmbedding remote, core::Logger& log,
          core::MetricsRegistry& metrics, IndexerOptions options);

  void run(const std::stop_token& stop);
  void notify();
  bool ready() const { return ready_.load(); }

  // Start-up work of run() (tests call it directly).
  void start_up();
  // Takes and processes one queued job; false when the queue was empty.
  bool process_next();
  // Brings the indexes in line with the store; returns the number of documents (re)indexed or
  // removed.
  std::size_t reconcile();
  void save();

  // The API removed these from the store: drop them from the local indexes at once.
  void forget_document(const std::string& collection_id, const std::string& document_id);
  void forget_collection(const std::string& collection_id);

 private:
  core::Status index_document(const std::string& collection_id, const std::string& doc_id,
                              DocumentEntry entry, const std::vector<ChunkInput>& chunks,
                              const std::function<void(double)>& progress);
  void process(const Job& job);

  RagStore& store_;
  IndexSet& indexes_;
  RemoteEmbedding remote_;
  core::Logger& log_;
  IndexerOptions options_;
  core::Family<core::Counter>& jobs_;
  core::Histogram& ingest_seconds_;
  core::Gauge& queue_depth_;
  std::atomic<bool> ready_{false};
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool pending_ = false;
};

}  // namespace enkisys::rag
