#include "enkisys/rag/embedder.hpp"

#include <cmath>
#include <string_view>
#include <unordered_map>

namespace enkisys::rag {
namespace {

std::uint64_t hash64(std::string_view s, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 33;  // murmur3 finaliser: spreads the low bits used below
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

HashingEmbedder::HashingEmbedder(EmbedderOptions options)
    : options_(options), df_(options.buckets, 0) {}

core::Expected<HashingEmbedder> HashingEmbedder::create(EmbedderOptions options) {
  if (options.dim == 0 || options.buckets == 0 || options.ngram_min == 0 ||
      options.ngram_min > options.ngram_max) {
    return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_embedder_options",
                            "need dim > 0, buckets > 0 and 0 < ngram_min <= ngram_max");
  }
  return HashingEmbedder(options);
}

// Calls fn(bucket, weight) for every feature occurrence of `terms`.
template <class Fn>
void HashingEmbedder::features(const std::vector<std::string>& terms, Fn&& fn) const {
  std::string padded;
  for (const auto& term : terms) {
    fn(static_cast<std::uint32_t>(hash64(term, 1) % options_.buckets), 1.0F);
    if (options_.ngram_weight <= 0.0F) continue;
    padded.assign("<").append(term).append(">");
    for (std::size_t n = options_.ngram_min; n <= options_.ngram_max; ++n) {
      if (padded.size() < n) break;
      for (std::size_t i = 0; i + n <= padded.size(); ++i) {
        fn(static_cast<std::uint32_t>(hash64(std::string_view(padded).substr(i, n), 2) %
                                      options_.buckets),
           options_.ngram_weight);
      }
    }
  }
}

void HashingEmbedder::observe(const std::vector<std::string>& terms) {
  std::unordered_map<std::uint32_t, bool> seen;
  features(terms, [&](std::uint32_t bucket, float) {
    if (seen.emplace(bucket, true).second) ++df_[bucket];
  });
  ++units_;
}

std::vector<float> HashingEmbedder::embed(const std::vector<std::string>& terms) const {
  std::unordered_map<std::uint32_t, float> tf;
  features(terms, [&](std::uint32_t bucket, float weight) { tf[bucket] += weight; });
  std::vector<float> out(options_.dim, 0.0F);
  const double n = static_cast<double>(units_);
  for (const auto& [bucket, f] : tf) {
    const double idf =
        units_ == 0 ? 1.0 : std::log((n + 1.0) / (static_cast<double>(df_[bucket]) + 1.0)) + 1.0;
    const auto w = static_cast<float>(std::log1p(static_cast<double>(f)) * idf);
    if (!(w > 0.0F)) continue;
    const std::uint64_t h =
        hash64(std::string_view(reinterpret_cast<const char*>(&bucket), sizeof bucket), 3);
    out[h % options_.dim] += (h >> 63) != 0 ? w : -w;
  }
  double norm = 0;
  for (const float x : out) norm += static_cast<double>(x) * static_cast<double>(x);
  if (norm > 0) {
    const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& x : out) x *= inv;
  }
  return out;
}

}  // namespace enkisys::rag
