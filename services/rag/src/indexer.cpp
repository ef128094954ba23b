#include "enkisys/rag/indexer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <map>

#include "enkisys/core/worker.hpp"
#include "enkisys/rag/model_json.hpp"

namespace enkisys::rag {

using core::ErrorKind;
using Clock = std::chrono::steady_clock;

namespace {

std::string reason_of(const core::Error& e) {
  return e.code + ": " + e.message;
}

Language language_of(const std::string& code, Language fallback) {
  auto l = parse_language(code);
  return l ? *l : fallback;
}

}  // namespace

Indexer::Indexer(RagStore& store, IndexSet& indexes, RemoteEmbedding remote, core::Logger& log,
                 core::MetricsRegistry& metrics, IndexerOptions options)
    : store_(store),
      indexes_(indexes),
      remote_(remote),
      log_(log),
      options_(options),
      jobs_(metrics.counter("rag_ingest_jobs_total", "Ingestion jobs by outcome.", {"outcome"})),
      ingest_seconds_(metrics
                          .histogram("rag_ingest_seconds", "Time to index one document.", {},
                                     {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300})
                          .with({})),
      queue_depth_(metrics.gauge("rag_queue_depth", "Documents queued or processing.").with({})) {}

void Indexer::notify() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_all();
}

void Indexer::start_up() {
  if (const auto n = store_.reset_own_claims(); n > 0) {
    log_.info("ingestion resumed", {{"documents", n}});
  }
  for (const auto& id : indexes_.on_disk()) {
    if (auto st = indexes_.load(id); !st) {
      log_.warn("index rebuilt from the store",
                {{"collection", id}, {"reason", reason_of(st.error())}});
      indexes_.drop(id);
    }
  }
  const auto t0 = Clock::now();
  const std::size_t changed = reconcile();
  log_.info("indexes ready",
            {{"collections", indexes_.collection_ids().size()},
             {"documents_reindexed", changed},
             {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()}});
  ready_ = true;
}

void Indexer::run(const std::stop_token& stop) {
  if (!ready_) start_up();
  auto last_reconcile = Clock::now();
  auto last_save = Clock::now();
  while (!stop.stop_requested()) {
    bool worked = false;
    try {
      worked = process_next();
    } catch (const std::exception& e) {
      log_.error("ingestion step failed", {{"error", e.what()}});
    }
    queue_depth_.set(static_cast<double>(store_.queue_depth()));
    const auto now = Clock::now();
    if (!worked && now - last_reconcile >= options_.reconcile_interval) {
      reconcile();
      last_reconcile = now;
    }
    if (now - last_save >= options_.save_interval) {
      save();
      last_save = now;
    }
    if (worked) continue;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, stop, std::chrono::milliseconds(1000), [this] { return pending_; });
    pending_ = false;
  }
  save();
}

void Indexer::save() {
  auto saved = indexes_.save_dirty();
  if (!saved) {
    log_.error("index save failed", {{"reason", reason_of(saved.error())}});
  } else if (*saved > 0) {
    log_.debug("indexes saved", {{"collections", *saved}});
  }
}

bool Indexer::process_next() {
  auto job = store_.claim_next();
  if (!job) return false;
  process(*job);
  return true;
}

core::Status Indexer::index_document(const std::string& collection_id, const std::string& doc_id,
                                     DocumentEntry entry, const std::vector<ChunkInput>& chunks,
                                     const std::function<void(double)>& progress) {
  PreparedDocument prepared = prepare_document(doc_id, std::move(entry), chunks);
  if (progress) progress(0.4);
  if (remote_.client != nullptr) {
    std::vector<std::string> texts;
    texts.reserve(prepared.chunks.size());
    for (const auto& c : prepared.chunks) texts.push_back(c.text);
    auto vectors = boost::asio::co_spawn(*remote_.ioc, remote_.client->embed(std::move(texts)),
                                         boost::asio::use_future)
                       .get();
    if (!vectors) return vectors.error();
    prepared.vectors = std::move(vectors).value();
    if (progress) progress(0.9);
  }
  return indexes_.get_or_create(collection_id)->add(std::move(prepared));
}

void Indexer::process(const Job& job) {
  const auto t0 = Clock::now();
  const std::string doc_id = job.document.id;
  const std::string collection_id = job.document.collection_id;
  const auto fail = [&](const core::Error& e) {
    store_.fail(doc_id, reason_of(e));
    jobs_.with({"failed"}).inc();
    log_.warn("document failed", {{"document", doc_id}, {"reason", reason_of(e)}});
  };
  auto model = model_from_json(job.payload);
  if (!model) return fail(model.error());
  const std::string text = document_text(*model);
  const Language language = job.collection_language == "auto"
                                ? detect_language(text)
                                : language_of(job.collection_language, Language::kEnglish);
  auto chunks = chunk_document(*model, options_.chunking);
  if (!chunks) return fail(chunks.error());
  if (chunks->empty()) {
    return fail(
        core::make_error(ErrorKind::kUnprocessable, "empty_document", "the document has no text"));
  }
  store_.touch(doc_id, 0.2);

  std::vector<ChunkInput> inputs;
  std::vector<StoredChunk> stored;
  inputs.reserve(chunks->size());
  stored.reserve(chunks->size());
  for (const auto& c : *chunks) {
    const std::string chunk_id = doc_id + ":" + std::to_string(c.index);
    inputs.push_back({chunk_id, c.text, c.heading_path});
    stored.push_back({chunk_id, doc_id, collection_id, job.document.title, c.text, c.heading_path,
                      c.index, static_cast<std::int64_t>(c.begin), static_cast<std::int64_t>(c.end),
                      c.page});
  }
  DocumentEntry entry{job.document.title, job.document.metadata, language, 0};
  auto st = index_document(collection_id, doc_id, entry, inputs,
                           [&](double p) { store_.touch(doc_id, p); });
  if (!st) return fail(st.error());
  if (!store_.complete(doc_id, std::string(language_code(language)), stored)) {
    // Deleted (or taken over) while we worked: it must not stay searchable here.
    forget_document(collection_id, doc_id);
    jobs_.with({"abandoned"}).inc();
    return;
  }
  jobs_.with({"ready"}).inc();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  ingest_seconds_.observe(seconds);
  log_.info("document ready", {{"document", doc_id},
                               {"collection", collection_id},
                               {"chunks", stored.size()},
                               {"language", language_code(language)},
                               {"seconds", seconds}});
}

std::size_t Indexer::reconcile() {
  std::set<std::string> collections;
  for (const auto& c : store_.all_collections()) collections.insert(c.id);
  for (const auto& id : indexes_.collection_ids()) {
    if (collections.count(id) == 0) indexes_.drop(id);
  }
  std::map<std::string, std::vector<ReadyDocument>> by_collection;
  for (auto& d : store_.ready_documents()) by_collection[d.collection_id].push_back(std::move(d));

  std::size_t changed = 0;
  for (const auto& cid : collections) {
    auto found = by_collection.find(cid);
    auto index = indexes_.find(cid);
    if (found == by_collection.end() && !index) continue;
    if (!index) index = indexes_.get_or_create(cid);
    auto current = index->documents();
    if (found != by_collection.end()) {
      for (const auto& d : found->second) {
        DocumentEntry entry{d.title, d.metadata, language_of(d.language, Language::kEnglish),
                            static_cast<std::uint32_t>(d.chunks)};
        auto it = current.find(d.id);
        if (it != current.end() && it->second.chunks == entry.chunks) {
          index->update_entry(d.id, entry);
          current.erase(it);
          continue;
        }
        if (it != current.end()) current.erase(it);
        std::vector<ChunkInput> inputs;
        for (auto& c : store_.chunks_of(d.id)) {
          inputs.push_back({std::move(c.id), std::move(c.text), std::move(c.heading_path)});
        }
        if (auto st = index_document(cid, d.id, entry, inputs, {}); !st) {
          log_.error("document could not be reindexed",
                     {{"document", d.id}, {"reason", reason_of(st.error())}});
          continue;
        }
        ++changed;
      }
    }
    for (const auto& [doc_id, _] : current) {  // in the index, no longer ready in the store
      index->remove(doc_id);
      ++changed;
    }
  }
  return changed;
}

void Indexer::forget_document(const std::string& collection_id, const std::string& document_id) {
  if (auto index = indexes_.find(collection_id)) index->remove(document_id);
}

void Indexer::forget_collection(const std::string& collection_id) {
  indexes_.drop(collection_id);
}

}  // namespace enkisys::rag
