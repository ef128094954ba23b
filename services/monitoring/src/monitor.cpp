#include "enkisys/monitoring/monitor.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <ctime>
#include <fstream>

#include "enkisys/core/client.hpp"
#include "page.hpp"

namespace enkisys::monitoring {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

struct Fetch {
  unsigned status = 0;
  std::string body;
  std::string error;
};

// One GET, its outcome written to *out (a free coroutine: parameters live in its frame).
asio::awaitable<void> fetch_into(core::HttpSender& http, std::string url,
                                 std::vector<std::pair<std::string, std::string>> headers,
                                 std::chrono::milliseconds timeout, std::size_t max_bytes,
                                 Fetch* out) {
  core::ClientRequest req;
  req.url = std::move(url);
  req.headers = std::move(headers);
  core::ClientOptions o;
  o.connect_timeout = timeout;
  o.timeout = timeout;
  o.max_response_bytes = max_bytes;
  auto r = co_await http.send(std::move(req), o);
  if (r.ok()) {
    out->status = r.value().status;
    out->body = std::move(r.value().body);
  } else {
    out->error = r.error().message.empty() ? "no answer" : r.error().message;
  }
}

asio::awaitable<void> post_json(core::HttpSender& http, std::string url, std::string body,
                                std::chrono::milliseconds timeout, Fetch* out) {
  core::ClientRequest req;
  req.method = boost::beast::http::verb::post;
  req.url = std::move(url);
  req.headers = {{"Content-Type", "application/json"}};
  req.body = std::move(body);
  core::ClientOptions o;
  o.connect_timeout = timeout;
  o.timeout = timeout;
  o.max_response_bytes = 64 * 1024;
  auto r = co_await http.send(std::move(req), o);
  if (r.ok()) {
    out->status = r.value().status;
  } else {
    out->error = r.error().message;
  }
}

std::string replace_color(const std::string& url, const std::string& color) {
  const auto at = url.find("{color}");
  if (at == std::string::npos) return url;
  return url.substr(0, at) + color + url.substr(at + 7);
}

std::int64_t unix_s(core::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The CLI's notice shape (cli/src/notify.cpp): text + blocks + a coloured attachment.
std::string webhook_payload(const std::string& text, const std::string& stage,
                            const std::string& service, bool bad) {
  json::array fields{json::object{{"type", "mrkdwn"}, {"text", "*Stage*\n" + stage}},
                     json::object{{"type", "mrkdwn"}, {"text", "*Service*\n" + service}}};
  json::array blocks{
      json::object{{"type", "section"}, {"text", json::object{{"type", "mrkdwn"}, {"text", text}}}},
      json::object{{"type", "section"}, {"fields", std::move(fields)}}};
  json::array att_fields{json::object{{"title", "stage"}, {"value", stage}, {"short", true}},
                         json::object{{"title", "service"}, {"value", service}, {"short", true}}};
  json::object attachment{
      {"color", bad ? "danger" : "good"}, {"fallback", text}, {"fields", std::move(att_fields)}};
  return json::serialize(json::object{{"text", text},
                                      {"blocks", std::move(blocks)},
                                      {"attachments", json::array{std::move(attachment)}}});
}

struct LedgerEntry {
  std::string stage, version, action, result, color, finished_at, rolled_back_to, message;
};

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

}  // namespace

std::string iso_time(std::int64_t unix_seconds) {
  const std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct Monitor::Impl {
  explicit Impl(Thresholds t) : book(t) {}
  asio::io_context ioc;
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

Monitor::Monitor(MonitorStore& store, core::Clock& clock, core::Logger& log, MonitorOptions options)
    : store_(store),
      clock_(clock),
      log_(log),
      o_(std::move(options)),
      impl_(std::make_unique<Impl>(o_.thresholds)) {
  for (const auto& t : o_.targets) {
    TargetState st;
    st.target = t;
    states_.push_back(std::move(st));
  }
}

Monitor::~Monitor() {
  impl_->http.close_idle();
}

void Monitor::start() {
  for (const auto& [stage, service, c] : store_.firing_alerts())
    impl_->book.set_firing(stage, service, c, true);
  for (const auto& stage : stages_of(o_.targets))
    impl_->ledger_seen[stage] = read_ledger(o_.ledger_dir, stage).size();
}

void Monitor::poll() {
  auto& im = *impl_;
  const auto now = clock_.now();
  const auto steady = clock_.steady_now();
  // The active colors, from the gateway when it tells them.
  std::map<std::string, std::string> active;
  if (!o_.gateway_admin_url.empty()) {
    Fetch f;
    asio::co_spawn(im.ioc,
                   fetch_into(im.http, o_.gateway_admin_url + "/admin/stages",
                              {{"Authorization", "Bearer " + o_.gateway_admin_token}}, o_.timeout,
                              1 << 20, &f),
                   asio::detached);
    im.run();
    boost::system::error_code ec;
    const auto v = f.status == 200 ? json::parse(f.body, ec) : json::value();
    if (!ec && v.is_object()) {
      if (const auto* st = v.get_object().if_contains("stages"); st && st->is_array()) {
        for (const auto& s : st->get_array()) {
          if (!s.is_object()) continue;
          const auto* name = s.get_object().if_contains("name");
          const auto* vars = s.get_object().if_contains("variables");
          if (!name || !name->is_string() || !vars || !vars->is_object()) continue;
          if (const auto* c = vars->get_object().if_contains("color"); c && c->is_string())
            active[std::string(name->get_string())] = std::string(c->get_string());
        }
      }
    } else {
      log_.warn("gateway admin API unavailable; trying every color",
                {{"status", f.status}, {"error", f.error}});
    }
  }
  // /health of every target: the active color, else each color in turn until one answers.
  const std::size_t n = o_.targets.size();
  std::vector<std::vector<std::string>> candidates(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& t = o_.targets[i];
    if (t.url.find("{color}") == std::string::npos) {
      candidates[i] = {""};
    } else if (const auto it = active.find(t.stage); it != active.end()) {
      candidates[i] = {it->second};
    } else {
      auto colors = o_.colors;
      if (const auto last = im.last_color.find(t.stage); last != im.last_color.end()) {
        std::stable_partition(colors.begin(), colors.end(),
                              [&](const std::string& c) { return c == last->second; });
      }
      candidates[i] = colors;
    }
  }
  std::vector<Fetch> health(n), metrics(n);
  std::vector<std::string> color(n);
  std::vector<std::size_t> tried(n, 0);
  for (std::size_t round = 0; round < o_.colors.size() + 1; ++round) {
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (health[i].status != 0 || tried[i] >= candidates[i].size()) continue;
      color[i] = candidates[i][tried[i]++];
      health[i] = Fetch{};
      asio::co_spawn(im.ioc,
                     fetch_into(im.http, replace_color(o_.targets[i].url, color[i]) + "/health", {},
                                o_.timeout, 64 * 1024, &health[i]),
                     asio::detached);
      any = true;
    }
    if (!any) break;
    im.run();
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (health[i].status == 0) continue;
    asio::co_spawn(im.ioc,
                   fetch_into(im.http, replace_color(o_.targets[i].url, color[i]) + "/metrics", {},
                              o_.timeout, 4 << 20, &metrics[i]),
                   asio::detached);
  }
  im.run();

  // Rates, history, alerts.
  std::vector<Point> points;
  std::vector<Change> changes;
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < n; ++i) {
      auto& s = states_[i];
      const bool had = s.polled && s.counters.present;
      const double dt = std::chrono::duration<double>(steady - s.scraped_at).count();
      s.polled = true;
      s.health_status = health[i].status;
      s.up = health[i].status == 200;
      s.color = health[i].status != 0 ? color[i] : "";
      s.error = s.up ? ""
                     : (health[i].status ? "health " + std::to_string(health[i].status)
                                         : health[i].error);
      if (metrics[i].status == 200) {
        auto e = parse_text(metrics[i].body);
        auto c = summarize(e);
        s.rates = had ? rates_between(s.counters, c, dt) : Rates{};
        s.counters = std::move(c);
        s.exposition = std::move(e);
        s.scraped_at = steady;
      } else {
        s.rates = Rates{};
        s.counters = Counters{};
        s.exposition = Exposition{};
      }
      if (!s.color.empty()) im.last_color[s.target.stage] = s.color;
      points.push_back({s.target.stage, s.target.service, unix_s(now), s.up, s.rates.req_per_s,
                        s.rates.error_ratio, s.rates.p50_s, s.rates.p99_s});
      for (auto& c : im.book.observe(s.target.stage, s.target.service, {s.up, s.rates}))
        changes.push_back(std::move(c));
    }
    for (const auto& [stage, c] : active) stage_color_[stage] = c;
    for (const auto& s : states_) {
      if (!s.color.empty() && !active.count(s.target.stage)) stage_color_[s.target.stage] = s.color;
    }
  }
  store_.record(points);
  // Deploys and rollbacks written to the ledgers since the last poll.
  struct Message {
    std::string stage, service, text;
    bool bad;
  };
  std::vector<Message> messages;
  for (const auto& stage : stages_of(o_.targets)) {
    const auto entries = read_ledger(o_.ledger_dir, stage);
    auto& seen = im.ledger_seen[stage];
    const auto rollbacks = static_cast<std::uint64_t>(std::count_if(
        entries.begin(), entries.end(),
        [](const LedgerEntry& e) { return e.result == "rolled_back" || e.action == "rollback"; }));
    {
      std::lock_guard lock(mu_);
      stage_rollbacks_[stage] = rollbacks;
    }
    if (!entries.empty()) {
      std::lock_guard lock(mu_);
      stage_version_[stage] = entries.back().result == "succeeded" ? entries.back().version
                                                                   : entries.back().rolled_back_to;
    }
    for (std::size_t i = std::min(seen, entries.size()); i < entries.size(); ++i) {
      const auto& e = entries[i];
      if (e.result == "rolled_back" || e.action == "rollback") {
        const std::string text =
            ":rewind: " + stage + ": " + e.action + " of `" + e.version + "` " + e.result +
            (e.rolled_back_to.empty() ? "" : ", serving `" + e.rolled_back_to + "`");
        store_.add_event({unix_s(now), stage, "", "rollback", text});
        messages.push_back({stage, "", text, true});
      }
    }
    seen = entries.size();
  }
  for (const auto& c : changes) {
    store_.save_alert(c.stage, c.service, c.condition, c.firing);
    store_.add_event({unix_s(now), c.stage, c.service,
                      std::string(condition_name(c.condition)) + (c.firing ? "" : "_resolved"),
                      c.text});
    messages.push_back({c.stage, c.service, c.text, c.firing});
  }
  // Silenced stages send nothing; a burst becomes one summary message.
  const auto silenced = store_.silences(unix_s(now));
  std::erase_if(messages, [&](const Message& m) {
    return std::any_of(silenced.begin(), silenced.end(),
                       [&](const Silence& s) { return s.stage == m.stage; });
  });
  if (static_cast<int>(messages.size()) > o_.max_messages_per_poll) {
    std::string text = ":rotating_light: " + std::to_string(messages.size()) + " changes:";
    for (const auto& m : messages) text += "\n" + m.text;
    messages = {{"*", "*", text, true}};
  }
  if (!o_.webhook_url.empty() && !messages.empty()) {
    std::vector<Fetch> sent(messages.size());
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const auto& m = messages[i];
      asio::co_spawn(
          im.ioc,
          post_json(im.http, o_.webhook_url, webhook_payload(m.text, m.stage, m.service, m.bad),
                    o_.timeout, &sent[i]),
          asio::detached);
    }
    im.run();
    for (const auto& f : sent) {
      if (f.status >= 200 && f.status < 300) {
        ++im.messages;
      } else {
        log_.warn("webhook refused the message", {{"status", f.status}, {"error", f.error}});
      }
    }
  }
  for (const auto& c : changes)
    log_.info("state change", {{"stage", c.stage},
                               {"service", c.service},
                               {"condition", condition_name(c.condition)},
                               {"firing", c.firing}});
  if (unix_s(now) - im.last_prune >= 60) {
    store_.prune(unix_s(now));
    im.last_prune = unix_s(now);
  }
  ++im.polls;
}

std::uint64_t Monitor::polls() const {
  return impl_->polls.load();
}
std::uint64_t Monitor::messages_sent() const {
  return impl_->messages.load();
}

std::string Monitor::federate() const {
  std::map<std::string, std::pair<Family, std::string>> families;  // name → (meta, lines)
  std::string up = "# HELP up Whether the target answered its /health with 200.\n# TYPE up gauge\n";
  std::lock_guard lock(mu_);
  for (const auto& s : states_) {
    const Labels extra{
        {"stage", s.target.stage}, {"service", s.target.service}, {"color", s.color}};
    render_sample(Sample{"up", "up", {}, s.up ? 1.0 : 0.0}, extra, up);
    for (const auto& smp : s.exposition.samples) {
      auto& f = families[smp.family];
      if (f.second.empty()) {
        if (const auto it = s.exposition.families.find(smp.family);
            it != s.exposition.families.end())
          f.first = it->second;
      }
      render_sample(smp, extra, f.second);
    }
  }
  std::string out;
  for (const auto& [name, f] : families) {
    if (name == "up") continue;
    if (!f.first.help.empty()) out += "# HELP " + name + " " + f.first.help + "\n";
    if (!f.first.type.empty()) out += "# TYPE " + name + " " + f.first.type + "\n";
    out += f.second;
  }
  out +=
      "# HELP enkisys_stage_rollbacks_total Rolled-back deploys and rollbacks in the ledger.\n"
      "# TYPE enkisys_stage_rollbacks_total counter\n";
  for (const auto& [stage, n] : stage_rollbacks_) {
    render_sample(Sample{"", "enkisys_stage_rollbacks_total", {}, static_cast<double>(n)},
                  {{"stage", stage}}, out);
  }
  return out + up;
}

core::Status Monitor::silence(const std::string& stage, int minutes, const std::string& reason) {
  const auto stages = stages_of(o_.targets);
  if (std::find(stages.begin(), stages.end(), stage) == stages.end())
    return core::make_error(core::ErrorKind::kNotFound, "unknown_stage",
                            "no target of stage '" + stage + "'");
  if (minutes < 1 || minutes > 7 * 24 * 60)
    return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_minutes",
                            "minutes must be in [1, 10080]", "minutes");
  if (reason.size() > 500)
    return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_reason",
                            "reason: at most 500 bytes", "reason");
  const auto now = unix_s(clock_.now());
  store_.set_silence({stage, reason, now + std::int64_t{minutes} * 60});
  store_.add_event({now, stage, "", "silenced",
                    "alerts of " + stage + " silenced for " + std::to_string(minutes) + " min" +
                        (reason.empty() ? "" : ": " + reason)});
  return core::ok_status();
}

core::Status Monitor::unsilence(const std::string& stage) {
  store_.clear_silence(stage);
  return core::ok_status();
}

json::array Monitor::silences() {
  json::array out;
  for (const auto& s : store_.silences(unix_s(clock_.now())))
    out.push_back(
        json::object{{"stage", s.stage}, {"until", iso_time(s.until)}, {"reason", s.reason}});
  return out;
}

json::object Monitor::status() {
  const auto now = unix_s(clock_.now());
  std::map<std::pair<std::string, std::string>, json::object> uptime;
  for (const auto& [key, since] : {std::pair<const char*, std::int64_t>{"1h", now - 3600},
                                   {"24h", now - 86400},
                                   {"7d", now - 7 * 86400}}) {
    for (const auto& u : store_.uptime(since)) {
      auto& o = uptime[{u.stage, u.service}];
      if (u.ratio >= 0) o[key] = u.ratio;
    }
  }
  std::map<std::pair<std::string, std::string>, json::object> history;
  for (const auto& p : store_.rollups(now - std::int64_t{o_.history_minutes} * 60)) {
    auto& h = history[{p.stage, p.service}];
    if (h.empty())
      h = {{"t", json::array()},
           {"up", json::array()},
           {"error_ratio", json::array()},
           {"p99_ms", json::array()}};
    h["t"].as_array().push_back(p.ts);
    h["up"].as_array().push_back(p.up);
    h["error_ratio"].as_array().push_back(p.error_ratio);
    h["p99_ms"].as_array().push_back(p.p99_s < 0 ? 0.0 : p.p99_s * 1000);
  }
  const auto silenced = store_.silences(now);
  json::array stages;
  std::lock_guard lock(mu_);
  for (const auto& stage : stages_of(o_.targets)) {
    json::array services;
    std::string build_version;
    for (const auto& s : states_) {
      if (s.target.stage != stage) continue;
      const auto& svc = s.target.service;
      json::array alerts;
      for (auto c : {Condition::kDown, Condition::kErrors, Condition::kLatency}) {
        if (impl_->book.firing(stage, svc, c)) alerts.push_back(json::string(condition_name(c)));
      }
      const char* state = !s.polled        ? "unknown"
                          : !s.up          ? "down"
                          : alerts.empty() ? "up"
                                           : "degraded";
      if (build_version.empty()) build_version = s.counters.version;
      auto u = uptime[{stage, svc}];
      auto h = history[{stage, svc}];
      services.push_back(json::object{
          {"service", svc},
          {"state", state},
          {"up", s.up},
          {"color", s.color},
          {"version", s.counters.version},
          {"health_status", s.health_status},
          {"error", s.error},
          {"req_per_s", s.rates.req_per_s},
          {"error_ratio", s.rates.error_ratio},
          {"p50_ms", s.rates.p50_s < 0 ? json::value(nullptr) : json::value(s.rates.p50_s * 1000)},
          {"p99_ms", s.rates.p99_s < 0 ? json::value(nullptr) : json::value(s.rates.p99_s * 1000)},
          {"uptime", std::move(u)},
          {"alerts", std::move(alerts)},
          {"history", std::move(h)}});
    }
    json::object so{{"stage", stage}, {"services", std::move(services)}};
    const auto c = stage_color_.find(stage);
    so["color"] = c == stage_color_.end() ? "" : c->second;
    const auto v = stage_version_.find(stage);
    so["version"] = v != stage_version_.end() && !v->second.empty() ? v->second : build_version;
    so["silenced_until"] = nullptr;
    for (const auto& s : silenced) {
      if (s.stage == stage) so["silenced_until"] = iso_time(s.until);
    }
    stages.push_back(std::move(so));
  }
  // Timeline: the incidents of the last 7 days and every stage's deploys and rollbacks.
  std::vector<json::object> timeline;
  for (const auto& e : store_.events(now - 7 * 86400, 100)) {
    timeline.push_back({{"at", iso_time(e.ts)},
                        {"stage", e.stage},
                        {"service", e.service},
                        {"kind", e.kind},
                        {"text", e.text}});
  }
  for (const auto& stage : stages_of(o_.targets)) {
    const auto entries = read_ledger(o_.ledger_dir, stage);
    for (std::size_t i = entries.size() > 20 ? entries.size() - 20 : 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      timeline.push_back({{"at", e.finished_at},
                          {"stage", stage},
                          {"service", ""},
                          {"kind", e.action.empty() ? "deploy" : e.action},
                          {"text", e.action + " " + e.version + " " + e.result +
                                       (e.color.empty() ? "" : " (" + e.color + ")")}});
    }
  }
  std::stable_sort(timeline.begin(), timeline.end(),
                   [](const json::object& a, const json::object& b) {
                     return a.at("at").as_string() > b.at("at").as_string();
                   });
  if (timeline.size() > 100) timeline.resize(100);
  json::array tl(timeline.begin(), timeline.end());
  return json::object{{"generated_at", iso_time(now)},
                      {"interval_s", o_.interval.count()},
                      {"thresholds", json::object{{"error_ratio", o_.thresholds.error_ratio},
                                                  {"p99_ms", o_.thresholds.p99_s * 1000},
                                                  {"hold_polls", o_.thresholds.hold_polls}}},
                      {"stages", std::move(stages)},
                      {"timeline", std::move(tl)}};
}

}  // namespace enkisys::monitoring
