#include "enkisys/monitoring/monitor.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <ctime>
#include <fstream>

#include "enkisys/core/client.hpp"
#include "monitor_impl.hpp"
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

}  // namespace

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

std::string Monitor::target_url(const std::string& stage, const std::string& service) const {
  for (const auto& t : o_.targets) {
    if (t.stage != stage || t.service != service) continue;
    std::lock_guard lock(mu_);
    const auto it = stage_color_.find(stage);
    return replace_color(t.url, it != stage_color_.end() && !it->second.empty()
                                    ? it->second
                                    : (o_.colors.empty() ? std::string() : o_.colors.front()));
  }
  return {};
}

std::uint64_t Monitor::polls() const {
  return impl_->polls.load();
}
std::uint64_t Monitor::messages_sent() const {
  return impl_->messages.load();
}

}  // namespace enkisys::monitoring
