#include "enkisys/core/metrics.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace enkisys::core {

void Gauge::add(double d) {
  double cur = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  double cur = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

void Histogram::snapshot(std::vector<std::uint64_t>* cumulative, std::uint64_t* count,
                         double* sum) const {
  cumulative->assign(bounds_.size(), 0);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    (*cumulative)[i] = running;
  }
  running += buckets_[bounds_.size()].load(std::memory_order_relaxed);
  *count = running;
  *sum = sum_.load(std::memory_order_relaxed);
}

const std::vector<double>& default_latency_buckets() {
  static const std::vector<double> b{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return b;
}

template <typename Metric>
Metric& Family<Metric>::with(const std::vector<std::string>& values) {
  std::lock_guard lock(mu_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  std::unique_ptr<Metric> m;
  if constexpr (std::is_same_v<Metric, Histogram>) {
    m = std::make_unique<Histogram>(bounds_);
  } else {
    m = std::make_unique<Metric>();
  }
  return *children_.emplace(values, std::move(m)).first->second;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Family<Counter>& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                          std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  return counters_.emplace_back(name, help, std::move(labels));
}
Family<Gauge>& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                                      std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  return gauges_.emplace_back(name, help, std::move(labels));
}
Family<Histogram>& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                              std::vector<std::string> labels,
                                              std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  return histograms_.emplace_back(name, help, std::move(labels), std::move(bounds));
}

namespace {
void escape_label(std::string& out, const std::string& v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
}

std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      const std::string& extra_name = {}, const std::string& extra_value = {}) {
  if (names.empty() && extra_name.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    escape_label(out, values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name + "=\"" + extra_value + "\"";
  }
  out += '}';
  return out;
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
}  // namespace

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(4096);
  for (const auto& f : counters_) {
    out += "# HELP " + f.name() + ' ' + f.help() + "\n# TYPE " + f.name() + " counter\n";
    f.for_each([&](const std::vector<std::string>& labels, const Counter& c) {
      out += f.name() + label_set(f.label_names(), labels) + ' ' + std::to_string(c.value()) + '\n';
    });
  }
  for (const auto& f : gauges_) {
    out += "# HELP " + f.name() + ' ' + f.help() + "\n# TYPE " + f.name() + " gauge\n";
    f.for_each([&](const std::vector<std::string>& labels, const Gauge& g) {
      out += f.name() + label_set(f.label_names(), labels) + ' ' + number(g.value()) + '\n';
    });
  }
  for (const auto& f : histograms_) {
    out += "# HELP " + f.name() + ' ' + f.help() + "\n# TYPE " + f.name() + " histogram\n";
    f.for_each([&](const std::vector<std::string>& labels, const Histogram& h) {
      std::vector<std::uint64_t> cum;
      std::uint64_t count = 0;
      double sum = 0;
      h.snapshot(&cum, &count, &sum);
      for (std::size_t i = 0; i < cum.size(); ++i) {
        out += f.name() + "_bucket" +
               label_set(f.label_names(), labels, "le", number(h.bounds()[i])) + ' ' +
               std::to_string(cum[i]) + '\n';
      }
      out += f.name() + "_bucket" + label_set(f.label_names(), labels, "le", "+Inf") + ' ' +
             std::to_string(count) + '\n';
      out += f.name() + "_sum" + label_set(f.label_names(), labels) + ' ' + number(sum) + '\n';
      out += f.name() + "_count" + label_set(f.label_names(), labels) + ' ' +
             std::to_string(count) + '\n';
    });
  }
  return out;
}

}  // namespace enkisys::core
