// enkisys-router: the channel router (port 5005): Telegram, WhatsApp Cloud and Slack webhooks
// → durable inbox → agent → durable outbox → channel APIs. Wiring only.
#include <unistd.h>

#include <boost/asio/thread_pool.hpp>
#include <boost/json/parse.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "enkisys/core/service.hpp"
#include "enkisys/db/database.hpp"
#include "enkisys/router/relay.hpp"
#include "enkisys/router/router_api.hpp"
#include "enkisys/router/store.hpp"
#include "enkisys/router/web.hpp"
#include "service_database.hpp"

namespace {

using namespace enkisys;

struct RouterService {
  router::RouterConfig config;
  std::unique_ptr<db::Database> database;
  std::unique_ptr<router::RouterStore> store;
  std::unique_ptr<boost::asio::thread_pool> blocking;
  std::unique_ptr<router::Relay> relay;
  std::unique_ptr<router::RouterApi> api;
  std::unique_ptr<router::WebApi> web;
};

std::optional<std::string> http_url(std::string_view v) {
  if (v.empty() || v.starts_with("http://") || v.starts_with("https://")) return std::nullopt;
  return "must be an http:// or https:// URL";
}

// ROUTER_AGENT_CONVERSATION: a JSON object of the agent's conversation fields (no title: the
// router names each conversation after its chat). The agent validates the values themselves.
std::optional<std::string> conversation_fields(std::string_view v) {
  boost::system::error_code ec;
  const boost::json::value j = boost::json::parse(v, ec);
  if (ec || !j.is_object()) return "must be a JSON object";
  for (const auto& field : j.as_object()) {
    const std::string_view k = field.key();
    if (k != "collections" && k != "tools" && k != "system_prompt" && k != "model") {
      return "unknown field '" + std::string(k) + "' (collections, tools, system_prompt, model)";
    }
  }
  return std::nullopt;
}

std::optional<std::string> channel_list(std::string_view v) {
  std::stringstream in{std::string(v)};
  std::string name;
  while (std::getline(in, name, ',')) {
    if (!name.empty() && !router::channel_from(name)) {
      return "unknown channel '" + name + "' (telegram, whatsapp, slack, web)";
    }
  }
  return std::nullopt;
}

// "KEY=ORIGIN ORIGIN;KEY=ORIGIN": the web widget's sites. Keys: 8-64 of [A-Za-z0-9_-]; origins:
// http(s)://host[:port] without a path.
std::optional<std::string> parse_sites(
    std::string_view v, std::map<std::string, std::vector<std::string>, std::less<>>* out) {
  std::stringstream in{std::string(v)};
  for (std::string entry; std::getline(in, entry, ';');) {
    if (entry.find_first_not_of(' ') == std::string::npos) continue;
    const auto eq = entry.find('=');
    if (eq == std::string::npos) return "each site is KEY=ORIGIN [ORIGIN...]";
    std::string key = entry.substr(0, eq);
    key.erase(0, key.find_first_not_of(' '));
    key.erase(key.find_last_not_of(' ') + 1);
    if (key.size() < 8 || key.size() > 64 ||
        key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            std::string::npos) {
      return "site key '" + key + "': 8-64 of [A-Za-z0-9_-]";
    }
    std::stringstream origins{entry.substr(eq + 1)};
    std::vector<std::string> list;
    for (std::string o; origins >> o;) {
      const auto scheme = o.find("://");
      if ((!o.starts_with("http://") && !o.starts_with("https://")) ||
          o.find('/', scheme + 3) != std::string::npos) {
        return "origin '" + o + "': scheme://host[:port], no path";
      }
      list.push_back(o);
    }
    if (list.empty()) return "site '" + key + "' names no origin";
    if (out != nullptr) (*out)[key] = std::move(list);
  }
  return std::nullopt;
}

// A channel credential: unset, or an empty file (deploy/gen-secrets.sh creates one per
// credential not given yet) → "" (its channel stays off); otherwise at least 8 bytes.
std::string secret(core::ServiceEnv& env, const char* name) {
  if (!env.config.is_set(name)) return {};
  const std::string path = env.config.get(name);
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) == 0 && !ec) return {};
  auto s = core::read_secret_file(name, path, 8);
  if (!s) throw core::ConfigError(s.error().message);  // exit 2, naming the file, never its bytes
  return *std::move(s);
}

std::string instance_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "router";
  return host;
}

router::RouterConfig read_config(core::ServiceEnv& env) {
  router::RouterConfig c;
  c.telegram_bot_token = secret(env, "TELEGRAM_BOT_TOKEN_FILE");
  c.telegram_webhook_secret = secret(env, "TELEGRAM_WEBHOOK_SECRET_FILE");
  c.whatsapp_app_secret = secret(env, "WHATSAPP_APP_SECRET_FILE");
  c.whatsapp_verify_token = secret(env, "WHATSAPP_VERIFY_TOKEN_FILE");
  c.whatsapp_access_token = secret(env, "WHATSAPP_ACCESS_TOKEN_FILE");
  c.slack_signing_secret = secret(env, "SLACK_SIGNING_SECRET_FILE");
  c.slack_bot_token = secret(env, "SLACK_BOT_TOKEN_FILE");
  c.agent_secret = secret(env, "AGENT_SERVICE_SECRET_FILE");
  c.enabled.clear();
  std::stringstream in{env.config.get("ROUTER_CHANNELS")};
  for (std::string name; std::getline(in, name, ',');) {
    if (!name.empty()) c.enabled.insert(name);
  }
  c.telegram_api = env.config.get("TELEGRAM_API_BASE_URL");
  c.whatsapp_api = env.config.get("WHATSAPP_API_BASE_URL");
  c.slack_api = env.config.get("SLACK_API_BASE_URL");
  c.agent_url = env.config.get("AGENT_URL");
  c.conversation = env.config.get("ROUTER_AGENT_CONVERSATION");
  parse_sites(env.config.get("ROUTER_WEB_SITES"), &c.web_sites);
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  core::ServiceSpec spec;
  spec.name = "router";
  spec.summary = "channel webhooks (Telegram, WhatsApp Cloud, Slack, web widget) → agent → replies";
  spec.default_port = 5005;
  spec.declare = [](core::EnvConfig& c) {
    db::declare_database(c, "sqlite:///data/router.db");
    c.add({"AGENT_URL", "base URL of the agent", "http://agent:5004", false, false, http_url});
    c.add({"AGENT_SERVICE_SECRET_FILE", "file holding the stage's agent service secret", ""});
    c.add({"ROUTER_AGENT_CONVERSATION",
           "JSON fields of every conversation opened with the agent besides its title "
           "(collections, tools, system_prompt, model)",
           R"({"tools":"all"})", false, false, conversation_fields});
    c.add({"TELEGRAM_BOT_TOKEN_FILE", "file holding the Telegram bot token", ""});
    c.add({"TELEGRAM_WEBHOOK_SECRET_FILE", "file holding the Telegram webhook secret_token", ""});
    c.add({"TELEGRAM_API_BASE_URL", "Telegram Bot API base", "https://api.telegram.org", false,
           false, http_url});
    c.add({"WHATSAPP_APP_SECRET_FILE", "file holding the Meta app secret (signatures)", ""});
    c.add({"WHATSAPP_VERIFY_TOKEN_FILE", "file holding the webhook verify token", ""});
    c.add({"WHATSAPP_ACCESS_TOKEN_FILE", "file holding the WhatsApp Cloud access token", ""});
    c.add({"WHATSAPP_API_BASE_URL", "WhatsApp Cloud API base", "https://graph.facebook.com/v19.0",
           false, false, http_url});
    c.add({"SLACK_SIGNING_SECRET_FILE", "file holding the Slack signing secret", ""});
    c.add({"SLACK_BOT_TOKEN_FILE", "file holding the Slack bot token", ""});
    c.add({"SLACK_API_BASE_URL", "Slack Web API base", "https://slack.com/api", false, false,
           http_url});
    c.add({"ROUTER_CHANNELS",
           "channels this stage turns on (comma-separated; each also needs "
           "its secrets)",
           "telegram,whatsapp,slack,web", false, false, channel_list});
    c.add({"ROUTER_WEB_SITES",
           "web widget sites: KEY=ORIGIN [ORIGIN...];KEY=... (unset: the web channel is off)", "",
           false, false, [](std::string_view v) { return parse_sites(v, nullptr); }});
    c.add({"ROUTER_WEB_VISITOR_PER_MIN", "web messages per visitor per minute (429 above)", "20",
           false, false, core::integer_in(1, 100'000)});
    c.add({"ROUTER_WEB_SITE_PER_MIN", "web messages and sessions per site per minute", "600", false,
           false, core::integer_in(1, 10'000'000)});
    c.add({"ROUTER_INBOX_WORKERS", "concurrent agent calls", "4", false, false,
           core::integer_in(1, 64)});
    c.add({"ROUTER_OUTBOX_WORKERS", "concurrent channel sends", "2", false, false,
           core::integer_in(1, 64)});
    c.add({"ROUTER_MAX_SEND_ATTEMPTS", "channel failures before a dead letter", "8", false, false,
           core::integer_in(1, 100)});
    c.add({"ROUTER_MAX_AGENT_ATTEMPTS", "agent failures before a dead letter", "6", false, false,
           core::integer_in(1, 100)});
    c.add({"ROUTER_RETRY_BASE_MS", "first retry delay (doubles per attempt)", "1000", false, false,
           core::integer_in(1, 3'600'000)});
    c.add({"ROUTER_RETRY_MAX_MS", "longest retry delay", "300000", false, false,
           core::integer_in(1, 86'400'000)});
    c.add({"ROUTER_SEND_RATE_PER_S", "sends per second per channel (0: unlimited)", "25", false,
           false, core::integer_in(0, 100'000)});
    c.add({"ROUTER_LEASE_S", "claim lease of an inbox/outbox item (reclaimed after a crash)", "120",
           false, false, core::integer_in(1, 86'400)});
    c.add({"ROUTER_RETENTION_DAYS", "answered messages are deleted after this many days", "30",
           false, false, core::integer_in(8, 3650)});
    c.add({"ROUTER_INSTANCE", "this instance's name in claims (default: the host name)", ""});
  };
  spec.wire = [](core::ServiceEnv& env) -> std::shared_ptr<void> {
    auto s = std::make_shared<RouterService>();
    s->config = read_config(env);
    s->database = db::open_service_database(env);
    std::string instance = env.config.get("ROUTER_INSTANCE");
    if (instance.empty()) instance = instance_name();
    s->store = std::make_unique<router::RouterStore>(*s->database, instance,
                                                     env.config.get_int("ROUTER_LEASE_S") * 1000);
    s->store->migrate();
    if (const auto n = s->store->reset_own_claims(); n > 0) {
      env.log.info("claims of a previous run released", {{"items", n}});
    }
    s->blocking = std::make_unique<boost::asio::thread_pool>(4);
    router::RelayOptions ro;
    ro.max_send_attempts = env.config.get_int("ROUTER_MAX_SEND_ATTEMPTS");
    ro.max_inbox_attempts = env.config.get_int("ROUTER_MAX_AGENT_ATTEMPTS");
    ro.retry_base = std::chrono::milliseconds(env.config.get_int("ROUTER_RETRY_BASE_MS"));
    ro.retry_max = std::chrono::milliseconds(env.config.get_int("ROUTER_RETRY_MAX_MS"));
    ro.send_rate_per_s = static_cast<double>(env.config.get_int("ROUTER_SEND_RATE_PER_S"));
    ro.retention = std::chrono::hours(24 * env.config.get_int("ROUTER_RETENTION_DAYS"));
    s->relay = std::make_unique<router::Relay>(*s->store, s->config, env.http, env.clock, env.log,
                                               env.metrics, *s->blocking, ro);
    s->api = std::make_unique<router::RouterApi>(*s->store, s->config, env.clock, env.metrics);
    s->api->add_routes(env.router);
    router::WebOptions wo;
    wo.visitor_per_min = static_cast<int>(env.config.get_int("ROUTER_WEB_VISITOR_PER_MIN"));
    wo.site_per_min = static_cast<int>(env.config.get_int("ROUTER_WEB_SITE_PER_MIN"));
    s->web = std::make_unique<router::WebApi>(*s->store, s->config, env.clock, wo);
    s->web->add_routes(env.router);
    for (router::Channel c : router::kChannels) {
      env.log.info("channel", {{"channel", router::channel_name(c)},
                               {"configured", s->config.configured(c)},
                               {"on", s->config.on(c)}});
    }
    router::Relay* relay = s->relay.get();
    const auto inbox = env.config.get_int("ROUTER_INBOX_WORKERS");
    for (std::int64_t i = 0; i < inbox; ++i) {
      env.hooks.add_worker("inbox-" + std::to_string(i),
                           [relay](const std::stop_token& t) { return relay->run_inbox(t); });
    }
    const auto outbox = env.config.get_int("ROUTER_OUTBOX_WORKERS");
    for (std::int64_t i = 0; i < outbox; ++i) {
      env.hooks.add_worker("outbox-" + std::to_string(i),
                           [relay](const std::stop_token& t) { return relay->run_outbox(t); });
    }
    env.hooks.add_worker("purge",
                         [relay](const std::stop_token& t) { return relay->run_purge(t); });
    return s;
  };
  return core::run_service(spec, argc, argv);
}
