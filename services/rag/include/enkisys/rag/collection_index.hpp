// The search indexes of the RAG service: per collection a BM25 index and a vector index (with the
// built-in embedder's statistics when no embeddings endpoint is configured), kept in memory,
// saved to the data volume and checked when loaded.
//
// Contract:
//  * One CollectionIndex per collection. Documents are added whole (prepare() outside the lock,
//    add() under it) and removed whole, so a search sees all chunks of a document or none.
//  * Languages: each document is analysed in its own language (set on the collection or detected);
//    a query is analysed in every language present in the collections searched.
//  * Vectors come from the built-in embedder (IndexConfig::model == kBuiltinModel; the embedder's
//    IDF statistics grow with each document added and are not reduced by removals) or from the
//    caller (a remote embeddings endpoint: prepare() leaves `vectors` to the caller).
//  * Files: save() writes a set of files to a fresh folder renamed into place (IndexSet), so a
//    crash leaves the previous set or the new one. load() refuses (kUnprocessable index_corrupt)
//    a set whose files are damaged, disagree with each other or were made by another model or
//    dimension; the caller then rebuilds from the store.
//  * Thread safety: every method may be called from any thread (a shared mutex inside: searches
//    in parallel, add/remove exclusive).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "enkisys/core/expected.hpp"
#include "enkisys/rag/bm25_index.hpp"
#include "enkisys/rag/chunker.hpp"
#include "enkisys/rag/embedder.hpp"
#include "enkisys/rag/fusion.hpp"
#include "enkisys/rag/text.hpp"
#include "enkisys/rag/vector_index.hpp"

namespace enkisys::rag {

inline constexpr const char* kBuiltinModel = kBuiltinEmbedderModel;

struct IndexConfig {
  std::string model = kBuiltinModel;
  std::size_t dim = 1024;  // built-in: the embedder's; remote: 0 = taken from the first vectors
  Bm25Params bm25;
  EmbedderOptions embedder;
  std::size_t exact_threshold = 20000;
};

// What the index keeps about a document (filters and results).
struct DocumentEntry {
  std::string title;
  std::map<std::string, std::string> metadata;
  Language language = Language::kEnglish;
  std::uint32_t chunks = 0;
};

struct PreparedChunk {
  std::string chunk_id;
  std::vector<std::string> body_terms;
  std::vector<std::string> heading_terms;
  std::string text;  // what a remote embedder embeds (title + headings + body)
};

struct PreparedDocument {
  std::string doc_id;
  DocumentEntry entry;
  std::vector<PreparedChunk> chunks;
  std::vector<std::vector<float>> vectors;  // remote model: one per chunk (empty: skipped)
};

// One chunk of a document as the index takes it (from the chunker or from the store).
struct ChunkInput {
  std::string chunk_id;
  std::string text;
  std::vector<std::string> heading_path;
};

// Analyses `chunks` of a document in `entry.language` (thread safe: per-thread analysers).
PreparedDocument prepare_document(std::string doc_id, DocumentEntry entry,
                                  const std::vector<ChunkInput>& chunks);

// Index terms of `text` in each of `languages`, concatenated without duplicates.
std::vector<std::string> query_terms(std::string_view text, const std::set<Language>& languages);

struct DocFilter {
  std::unordered_set<std::string> doc_ids;      // empty: any
  std::map<std::string, std::string> metadata;  // every pair must match
  bool empty() const { return doc_ids.empty() && metadata.empty(); }
};

class CollectionIndex {
 public:
  static core::Expected<std::unique_ptr<CollectionIndex>> create(const IndexConfig& config);
  // kNotFound index_missing, kUnprocessable index_corrupt (see the contract).
  static core::Expected<std::unique_ptr<CollectionIndex>> load(const std::filesystem::path& dir,
                                                               const IndexConfig& config);
  // Writes the set into `dir` (an empty folder). kUnavailable index_write_failed.
  core::Status save(const std::filesystem::path& dir) const;

  // Replaces any earlier version of the document. kInvalidArgument invalid_vector (a remote
  // vector of the wrong dimension), kConflict on a duplicate chunk id.
  core::Status add(PreparedDocument doc);
  bool remove(const std::string& doc_id);
  void update_entry(const std::string& doc_id, const DocumentEntry& entry);

  std::map<std::string, DocumentEntry> documents() const;
  std::set<Language> languages() const;
  std::size_t chunk_count() const;
  bool dirty() const;
  void mark_clean();

  // The collection's indexes held for one search (a shared lock: changes wait until the view is
  // gone). `terms`: the query's index terms (the built-in embedder embeds them);
  // `remote_vector`: the query's vector from the embeddings endpoint (remote model). The filter's
  // metadata is resolved to document ids so that it restricts both retrievers.
  class View {
   public:
    HybridShard shard;
    bool excluded = false;  // the filter leaves no document of this collection
   private:
    friend class CollectionIndex;
    std::shared_lock<std::shared_mutex> lock_;
  };
  // `with_vector` false: no query vector (a lexical search).
  View view(const std::vector<std::string>& terms, const std::vector<float>& remote_vector,
            const DocFilter& filter, bool with_vector = true) const;

 private:
  CollectionIndex(IndexConfig config, Bm25Index bm25, std::optional<VectorIndex> vectors,
                  std::optional<HashingEmbedder> embedder);
  // REQUIRES: mu_ held. nullopt: no restriction; else the allowed documents.
  std::optional<std::unordered_set<std::string>> allowed(const DocFilter& f) const;

  IndexConfig config_;
  mutable std::shared_mutex mu_;
  Bm25Index bm25_;
  std::optional<VectorIndex> vectors_;  // remote model: created with the first vectors
  std::optional<HashingEmbedder> embedder_;
  std::map<std::string, DocumentEntry> docs_;
  bool dirty_ = false;
};

// Every collection's index, loaded from and saved to `root` (RAG_DATA_DIR/index).
class IndexSet {
 public:
  IndexSet(std::filesystem::path root, IndexConfig config);

  // The index of a collection, created empty if absent.
  std::shared_ptr<CollectionIndex> get_or_create(const std::string& collection_id);
  std::shared_ptr<CollectionIndex> find(const std::string& collection_id) const;
  std::vector<std::string> collection_ids() const;
  void drop(const std::string& collection_id);  // and its files

  // Loads `collection_id` from its folder; the error says why it could not (then rebuild).
  core::Status load(const std::string& collection_id);
  // Saves every dirty index (folder swap); returns how many were saved.
  core::Expected<std::size_t> save_dirty();
  // Collection ids with a folder under root (leftovers of interrupted saves are removed).
  std::vector<std::string> on_disk() const;

  const IndexConfig& config() const { return config_; }

 private:
  std::filesystem::path root_;
  IndexConfig config_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<CollectionIndex>> indexes_;
};

}  // namespace enkisys::rag
