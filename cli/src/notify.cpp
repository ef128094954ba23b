#include "enkisys/cli/notify.hpp"

#include <boost/json.hpp>
#include <fstream>

namespace enkisys::cli {
namespace json = boost::json;
namespace {

std::string seconds(std::int64_t ms) {
  return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + " s";
}

std::string headline(const Notice& n) {
  std::string icon = n.result == "succeeded" ? ":white_check_mark:" : ":x:";
  std::string verb = n.action == "rollback" ? "Rollback of" : "Deploy of";
  std::string text = icon + " " + verb + " `" + n.version + "` to *" + n.stage + "* " + n.result;
  if (n.result == "rolled_back" && !n.rolled_back_to.empty()) {
    text += " (serving `" + n.rolled_back_to + "` again)";
  }
  return text + " in " + seconds(n.duration_ms);
}

}  // namespace

std::string run_url_from(const std::function<std::string(const char*)>& getenv) {
  auto server = getenv("GITHUB_SERVER_URL");
  auto repo = getenv("GITHUB_REPOSITORY");
  auto run = getenv("GITHUB_RUN_ID");
  if (server.empty() || repo.empty() || run.empty()) return {};
  return server + "/" + repo + "/actions/runs/" + run;
}

json::object slack_payload(const Notice& n) {
  json::array fields{
      json::object{{"type", "mrkdwn"}, {"text", "*Stage*\n" + n.stage}},
      json::object{{"type", "mrkdwn"}, {"text", "*Version*\n" + n.version}},
      json::object{{"type", "mrkdwn"}, {"text", "*Result*\n" + n.result}},
      json::object{{"type", "mrkdwn"}, {"text", "*Duration*\n" + seconds(n.duration_ms)}},
  };
  json::array blocks{
      json::object{{"type", "section"},
                   {"text", json::object{{"type", "mrkdwn"}, {"text", headline(n)}}}},
      json::object{{"type", "section"}, {"fields", fields}},
  };
  std::string context = n.actor.empty() ? "" : "by " + n.actor;
  if (!n.run_url.empty()) context += (context.empty() ? "" : " · ") + ("<" + n.run_url + "|run>");
  if (!n.message.empty()) context += (context.empty() ? "" : " · ") + n.message;
  if (!context.empty()) {
    blocks.push_back(json::object{
        {"type", "context"},
        {"elements", json::array{json::object{{"type", "mrkdwn"}, {"text", context}}}}});
  }
  json::array att_fields{
      json::object{{"title", "stage"}, {"value", n.stage}, {"short", true}},
      json::object{{"title", "version"}, {"value", n.version}, {"short", true}},
      json::object{{"title", "result"}, {"value", n.result}, {"short", true}},
      json::object{{"title", "duration"}, {"value", seconds(n.duration_ms)}, {"short", true}},
  };
  json::object attachment{{"color", n.result == "succeeded" ? "good" : "danger"},
                          {"fields", att_fields}};
  if (!n.run_url.empty()) {
    attachment["title"] = "run";
    attachment["title_link"] = n.run_url;
  }
  json::object out{{"text", headline(n)},
                   {"blocks", blocks},
                   {"attachments", json::array{attachment}},
                   {"stage", n.stage},
                   {"version", n.version},
                   {"action", n.action},
                   {"result", n.result},
                   {"duration_ms", n.duration_ms}};
  if (!n.run_url.empty()) out["run_url"] = n.run_url;
  return out;
}

std::string summary_markdown(const Notice& n) {
  std::string md = "### " + headline(n) +
                   "\n\n| stage | version | action | result | duration |\n"
                   "|---|---|---|---|---|\n| " +
                   n.stage + " | `" + n.version + "` | " + n.action + " | " + n.result + " | " +
                   seconds(n.duration_ms) + " |\n";
  if (!n.message.empty()) md += "\n" + n.message + "\n";
  if (!n.run_url.empty()) md += "\n[run](" + n.run_url + ")\n";
  return md + "\n";
}

std::vector<std::string> notify(HttpClient& http, const std::string& webhook_url,
                                const std::string& summary_path, const Notice& n) {
  std::vector<std::string> warnings;
  if (!webhook_url.empty()) {
    HttpRequest req;
    req.method = "POST";
    req.url = webhook_url;
    req.headers = {{"Content-Type", "application/json"}};
    req.body = json::serialize(slack_payload(n));
    req.timeout = std::chrono::seconds(10);
    auto res = http.send(req);
    if (res.status < 200 || res.status >= 300) {
      warnings.push_back("notification webhook failed: " +
                         (res.status ? "HTTP " + std::to_string(res.status) : res.error));
    }
  }
  if (!summary_path.empty()) {
    std::ofstream f(summary_path, std::ios::app);
    f << summary_markdown(n);
    if (!f) warnings.push_back("cannot write the job summary to " + summary_path);
  }
  return warnings;
}

}  // namespace enkisys::cli
