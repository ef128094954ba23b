// Eval driver of the RAG retrieval core (bench/rag/rag_eval.sh scores its output with
// bench/rag/metrics.py). Reads a corpus JSONL ({"id","title","text"} per line) and a queries TSV,
// chunks, analyses, indexes (BM25 + built-in embedder + vector index), runs every query in bm25,
// vector and hybrid (RRF) modes and writes the chunk rankings (as document ids), ingest speed,
// search latency and HNSW recall@10 as JSON.
//
// usage: enkisys_rag_eval --corpus F --queries F --lang en|es --out F [--target-bytes N]
//        [--overlap-bytes N] [--k1 X] [--b X] [--heading-boost X] [--rrf-k X] [--vector-weight X]
//        [--dim N] [--ngram-weight X] [--depth N] [--replicate N] [--ingest-only 1]
//        [--hnsw-check 0] [--feedback N] [--feedback-beta X]
//        [--ef-search N]
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "enkisys/rag/bm25_index.hpp"
#include "enkisys/rag/chunker.hpp"
#include "enkisys/rag/embedder.hpp"
#include "enkisys/rag/fusion.hpp"
#include "enkisys/rag/text.hpp"
#include "enkisys/rag/vector_index.hpp"

namespace rag = enkisys::rag;
namespace json = boost::json;
using rag::bench::Clock;
using rag::bench::seconds_since;

namespace {

struct Unit {
  std::string chunk_id;
  std::string doc_id;
  std::vector<std::string> body;
  std::vector<std::string> heading;
  std::vector<float> vector;
};

json::object percentiles(const std::vector<double>& ms) {
  return {{"p50", rag::bench::percentile(ms, 0.50)}, {"p99", rag::bench::percentile(ms, 0.99)}};
}

json::array doc_list(const std::vector<rag::ScoredChunk>& hits) {
  json::array a;
  for (const auto& h : hits) a.emplace_back(h.doc_id);
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const rag::HybridSettings defaults;
  auto str = [](double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  };
  std::map<std::string, std::string> opt{
      {"--target-bytes", "900"},
      {"--overlap-bytes", "120"},
      {"--k1", "1.2"},
      {"--b", "0.75"},
      {"--heading-boost", "2"},
      {"--rrf-k", str(defaults.rrf_k)},
      {"--vector-weight", str(defaults.vector_weight)},
      {"--dim", "1024"},
      {"--ngram-weight", "0.5"},
      {"--depth", str(static_cast<double>(defaults.depth))},
      {"--replicate", "0"},
      {"--feedback", str(static_cast<double>(defaults.feedback))},
      {"--ef-search", str(static_cast<double>(rag::VectorIndexOptions{}.ef_search))},
      {"--feedback-beta", str(defaults.feedback_beta)},
      {"--lang", "en"}};
  for (int i = 1; i + 1 < argc; i += 2) opt[argv[i]] = argv[i + 1];
  if (opt.count("--corpus") == 0 || opt.count("--queries") == 0 || opt.count("--out") == 0) {
    std::cerr << "usage: enkisys_rag_eval --corpus F --queries F --lang en|es --out F [...]\n";
    return 2;
  }
  const auto language = rag::parse_language(opt["--lang"]);
  if (!language) {
    std::cerr << language.error().message << "\n";
    return 2;
  }
  const rag::ChunkOptions chunking{std::stoul(opt["--target-bytes"]),
                                   2 * std::stoul(opt["--target-bytes"]),
                                   std::stoul(opt["--overlap-bytes"])};
  const rag::Bm25Params bm25_params{std::stof(opt["--k1"]), std::stof(opt["--b"]),
                                    std::stof(opt["--heading-boost"])};
  rag::EmbedderOptions eo;
  eo.dim = std::stoul(opt["--dim"]);
  eo.ngram_weight = std::stof(opt["--ngram-weight"]);
  const std::size_t depth = std::stoul(opt["--depth"]);
  rag::HybridSettings hybrid;
  hybrid.depth = depth;
  hybrid.rrf_k = std::stod(opt["--rrf-k"]);
  hybrid.vector_weight = std::stod(opt["--vector-weight"]);
  hybrid.feedback = std::stoul(opt["--feedback"]);
  hybrid.feedback_beta = std::stof(opt["--feedback-beta"]);

  // Read the corpus (not timed: I/O and JSON parsing are not the retrieval core).
  std::vector<rag::DocumentModel> docs;
  std::size_t bytes = 0;
  std::size_t detected_ok = 0;
  for (auto& d : rag::bench::read_corpus(opt["--corpus"])) {
    bytes += d.text.size();
    detected_ok += rag::detect_language(d.text) == *language ? 1 : 0;
    docs.push_back(std::move(d.model));
  }

  // Ingest: chunk, analyse, index BM25, fit the embedder, embed, index vectors (timed).
  const auto t0 = Clock::now();
  const std::clock_t c0 = std::clock();
  rag::Analyzer analyzer(*language);
  auto embedder = rag::HashingEmbedder::create(eo);
  rag::VectorIndexOptions vo;
  vo.dim = eo.dim;
  vo.exact_threshold = 1U << 30;
  vo.ef_search =
      std::stoul(opt["--ef-search"]);  // exact at the corpus size; HNSW measured separately below
  auto vectors = rag::VectorIndex::create(vo);
  if (!embedder || !vectors) return 2;
  rag::Bm25Index bm25(bm25_params);
  std::vector<Unit> units;
  for (const auto& doc : docs) {
    const auto chunks = rag::chunk_document(doc, chunking);
    if (!chunks) {
      std::cerr << chunks.error().message << "\n";
      return 2;
    }
    for (const auto& c : *chunks) {
      Unit u{doc.id + "#" + std::to_string(c.index), doc.id, analyzer.terms(c.text), {}, {}};
      std::string heading = doc.title;
      for (const auto& h : c.heading_path) heading.append(" ").append(h);
      u.heading = analyzer.terms(heading);
      if (auto st = bm25.add({u.chunk_id, u.doc_id, {}, u.body, u.heading}); !st) return 2;
      embedder->observe(u.body);
      units.push_back(std::move(u));
    }
  }
  std::vector<std::string> all;
  for (auto& u : units) {
    all = u.body;
    all.insert(all.end(), u.heading.begin(), u.heading.end());
    u.vector = embedder->embed(all);
    if (std::all_of(u.vector.begin(), u.vector.end(), [](float x) { return x == 0.0F; })) continue;
    if (auto st = vectors->add(u.chunk_id, u.doc_id, u.vector); !st) return 2;
  }
  const double ingest_s = seconds_since(t0);
  const double ingest_cpu_s = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  if (opt["--ingest-only"] == "1") {
    std::cout << "ingest " << static_cast<double>(bytes) / 1e6 / ingest_cpu_s << " MB/cpu-s\n";
    return 0;
  }

  // Queries.
  const auto queries = rag::bench::read_queries(opt["--queries"]);
  json::object runs{
      {"bm25", json::object{}}, {"vector", json::object{}}, {"hybrid", json::object{}}};
  std::vector<double> ms_bm25;
  std::vector<double> ms_vector;
  std::vector<double> ms_hybrid;
  std::vector<std::vector<float>> query_vectors;
  for (const auto& [qid, text] : queries) {
    auto t = Clock::now();
    const auto terms = analyzer.terms(text);
    const auto lexical = bm25.search(terms, depth);
    ms_bm25.push_back(seconds_since(t) * 1e3);
    t = Clock::now();
    const auto qv = embedder->embed(terms);
    const auto semantic = vectors->search(qv, depth);
    ms_vector.push_back(seconds_since(t) * 1e3);
    t = Clock::now();
    const auto fused =
        rag::hybrid_search(bm25, *vectors, terms, embedder->embed(terms), depth, hybrid);
    ms_hybrid.push_back(seconds_since(t) * 1e3);
    query_vectors.push_back(qv);
    runs["bm25"].as_object()[qid] = doc_list(lexical);
    runs["vector"].as_object()[qid] = doc_list(semantic);
    json::array h;
    for (const auto& f : fused) h.emplace_back(f.doc_id);
    runs["hybrid"].as_object()[qid] = std::move(h);
  }

  // HNSW recall@10 against exact search over the same vectors, at the corpus size and (with
  // --replicate N) at N copies of the corpus, where search latency is measured too.
  json::object scale;
  auto measure = [&](std::size_t copies) {
    rag::VectorIndexOptions ho = vo;
    ho.exact_threshold = 0;
    auto hnsw = rag::VectorIndex::create(ho);
    rag::Bm25Index big(bm25_params);
    const auto tb = Clock::now();
    for (std::size_t r = 0; r < copies; ++r) {
      for (const auto& u : units) {
        const std::string id = u.chunk_id + "@" + std::to_string(r);
        if (copies > 1)
          (void)big.add({id, u.doc_id + "@" + std::to_string(r), {}, u.body, u.heading});
        if (u.vector[0] != 0.0F ||
            std::any_of(u.vector.begin(), u.vector.end(), [](float x) { return x != 0.0F; })) {
          (void)hnsw->add(id, u.doc_id, u.vector);
        }
      }
    }
    const double build_s = seconds_since(tb);
    double recall = 0;
    std::vector<double> ms_h;
    std::vector<double> ms_e;
    std::vector<double> ms_b;
    for (std::size_t q = 0; q < query_vectors.size(); ++q) {
      auto t = Clock::now();
      const auto approx = hnsw->search(query_vectors[q], 10);
      ms_h.push_back(seconds_since(t) * 1e3);
      t = Clock::now();
      const auto exact = hnsw->search_exact(query_vectors[q], 10);
      ms_e.push_back(seconds_since(t) * 1e3);
      if (copies > 1) {
        t = Clock::now();
        (void)big.search(analyzer.terms(queries[q].second), depth);
        ms_b.push_back(seconds_since(t) * 1e3);
      }
      std::size_t hit = 0;
      for (const auto& e : exact) {
        // A replicated vector ties with its copies: count a hit by score, not by id.
        hit += std::any_of(approx.begin(), approx.end(),
                           [&](const auto& a) {
                             return a.chunk_id == e.chunk_id || a.score >= e.score - 1e-6F;
                           })
                   ? 1
                   : 0;
      }
      recall += exact.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(exact.size());
    }
    json::object o{{"chunks", hnsw->size()},
                   {"hnsw_build_s", build_s},
                   {"hnsw_recall_at_10", recall / static_cast<double>(query_vectors.size())},
                   {"hnsw_ms", percentiles(ms_h)},
                   {"exact_ms", percentiles(ms_e)}};
    if (copies > 1) o["bm25_ms"] = percentiles(ms_b);
    return o;
  };
  if (opt["--hnsw-check"] != "0") scale["corpus"] = measure(1);
  if (const std::size_t copies = std::stoul(opt["--replicate"]); copies > 1) {
    scale["replicated"] = measure(copies);
  }

  json::object params;
  for (const auto& [k, v] : opt) params[k.substr(2)] = v;
  json::object out{{"params", params},
                   {"documents", docs.size()},
                   {"chunks", units.size()},
                   {"bytes", bytes},
                   {"language_detected_ok", detected_ok},
                   {"ingest_s", ingest_s},
                   {"ingest_cpu_s", ingest_cpu_s},
                   {"ingest_mb_s", static_cast<double>(bytes) / 1e6 / ingest_s},
                   {"ingest_mb_per_cpu_s", static_cast<double>(bytes) / 1e6 / ingest_cpu_s},
                   {"latency_ms", json::object{{"bm25", percentiles(ms_bm25)},
                                               {"vector", percentiles(ms_vector)},
                                               {"hybrid", percentiles(ms_hybrid)}}},
                   {"scale", scale},
                   {"runs", runs}};
  std::ofstream(opt["--out"]) << json::serialize(out);
  return 0;
}
