// enkisys-rag-bench: speed of the RAG retrieval core, in process, on the real corpus of bench/rag.
//
//  1. Ingest: chunk + analyse + BM25 + fit the embedder + embed + vector add over corpus.en and
//     corpus.es (exact vector index at that size), in MB of text per CPU-second (one thread).
//  2. Scale: --chunks chunks (default 100,000) made of copies of the English corpus's chunks:
//     copy 0 as chunked, copy r > 0 with about one word in ten dropped (a fixed hash of r and the
//     word's position), so the copies are near-duplicates, not identical vectors. Ids get "@r".
//     Indexed with the default options (HNSW from 20,000 vectors on) by the embedder fitted in 1;
//     the first --small chunks (default 10,000) also go to a second, small index.
//  3. Search latency p50/p99 at both sizes for bm25, vector and hybrid (hybrid_search with its
//     default settings), top 10, query analysis and embedding included; --passes over the
//     judged English queries.
//  4. recall@10 of HNSW against exact search at the large size, for several ef_search values.
//  5. RSS at the large size, then save + load time and file sizes of its three index files.
// The chunks of 2 go to WORK_DIR/chunks.tsv for bench/rag/xapian_bench.py.
//
// usage: enkisys-rag-bench [--corpus-dir build/rag] [--queries bench/rag/queries.en.tsv]
//        [--work-dir build/rag/bench] [--chunks 100000] [--small 10000] [--passes 3]
//        [--perturb 0]   (0: identical copies, each vector present ~8 times: the hardest case
//                         for the graph)
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
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
namespace fs = std::filesystem;
using rag::bench::Clock;
using rag::bench::percentile;
using rag::bench::seconds_since;

namespace {

struct BaseChunk {
  std::string chunk_id;
  std::string doc_id;
  std::string heading;  // title + heading path
  std::string text;
};

struct Indexes {
  rag::Bm25Index bm25;
  rag::VectorIndex vectors;
};

double cpu_seconds(std::clock_t c0) {
  return static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
}

double rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

rag::VectorIndex new_vector_index(std::size_t dim) {
  rag::VectorIndexOptions o;
  o.dim = dim;
  o.model = rag::kBuiltinEmbedderModel;
  auto index = rag::VectorIndex::create(o);
  return std::move(*index);
}

bool is_zero(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0F; });
}

// Copy r of a chunk's text: about one word in ten dropped for r > 0.
std::string perturb(const std::string& text, std::size_t r) {
  if (r == 0) return text;
  std::string out;
  out.reserve(text.size());
  std::size_t word = 0;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\n') ++j;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\n')) ++j;
    const std::uint64_t h = (r * 1000003ULL + word++) * 0x9E3779B97F4A7C15ULL;
    if ((h >> 40) % 10 != 0) out.append(text, i, j - i);
    i = j;
  }
  return out;
}

std::string one_line(std::string s) {
  std::replace_if(
      s.begin(), s.end(), [](char c) { return c == '\t' || c == '\n'; }, ' ');
  return s;
}

struct Latency {
  std::vector<double> bm25;
  std::vector<double> vector;
  std::vector<double> hybrid;
};

Latency measure_latency(const Indexes& ix, const rag::HashingEmbedder& embedder,
                        const std::vector<std::pair<std::string, std::string>>& queries,
                        std::size_t passes) {
  rag::Analyzer analyzer(rag::Language::kEnglish);
  Latency l;
  for (std::size_t pass = 0; pass < passes; ++pass) {
    for (const auto& [qid, text] : queries) {
      auto t = Clock::now();
      (void)ix.bm25.search(analyzer.terms(text), 10);
      l.bm25.push_back(seconds_since(t) * 1e3);
      t = Clock::now();
      (void)ix.vectors.search(embedder.embed(analyzer.terms(text)), 10);
      l.vector.push_back(seconds_since(t) * 1e3);
      t = Clock::now();
      const auto terms = analyzer.terms(text);
      (void)rag::hybrid_search(ix.bm25, ix.vectors, terms, embedder.embed(terms), 10);
      l.hybrid.push_back(seconds_since(t) * 1e3);
    }
  }
  return l;
}

// recall@10 of search() against search_exact(); a hit ties with an exact hit by score
// (near-duplicate copies can have equal vectors).
double hnsw_recall(const rag::VectorIndex& vectors, const std::vector<std::vector<float>>& qv) {
  double recall = 0;
  for (const auto& v : qv) {
    const auto approx = vectors.search(v, 10);
    const auto exact = vectors.search_exact(v, 10);
    std::size_t hit = 0;
    for (const auto& e : exact) {
      hit += std::any_of(approx.begin(), approx.end(),
                         [&](const rag::ScoredChunk& a) {
                           return a.chunk_id == e.chunk_id || a.score >= e.score - 1e-6F;
                         })
                 ? 1
                 : 0;
    }
    recall += exact.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(exact.size());
  }
  return qv.empty() ? 0.0 : recall / static_cast<double>(qv.size());
}

std::string ms(const std::vector<double>& samples) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f / %.2f", percentile(samples, 0.50),
                percentile(samples, 0.99));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt{{"--corpus-dir", "build/rag"},
                                         {"--queries", "bench/rag/queries.en.tsv"},
                                         {"--work-dir", "build/rag/bench"},
                                         {"--chunks", "100000"},
                                         {"--small", "10000"},
                                         {"--passes", "3"}};
  for (int i = 1; i + 1 < argc; i += 2) opt[argv[i]] = argv[i + 1];
  const fs::path corpus_dir = opt["--corpus-dir"];
  const fs::path work = opt["--work-dir"];
  const std::size_t target = std::stoul(opt["--chunks"]);
  const std::size_t small = std::min(target, std::stoul(opt["--small"]));
  const bool perturbed = opt["--perturb"] != "0";
  const std::size_t passes = std::clamp<std::size_t>(std::stoul(opt["--passes"]), 1, 100);
  if (!fs::exists(corpus_dir / "corpus.en.jsonl") || !fs::exists(opt["--queries"])) {
    std::cerr << "enkisys-rag-bench: no corpus in " << corpus_dir
              << " (run bench/rag/corpus.sh from the repository root)\n";
    return 2;
  }
  fs::create_directories(work);
  const auto queries = rag::bench::read_queries(opt["--queries"]);
  const rag::ChunkOptions chunking;

  // 1. Ingest of the real corpora.
  std::size_t bytes = 0;
  double ingest_cpu = 0;
  double ingest_wall = 0;
  std::size_t ingest_chunks = 0;
  std::vector<BaseChunk> base;
  auto embedder = rag::HashingEmbedder::create({});
  for (const auto* lang : {"en", "es"}) {
    const auto docs =
        rag::bench::read_corpus(corpus_dir / (std::string("corpus.") + lang + ".jsonl"));
    for (const auto& d : docs) bytes += d.text.size();
    const auto t0 = Clock::now();
    const std::clock_t c0 = std::clock();
    rag::Analyzer analyzer(*rag::parse_language(lang));
    auto e = rag::HashingEmbedder::create({});
    Indexes ix{rag::Bm25Index{}, new_vector_index(e->dim())};
    std::vector<std::pair<rag::ScoredChunk, std::vector<std::string>>> pending;  // ids, terms
    for (const auto& d : docs) {
      const auto chunks = rag::chunk_document(d.model, chunking);
      if (!chunks) return 2;
      for (const auto& c : *chunks) {
        BaseChunk b{d.model.id + "#" + std::to_string(c.index), d.model.id, d.model.title, c.text};
        for (const auto& h : c.heading_path) b.heading.append(" ").append(h);
        auto body = analyzer.terms(b.text);
        const auto heading = analyzer.terms(b.heading);
        if (!ix.bm25.add({b.chunk_id, b.doc_id, {}, body, heading})) return 2;
        e->observe(body);
        body.insert(body.end(), heading.begin(), heading.end());
        pending.emplace_back(rag::ScoredChunk{b.chunk_id, b.doc_id, 0}, std::move(body));
        if (std::string(lang) == "en") base.push_back(std::move(b));
      }
    }
    for (std::size_t i = 0; i < pending.size(); ++i) {
      const auto v = e->embed(pending[i].second);
      const auto& ids = pending[i].first;
      if (!is_zero(v) && !ix.vectors.add(ids.chunk_id, ids.doc_id, v)) return 2;
    }
    ingest_cpu += cpu_seconds(c0);
    ingest_wall += seconds_since(t0);
    ingest_chunks += pending.size();
    if (std::string(lang) == "en") embedder = std::move(e);
  }

  // 2. The large and the small index from copies of the English chunks.
  rag::Analyzer analyzer(rag::Language::kEnglish);
  Indexes big{rag::Bm25Index{}, new_vector_index(embedder->dim())};
  Indexes little{rag::Bm25Index{}, new_vector_index(embedder->dim())};
  std::ofstream tsv(work / "chunks.tsv", std::ios::trunc);
  const double rss_before = rss_mb();
  const auto tb = Clock::now();
  const std::clock_t cb = std::clock();
  std::size_t made = 0;
  std::size_t made_bytes = 0;
  for (std::size_t r = 0; made < target && r < 1000; ++r) {
    for (std::size_t i = 0; i < base.size() && made < target; ++i, ++made) {
      const BaseChunk& b = base[i];
      const std::string text = perturb(b.text, perturbed ? r : 0);
      const std::string id = b.chunk_id + "@" + std::to_string(r);
      const std::string doc = b.doc_id + "@" + std::to_string(r);
      made_bytes += text.size();
      tsv << id << '\t' << doc << '\t' << one_line(b.heading) << '\t' << one_line(text) << '\n';
      auto body = analyzer.terms(text);
      const auto heading = analyzer.terms(b.heading);
      rag::ChunkRecord record{id, doc, {}, body, heading};
      if (made < small && !little.bm25.add(record)) return 2;
      if (!big.bm25.add(std::move(record))) return 2;
      body.insert(body.end(), heading.begin(), heading.end());
      const auto v = embedder->embed(body);
      if (is_zero(v)) continue;
      if (made < small && !little.vectors.add(id, doc, v)) return 2;
      if (!big.vectors.add(id, doc, v)) return 2;
    }
  }
  tsv.close();
  const double build_wall = seconds_since(tb);
  const double build_cpu = cpu_seconds(cb);
  const double rss_after = rss_mb();

  // 3. Latency.
  const Latency at_small = measure_latency(little, *embedder, queries, passes);
  const Latency at_big = measure_latency(big, *embedder, queries, passes);

  // 4. HNSW recall@10 against exact search, by ef_search.
  std::vector<std::vector<float>> qv;
  for (const auto& [qid, text] : queries) {
    auto v = embedder->embed(analyzer.terms(text));
    if (!is_zero(v)) qv.push_back(std::move(v));
  }
  const std::size_t default_ef = big.vectors.options().ef_search;
  std::vector<std::pair<std::size_t, double>> recalls;
  std::vector<double> exact_ms;
  std::vector<std::size_t> efs{128, 256, 384, 512};
  if (std::find(efs.begin(), efs.end(), default_ef) == efs.end()) efs.push_back(default_ef);
  for (const std::size_t ef : efs) {
    big.vectors.set_ef_search(ef);
    recalls.emplace_back(ef, hnsw_recall(big.vectors, qv));
  }
  big.vectors.set_ef_search(default_ef);
  for (const auto& v : qv) {
    const auto t = Clock::now();
    (void)big.vectors.search_exact(v, 10);
    exact_ms.push_back(seconds_since(t) * 1e3);
  }

  // 5. Save and load of the large index.
  const auto ts = Clock::now();
  if (!big.bm25.save(work / "bm25.idx") || !big.vectors.save(work / "vectors.idx") ||
      !embedder->save(work / "embedder.idx")) {
    std::cerr << "enkisys-rag-bench: cannot save the index to " << work << "\n";
    return 1;
  }
  const double save_s = seconds_since(ts);
  const auto tl = Clock::now();
  auto bm25_loaded = rag::Bm25Index::load(work / "bm25.idx");
  auto vectors_loaded = rag::VectorIndex::load(work / "vectors.idx");
  auto embedder_loaded = rag::HashingEmbedder::load(work / "embedder.idx");
  const double load_s = seconds_since(tl);
  if (!bm25_loaded || !vectors_loaded || !embedder_loaded || !vectors_loaded->uses_hnsw()) {
    std::cerr << "enkisys-rag-bench: the saved index does not load\n";
    return 1;
  }
  const double file_mb =
      static_cast<double>(fs::file_size(work / "bm25.idx") + fs::file_size(work / "vectors.idx") +
                          fs::file_size(work / "embedder.idx")) /
      1e6;

  std::printf("## enkisys-rag-bench (in process, one thread)\n\n");
  std::printf("| measure | value |\n|---|---|\n");
  std::printf(
      "| ingest, real corpora (en+es, %zu chunks, %.1f MB; exact vector index) | %.1f MB "
      "per CPU-second (%.1f MB/s wall) |\n",
      ingest_chunks, static_cast<double>(bytes) / 1e6,
      static_cast<double>(bytes) / 1e6 / ingest_cpu,
      static_cast<double>(bytes) / 1e6 / ingest_wall);
  std::printf(
      "| build of %zu chunks (%.1f MB) incl. HNSW graph | %.0f s CPU (%.2f MB per CPU-s), "
      "%.0f s wall |\n",
      made, static_cast<double>(made_bytes) / 1e6, build_cpu,
      static_cast<double>(made_bytes) / 1e6 / build_cpu, build_wall);
  for (const auto& [name, l, n] :
       {std::tuple{"small", &at_small, small}, std::tuple{"large", &at_big, made}}) {
    std::printf("| search p50 / p99 ms at %zu chunks (%s): bm25 | %s |\n", n, name,
                ms(l->bm25).c_str());
    std::printf("| search p50 / p99 ms at %zu chunks (%s): vector | %s |\n", n,
                n >= big.vectors.options().exact_threshold ? "HNSW" : "exact",
                ms(l->vector).c_str());
    std::printf("| search p50 / p99 ms at %zu chunks: hybrid | %s |\n", n, ms(l->hybrid).c_str());
  }
  std::printf("| exact vector search p50 / p99 ms at %zu chunks | %s |\n", made,
              ms(exact_ms).c_str());
  for (const auto& [ef, recall] : recalls) {
    std::printf("| HNSW recall@10 vs exact at %zu chunks, ef_search %zu%s | %.3f |\n", made, ef,
                ef == default_ef ? " (default)" : "", recall);
  }
  std::printf(
      "| RSS at %zu chunks (BM25 + vectors + graph + embedder) | %.0f MB (+%.0f MB for "
      "the indexes) |\n",
      made, rss_after, rss_after - rss_before);
  std::printf("| save / load of the %zu-chunk index (3 files, %.0f MB) | %.1f s / %.1f s |\n", made,
              file_mb, save_s, load_s);
  std::printf("\n%zu queries (bench/rag/queries.en.tsv) x %zu passes; chunks (%s copies) in %s\n",
              queries.size(), passes, perturbed ? "perturbed" : "identical",
              (work / "chunks.tsv").c_str());
  return 0;
}
