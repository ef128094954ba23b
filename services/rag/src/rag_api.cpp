#include "enkisys/rag/rag_api.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <unordered_map>

#include "enkisys/core/multipart.hpp"
#include "enkisys/core/request.hpp"
#include "enkisys/core/stream.hpp"
#include "enkisys/core/utf8.hpp"
#include "enkisys/rag/fusion.hpp"
#include "enkisys/rag/model_json.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::rag {

namespace json = boost::json;
namespace http = boost::beast::http;
namespace fs = std::filesystem;
using boost::asio::awaitable;
using core::ErrorKind;
using core::Request;
using core::RequestContext;
using core::Response;
using core::value_or_throw;

namespace {

constexpr std::size_t kMaxNameBytes = 200;
constexpr std::size_t kMaxDescriptionBytes = 2000;
constexpr std::size_t kMaxTitleBytes = 500;
constexpr std::size_t kMaxMetadataKeys = 32;
constexpr std::size_t kMaxMetadataKeyBytes = 64;
constexpr std::size_t kMaxMetadataValueBytes = 512;
constexpr std::size_t kMaxSearchCollections = 64;
constexpr std::size_t kMaxFilterDocuments = 1000;

[[noreturn]] void bad(std::string code, std::string message, std::string field = {}) {
  throw core::ApiError(core::make_error(ErrorKind::kInvalidArgument, std::move(code),
                                        std::move(message), std::move(field)));
}

// A string member: nullopt when absent; 400 when not a string, too long or holding controls.
std::optional<std::string> string_field(const json::object& o, std::string_view name,
                                        std::size_t max_bytes, bool allow_newlines = false) {
  const auto* v = o.if_contains(name);
  if (!v || v->is_null()) return std::nullopt;
  const std::string field = "/" + std::string(name);
  if (!v->is_string()) bad("invalid_request", std::string(name) + " must be a string", field);
  std::string s(v->as_string());
  if (s.size() > max_bytes) {
    bad("invalid_request",
        std::string(name) + " is longer than " + std::to_string(max_bytes) + " bytes", field);
  }
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && !(allow_newlines && (c == '\n' || c == '\t' || c == '\r'))) || u == 0x7F) {
      bad("invalid_request", std::string(name) + " holds a control character", field);
    }
  }
  return s;
}

void reject_unknown(const json::object& o, std::initializer_list<std::string_view> known) {
  for (const auto& [k, _] : o) {
    if (std::find(known.begin(), known.end(), std::string_view(k)) == known.end()) {
      bad("invalid_request", "unknown field '" + core::to_valid_utf8(k) + "'",
          "/" + std::string(k));
    }
  }
}

std::string checked_name(std::string name) {
  std::string trimmed = std::move(name);
  while (!trimmed.empty() && trimmed.back() == ' ') trimmed.pop_back();
  while (!trimmed.empty() && trimmed.front() == ' ') trimmed.erase(trimmed.begin());
  if (trimmed.empty()) bad("invalid_request", "name must not be empty", "/name");
  return trimmed;
}

std::string checked_language(const std::string& l) {
  if (l == "auto" || l == "en" || l == "es") return l;
  bad("invalid_request", "language must be \"auto\", \"en\" or \"es\"", "/language");
}

std::map<std::string, std::string> parse_metadata(const json::value& v, const std::string& at) {
  if (!v.is_object()) bad("invalid_metadata", "metadata must be an object of strings", at);
  const auto& o = v.as_object();
  if (o.size() > kMaxMetadataKeys) {
    bad("invalid_metadata", "at most " + std::to_string(kMaxMetadataKeys) + " metadata keys", at);
  }
  std::map<std::string, std::string> m;
  for (const auto& [k, x] : o) {
    const std::string key(k);
    const bool ok_key = !key.empty() && key.size() <= kMaxMetadataKeyBytes &&
                        std::all_of(key.begin(), key.end(), [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ||
                                 c == '-' || c == '.';
                        });
    if (!ok_key) {
      bad("invalid_metadata", "metadata keys are 1-64 characters of [A-Za-z0-9_.-]", at);
    }
    if (!x.is_string() || x.as_string().size() > kMaxMetadataValueBytes) {
      bad("invalid_metadata", "metadata values are strings of at most 512 bytes", at + "/" + key);
    }
    m.emplace(key, std::string(x.as_string()));
  }
  return m;
}

json::object collection_json(const Collection& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"description", c.description},
          {"visibility", c.visibility},
          {"owner", c.owner},
          {"language", c.language},
          {"documents", c.documents},
          {"created_at", c.created_at},
          {"updated_at", c.updated_at}};
}

json::object document_json(const DocumentInfo& d) {
  json::object meta;
  for (const auto& [k, v] : d.metadata) meta[k] = v;
  json::object o{{"id", d.id},
                 {"collection_id", d.collection_id},
                 {"title", d.title},
                 {"filename", d.filename},
                 {"mime_type", d.mime_type},
                 {"format", d.format},
                 {"size_bytes", d.size_bytes},
                 {"sha256", d.sha256},
                 {"pages", d.pages},
                 {"chunks", d.chunks},
                 {"language", d.language.empty() ? json::value(nullptr) : json::value(d.language)},
                 {"metadata", std::move(meta)},
                 {"status", d.status},
                 {"progress", d.progress},
                 {"created_at", d.created_at},
                 {"updated_at", d.updated_at}};
  if (d.status == "failed") {
    const auto colon = d.reason.find(": ");
    o["error"] = json::object{
        {"code", d.reason.substr(0, colon)},
        {"message", colon == std::string::npos ? d.reason : d.reason.substr(colon + 2)}};
  }
  return o;
}

// Reads a streamed JSON body (upload as text) into req.body() under `cap` and parses it.
awaitable<json::object> read_json_body(Request& req, RequestContext& ctx) {
  std::string body;
  auto& stream = ctx.body();
  for (;;) {
    const std::string_view piece = co_await stream.read();
    if (piece.empty()) break;
    body.append(piece);
  }
  req.body() = std::move(body);
  co_return core::parse_json_object(req);
}

struct RemovedOnExit {
  std::vector<fs::path> paths;
  ~RemovedOnExit() {
    std::error_code ec;
    for (const auto& p : paths) fs::remove(p, ec);
  }
};

}  // namespace

RagApi::RagApi(RagStore& store, IndexSet& indexes, Indexer& indexer, EmbeddingsClient* remote,
               core::MetricsRegistry& metrics, ApiOptions options)
    : store_(store),
      indexes_(indexes),
      indexer_(indexer),
      remote_(remote),
      options_(std::move(options)),
      search_seconds_(metrics.histogram("rag_search_seconds",
                                        "Search time inside the service by mode.", {"mode"})) {}

template <typename Fn>
awaitable<std::invoke_result_t<Fn>> RagApi::db(RequestContext& ctx, Fn fn) {
  // SQLite reads and short writes take microseconds; PostgreSQL round trips block.
  co_return co_await ctx.blocking(std::move(fn));
}

void RagApi::add_routes(core::Router& r) {
  const auto bind = [this](auto method) { return core::member_handler(this, method); };
  r.add(http::verb::post, "/api/rag/collections", bind(&RagApi::create_collection));
  r.add(http::verb::get, "/api/rag/collections", bind(&RagApi::list_collections));
  r.add(http::verb::get, "/api/rag/collections/{id}", bind(&RagApi::get_collection));
  r.add(http::verb::patch, "/api/rag/collections/{id}", bind(&RagApi::patch_collection));
  r.add(http::verb::delete_, "/api/rag/collections/{id}", bind(&RagApi::delete_collection));
  core::RouteOptions upload_route;
  upload_route.stream_body = true;
  upload_route.max_body_bytes = options_.max_upload_bytes + 64 * 1024;  // multipart framing
  r.add(http::verb::post, "/api/rag/collections/{id}/documents", bind(&RagApi::upload),
        upload_route);
  r.add(http::verb::get, "/api/rag/collections/{id}/documents", bind(&RagApi::list_documents));
  r.add(http::verb::get, "/api/rag/collections/{id}/documents/{doc}", bind(&RagApi::get_document));
  r.add(http::verb::delete_, "/api/rag/collections/{id}/documents/{doc}",
        bind(&RagApi::delete_document));
  r.add(http::verb::post, "/api/rag/search", bind(&RagApi::search));
}

awaitable<Response> RagApi::create_collection(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(core::actor_of(req));
  const json::object body = core::parse_json_object(req);
  reject_unknown(body, {"name", "description", "visibility", "language"});
  NewCollection nc;
  auto name = string_field(body, "name", kMaxNameBytes);
  if (!name) bad("invalid_request", "name is required", "/name");
  nc.name = checked_name(*name);
  nc.description = string_field(body, "description", kMaxDescriptionBytes, true).value_or("");
  nc.visibility = string_field(body, "visibility", 16).value_or("private");
  if (nc.visibility != "private" && nc.visibility != "shared") {
    bad("invalid_request", "visibility must be \"private\" or \"shared\"", "/visibility");
  }
  nc.language = checked_language(string_field(body, "language", 8).value_or("auto"));
  auto c = value_or_throw(co_await db(ctx, [&] { return store_.create_collection(actor, nc); }));
  co_return core::json_response(http::status::created, collection_json(c), req.version(),
                                req.keep_alive());
}

awaitable<Response> RagApi::list_collections(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(core::actor_of(req));
  auto list = co_await db(ctx, [&] { return store_.list_collections(actor); });
  json::array out;
  for (const auto& c : list) out.emplace_back(collection_json(c));
  co_return core::json_response(http::status::ok, json::object{{"collections", std::move(out)}},
                                req.version(), req.keep_alive());
}

awaitable<Response> RagApi::get_collection(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(core::actor_of(req));
  const std::string id(ctx.param("id"));
  auto c = value_or_throw(co_await db(ctx, [&] { return store_.get_collection(actor, id); }));
  co_return core::json_response(http::status::ok, collection_json(c), req.version(),
                                req.keep_alive());
}

awaitable<Response> RagApi::patch_collection(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(core::actor_of(req));
  const std::string id(ctx.param("id"));
  const json::object body = core::parse_json_object(req);
  reject_unknown(body, {"name", "description", "language", "visibility"});
  if (body.contains("visibility")) {
    bad("invalid_request",
        "visibility cannot change: create a new collection and upload the documents there",
        "/visibility");
  }
  CollectionPatch patch;
  if (auto name = string_field(body, "name", kMaxNameBytes)) patch.name = checked_name(*name);
  patch.description = string_field(body, "description", kMaxDescriptionBytes, true);
  if (auto l = string_field(body, "language", 8)) patch.language = checked_language(*l);
  auto c =
      value_or_throw(co_await db(ctx, [&] { return store_.update_collection(actor, id, patch); }));
  co_return core::json_response(http::status::ok, collection_json(c), req.version(),
                                req.keep_alive());
}

awaitable<Response> RagApi::delete_collection(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(core::actor_of(req));
  const std::string id(ctx.param("id"));
  value_or_throw(co_await db(ctx, [&] { return store_.delete_collection(actor, id); }));
  indexer_.forget_collection(id);
  Response res{http::status::no_content, req.version()};
  res.keep_alive(req.keep_alive());
  co_return res;
}

awaitable<Response> RagApi::upload(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(core::actor_of(req));
  const std::string collection_id(ctx.param("id"));
  // Refuse early (before reading a large body) when the collection is not writable.
  value_or_throw(co_await db(ctx, [&] { return store_.check_writable(actor, collection_id); }));

  ParseInput input;
  std::map<std::string, std::string> metadata;
  std::string text;  // JSON uploads: the document's text
  std::string sha256;
  std::uint64_t size = 0;
  RemovedOnExit cleanup;
  const std::string_view content_type = req[http::field::content_type];
  if (content_type.starts_with("multipart/")) {
    core::UploadOptions uo;
    uo.dir = options_.upload_dir;
    uo.max_file_bytes = options_.max_upload_bytes;
    uo.max_total_bytes = options_.max_upload_bytes;
    uo.max_field_bytes = 16 * 1024;
    core::FormData form = co_await core::read_multipart_form(req, ctx, uo);
    for (const auto& f : form.files) cleanup.paths.push_back(f.path);
    const core::UploadedFile* file = nullptr;
    for (const auto& f : form.files) {
      if (f.field == "file") file = &f;
    }
    if (file == nullptr || form.files.size() != 1) {
      bad("invalid_request", "send exactly one file, in the multipart field 'file'", "/file");
    }
    input.path = file->path;
    input.filename = core::to_valid_utf8(file->filename);
    input.content_type = file->content_type;
    sha256 = file->sha256;
    size = file->size;
    if (const auto* t = form.field("title")) input.title = *t;
    if (const auto* mt = form.field("mime_type")) input.content_type = *mt;
    if (const auto* m = form.field("metadata")) {
      boost::system::error_code ec;
      const json::value v = json::parse(*m, ec);
      if (ec) bad("invalid_metadata", "the metadata field must be a JSON object", "/metadata");
      metadata = parse_metadata(v, "/metadata");
    }
  } else {
    const json::object body = co_await read_json_body(req, ctx);
    reject_unknown(body, {"title", "text", "mime_type", "metadata", "filename"});
    auto t = string_field(body, "text", options_.max_upload_bytes, true);
    if (!t) bad("invalid_request", "text is required (or upload a file as multipart)", "/text");
    text = std::move(*t);
    input.title = string_field(body, "title", kMaxTitleBytes).value_or("");
    input.filename = string_field(body, "filename", 255).value_or("");
    input.content_type = string_field(body, "mime_type", 128).value_or("text/plain");
    if (const auto* m = body.if_contains("metadata")) metadata = parse_metadata(*m, "/metadata");
    sha256 = security::sha256_hex(text);
    size = text.size();
    input.data = text;
  }
  if (input.title.size() > kMaxTitleBytes || !core::valid_utf8(input.title)) {
    bad("invalid_request", "title must be UTF-8 of at most 500 bytes", "/title");
  }

  // Parse now (on the blocking pool): bad documents are refused before anything is written.
  const ParseLimits limits = options_.parse_limits;
  ParsedDocument parsed =
      value_or_throw(co_await ctx.blocking([&] { return parse_document(input, limits); }));
  NewDocument nd;
  nd.title = parsed.model.title;
  nd.filename = input.filename;
  nd.mime_type = parsed.mime_type;
  nd.format = std::string(format_name(parsed.format));
  nd.sha256 = sha256;
  nd.size_bytes = static_cast<std::int64_t>(size);
  nd.pages = static_cast<std::int64_t>(parsed.pages);
  nd.metadata = std::move(metadata);
  nd.payload = model_to_json(parsed.model);
  auto added = value_or_throw(
      co_await db(ctx, [&] { return store_.add_document(actor, collection_id, nd); }));
  if (added.document.status == "queued") indexer_.notify();
  json::object out = document_json(added.document);
  out["duplicate"] = added.duplicate;
  co_return core::json_response(added.duplicate ? http::status::ok : http::status::accepted, out,
                                req.version(), req.keep_alive());
}

awaitable<Response> RagApi::list_documents(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(core::actor_of(req));
  const std::string id(ctx.param("id"));
  const auto q = core::parse_query(ctx.query());
  const std::int64_t limit = core::query_int(q, "limit", 100, 1, 1000);
  const std::string after = q.count("after") != 0 ? q.at("after") : "";
  auto docs = value_or_throw(
      co_await db(ctx, [&] { return store_.list_documents(actor, id, limit, after); }));
  json::array out;
  for (const auto& d : docs) out.emplace_back(document_json(d));
  json::object body{{"documents", std::move(out)}};
  body["next_after"] = static_cast<std::int64_t>(docs.size()) == limit ? json::value(docs.back().id)
                                                                       : json::value(nullptr);
  co_return core::json_response(http::status::ok, body, req.version(), req.keep_alive());
}

awaitable<Response> RagApi::get_document(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(core::actor_of(req));
  const std::string id(ctx.param("id"));
  const std::string doc(ctx.param("doc"));
  auto d = value_or_throw(co_await db(ctx, [&] { return store_.get_document(actor, id, doc); }));
  co_return core::json_response(http::status::ok, document_json(d), req.version(),
                                req.keep_alive());
}

awaitable<Response> RagApi::delete_document(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(core::actor_of(req));
  const std::string id(ctx.param("id"));
  const std::string doc(ctx.param("doc"));
  value_or_throw(co_await db(ctx, [&] { return store_.delete_document(actor, id, doc); }));
  indexer_.forget_document(id, doc);
  Response res{http::status::no_content, req.version()};
  res.keep_alive(req.keep_alive());
  co_return res;
}

namespace {

struct SearchRequest {
  std::string query;
  std::vector<std::string> collections;
  std::size_t k = 8;
  std::string mode = "hybrid";
  DocFilter filter;
};

SearchRequest parse_search(const json::object& body, std::size_t max_query, std::size_t max_k) {
  reject_unknown(body, {"query", "collections", "k", "mode", "filter"});
  SearchRequest s;
  const auto* q = body.if_contains("query");
  if (!q || !q->is_string()) bad("invalid_request", "query must be a string", "/query");
  s.query = q->as_string();
  if (s.query.size() > max_query) {
    bad("query_too_long", "query is longer than " + std::to_string(max_query) + " bytes", "/query");
  }
  if (std::all_of(s.query.begin(), s.query.end(),
                  [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; })) {
    bad("invalid_request", "query must not be empty", "/query");
  }
  if (const auto* c = body.if_contains("collections"); c && !c->is_null()) {
    if (!c->is_array() || c->as_array().size() > kMaxSearchCollections) {
      bad("invalid_request", "collections must be an array of at most 64 ids", "/collections");
    }
    for (const auto& id : c->as_array()) {
      if (!id.is_string()) bad("invalid_request", "collection ids are strings", "/collections");
      const std::string cid(id.as_string());
      if (std::find(s.collections.begin(), s.collections.end(), cid) == s.collections.end()) {
        s.collections.push_back(cid);  // a collection named twice is searched once
      }
    }
  }
  if (const auto* k = body.if_contains("k"); k && !k->is_null()) {
    if (!k->is_int64() || k->as_int64() < 1 || k->as_int64() > static_cast<std::int64_t>(max_k)) {
      bad("invalid_request", "k must be an integer from 1 to " + std::to_string(max_k), "/k");
    }
    s.k = static_cast<std::size_t>(k->as_int64());
  }
  if (const auto* m = body.if_contains("mode"); m && !m->is_null()) {
    if (!m->is_string() ||
        (m->as_string() != "hybrid" && m->as_string() != "bm25" && m->as_string() != "vector")) {
      bad("invalid_request", "mode must be \"hybrid\", \"bm25\" or \"vector\"", "/mode");
    }
    s.mode = m->as_string();
  }
  if (const auto* f = body.if_contains("filter"); f && !f->is_null()) {
    if (!f->is_object()) bad("invalid_filter", "filter must be an object", "/filter");
    const auto& fo = f->as_object();
    for (const auto& [key, v] : fo) {
      if (key == "document_ids") {
        if (!v.is_array() || v.as_array().size() > kMaxFilterDocuments) {
          bad("invalid_filter", "document_ids must be an array of at most 1000 ids",
              "/filter/document_ids");
        }
        for (const auto& id : v.as_array()) {
          if (!id.is_string()) {
            bad("invalid_filter", "document ids are strings", "/filter/document_ids");
          }
          s.filter.doc_ids.emplace(id.as_string());
        }
        if (s.filter.doc_ids.empty()) s.filter.doc_ids.emplace("");  // matches nothing
      } else if (key == "metadata") {
        s.filter.metadata = parse_metadata(v, "/filter/metadata");
      } else {
        bad("invalid_filter",
            "unknown filter '" + core::to_valid_utf8(key) + "' (document_ids, metadata)",
            "/filter/" + std::string(key));
      }
    }
  }
  return s;
}

}  // namespace

awaitable<Response> RagApi::search(Request& req, RequestContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  const Actor actor = value_or_throw(core::actor_of(req));
  SearchRequest s =
      parse_search(core::parse_json_object(req), options_.max_query_bytes, options_.max_k);
  if (!indexer_.ready()) {
    auto e = core::make_error(ErrorKind::kUnavailable, "index_loading",
                              "the search indexes are still loading; try again shortly");
    e.retry_after_s = 5;
    throw core::ApiError(e);
  }
  const std::vector<std::string> wanted = s.collections;
  auto collections =
      value_or_throw(co_await db(ctx, [&] { return store_.searchable(actor, wanted); }));

  std::vector<std::pair<std::string, std::shared_ptr<CollectionIndex>>> targets;
  std::set<Language> languages;
  for (const auto& c : collections) {
    if (auto index = indexes_.find(c.id)) {
      for (const Language l : index->languages()) languages.insert(l);
      targets.emplace_back(c.id, std::move(index));
    }
  }
  if (languages.empty()) languages.insert(Language::kEnglish);
  const auto terms = query_terms(s.query, languages);
  const bool want_bm25 = s.mode != "vector";
  const bool want_vector = s.mode != "bm25";

  std::vector<float> query_vector;
  if (want_vector && remote_ != nullptr && !targets.empty()) {
    std::vector<std::string> texts{s.query};
    auto v = co_await remote_->embed(std::move(texts));
    if (!v) throw core::ApiError(v.error());
    query_vector = std::move(v->front());
  }

  std::vector<FusedChunk> fused;
  {
    // Every collection searched stays unchanged until the rankings are made.
    std::vector<CollectionIndex::View> views;
    std::vector<HybridShard> shards;
    for (const auto& target : targets) {
      views.push_back(target.second->view(terms, query_vector, s.filter, want_vector));
      if (!views.back().excluded) shards.push_back(views.back().shard);
    }
    if (s.mode == "hybrid") {
      fused = hybrid_search(shards, terms, s.k, options_.hybrid);
    } else {
      std::vector<std::vector<ScoredChunk>> lists;
      for (const auto& shard : shards) {
        if (want_bm25) {
          lists.push_back(shard.bm25->search(terms, s.k, shard.filter));
        } else if (shard.vectors != nullptr && shard.vectors->size() > 0 &&
                   shard.query_vector.size() == shard.vectors->dim() &&
                   std::any_of(shard.query_vector.begin(), shard.query_vector.end(),
                               [](float x) { return x != 0.0F; })) {
          lists.push_back(shard.vectors->search(shard.query_vector, s.k, shard.filter.doc_ids));
        }
      }
      const auto list = merge_by_score(std::move(lists), s.k);
      for (std::size_t i = 0; i < list.size(); ++i) {
        FusedChunk f{list[i].chunk_id, list[i].doc_id, static_cast<double>(list[i].score), {0, 0}};
        f.ranks[want_bm25 ? 0 : 1] = i + 1;
        fused.push_back(std::move(f));
      }
    }
  }
  std::vector<std::string> ids;
  ids.reserve(fused.size());
  for (const auto& f : fused) ids.push_back(f.chunk_id);
  auto chunks = co_await db(ctx, [&] { return store_.chunks_by_id(ids); });
  std::unordered_map<std::string, StoredChunk*> by_id;
  for (auto& c : chunks) by_id.emplace(c.id, &c);

  json::array results;
  for (const auto& f : fused) {
    auto it = by_id.find(f.chunk_id);
    if (it == by_id.end()) continue;  // deleted since the index answered
    const StoredChunk& c = *it->second;
    json::array path;
    for (const auto& h : c.heading_path) path.emplace_back(h);
    const auto rank = [&](std::size_t i) {
      return f.ranks.size() > i && f.ranks[i] != 0 ? json::value(f.ranks[i]) : json::value(nullptr);
    };
    json::object location{{"start", c.start}, {"end", c.end}};
    location["page"] = c.page > 0 ? json::value(c.page) : json::value(nullptr);
    results.emplace_back(
        json::object{{"chunk_id", c.id},
                     {"document_id", c.document_id},
                     {"collection_id", c.collection_id},
                     {"title", c.title},
                     {"text", c.text},
                     {"score", f.score},
                     {"heading_path", std::move(path)},
                     {"location", std::move(location)},
                     {"ranks", json::object{{"bm25", rank(0)}, {"vector", rank(1)}}}});
  }
  search_seconds_.with({s.mode}).observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  co_return core::json_response(
      http::status::ok, json::object{{"results", std::move(results)}, {"mode", s.mode}, {"k", s.k}},
      req.version(), req.keep_alive());
}

}  // namespace enkisys::rag
