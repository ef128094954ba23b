// The Prometheus text reader, counter differencing, quantiles and relabelling.
#include "enkisys/monitoring/prom.hpp"

#include <gtest/gtest.h>

namespace enkisys::monitoring {
namespace {

std::string scrape(int ok, int errors, int probes, int fast, int slow) {
  const int total = ok + errors;
  return "# HELP http_requests_total HTTP requests.\n# TYPE http_requests_total counter\n"
         "http_requests_total{route=\"/api/x\",method=\"GET\",status=\"200\"} " +
         std::to_string(ok) +
         "\nhttp_requests_total{route=\"/api/x\",method=\"GET\",status=\"503\"} " +
         std::to_string(errors) +
         "\nhttp_requests_total{route=\"/health\",method=\"GET\",status=\"200\"} " +
         std::to_string(probes) +
         "\n# TYPE http_request_duration_seconds histogram\n"
         "http_request_duration_seconds_bucket{route=\"/api/x\",le=\"0.01\"} " +
         std::to_string(fast) +
         "\nhttp_request_duration_seconds_bucket{route=\"/api/x\",le=\"1\"} " +
         std::to_string(fast + slow) +
         "\nhttp_request_duration_seconds_bucket{route=\"/api/x\",le=\"+Inf\"} " +
         std::to_string(total) +
         "\nhttp_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"} " +
         std::to_string(probes) + "\nhttp_request_duration_seconds_count{route=\"/api/x\"} " +
         std::to_string(total) +
         "\n# TYPE enkisys_build_info gauge\n"
         "enkisys_build_info{service=\"tools\",version=\"abc123\"} 1\n";
}

TEST(PromTest, SummarizeLeavesProbesOut) {
  const auto c = summarize(parse_text(scrape(90, 10, 1000, 80, 20)));
  EXPECT_TRUE(c.present);
  EXPECT_EQ(c.requests, 100);
  EXPECT_EQ(c.errors, 10);
  EXPECT_EQ(c.version, "abc123");
  ASSERT_EQ(c.buckets.size(), 3u);
  EXPECT_EQ(c.buckets.back().second, 100);
}

TEST(PromTest, RatesDifferenceTwoScrapes) {
  const auto a = summarize(parse_text(scrape(90, 10, 5, 100, 0)));
  const auto b = summarize(parse_text(scrape(140, 60, 9, 100, 100)));  // +100: 50 ok, 50 5xx
  const auto r = rates_between(a, b, 10);
  EXPECT_DOUBLE_EQ(r.req_per_s, 10);
  EXPECT_DOUBLE_EQ(r.error_ratio, 0.5);
  // All 100 new requests fell in (0.01, 1]: the median interpolates to the middle.
  EXPECT_NEAR(r.p50_s, 0.505, 1e-9);
  EXPECT_NEAR(r.p99_s, 0.01 + 0.99 * 0.99, 1e-9);
  // A restart (counters went down) counts from zero instead of a negative rate.
  const auto reset = rates_between(b, a, 10);
  EXPECT_DOUBLE_EQ(reset.req_per_s, 10);
  // No traffic: no latency.
  EXPECT_EQ(rates_between(b, b, 5).p99_s, -1);
}

TEST(PromTest, MalformedLinesAreSkipped) {
  const auto e = parse_text("garbage\nx{a=\"1} 2\nok{a=\"q\\\"\"} 3\n{}} 1\nnan_value NaN\n");
  ASSERT_EQ(e.samples.size(), 2u);
  EXPECT_EQ(e.samples[0].labels[0].second, "q\"");
}

TEST(PromTest, RenderAddsLabelsAndReplacesClashingOnes) {
  const auto e = parse_text(scrape(1, 0, 0, 1, 0));
  std::string out;
  for (const auto& s : e.samples) {
    if (s.name == "enkisys_build_info")
      render_sample(s, {{"stage", "prod"}, {"service", "tools"}, {"color", "blue"}}, out);
  }
  EXPECT_EQ(out,
            "enkisys_build_info{stage=\"prod\",service=\"tools\",color=\"blue\","
            "version=\"abc123\"} 1\n");
  out.clear();
  render_sample(Sample{"f", "f", {{"a", "x\"y\\z\nw"}}, 1.5}, {}, out);
  EXPECT_EQ(out, "f{a=\"x\\\"y\\\\z\\nw\"} 1.5\n");
}

}  // namespace
}  // namespace enkisys::monitoring
