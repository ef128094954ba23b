#include "enkisys/rag/store.hpp"

#include <boost/json.hpp>

#include "enkisys/core/log.hpp"
#include "enkisys/core/utf8.hpp"
#include "enkisys/db/migrate.hpp"
#include "enkisys/security/encoding.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::rag {

namespace json = boost::json;
using core::ErrorKind;
using db::Tx;

namespace {

constexpr int kMaxAttempts = 3;

const db::Migration kMigrations[] = {
    {1, "rag collections, documents, chunks",
     R"(CREATE TABLE rag_collections (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  visibility TEXT NOT NULL,
  owner TEXT NOT NULL,
  scope_key TEXT NOT NULL,
  language TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (scope_key, name));
CREATE TABLE rag_documents (
  id TEXT PRIMARY KEY,
  collection_id TEXT NOT NULL REFERENCES rag_collections(id) ON DELETE CASCADE,
  owner TEXT NOT NULL,
  title TEXT NOT NULL,
  filename TEXT NOT NULL,
  mime_type TEXT NOT NULL,
  format TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  pages BIGINT NOT NULL,
  language TEXT NOT NULL,
  metadata TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  progress DOUBLE PRECISION NOT NULL,
  chunk_count BIGINT NOT NULL,
  attempts BIGINT NOT NULL,
  claimed_by TEXT NOT NULL,
  claimed_until BIGINT NOT NULL,
  payload TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (collection_id, sha256));
CREATE INDEX rag_documents_queue ON rag_documents (status, created_at, id);
CREATE INDEX rag_documents_collection ON rag_documents (collection_id, id);
CREATE TABLE rag_chunks (
  id TEXT PRIMARY KEY,
  document_id TEXT NOT NULL REFERENCES rag_documents(id) ON DELETE CASCADE,
  collection_id TEXT NOT NULL,
  idx BIGINT NOT NULL,
  text TEXT NOT NULL,
  heading_path TEXT NOT NULL,
  start_offset BIGINT NOT NULL,
  end_offset BIGINT NOT NULL,
  page BIGINT NOT NULL);
CREATE INDEX rag_chunks_document ON rag_chunks (document_id, idx);)"},
};

constexpr const char* kDocumentColumns =
    "d.id, d.collection_id, d.owner, d.title, d.filename, d.mime_type, d.format, d.sha256, "
    "d.size_bytes, d.pages, d.chunk_count, d.attempts, d.language, d.metadata, d.status, "
    "d.reason, d.progress, d.created_at, d.updated_at";

constexpr const char* kCollectionColumns =
    "c.id, c.name, c.description, c.visibility, c.owner, c.language, c.created_at, c.updated_at, "
    "(SELECT COUNT(*) FROM rag_documents x WHERE x.collection_id = c.id) AS documents";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string new_id(std::string_view prefix) {
  return std::string(prefix) + security::hex_encode(security::random_bytes(12));
}

Collection collection_of(const db::Row& r) {
  return {r.text("id"),         r.text("name"),       r.text("description"),
          r.text("visibility"), r.text("owner"),      r.text("language"),
          r.text("created_at"), r.text("updated_at"), r.i64("documents")};
}

std::map<std::string, std::string> metadata_of(const std::string& text) {
  std::map<std::string, std::string> m;
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return m;
  for (const auto& [k, x] : v.as_object()) {
    if (x.is_string()) m.emplace(std::string(k), std::string(x.as_string()));
  }
  return m;
}

std::string metadata_json(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return json::serialize(o);
}

DocumentInfo document_of(const db::Row& r) {
  DocumentInfo d;
  d.id = r.text("id");
  d.collection_id = r.text("collection_id");
  d.owner = r.text("owner");
  d.title = r.text("title");
  d.filename = r.text("filename");
  d.mime_type = r.text("mime_type");
  d.format = r.text("format");
  d.sha256 = r.text("sha256");
  d.size_bytes = r.i64("size_bytes");
  d.pages = r.i64("pages");
  d.chunks = r.i64("chunk_count");
  d.attempts = r.i64("attempts");
  d.language = r.text("language");
  d.metadata = metadata_of(r.text("metadata"));
  d.status = r.text("status");
  d.reason = r.text("reason");
  d.progress = r.f64("progress");
  d.created_at = r.text("created_at");
  d.updated_at = r.text("updated_at");
  return d;
}

bool can_read(const Collection& c, const Actor& a) {
  return c.visibility == "shared" || c.owner == a.id;
}

bool can_write(const Collection& c, const Actor& a) {
  return c.visibility == "shared" ? a.admin : c.owner == a.id;
}

core::Error forbidden_shared() {
  return core::make_error(ErrorKind::kPermissionDenied, "forbidden",
                          "only admins change shared collections and their documents");
}

// The collection `id` as `actor` may read it, inside `tx`.
core::Expected<Collection> readable(Tx& tx, const Actor& actor, const std::string& id) {
  auto res = tx.exec(
      std::string("SELECT ") + kCollectionColumns + " FROM rag_collections c WHERE c.id = $1",
      {id});
  if (res.empty()) return not_found("collection", id);
  Collection c = collection_of(res.rows.front());
  if (!can_read(c, actor)) return not_found("collection", id);
  return c;
}

core::Expected<Collection> writable(Tx& tx, const Actor& actor, const std::string& id) {
  auto c = readable(tx, actor, id);
  if (!c) return c;
  if (!can_write(*c, actor)) return forbidden_shared();
  return c;
}

core::Error name_taken(const std::string& name) {
  return core::make_error(ErrorKind::kConflict, "name_taken",
                          "a collection named '" + name + "' already exists here", "/name");
}

}  // namespace

core::Error not_found(const std::string& what, const std::string& id) {
  return core::make_error(ErrorKind::kNotFound, "not_found",
                          "no " + what + " '" + core::to_valid_utf8(id) + "'");
}

RagStore::RagStore(db::Database& db, std::string instance, std::int64_t lease_seconds)
    : db_(db), instance_(std::move(instance)), lease_seconds_(lease_seconds) {}

void RagStore::migrate() {
  db::migrate(db_, kMigrations);
}

core::Expected<Collection> RagStore::create_collection(const Actor& actor,
                                                       const NewCollection& nc) {
  if (nc.visibility == "shared" && !actor.admin) {
    return core::make_error(ErrorKind::kPermissionDenied, "forbidden",
                            "only admins create shared collections", "/visibility");
  }
  Collection c{new_id("col_"),
               nc.name,
               nc.description,
               nc.visibility,
               actor.id,
               nc.language,
               core::utc_timestamp_now(),
               {},
               0};
  c.updated_at = c.created_at;
  const std::string scope = nc.visibility == "shared" ? "" : actor.id;
  try {
    db_.transaction([&](Tx& tx) {
      tx.exec(
          "INSERT INTO rag_collections (id, name, description, visibility, owner, scope_key, "
          "language, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
          {c.id, c.name, c.description, c.visibility, c.owner, scope, c.language, c.created_at,
           c.updated_at});
    });
  } catch (const db::DbError& e) {
    if (e.unique_violation()) return name_taken(nc.name);
    throw;
  }
  return c;
}

std::vector<Collection> RagStore::list_collections(const Actor& actor) {
  std::vector<Collection> out;
  db_.read([&](Tx& tx) {
    out.clear();
    auto res = tx.exec(std::string("SELECT ") + kCollectionColumns +
                           " FROM rag_collections c WHERE c.visibility = 'shared' OR c.owner = $1 "
                           "ORDER BY c.created_at, c.id",
                       {actor.id});
    for (const auto& r : res.rows) {
      Collection c = collection_of(r);
      if (can_read(c, actor)) out.push_back(std::move(c));
    }
  });
  return out;
}

core::Expected<Collection> RagStore::get_collection(const Actor& actor, const std::string& id) {
  core::Expected<Collection> out = not_found("collection", id);
  db_.read([&](Tx& tx) { out = readable(tx, actor, id); });
  return out;
}

core::Status RagStore::check_writable(const Actor& actor, const std::string& id) {
  core::Status out = core::ok_status();
  db_.read([&](Tx& tx) {
    auto c = writable(tx, actor, id);
    out = c ? core::ok_status() : core::Status(c.error());
  });
  return out;
}

core::Expected<Collection> RagStore::update_collection(const Actor& actor, const std::string& id,
                                                       const CollectionPatch& patch) {
  core::Expected<Collection> out = not_found("collection", id);
  try {
    db_.transaction([&](Tx& tx) {
      out = writable(tx, actor, id);
      if (!out) return;
      Collection& c = *out;
      if (patch.name) c.name = *patch.name;
      if (patch.description) c.description = *patch.description;
      if (patch.language) c.language = *patch.language;
      c.updated_at = core::utc_timestamp_now();
      tx.exec(
          "UPDATE rag_collections SET name = $2, description = $3, language = $4, "
          "updated_at = $5 WHERE id = $1",
          {c.id, c.name, c.description, c.language, c.updated_at});
    });
  } catch (const db::DbError& e) {
    if (e.unique_violation()) return name_taken(patch.name.value_or(""));
    throw;
  }
  return out;
}

core::Status RagStore::delete_collection(const Actor& actor, const std::string& id) {
  core::Status out = core::ok_status();
  db_.transaction([&](Tx& tx) {
    auto c = writable(tx, actor, id);
    if (!c) {
      out = c.error();
      return;
    }
    out = core::ok_status();
    tx.exec("DELETE FROM rag_chunks WHERE collection_id = $1", {id});
    tx.exec("DELETE FROM rag_documents WHERE collection_id = $1", {id});
    tx.exec("DELETE FROM rag_collections WHERE id = $1", {id});
  });
  return out;
}

core::Expected<std::vector<Collection>> RagStore::searchable(const Actor& actor,
                                                             const std::vector<std::string>& ids) {
  if (ids.empty()) return list_collections(actor);
  core::Expected<std::vector<Collection>> out = std::vector<Collection>{};
  db_.read([&](Tx& tx) {
    std::vector<Collection> found;
    for (const auto& id : ids) {
      auto c = readable(tx, actor, id);
      if (!c) {
        out = c.error();
        return;
      }
      found.push_back(std::move(c).value());
    }
    out = std::move(found);
  });
  return out;
}

core::Expected<AddedDocument> RagStore::add_document(const Actor& actor,
                                                     const std::string& collection_id,
                                                     const NewDocument& nd) {
  core::Expected<AddedDocument> out = not_found("collection", collection_id);
  const auto attempt = [&](Tx& tx) {
    auto c = writable(tx, actor, collection_id);
    if (!c) {
      out = c.error();
      return;
    }
    auto existing = tx.exec(std::string("SELECT ") + kDocumentColumns +
                                " FROM rag_documents d WHERE d.collection_id = $1 AND "
                                "d.sha256 = $2",
                            {collection_id, nd.sha256});
    if (!existing.empty()) {
      AddedDocument a{document_of(existing.rows.front()), true};
      if (a.document.status == "failed") {  // the same content again: try it once more
        a.document.status = "queued";
        a.document.reason.clear();
        a.document.progress = 0;
        a.document.attempts = 0;
        a.document.updated_at = core::utc_timestamp_now();
        tx.exec(
            "UPDATE rag_documents SET status = 'queued', reason = '', progress = 0, "
            "attempts = 0, claimed_by = '', claimed_until = 0, payload = $2, updated_at = $3 "
            "WHERE id = $1",
            {a.document.id, nd.payload, a.document.updated_at});
      }
      out = std::move(a);
      return;
    }
    DocumentInfo d;
    d.id = new_id("doc_");
    d.collection_id = collection_id;
    d.owner = actor.id;
    d.title = nd.title;
    d.filename = nd.filename;
    d.mime_type = nd.mime_type;
    d.format = nd.format;
    d.sha256 = nd.sha256;
    d.size_bytes = nd.size_bytes;
    d.pages = nd.pages;
    d.language = nd.language;
    d.metadata = nd.metadata;
    d.status = "queued";
    d.created_at = d.updated_at = core::utc_timestamp_now();
    tx.exec(
        "INSERT INTO rag_documents (id, collection_id, owner, title, filename, mime_type, format, "
        "sha256, size_bytes, pages, language, metadata, status, reason, progress, chunk_count, "
        "attempts, claimed_by, claimed_until, payload, created_at, updated_at) VALUES ($1, $2, "
        "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'queued', '', 0, 0, 0, '', 0, $13, $14, $15)",
        {d.id, d.collection_id, d.owner, d.title, d.filename, d.mime_type, d.format, d.sha256,
         d.size_bytes, d.pages, d.language, metadata_json(d.metadata), nd.payload, d.created_at,
         d.updated_at});
    out = AddedDocument{std::move(d), false};
  };
  try {
    db_.transaction(attempt);
  } catch (const db::DbError& e) {
    // Two identical uploads at once: the other one inserted first; answer with its document.
    if (!e.unique_violation()) throw;
    db_.transaction(attempt);
  }
  return out;
}

core::Expected<std::vector<DocumentInfo>> RagStore::list_documents(const Actor& actor,
                                                                   const std::string& collection_id,
                                                                   std::int64_t limit,
                                                                   const std::string& after) {
  core::Expected<std::vector<DocumentInfo>> out = not_found("collection", collection_id);
  db_.read([&](Tx& tx) {
    auto c = readable(tx, actor, collection_id);
    if (!c) {
      out = c.error();
      return;
    }
    auto res = tx.exec(std::string("SELECT ") + kDocumentColumns +
                           " FROM rag_documents d WHERE d.collection_id = $1 AND d.id > $2 "
                           "ORDER BY d.id LIMIT $3",
                       {collection_id, after, limit});
    std::vector<DocumentInfo> docs;
    for (const auto& r : res.rows) docs.push_back(document_of(r));
    out = std::move(docs);
  });
  return out;
}

core::Expected<DocumentInfo> RagStore::get_document(const Actor& actor,
                                                    const std::string& collection_id,
                                                    const std::string& id) {
  core::Expected<DocumentInfo> out = not_found("document", id);
  db_.read([&](Tx& tx) {
    auto c = readable(tx, actor, collection_id);
    if (!c) {
      out = c.error();
      return;
    }
    auto res = tx.exec(std::string("SELECT ") + kDocumentColumns +
                           " FROM rag_documents d WHERE d.id = $1 AND d.collection_id = $2",
                       {id, collection_id});
    if (res.empty()) {
      out = not_found("document", id);
      return;
    }
    out = document_of(res.rows.front());
  });
  return out;
}

core::Status RagStore::delete_document(const Actor& actor, const std::string& collection_id,
                                       const std::string& id) {
  core::Status out = core::ok_status();
  db_.transaction([&](Tx& tx) {
    auto c = writable(tx, actor, collection_id);
    if (!c) {
      out = c.error();
      return;
    }
    tx.exec("DELETE FROM rag_chunks WHERE document_id = $1", {id});
    auto res = tx.exec("DELETE FROM rag_documents WHERE id = $1 AND collection_id = $2",
                       {id, collection_id});
    if (res.affected == 0) {
      out = not_found("document", id);
    } else {
      out = core::ok_status();
    }
  });
  return out;
}

std::int64_t RagStore::reset_own_claims() {
  std::int64_t n = 0;
  db_.transaction([&](Tx& tx) {
    n = tx.exec(
              "UPDATE rag_documents SET status = 'queued', claimed_by = '', claimed_until = 0 "
              "WHERE status = 'processing' AND claimed_by = $1",
              {instance_})
            .affected;
  });
  return n;
}

std::optional<Job> RagStore::claim_next() {
  std::optional<Job> out;
  db_.transaction([&](Tx& tx) {
    out.reset();
    const std::int64_t now = unix_now();
    // A bounded number of candidates per call: a poisoned document is failed, then the next.
    for (int tries = 0; tries < 8; ++tries) {
      auto res = tx.exec(
          std::string("SELECT ") + kDocumentColumns +
              ", d.payload, c.language AS collection_language FROM rag_documents d JOIN "
              "rag_collections c ON c.id = d.collection_id WHERE d.status = 'queued' OR "
              "(d.status = 'processing' AND d.claimed_until < $1) ORDER BY d.created_at, d.id "
              "LIMIT 1",
          {now});
      if (res.empty()) return;
      const auto& row = res.rows.front();
      Job job{document_of(row), row.opt_text("payload").value_or(""),
              row.text("collection_language")};
      if (job.document.attempts >= kMaxAttempts) {
        tx.exec(
            "UPDATE rag_documents SET status = 'failed', reason = $2, payload = NULL, "
            "claimed_by = '', updated_at = $3 WHERE id = $1",
            {job.document.id,
             "ingest_crashed: ingestion did not finish after " + std::to_string(kMaxAttempts) +
                 " attempts",
             core::utc_timestamp_now()});
        continue;
      }
      const auto claimed = tx.exec(
          "UPDATE rag_documents SET status = 'processing', attempts = attempts + 1, "
          "claimed_by = $2, claimed_until = $3, progress = 0, updated_at = $4 WHERE id = $1 AND "
          "(status = 'queued' OR (status = 'processing' AND claimed_until < $5))",
          {job.document.id, instance_, now + lease_seconds_, core::utc_timestamp_now(), now});
      if (claimed.affected != 1) return;  // another instance took it; try again later
      job.document.status = "processing";
      job.document.attempts += 1;
      out = std::move(job);
      return;
    }
  });
  return out;
}

bool RagStore::touch(const std::string& document_id, double progress) {
  bool ours = false;
  db_.transaction([&](Tx& tx) {
    ours = tx.exec(
                 "UPDATE rag_documents SET progress = $3, claimed_until = $4, updated_at = $5 "
                 "WHERE id = $1 AND status = 'processing' AND claimed_by = $2",
                 {document_id, instance_, progress, unix_now() + lease_seconds_,
                  core::utc_timestamp_now()})
               .affected == 1;
  });
  return ours;
}

bool RagStore::complete(const std::string& document_id, const std::string& language,
                        const std::vector<StoredChunk>& chunks) {
  bool done = false;
  db_.transaction([&](Tx& tx) {
    done = false;
    const auto mine = tx.exec(
        "UPDATE rag_documents SET status = 'ready', progress = 1, chunk_count = $3, "
        "language = $4, payload = NULL, claimed_by = '', claimed_until = 0, updated_at = $5 "
        "WHERE id = $1 AND status = 'processing' AND claimed_by = $2",
        {document_id, instance_, static_cast<std::int64_t>(chunks.size()), language,
         core::utc_timestamp_now()});
    if (mine.affected != 1) return;
    for (const auto& c : chunks) {
      json::array path;
      for (const auto& h : c.heading_path) path.emplace_back(h);
      tx.exec(
          "INSERT INTO rag_chunks (id, document_id, collection_id, idx, text, heading_path, "
          "start_offset, end_offset, page) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
          {c.id, c.document_id, c.collection_id, c.index, c.text, json::serialize(path), c.start,
           c.end, c.page});
    }
    done = true;
  });
  return done;
}

void RagStore::fail(const std::string& document_id, const std::string& reason) {
  db_.transaction([&](Tx& tx) {
    tx.exec(
        "UPDATE rag_documents SET status = 'failed', reason = $3, payload = NULL, "
        "claimed_by = '', claimed_until = 0, updated_at = $4 WHERE id = $1 AND "
        "status = 'processing' AND claimed_by = $2",
        {document_id, instance_, reason, core::utc_timestamp_now()});
  });
}

std::int64_t RagStore::queue_depth() {
  std::int64_t n = 0;
  db_.read([&](Tx& tx) {
    n = tx.exec(
              "SELECT COUNT(*) AS n FROM rag_documents WHERE status IN ('queued', "
              "'processing')")
            .one()
            .i64("n");
  });
  return n;
}

std::vector<ReadyDocument> RagStore::ready_documents() {
  std::vector<ReadyDocument> out;
  db_.read([&](Tx& tx) {
    out.clear();
    auto res = tx.exec(
        "SELECT id, collection_id, title, language, metadata, chunk_count FROM rag_documents "
        "WHERE status = 'ready' ORDER BY collection_id, id");
    for (const auto& r : res.rows) {
      out.push_back({r.text("id"), r.text("collection_id"), r.text("title"), r.text("language"),
                     metadata_of(r.text("metadata")), r.i64("chunk_count")});
    }
  });
  return out;
}

std::vector<Collection> RagStore::all_collections() {
  std::vector<Collection> out;
  db_.read([&](Tx& tx) {
    out.clear();
    auto res = tx.exec(std::string("SELECT ") + kCollectionColumns +
                       " FROM rag_collections c ORDER BY c.id");
    for (const auto& r : res.rows) out.push_back(collection_of(r));
  });
  return out;
}

namespace {

StoredChunk chunk_of(const db::Row& r) {
  StoredChunk c;
  c.id = r.text("id");
  c.document_id = r.text("document_id");
  c.collection_id = r.text("collection_id");
  c.title = r.text("title");
  c.text = r.text("text");
  boost::system::error_code ec;
  const json::value path = json::parse(r.text("heading_path"), ec);
  if (!ec && path.is_array()) {
    for (const auto& h : path.as_array()) {
      if (h.is_string()) c.heading_path.emplace_back(h.as_string());
    }
  }
  c.index = r.i64("idx");
  c.start = r.i64("start_offset");
  c.end = r.i64("end_offset");
  c.page = r.i64("page");
  return c;
}

constexpr const char* kChunkSelect =
    "SELECT c.id, c.document_id, c.collection_id, d.title, c.text, c.heading_path, c.idx, "
    "c.start_offset, c.end_offset, c.page FROM rag_chunks c JOIN rag_documents d ON "
    "d.id = c.document_id ";

}  // namespace

std::vector<StoredChunk> RagStore::chunks_of(const std::string& document_id) {
  std::vector<StoredChunk> out;
  db_.read([&](Tx& tx) {
    out.clear();
    auto res = tx.exec(std::string(kChunkSelect) + "WHERE c.document_id = $1 ORDER BY c.idx",
                       {document_id});
    for (const auto& r : res.rows) out.push_back(chunk_of(r));
  });
  return out;
}

std::vector<StoredChunk> RagStore::chunks_by_id(const std::vector<std::string>& ids) {
  std::vector<StoredChunk> out;
  if (ids.empty()) return out;
  std::string sql = std::string(kChunkSelect) + "WHERE c.id IN (";
  std::vector<db::Value> params;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    sql += (i == 0 ? "$" : ", $") + std::to_string(i + 1);
    params.emplace_back(ids[i]);
  }
  sql += ")";
  db_.read([&](Tx& tx) {
    out.clear();
    for (const auto& r : tx.exec(sql, params).rows) out.push_back(chunk_of(r));
  });
  return out;
}

}  // namespace enkisys::rag
