// The HTTP API of the RAG service (/api/rag, ARCHITECTURE.md "APIs of rag, ..."): collections,
// documents (multipart or JSON upload, parsed at once, indexed by the Indexer), search.
//
// Contract:
//  * Identity from X-User-Id / X-User-Roles (core::actor_of); access rules in store.hpp.
//  * An upload is parsed before anything is written: unsupported type → 415, a document that
//    cannot be read (corrupt/encrypted PDF, corrupt DOCX, zip bomb, empty, not UTF-8 without a
//    declared charset) → 422 naming the reason, too large → 413. An accepted one is queued with
//    its parsed model in one transaction → 202 (200 with "duplicate": true for content already
//    in the collection). Uploaded files are removed whatever happens.
//  * Search: 400 for a query over `max_query_bytes`, bad k/mode/filter; 404 for a collection the
//    user cannot see; 503 index_loading (Retry-After) until the Indexer is ready.
//  * Thread-safe; handlers run store and parser work on the blocking pool.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <filesystem>
#include <memory>

#include "enkisys/core/http.hpp"
#include "enkisys/core/metrics.hpp"
#include "enkisys/core/router.hpp"
#include "enkisys/core/server.hpp"
#include "enkisys/rag/collection_index.hpp"
#include "enkisys/rag/embeddings_client.hpp"
#include "enkisys/rag/indexer.hpp"
#include "enkisys/rag/parse.hpp"
#include "enkisys/rag/store.hpp"

namespace enkisys::rag {

struct ApiOptions {
  std::filesystem::path upload_dir;  // REQUIRES: exists, on the data volume
  std::uint64_t max_upload_bytes = 25ULL * 1024 * 1024;
  std::size_t max_query_bytes = 2048;
  std::size_t max_k = 50;
  HybridSettings hybrid;  // the measured defaults of the retrieval core (fusion.hpp)
  ParseLimits parse_limits;
};

class RagApi {
 public:
  // `remote` (nullable): embeds queries when the service uses an embeddings endpoint.
  RagApi(RagStore& store, IndexSet& indexes, Indexer& indexer, EmbeddingsClient* remote,
         core::MetricsRegistry& metrics, ApiOptions options);

  void add_routes(core::Router& router);

 private:
  using Awaitable = boost::asio::awaitable<core::Response>;
  Awaitable create_collection(core::Request& req, core::RequestContext& ctx);
  Awaitable list_collections(core::Request& req, core::RequestContext& ctx);
  Awaitable get_collection(core::Request& req, core::RequestContext& ctx);
  Awaitable patch_collection(core::Request& req, core::RequestContext& ctx);
  Awaitable delete_collection(core::Request& req, core::RequestContext& ctx);
  Awaitable upload(core::Request& req, core::RequestContext& ctx);
  Awaitable list_documents(core::Request& req, core::RequestContext& ctx);
  Awaitable get_document(core::Request& req, core::RequestContext& ctx);
  Awaitable delete_document(core::Request& req, core::RequestContext& ctx);
  Awaitable search(core::Request& req, core::RequestContext& ctx);

  template <typename Fn>
  boost::asio::awaitable<std::invoke_result_t<Fn>> db(core::RequestContext& ctx, Fn fn);

  RagStore& store_;
  IndexSet& indexes_;
  Indexer& indexer_;
  EmbeddingsClient* remote_;
  ApiOptions options_;
  core::Family<core::Histogram>& search_seconds_;
};

}  // namespace enkisys::rag
