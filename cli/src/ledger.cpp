#include "enkisys/cli/ledger.hpp"

#include <algorithm>
#include <boost/json.hpp>

namespace enkisys::cli {
namespace json = boost::json;
namespace {

std::string str(const json::object& o, const char* key) {
  auto* p = o.if_contains(key);
  return p && p->is_string() ? std::string(p->get_string()) : std::string();
}

json::object obj(const json::object& o, const char* key) {
  auto* p = o.if_contains(key);
  return p && p->is_object() ? p->get_object() : json::object();
}

}  // namespace

json::object Release::to_json() const {
  json::object o{{"stage", stage},
                 {"version", version},
                 {"action", action},
                 {"result", result},
                 {"color", color},
                 {"previous_version", previous_version},
                 {"actor", actor},
                 {"started_at", started_at},
                 {"finished_at", finished_at},
                 {"duration_ms", duration_ms},
                 {"images", images},
                 {"health", health},
                 {"timings", timings},
                 {"message", message}};
  if (!rolled_back_to.empty()) o["rolled_back_to"] = rolled_back_to;
  if (!run_url.empty()) o["run_url"] = run_url;
  return o;
}

std::optional<Release> Release::from_json(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  Release r;
  r.stage = str(o, "stage");
  r.version = str(o, "version");
  r.result = str(o, "result");
  if (r.version.empty() || r.result.empty()) return std::nullopt;
  r.action = str(o, "action");
  r.color = str(o, "color");
  r.previous_version = str(o, "previous_version");
  r.rolled_back_to = str(o, "rolled_back_to");
  r.actor = str(o, "actor");
  r.started_at = str(o, "started_at");
  r.finished_at = str(o, "finished_at");
  if (auto* d = o.if_contains("duration_ms"); d && d->is_int64()) r.duration_ms = d->get_int64();
  r.images = obj(o, "images");
  r.health = obj(o, "health");
  r.timings = obj(o, "timings");
  r.message = str(o, "message");
  r.run_url = str(o, "run_url");
  return r;
}

std::string Active::to_json() const {
  return json::serialize(json::object{{"color", color}, {"version", version}, {"since", since}});
}

std::optional<Active> Active::parse(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  Active a{str(v.get_object(), "color"), str(v.get_object(), "version"),
           str(v.get_object(), "since")};
  if (a.color.empty()) return std::nullopt;
  return a;
}

Status ReleaseLedger::append(const Release& release) {
  return store_->append(kFile, json::serialize(release.to_json()));
}

Status ReleaseLedger::read(std::vector<Release>* out, std::size_t* skipped) {
  out->clear();
  std::optional<std::string> text;
  if (auto s = store_->read(kFile, &text); !s.ok) return s;
  std::size_t bad = 0;
  if (text) {
    std::size_t pos = 0;
    while (pos < text->size()) {
      auto end = text->find('\n', pos);
      if (end == std::string::npos) end = text->size();
      std::string_view line(text->data() + pos, end - pos);
      pos = end + 1;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      boost::system::error_code ec;
      auto v = json::parse(line, ec);
      auto r = ec ? std::nullopt : Release::from_json(v);
      if (r) {
        out->push_back(std::move(*r));
      } else {
        ++bad;
      }
    }
  }
  if (skipped) *skipped = bad;
  return {};
}

std::optional<Release> ReleaseLedger::last_good(const std::vector<Release>& releases,
                                                const std::string& except) {
  for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
    if (it->result == "succeeded" && (except.empty() || it->version != except)) return *it;
  }
  return std::nullopt;
}

std::vector<std::string> ReleaseLedger::kept_versions(const std::vector<Release>& releases,
                                                      std::size_t keep) {
  std::vector<std::string> out;
  for (auto it = releases.rbegin(); it != releases.rend() && out.size() < keep; ++it) {
    if (it->result != "succeeded") continue;
    if (std::find(out.begin(), out.end(), it->version) == out.end()) out.push_back(it->version);
  }
  return out;
}

Status ReleaseLedger::read_active(std::optional<Active>* out) {
  std::optional<std::string> text;
  if (auto s = store_->read(kActive, &text); !s.ok) return s;
  *out = text ? Active::parse(*text) : std::nullopt;
  return {};
}

Status ReleaseLedger::write_active(const Active& active) {
  return store_->replace(kActive, active.to_json());
}

}  // namespace enkisys::cli
