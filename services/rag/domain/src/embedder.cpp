#include "enkisys/rag/embedder.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <utility>

#include "binary_io.hpp"

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

std::vector<std::uint32_t> HashingEmbedder::term_features(const std::string& term) const {
  std::vector<std::uint32_t> out{static_cast<std::uint32_t>(hash64(term, 1) % options_.buckets)};
  if (options_.ngram_weight <= 0.0F) return out;
  std::string padded = "<" + term + ">";
  for (std::size_t n = options_.ngram_min; n <= options_.ngram_max; ++n) {
    for (std::size_t i = 0; i + n <= padded.size(); ++i) {
      out.push_back(static_cast<std::uint32_t>(hash64(std::string_view(padded).substr(i, n), 2) %
                                               options_.buckets));
    }
  }
  return out;
}

// Calls fn(bucket, weight) for every feature of `terms`, a term's features once per distinct
// term with its count folded into the weight.
template <class Fn>
void HashingEmbedder::features(const std::vector<std::string>& terms, Fn&& fn) const {
  std::vector<const std::string*> sorted;
  sorted.reserve(terms.size());
  for (const auto& t : terms) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return *a < *b; });
  std::vector<std::uint32_t> computed;
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i + 1;
    while (j < sorted.size() && *sorted[j] == *sorted[i]) ++j;
    const auto count = static_cast<float>(j - i);
    const auto cached = cache_.find(*sorted[i]);
    if (cached == cache_.end()) computed = term_features(*sorted[i]);
    const auto& feats = cached == cache_.end() ? computed : cached->second;
    for (std::size_t f = 0; f < feats.size(); ++f) {
      fn(feats[f], f == 0 ? count : count * options_.ngram_weight);
    }
    i = j;
  }
}

void HashingEmbedder::observe(const std::vector<std::string>& terms) {
  for (const auto& t : terms) {
    if (cache_.size() >= kMaxCachedTerms) break;
    const auto [it, inserted] = cache_.try_emplace(t);
    if (inserted) it->second = term_features(t);
  }
  if (seen_.size() != df_.size()) seen_.assign(df_.size(), 0);
  ++units_;
  const auto stamp = static_cast<std::uint32_t>(units_);
  features(terms, [&](std::uint32_t bucket, float) {
    if (seen_[bucket] != stamp) {
      seen_[bucket] = stamp;
      ++df_[bucket];
    }
  });
}

void l2_normalize(std::vector<float>& v) {
  double norm = 0;
  for (const float x : v) norm += static_cast<double>(x) * static_cast<double>(x);
  if (norm > 0) {
    const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& x : v) x *= inv;
  }
}

std::vector<float> HashingEmbedder::embed(const std::vector<std::string>& terms) const {
  // Per-thread scratch of bucket weights (embed may run concurrently).
  thread_local std::vector<float> weight;
  thread_local std::vector<std::uint32_t> touched;
  if (weight.size() < df_.size()) weight.assign(df_.size(), 0.0F);
  touched.clear();
  features(terms, [&](std::uint32_t bucket, float w) {
    if (weight[bucket] == 0.0F) touched.push_back(bucket);
    weight[bucket] += w;
  });
  std::vector<float> out(options_.dim, 0.0F);
  const double n = static_cast<double>(units_);
  for (const std::uint32_t bucket : touched) {
    const float f = weight[bucket];
    weight[bucket] = 0.0F;
    const double idf =
        units_ == 0 ? 1.0 : std::log((n + 1.0) / (static_cast<double>(df_[bucket]) + 1.0)) + 1.0;
    const auto w = static_cast<float>(std::log1p(static_cast<double>(f)) * idf);
    if (!(w > 0.0F)) continue;
    const std::uint64_t h = (bucket + 1ULL) * 0x9E3779B97F4A7C15ULL;  // Fibonacci hashing
    out[(h >> 32) % options_.dim] += (h >> 31 & 1U) != 0 ? w : -w;
  }
  l2_normalize(out);
  return out;
}

core::Status HashingEmbedder::save(const std::string& path) const {
  detail::Writer w;
  w.u64(options_.dim);
  w.u32(options_.buckets);
  w.u64(options_.ngram_min);
  w.u64(options_.ngram_max);
  w.f32(options_.ngram_weight);
  w.u64(units_);
  w.raw(df_.data(), df_.size() * sizeof(std::uint32_t));
  return detail::write_file(path, detail::kEmbedderMagic, kEmbedderFormatVersion, w.bytes());
}

core::Expected<HashingEmbedder> HashingEmbedder::load(const std::string& path) {
  auto payload = detail::read_file(path, detail::kEmbedderMagic, kEmbedderFormatVersion);
  if (!payload) return payload.error();
  detail::Reader r(*payload);
  EmbedderOptions o;
  o.dim = r.u64();
  o.buckets = r.u32();
  o.ngram_min = r.u64();
  o.ngram_max = r.u64();
  o.ngram_weight = r.f32();
  const std::uint64_t units = r.u64();
  constexpr std::size_t kMaxDim = 1U << 16;
  constexpr std::size_t kMaxNgram = 64;
  // The counters must be exactly what is left: this also bounds `buckets` by the file size.
  if (!r.ok() || o.dim > kMaxDim || o.ngram_max > kMaxNgram || !std::isfinite(o.ngram_weight) ||
      payload->size() - (8 + 4 + 8 + 8 + 4 + 8) != std::uint64_t{o.buckets} * 4) {
    return detail::corrupt("bad embedder options");
  }
  auto embedder = create(o);
  if (!embedder) return detail::corrupt("bad embedder options");
  if (!r.raw(embedder->df_.data(), embedder->df_.size() * sizeof(std::uint32_t)) || !r.at_end() ||
      std::any_of(embedder->df_.begin(), embedder->df_.end(),
                  [&](std::uint32_t df) { return df > units; })) {
    return detail::corrupt("bad document frequencies");
  }
  embedder->units_ = units;
  return embedder;
}

}  // namespace enkisys::rag
