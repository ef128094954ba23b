// The router's configuration as main.cpp reads it from the environment: channel secrets (from
// files), which channels this stage turns on, the channel API and agent base URLs.
//
// Contract: a plain value, read-only after wiring (thread safe to share). A channel is
// configured when all its secrets are set, and on when it is also listed in ROUTER_CHANNELS.
// Secrets never leave this struct except to verify or send (never logged, never listed).
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "enkisys/router/channel.hpp"

namespace enkisys::router {

struct RouterConfig {
  std::string telegram_bot_token;
  std::string telegram_webhook_secret;
  std::string whatsapp_app_secret;
  std::string whatsapp_verify_token;
  std::string whatsapp_access_token;
  std::string slack_signing_secret;
  std::string slack_bot_token;
  std::set<std::string, std::less<>> enabled{"telegram", "whatsapp", "slack", "web"};
  // The web widget's sites: public key → the origins allowed to embed it (scheme://host[:port]).
  std::map<std::string, std::vector<std::string>, std::less<>> web_sites;

  std::string telegram_api = "https://api.telegram.org";
  std::string whatsapp_api = "https://graph.facebook.com/v19.0";
  std::string slack_api = "https://slack.com/api";
  std::string agent_url = "http://agent:5004";
  std::string agent_secret;  // X-Service-Secret; empty: sent without one
  // The fields of every agent conversation the router opens, besides its title
  // (ROUTER_AGENT_CONVERSATION): a JSON object of the agent's "collections", "tools",
  // "system_prompt" and "model".
  std::string conversation = R"({"tools":"all"})";

  bool configured(Channel c) const {
    switch (c) {
      case Channel::kTelegram:
        return !telegram_bot_token.empty() && !telegram_webhook_secret.empty();
      case Channel::kWhatsapp:
        return !whatsapp_app_secret.empty() && !whatsapp_verify_token.empty() &&
               !whatsapp_access_token.empty();
      case Channel::kSlack:
        return !slack_signing_secret.empty() && !slack_bot_token.empty();
      case Channel::kWeb:
        return !web_sites.empty();
    }
    return false;
  }
  bool enabled_in_stage(Channel c) const { return enabled.contains(channel_name(c)); }
  bool on(Channel c) const { return configured(c) && enabled_in_stage(c); }
};

}  // namespace enkisys::router
