// The per-stage release ledger: `releases.jsonl` in the stage's state directory, one JSON
// object per line, appended after every deploy and rollback (whatever the result), plus the
// `active` file (color and version currently behind the gateway).
//
// Contract:
//  * Append-only; a line that does not parse is skipped on read (and counted), never fatal.
//  * Results: "succeeded", "rolled_back" (failed, previous release restored), "failed"
//    (failed, nothing to restore). Actions: "deploy", "rollback".
//  * Callers hold the stage lock while writing. Not thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "enkisys/cli/state.hpp"

namespace enkisys::cli {

struct Release {
  std::string stage;
  std::string version;
  std::string action = "deploy";
  std::string result;
  std::string color;             // color that serves after this release
  std::string previous_version;  // what served before
  std::string rolled_back_to;    // for rolled_back
  std::string actor;
  std::string started_at;  // RFC 3339 UTC
  std::string finished_at;
  std::int64_t duration_ms = 0;
  boost::json::object images;   // "enkisys/tools:v2" -> {"id": "sha256:..", "digests": [...]}
  boost::json::object health;   // containers' health, gateway status, failing container
  boost::json::object timings;  // per step, ms
  std::string message;
  std::string run_url;

  boost::json::object to_json() const;
  static std::optional<Release> from_json(const boost::json::value& v);
};

struct Active {
  std::string color;
  std::string version;
  std::string since;
  std::string to_json() const;
  static std::optional<Active> parse(const std::string& text);
};

class ReleaseLedger {
 public:
  explicit ReleaseLedger(StateStore& store) : store_(&store) {}

  Status append(const Release& release);
  // All readable releases, oldest first. *skipped counts unreadable lines.
  Status read(std::vector<Release>* out, std::size_t* skipped = nullptr);
  // The newest succeeded release whose version differs from `except` (empty: any).
  static std::optional<Release> last_good(const std::vector<Release>& releases,
                                          const std::string& except = {});
  // Versions of the newest `keep` distinct succeeded releases, newest first.
  static std::vector<std::string> kept_versions(const std::vector<Release>& releases,
                                                std::size_t keep);

  Status read_active(std::optional<Active>* out);
  Status write_active(const Active& active);

  static constexpr const char* kFile = "releases.jsonl";
  static constexpr const char* kActive = "active";

 private:
  StateStore* store_;
};

}  // namespace enkisys::cli
