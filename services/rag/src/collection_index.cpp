#include "enkisys/rag/collection_index.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <sstream>

namespace enkisys::rag {

namespace fs = std::filesystem;
namespace json = boost::json;
using core::ErrorKind;

namespace {

constexpr int kManifestFormat = 1;

Analyzer& analyzer_for(Language language) {
  thread_local std::array<std::optional<Analyzer>, 2> analyzers;
  auto& a = analyzers[static_cast<std::size_t>(language)];
  if (!a) a.emplace(language);
  return *a;
}

core::Error corrupt(const std::string& why) {
  return core::make_error(ErrorKind::kUnprocessable, "index_corrupt", why);
}

core::Expected<std::optional<VectorIndex>> make_vectors(const IndexConfig& c, std::size_t dim) {
  if (dim == 0) return std::optional<VectorIndex>{};
  VectorIndexOptions vo;
  vo.dim = dim;
  vo.exact_threshold = c.exact_threshold;
  vo.model = c.model;
  auto v = VectorIndex::create(vo);
  if (!v) return v.error();
  return std::optional<VectorIndex>(std::move(v).value());
}

}  // namespace

PreparedDocument prepare_document(std::string doc_id, DocumentEntry entry,
                                  const std::vector<ChunkInput>& chunks) {
  Analyzer& analyzer = analyzer_for(entry.language);
  PreparedDocument out{std::move(doc_id), std::move(entry), {}, {}};
  out.chunks.reserve(chunks.size());
  for (const auto& c : chunks) {
    std::string heading = out.entry.title;
    for (const auto& h : c.heading_path) heading.append("\n").append(h);
    PreparedChunk p{c.chunk_id, analyzer.terms(c.text), analyzer.terms(heading), {}};
    p.text = heading + "\n" + c.text;
    out.chunks.push_back(std::move(p));
  }
  out.entry.chunks = static_cast<std::uint32_t>(out.chunks.size());
  return out;
}

std::vector<std::string> query_terms(std::string_view text, const std::set<Language>& languages) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const Language l : languages) {
    for (auto& t : analyzer_for(l).terms(text)) {
      // Keep repeats within one language (query term frequency), not across languages.
      if (languages.size() == 1 || seen.insert(t).second) out.push_back(std::move(t));
    }
  }
  return out;
}

CollectionIndex::CollectionIndex(IndexConfig config, Bm25Index bm25,
                                 std::optional<VectorIndex> vectors,
                                 std::optional<HashingEmbedder> embedder)
    : config_(std::move(config)),
      bm25_(std::move(bm25)),
      vectors_(std::move(vectors)),
      embedder_(std::move(embedder)) {}

core::Expected<std::unique_ptr<CollectionIndex>> CollectionIndex::create(
    const IndexConfig& config) {
  std::optional<HashingEmbedder> embedder;
  std::size_t dim = config.dim;
  if (config.model == kBuiltinModel) {
    auto e = HashingEmbedder::create(config.embedder);
    if (!e) return e.error();
    dim = e->dim();
    embedder.emplace(std::move(e).value());
  }
  auto vectors = make_vectors(config, dim);
  if (!vectors) return vectors.error();
  return std::unique_ptr<CollectionIndex>(new CollectionIndex(
      config, Bm25Index(config.bm25), std::move(vectors).value(), std::move(embedder)));
}

core::Status CollectionIndex::add(PreparedDocument doc) {
  std::unique_lock lock(mu_);
  if (docs_.count(doc.doc_id) != 0) {
    bm25_.remove_document(doc.doc_id);
    if (vectors_) vectors_->remove_document(doc.doc_id);
    docs_.erase(doc.doc_id);
  }
  const bool builtin = embedder_.has_value();
  if (!builtin && !doc.vectors.empty() && !vectors_) {
    auto v = make_vectors(config_, doc.vectors.front().size());
    if (!v) return v.error();
    vectors_ = std::move(v).value();
  }
  if (builtin) {
    for (const auto& c : doc.chunks) embedder_->observe(c.body_terms);
  }
  std::vector<std::string> all;
  for (std::size_t i = 0; i < doc.chunks.size(); ++i) {
    auto& c = doc.chunks[i];
    core::Status st =
        bm25_.add({c.chunk_id, doc.doc_id, doc.entry.metadata, c.body_terms, c.heading_terms});
    std::vector<float> v;
    if (builtin) {
      all = c.body_terms;
      all.insert(all.end(), c.heading_terms.begin(), c.heading_terms.end());
      v = embedder_->embed(all);
    } else if (i < doc.vectors.size()) {
      v = std::move(doc.vectors[i]);
    }
    const bool zero = std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0F; });
    if (st && vectors_ && !zero) st = vectors_->add(c.chunk_id, doc.doc_id, std::move(v));
    if (!st) {  // undo the document's chunks: all or nothing
      bm25_.remove_document(doc.doc_id);
      if (vectors_) vectors_->remove_document(doc.doc_id);
      return st;
    }
  }
  docs_[doc.doc_id] = std::move(doc.entry);
  dirty_ = true;
  return core::ok_status();
}

bool CollectionIndex::remove(const std::string& doc_id) {
  std::unique_lock lock(mu_);
  if (docs_.erase(doc_id) == 0) return false;
  bm25_.remove_document(doc_id);
  if (vectors_) vectors_->remove_document(doc_id);
  dirty_ = true;
  return true;
}

void CollectionIndex::update_entry(const std::string& doc_id, const DocumentEntry& entry) {
  std::unique_lock lock(mu_);
  auto it = docs_.find(doc_id);
  if (it == docs_.end()) return;
  if (it->second.title != entry.title || it->second.metadata != entry.metadata) {
    it->second.title = entry.title;
    it->second.metadata = entry.metadata;
    dirty_ = true;
  }
}

std::map<std::string, DocumentEntry> CollectionIndex::documents() const {
  std::shared_lock lock(mu_);
  return docs_;
}

std::set<Language> CollectionIndex::languages() const {
  std::shared_lock lock(mu_);
  std::set<Language> out;
  for (const auto& [id, d] : docs_) out.insert(d.language);
  return out;
}

std::size_t CollectionIndex::chunk_count() const {
  std::shared_lock lock(mu_);
  return bm25_.size();
}

bool CollectionIndex::dirty() const {
  std::shared_lock lock(mu_);
  return dirty_;
}

void CollectionIndex::mark_clean() {
  std::unique_lock lock(mu_);
  dirty_ = false;
}

std::optional<std::unordered_set<std::string>> CollectionIndex::allowed(const DocFilter& f) const {
  if (f.empty()) return std::nullopt;
  std::unordered_set<std::string> out;
  const auto matches = [&](const std::string& id, const DocumentEntry& d) {
    if (!f.doc_ids.empty() && f.doc_ids.count(id) == 0) return false;
    return std::all_of(f.metadata.begin(), f.metadata.end(), [&](const auto& kv) {
      auto it = d.metadata.find(kv.first);
      return it != d.metadata.end() && it->second == kv.second;
    });
  };
  for (const auto& [id, d] : docs_) {
    if (matches(id, d)) out.insert(id);
  }
  return out;
}

CollectionIndex::View CollectionIndex::view(const std::vector<std::string>& terms,
                                            const std::vector<float>& remote_vector,
                                            const DocFilter& filter, bool with_vector) const {
  View v;
  v.lock_ = std::shared_lock(mu_);
  v.shard.bm25 = &bm25_;
  v.shard.vectors = vectors_ ? &*vectors_ : nullptr;
  if (auto ids = allowed(filter)) {
    v.excluded = ids->empty();
    v.shard.filter.doc_ids = std::move(*ids);
  }
  if (!with_vector) {
    v.shard.query_vector.clear();
  } else if (embedder_) {
    v.shard.query_vector = embedder_->embed(terms);
  } else {
    v.shard.query_vector = remote_vector;
  }
  return v;
}

// ---- files ------------------------------------------------------------------------------------

core::Status CollectionIndex::save(const fs::path& dir) const {
  std::shared_lock lock(mu_);
  if (auto st = bm25_.save((dir / "bm25.idx").string()); !st) return st;
  if (vectors_) {
    if (auto st = vectors_->save((dir / "vectors.idx").string()); !st) return st;
  }
  if (embedder_) {
    if (auto st = embedder_->save((dir / "embedder.idx").string()); !st) return st;
  }
  json::object docs;
  for (const auto& [id, d] : docs_) {
    json::object meta;
    for (const auto& [k, v] : d.metadata) meta[k] = v;
    docs[id] = json::object{{"title", d.title},
                            {"language", language_code(d.language)},
                            {"chunks", d.chunks},
                            {"metadata", std::move(meta)}};
  }
  const json::object manifest{{"format", kManifestFormat},
                              {"model", config_.model},
                              {"dim", vectors_ ? vectors_->dim() : 0},
                              {"chunks", bm25_.size()},
                              {"documents", std::move(docs)}};
  const fs::path path = dir / "manifest.json";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << json::serialize(manifest);
  out.flush();
  if (!out) {
    return core::make_error(ErrorKind::kUnavailable, "index_write_failed",
                            "could not write " + path.filename().string());
  }
  return core::ok_status();
}

core::Expected<std::unique_ptr<CollectionIndex>> CollectionIndex::load(const fs::path& dir,
                                                                       const IndexConfig& config) {
  std::ifstream in(dir / "manifest.json", std::ios::binary);
  if (!in) return core::make_error(ErrorKind::kNotFound, "index_missing", "no manifest");
  std::stringstream buf;
  buf << in.rdbuf();
  boost::system::error_code ec;
  const json::value mv = json::parse(buf.str(), ec);
  if (ec || !mv.is_object()) return corrupt("manifest is not JSON");
  const auto& m = mv.as_object();
  try {
    if (m.at("format").to_number<int>() != kManifestFormat) return corrupt("manifest format");
    if (m.at("model").as_string() != config.model) {
      return corrupt("made by another embedding model (" + std::string(m.at("model").as_string()) +
                     ")");
    }
    auto bm25 = Bm25Index::load((dir / "bm25.idx").string());
    if (!bm25) return corrupt("bm25: " + bm25.error().message);
    const auto dim = m.at("dim").to_number<std::size_t>();
    std::optional<VectorIndex> vectors;
    if (dim != 0) {
      auto v = VectorIndex::load((dir / "vectors.idx").string());
      if (!v) return corrupt("vectors: " + v.error().message);
      if (v->dim() != dim) return corrupt("vector dimension differs from the manifest");
      vectors.emplace(std::move(v).value());
    }
    std::optional<HashingEmbedder> embedder;
    if (config.model == kBuiltinModel) {
      auto e = HashingEmbedder::load((dir / "embedder.idx").string());
      if (!e) return corrupt("embedder: " + e.error().message);
      if (e->dim() != dim) return corrupt("embedder dimension differs from the vectors");
      embedder.emplace(std::move(e).value());
    }
    std::map<std::string, DocumentEntry> docs;
    std::size_t chunks = 0;
    for (const auto& [id, dv] : m.at("documents").as_object()) {
      const auto& d = dv.as_object();
      DocumentEntry e;
      e.title = d.at("title").as_string();
      auto lang = parse_language(d.at("language").as_string());
      if (!lang) return corrupt("document language");
      e.language = *lang;
      e.chunks = d.at("chunks").to_number<std::uint32_t>();
      for (const auto& [k, v] : d.at("metadata").as_object()) {
        e.metadata.emplace(std::string(k), std::string(v.as_string()));
      }
      chunks += e.chunks;
      docs.emplace(std::string(id), std::move(e));
    }
    if (chunks != bm25->size() || m.at("chunks").to_number<std::size_t>() != chunks ||
        (vectors && vectors->size() > chunks)) {
      return corrupt("index files disagree with the manifest");
    }
    auto index = std::unique_ptr<CollectionIndex>(new CollectionIndex(
        config, std::move(bm25).value(), std::move(vectors), std::move(embedder)));
    index->docs_ = std::move(docs);
    return index;
  } catch (const std::exception& e) {  // a missing or mistyped manifest field
    return corrupt(std::string("manifest: ") + e.what());
  }
}

// ---- the set ----------------------------------------------------------------------------------

IndexSet::IndexSet(fs::path root, IndexConfig config)
    : root_(std::move(root)), config_(std::move(config)) {}

std::shared_ptr<CollectionIndex> IndexSet::get_or_create(const std::string& collection_id) {
  std::lock_guard lock(mu_);
  auto& slot = indexes_[collection_id];
  if (!slot) {
    auto created = CollectionIndex::create(config_);
    if (!created) throw std::runtime_error(created.error().message);
    slot = std::move(created).value();
  }
  return slot;
}

std::shared_ptr<CollectionIndex> IndexSet::find(const std::string& collection_id) const {
  std::lock_guard lock(mu_);
  auto it = indexes_.find(collection_id);
  return it == indexes_.end() ? nullptr : it->second;
}

std::vector<std::string> IndexSet::collection_ids() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, _] : indexes_) out.push_back(id);
  return out;
}

void IndexSet::drop(const std::string& collection_id) {
  {
    std::lock_guard lock(mu_);
    indexes_.erase(collection_id);
  }
  std::error_code ec;
  fs::remove_all(root_ / collection_id, ec);
}

core::Status IndexSet::load(const std::string& collection_id) {
  auto loaded = CollectionIndex::load(root_ / collection_id, config_);
  if (!loaded) return loaded.error();
  std::lock_guard lock(mu_);
  indexes_[collection_id] = std::move(loaded).value();
  return core::ok_status();
}

core::Expected<std::size_t> IndexSet::save_dirty() {
  std::vector<std::pair<std::string, std::shared_ptr<CollectionIndex>>> todo;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, index] : indexes_) {
      if (index->dirty()) todo.emplace_back(id, index);
    }
  }
  std::size_t saved = 0;
  for (const auto& [id, index] : todo) {
    const fs::path fresh = root_ / (".new-" + id);
    const fs::path old = root_ / (".old-" + id);
    const fs::path target = root_ / id;
    std::error_code ec;
    fs::remove_all(fresh, ec);
    fs::create_directories(fresh, ec);
    if (ec) {
      return core::make_error(ErrorKind::kUnavailable, "index_write_failed",
                              "cannot create " + fresh.filename().string() + ": " + ec.message());
    }
    index->mark_clean();  // changes from now on make it dirty again
    if (auto st = index->save(fresh); !st) {
      fs::remove_all(fresh, ec);
      return st.error();
    }
    fs::remove_all(old, ec);
    if (fs::exists(target)) fs::rename(target, old, ec);
    fs::rename(fresh, target, ec);
    if (ec) {
      return core::make_error(ErrorKind::kUnavailable, "index_write_failed",
                              "cannot move the index into place: " + ec.message());
    }
    fs::remove_all(old, ec);
    ++saved;
  }
  return saved;
}

std::vector<std::string> IndexSet::on_disk() const {
  std::vector<std::string> out;
  std::error_code ec;
  fs::create_directories(root_, ec);
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".new-") || name.starts_with(".old-")) {
      fs::remove_all(entry.path(), ec);  // an interrupted save: the store has the truth
      continue;
    }
    if (entry.is_directory()) out.push_back(name);
  }
  return out;
}

}  // namespace enkisys::rag
