// Announcing a deploy or rollback: a Slack-compatible webhook message and the GitHub Actions
// job summary.
//
// Contract:
//  * slack_payload() builds {"text": ..., "blocks": [...], "attachments": [{"color", "fields"}]}
//    with stage, version, result, duration and the run link (when known). Pure.
//  * notify() never fails the caller: a webhook error (no answer, non-2xx) or an unwritable
//    summary file is returned as a warning string list for the caller to print.
//  * The webhook URL is a secret (it embeds a token): it is never printed.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <string>
#include <vector>

#include "enkisys/cli/env.hpp"

namespace enkisys::cli {

struct Notice {
  std::string stage;
  std::string version;
  std::string action;  // deploy | rollback
  std::string result;  // succeeded | rolled_back | failed
  std::int64_t duration_ms = 0;
  std::string message;
  std::string actor;
  std::string run_url;
  std::string rolled_back_to;
};

// $GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID, or "" when any is unset.
std::string run_url_from(const std::function<std::string(const char*)>& getenv);

boost::json::object slack_payload(const Notice& n);
std::string summary_markdown(const Notice& n);

// Posts to webhook_url (if non-empty) and appends to summary_path (if non-empty).
std::vector<std::string> notify(HttpClient& http, const std::string& webhook_url,
                                const std::string& summary_path, const Notice& n);

}  // namespace enkisys::cli
