#include <boost/json.hpp>
#include <ctime>
#include <fstream>

#include "monitor_impl.hpp"
#include "page.hpp"

namespace enkisys::monitoring {

namespace json = boost::json;

std::vector<LedgerEntry> read_ledger(const std::string& dir, const std::string& stage) {
  std::vector<LedgerEntry> out;
  if (dir.empty()) return out;
  std::ifstream in(dir + "/" + stage + "/releases.jsonl");
  std::string line;
  auto str = [](const json::object& o, const char* k) {
    const auto* p = o.if_contains(k);
    return p && p->is_string() ? std::string(p->get_string()) : std::string();
  };
  for (int n = 0; n < 100'000 && std::getline(in, line); ++n) {
    boost::system::error_code ec;
    const auto v = json::parse(line, ec);
    if (ec || !v.is_object()) continue;
    const auto& o = v.get_object();
    LedgerEntry e{
        stage,           str(o, "version"),     str(o, "action"),         str(o, "result"),
        str(o, "color"), str(o, "finished_at"), str(o, "rolled_back_to"), str(o, "message")};
    if (e.version.empty() || e.result.empty()) continue;
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> stages_of(const std::vector<Target>& targets) {
  std::vector<std::string> out;
  for (const auto& t : targets) {
    if (std::find(out.begin(), out.end(), t.stage) == out.end()) out.push_back(t.stage);
  }
  return out;
}

std::int64_t unix_s(core::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The CLI's notice shape (cli/src/notify.cpp): text + blocks + a coloured attachment.
std::string iso_time(std::int64_t unix_seconds) {
  const std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace enkisys::monitoring
