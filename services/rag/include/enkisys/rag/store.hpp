// RagStore: collections, documents, their chunks and the durable ingestion queue, kept in the
// service's database (libs/db: SQLite by default, PostgreSQL).
//
// Contract:
//  * Thread-safe; every method blocks on the database, so call it off the I/O threads.
//  * Access (who may see and change what) is checked inside the transaction that reads or writes
//    the row, so a concurrent delete or change cannot slip between check and write:
//      - a private collection exists only for its owner (404 for everyone else, admins included:
//        private means private);
//      - a shared collection is read by every user of the stage and written by admins only (403);
//      - documents and chunks follow their collection.
//  * The queue IS the documents table: a document is created `queued` together with its parsed
//    model (JSON payload) in one transaction, claimed by one worker (`processing`, lease with a
//    heartbeat), and made `ready` together with all its chunks in one transaction — or `failed`
//    with a reason. A document is therefore never half-stored: either its chunks are all there
//    and it is ready, or none are and it is queued/processing/failed.
//  * Idempotent uploads: (collection, SHA-256 of the content) is unique. Adding the same content
//    again returns the existing document (`duplicate`), re-queueing it only if it had failed;
//    two concurrent identical uploads create one document.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "enkisys/core/expected.hpp"
#include "enkisys/core/request.hpp"
#include "enkisys/db/database.hpp"

namespace enkisys::rag {

using core::Actor;

struct Collection {
  std::string id, name, description;
  std::string visibility;  // "private" | "shared"
  std::string owner;
  std::string language;  // "auto" | "en" | "es"
  std::string created_at, updated_at;
  std::int64_t documents = 0;  // filled by list()/get()
};

struct DocumentInfo {
  std::string id, collection_id, owner, title, filename, mime_type, format, sha256;
  std::int64_t size_bytes = 0, pages = 0, chunks = 0, attempts = 0;
  std::string language;
  std::map<std::string, std::string> metadata;
  std::string status;  // queued | processing | ready | failed
  std::string reason;  // failed: "<code>: <message>"
  double progress = 0;
  std::string created_at, updated_at;
};

struct NewCollection {
  std::string name, description, visibility = "private", language = "auto";
};

struct CollectionPatch {
  std::optional<std::string> name, description, language;
};

struct NewDocument {
  std::string title, filename, mime_type, format, sha256, language;
  std::int64_t size_bytes = 0, pages = 0;
  std::map<std::string, std::string> metadata;
  std::string payload;  // the parsed document model, JSON (model_json.hpp)
};

struct AddedDocument {
  DocumentInfo document;
  bool duplicate = false;  // the same content was already in the collection
};

// One chunk as stored (and as the index is rebuilt from).
struct StoredChunk {
  std::string id;  // "<document id>:<index>"
  std::string document_id, collection_id, title, text;
  std::vector<std::string> heading_path;
  std::int64_t index = 0, start = 0, end = 0, page = 0;
};

// A claimed ingestion job.
struct Job {
  DocumentInfo document;
  std::string payload;
  std::string collection_language;
};

// What the index of one collection must hold: ready documents and their chunk counts.
struct ReadyDocument {
  std::string id, collection_id, title, language;
  std::map<std::string, std::string> metadata;
  std::int64_t chunks = 0;
};

class RagStore {
 public:
  // `instance` names this process in claims (its host name): at start, reset_own_claims() puts
  // back the documents a previous life of the same instance was processing.
  RagStore(db::Database& db, std::string instance, std::int64_t lease_seconds = 60);

  void migrate();
  bool reads_are_local() const { return db_.backend() == db::Backend::kSqlite; }

  // Collections. Errors: 404 not_found, 403 forbidden, 409 name_taken, 400 invalid_request.
  core::Expected<Collection> create_collection(const Actor& actor, const NewCollection& c);
  std::vector<Collection> list_collections(const Actor& actor);
  core::Expected<Collection> get_collection(const Actor& actor, const std::string& id);
  core::Expected<Collection> update_collection(const Actor& actor, const std::string& id,
                                               const CollectionPatch& patch);
  core::Status delete_collection(const Actor& actor, const std::string& id);
  // Whether `actor` may add or delete documents of the collection (404 / 403 as the writes do).
  core::Status check_writable(const Actor& actor, const std::string& id);
  // The collections `actor` may search among `ids` (all visible ones when `ids` is empty).
  // Errors: 404 not_found naming the first id that is not visible.
  core::Expected<std::vector<Collection>> searchable(const Actor& actor,
                                                     const std::vector<std::string>& ids);

  // Documents. add_document needs write access to the collection (403/404).
  core::Expected<AddedDocument> add_document(const Actor& actor, const std::string& collection_id,
                                             const NewDocument& doc);
  core::Expected<std::vector<DocumentInfo>> list_documents(const Actor& actor,
                                                           const std::string& collection_id,
                                                           std::int64_t limit,
                                                           const std::string& after);
  core::Expected<DocumentInfo> get_document(const Actor& actor, const std::string& collection_id,
                                            const std::string& id);
  core::Status delete_document(const Actor& actor, const std::string& collection_id,
                               const std::string& id);

  // Queue (the ingestion worker).
  std::int64_t reset_own_claims();
  // Oldest queued document (or one whose claim lease expired), now `processing` by this
  // instance; nullopt when none.
  std::optional<Job> claim_next();
  // Heartbeat (extends the lease) + progress of a claimed job; false when the job is gone or no
  // longer ours.
  bool touch(const std::string& document_id, double progress);
  // Stores every chunk and marks the document ready in one transaction; false (nothing written)
  // when the job is gone (deleted meanwhile) or no longer ours.
  bool complete(const std::string& document_id, const std::string& language,
                const std::vector<StoredChunk>& chunks);
  // Marks the job failed; after `max_attempts` claims a document is failed by claim_next.
  void fail(const std::string& document_id, const std::string& reason);
  std::int64_t queue_depth();

  // Index rebuild and sync.
  std::vector<ReadyDocument> ready_documents();
  std::vector<Collection> all_collections();
  std::vector<StoredChunk> chunks_of(const std::string& document_id);
  // The chunks named, with their document titles (missing ids are skipped).
  std::vector<StoredChunk> chunks_by_id(const std::vector<std::string>& ids);

 private:
  db::Database& db_;
  std::string instance_;
  std::int64_t lease_seconds_;
};

// Canonical error of a missing (or invisible) collection/document.
core::Error not_found(const std::string& what, const std::string& id);

}  // namespace enkisys::rag
