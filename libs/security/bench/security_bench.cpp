// Throughput of the JWT paths the gateway and the auth service use, with ratios against the
// peers measured in the same run: full verify vs the bare signature check (parsing overhead)
// and vs a verification-cache hit (what the gateway pays per request once a token is warm).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <cstdio>
#include <map>
#include <string>

#include "enkisys/security/jwt.hpp"
#include "enkisys/security/password.hpp"
#include "enkisys/security/verification_cache.hpp"

namespace {

using namespace enkisys::security;  // NOLINT(google-build-using-namespace): benchmark file

struct Fixture {
  explicit Fixture(Alg alg) : key(SigningKey::generate(alg)), keys({key.verify_key()}) {
    opts.issuers = {"https://auth.enkisys"};
    opts.audiences = {"enkisys-api"};
    opts.allowed_algs = {alg};
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    claims = boost::json::object{{"sub", "user-42"},
                                 {"iss", "https://auth.enkisys"},
                                 {"aud", "enkisys-api"},
                                 {"iat", now},
                                 {"exp", now + 900},
                                 {"jti", "0123456789abcdef"},
                                 {"roles", boost::json::array{"user"}}};
    token = sign(key, claims);
    const std::size_t dot = token.rfind('.');
    input = token.substr(0, dot);
    signature = key.sign(input);
  }
  SigningKey key;
  KeySet keys;
  VerifyOptions opts;
  boost::json::object claims;
  std::string token, input, signature;
};

const Fixture& fixture(Alg alg) {
  static std::map<Alg, Fixture> all;
  auto it = all.find(alg);
  if (it == all.end()) it = all.emplace(alg, Fixture(alg)).first;
  return it->second;
}

void BM_Verify(benchmark::State& state, Alg alg) {
  const Fixture& f = fixture(alg);
  for (auto _ : state) {
    auto r = verify(f.token, f.keys, f.opts);
    if (!r.ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SignatureOnly(benchmark::State& state, Alg alg) {
  const Fixture& f = fixture(alg);
  const VerifyKey& key = f.keys.keys().front();
  for (auto _ : state) benchmark::DoNotOptimize(key.verify(f.input, f.signature));
  state.SetItemsProcessed(state.iterations());
}

void BM_Sign(benchmark::State& state, Alg alg) {
  const Fixture& f = fixture(alg);
  for (auto _ : state) benchmark::DoNotOptimize(sign(f.key, f.claims));
  state.SetItemsProcessed(state.iterations());
}

void BM_CacheHit(benchmark::State& state, Alg alg) {
  static VerificationCache cache;  // shared by the threads of a multi-threaded run
  const Fixture& f = fixture(alg);
  if (!verify_cached(f.token, f.keys, f.opts, SystemClock::instance(), cache).ok()) {
    state.SkipWithError("warm-up failed");
  }
  for (auto _ : state) {
    auto r = verify_cached(f.token, f.keys, f.opts, SystemClock::instance(), cache);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Argon2idInteractive(benchmark::State& state) {
  const PasswordHasher hasher = PasswordHasher::interactive();
  for (auto _ : state) benchmark::DoNotOptimize(hasher.hash("correct horse battery staple"));
  state.SetItemsProcessed(state.iterations());
}

#define ENKISYS_PER_ALG(fn)                  \
  BENCHMARK_CAPTURE(fn, EdDSA, Alg::kEdDSA); \
  BENCHMARK_CAPTURE(fn, RS256, Alg::kRS256); \
  BENCHMARK_CAPTURE(fn, ES256, Alg::kES256); \
  BENCHMARK_CAPTURE(fn, HS256, Alg::kHS256)

ENKISYS_PER_ALG(BM_Verify);
ENKISYS_PER_ALG(BM_SignatureOnly);
ENKISYS_PER_ALG(BM_Sign);
BENCHMARK_CAPTURE(BM_CacheHit, EdDSA, Alg::kEdDSA)->Threads(1)->Threads(2);
BENCHMARK_CAPTURE(BM_CacheHit, RS256, Alg::kRS256);
BENCHMARK(BM_Argon2idInteractive)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// Console output plus the per-benchmark CPU time, for the ratio table at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(::isatty(STDOUT_FILENO) != 0 ? OO_Color : OO_None) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Iteration && !r.error_occurred) {
        cpu_ns_[r.benchmark_name()] = r.GetAdjustedCPUTime();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void PrintRatios() const {
    std::printf("\n%-8s %14s %14s %18s %18s\n", "alg", "verify ns", "sig-only ns",
                "verify/sig-only", "verify/cache-hit");
    const double hit = lookup("BM_CacheHit/EdDSA/threads:1");
    for (const char* alg : {"EdDSA", "RS256", "ES256", "HS256"}) {
      const double full = lookup(std::string("BM_Verify/") + alg);
      const double sig = lookup(std::string("BM_SignatureOnly/") + alg);
      std::printf("%-8s %14.0f %14.0f %17.2fx %17.1fx\n", alg, full, sig,
                  sig > 0 ? full / sig : 0.0, hit > 0 ? full / hit : 0.0);
    }
    std::printf("cache hit (1 thread): %.0f ns  => %.0f verifications/s per core\n", hit,
                hit > 0 ? 1e9 / hit : 0.0);
  }

 private:
  double lookup(const std::string& name) const {
    auto it = cpu_ns_.find(name);
    return it == cpu_ns_.end() ? 0.0 : it->second;
  }
  std::map<std::string, double> cpu_ns_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  return 0;
}
