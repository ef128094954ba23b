#include "enkisys/core/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace enkisys::core {
namespace {

TEST(Metrics, RendersCountersGaugesAndHistogramsInPrometheusFormat) {
  MetricsRegistry reg;
  auto& c = reg.counter("req_total", "Requests.", {"route", "status"});
  c.with({"/a", "200"}).inc(3);
  c.with({"/b\"x", "500"}).inc();
  reg.gauge("up", "Up.").with({}).set(1);
  auto& h = reg.histogram("lat_seconds", "Latency.", {"route"}, {0.1, 1});
  h.with({"/a"}).observe(0.05);
  h.with({"/a"}).observe(0.5);
  h.with({"/a"}).observe(5);
  const std::string text = reg.render();
  EXPECT_NE(text.find("# TYPE req_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("req_total{route=\"/a\",status=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("req_total{route=\"/b\\\"x\",status=\"500\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("up 1\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"0.10000000000000001\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_count{route=\"/a\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_sum{route=\"/a\"} 5.5"), std::string::npos);
}

TEST(Metrics, CountersAreExactUnderConcurrency) {
  MetricsRegistry reg;
  auto& fam = reg.counter("n", "N.", {"k"});
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) fam.with({"x"}).inc();
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(fam.with({"x"}).value(), 40000U);
}

}  // namespace
}  // namespace enkisys::core
