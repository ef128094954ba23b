#include "fakes.hpp"

#include <boost/json.hpp>

namespace enkisys::cli::testing {
namespace json = boost::json;

bool contains(const Argv& argv, const std::string& word) {
  return std::find(argv.begin(), argv.end(), word) != argv.end();
}

Status MemoryStateStore::read(const std::string& name, std::optional<std::string>* content) {
  auto it = files.find(name);
  if (it == files.end()) {
    content->reset();
  } else {
    *content = it->second;
  }
  return {};
}

StateStore::Create MemoryStateStore::create_exclusive(const std::string& name,
                                                      const std::string& content, std::string*) {
  if (before_create) before_create();
  if (files.count(name)) return Create::kExists;
  files[name] = content;
  return Create::kCreated;
}

Status MemoryStateStore::replace(const std::string& name, const std::string& content) {
  files[name] = content;
  return {};
}

Status MemoryStateStore::append(const std::string& name, const std::string& line) {
  files[name] += line + "\n";
  return {};
}

Status MemoryStateStore::remove(const std::string& name) {
  files.erase(name);
  return {};
}

FakeHost::FakeHost() = default;

namespace {

std::string value_after(const Argv& a, const std::string& prefix) {
  for (const auto& w : a) {
    if (w.rfind(prefix, 0) == 0) return w.substr(prefix.size());
  }
  return {};
}

std::string arg_after(const Argv& a, const std::string& flag) {
  for (std::size_t i = 0; i + 1 < a.size(); ++i) {
    if (a[i] == flag) return a[i + 1];
  }
  return {};
}

}  // namespace

std::string FakeHost::project_version_serving() const {
  auto it = running.find("enkisys-dev1-" + color);
  return it == running.end() ? std::string() : it->second;
}

Argv unwrap_ssh(const Argv& argv) {
  if (argv.empty() || argv[0] != "ssh") return argv;
  auto dd = std::find(argv.begin(), argv.end(), "--");
  Argv out;
  if (dd == argv.end() || dd + 1 == argv.end()) return out;
  for (auto it = dd + 2; it != argv.end(); ++it) {  // undo shell_quote
    std::string w = it->substr(1, it->size() - 2), plain;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (w.compare(i, 4, "'\\''") == 0) {
        plain += '\'';
        i += 3;
      } else {
        plain += w[i];
      }
    }
    out.push_back(plain);
  }
  return out;
}

CommandResult FakeHost::run(const Command& command) {
  commands.push_back(command.argv);
  const Argv a = unwrap_ssh(command.argv);
  if (a.empty()) return {127, false, "", "empty"};
  if (on_command) {
    if (auto r = on_command(a, command.input)) return *r;
  }
  if (a[0] == "env") {  // compose
    const auto version = value_after(a, "ENKISYS_TAG=");
    const auto project = arg_after(a, "-p");
    if (contains(a, "config")) {
      return {
          0, false,
          "services:\n  tools:\n    image: enkisys/tools:" + version +
              "\nnetworks:\n  ingress:\n    external: true\n    name: enkisys-dev1-ingress\n"
              "volumes:\n  tools-data:\n    external: true\n    name: enkisys-dev1-tools-data\n",
          ""};
    }
    if (contains(a, "up")) {
      ++up_count;
      running[project] = version;
      return {};
    }
    if (contains(a, "down")) {
      running.erase(project);
      return {};
    }
    return {1, false, "", "unexpected compose call"};
  }
  if (a[0] == "cat" && a.back().size() > 9 && a.back().ends_with("/stage.env")) {
    return {0, false, stage_env, ""};
  }
  if (a[0] == "cat") return {0, false, "admin-token-0123456789\n", ""};
  if (a[0] != "docker" || a.size() < 2) return {127, false, "", a[0] + ": not found"};
  if (a[1] == "ps") {
    auto project = value_after(a, "label=com.docker.compose.project=");
    return {0, false, running.count(project) ? "id-" + project + "\n" : "", ""};
  }
  if (a[1] == "inspect") {
    if (on_inspect) on_inspect();
    std::string out;
    for (std::size_t i = 4; i < a.size(); ++i) {
      auto project = a[i].substr(3);
      auto version = running[project];
      std::string status = exiting_versions.count(version) ? "restarting" : "running";
      std::string health = unhealthy_versions.count(version)  ? "unhealthy"
                           : starting_versions.count(version) ? "starting"
                                                              : "healthy";
      out += a[i] + "|/" + project + "-tools-1|" + status + "|" + health + "\n";
    }
    return {0, false, out, ""};
  }
  if (a[1] == "logs") return {0, false, "fatal: DATABASE_URL is invalid\n", ""};
  if (a[1] == "network" || a[1] == "volume") {
    auto& set = a[1] == "network" ? networks : volumes;
    if (a[2] == "inspect") return {set.count(a.back()) ? 0 : 1, false, "", "no such"};
    set.insert(a.back());
    return {};
  }
  if (a[1] == "image" && a[2] == "inspect") {
    const auto& ref = a.back();
    if (!images.count(ref)) return {1, false, "", "No such image"};
    const bool digests = a[4].find('|') != std::string::npos;
    return {0, false, "sha256:" + ref.substr(ref.find(':') + 1) + (digests ? "|\n" : "\n"), ""};
  }
  if (a[1] == "image" && a[2] == "ls") {
    std::string out;
    for (const auto& i : images) out += i + "\n";
    return {0, false, out, ""};
  }
  if (a[1] == "image" && a[2] == "rm") {
    for (std::size_t i = 3; i < a.size(); ++i) {
      removed_images.push_back(a[i]);
      images.erase(a[i]);
    }
    return {};
  }
  return {1, false, "", "unexpected docker call"};
}

CommandResult FakeHost::pipe(const Command& producer, const Command& consumer) {
  commands.push_back(producer.argv);
  commands.push_back(consumer.argv);
  if (producer.argv.size() == 3 && producer.argv[1] == "save") images.insert(producer.argv[2]);
  return {};
}

std::unique_ptr<BackgroundProcess> FakeHost::start(const Argv& argv) {
  commands.push_back(argv);
  return nullptr;
}

HttpResponse FakeHost::send(const HttpRequest& r) {
  auto path = r.url.substr(r.url.find('/', 8));
  requests.push_back(r.method + " " + path + (r.body.empty() ? "" : " " + r.body));
  bool authed = false;
  for (const auto& [k, v] : r.headers)
    authed |= k == "Authorization" && v == "Bearer admin-token-0123456789";
  if (path == "/admin/stages" && r.method == "GET") {
    if (!authed) return {401, "", ""};
    json::object vars{{"color", color}, {"other", "kept"}};
    return {200,
            json::serialize(json::object{
                {"stages", json::array{json::object{{"name", "dev1"}, {"variables", vars}}}}}),
            ""};
  }
  if (path == "/admin/stages/dev1/variables" && r.method == "PUT") {
    if (!authed) return {401, "", ""};
    auto v = json::parse(r.body);
    std::string next(v.at("variables").at("color").as_string());
    if (fail_switch_to_new && next != color) {
      fail_switch_to_new = false;
      return {500, "{\"error\":\"boom\"}", ""};
    }
    color = next;
    return {200, "{}", ""};
  }
  if (path == "/dev1/health") {
    auto version = project_version_serving();
    if (version.empty() || unhealthy_versions.count(version) ||
        gateway_unhealthy_versions.count(version)) {
      return {503, "{}", ""};
    }
    return {200, "{\"status\":\"ok\",\"version\":\"" + version + "\"}", ""};
  }
  return {404, "", ""};
}

}  // namespace enkisys::cli::testing
