// Helpers shared by the RAG benchmark drivers (enkisys_rag_eval, enkisys-rag-bench): corpus and
// query readers, latency percentiles. Not part of the library.
#pragma once

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstddef>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "enkisys/rag/chunker.hpp"

namespace enkisys::rag::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct CorpusDocument {
  DocumentModel model;
  std::string text;  // the Markdown text it was parsed from
};

// A corpus JSONL of bench/rag/corpus.sh: {"id","title","text"} per line.
inline std::vector<CorpusDocument> read_corpus(const std::string& path) {
  std::vector<CorpusDocument> docs;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto v = boost::json::parse(line).as_object();
    std::string text(v.at("text").as_string());
    auto model = parse_markdown(std::string(v.at("id").as_string()),
                                std::string(v.at("title").as_string()), text);
    docs.push_back({std::move(model), std::move(text)});
  }
  return docs;
}

// (query id, query text) of a queries TSV of bench/rag (id <TAB> text <TAB> judgements).
inline std::vector<std::pair<std::string, std::string>> read_queries(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> queries;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto a = line.find('\t');
    if (a == std::string::npos) continue;
    const auto b = line.find('\t', a + 1);
    queries.emplace_back(line.substr(0, a), line.substr(a + 1, b - a - 1));
  }
  return queries;
}

// The q-quantile (0..1) of `ms` by the nearest-rank rule; 0 for no samples.
inline double percentile(std::vector<double> ms, double q) {
  if (ms.empty()) return 0.0;
  std::sort(ms.begin(), ms.end());
  return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * static_cast<double>(ms.size())))];
}

}  // namespace enkisys::rag::bench
