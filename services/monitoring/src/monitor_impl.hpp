// Private parts of the Monitor shared by monitor.cpp (polling) and status.cpp (the views): its
// I/O state, and the reading of the deploy CLI's ledgers.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "enkisys/core/client.hpp"
#include "enkisys/monitoring/monitor.hpp"

namespace enkisys::monitoring {

// Used by poll() on its one thread; `book` is changed and read under Monitor::mu_ only.
struct Monitor::Impl {
  explicit Impl(Thresholds t) : book(t) {}
  boost::asio::io_context ioc;
  core::HttpClient http{4};
  AlertBook book;
  std::map<std::string, std::size_t> ledger_seen;
  std::map<std::string, std::string> last_color;  // per stage: the color that answered last
  std::int64_t last_prune = 0;
  std::atomic<std::uint64_t> polls{0}, messages{0};

  void run() {
    ioc.restart();
    ioc.run();
  }
};

// One release of the `enkisys` CLI's ledger (<dir>/<stage>/releases.jsonl; cli/src/ledger.cpp).
struct LedgerEntry {
  std::string stage, version, action, result, color, finished_at, rolled_back_to, message;
};

// The stage's ledger, oldest first; lines that do not parse are skipped; "" dir: none.
std::vector<LedgerEntry> read_ledger(const std::string& dir, const std::string& stage);
// The stages of `targets`, in the order they first appear.
std::vector<std::string> stages_of(const std::vector<Target>& targets);
std::int64_t unix_s(core::Clock::time_point t);

}  // namespace enkisys::monitoring
