#include "enkisys/cli/stage_ops.hpp"

#include <boost/json.hpp>
#include <sstream>

namespace enkisys::cli {
namespace json = boost::json;
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Status failed(const std::string& what, const CommandResult& r) {
  return Status::error(what + " failed (exit " + std::to_string(r.exit_code) + "): " + trim(r.err));
}

}  // namespace

std::string StageOps::project(const std::string& color) const {
  return "enkisys-" + s_.stage + "-" + color;
}

Argv StageOps::compose(const std::string& color, const std::string& version,
                       const Argv& args) const {
  Argv a = {"env", "STAGE=" + s_.stage, "COLOR=" + color, "ENKISYS_TAG=" + version};
  for (auto& w : compose_prefix(s_.compose)) a.push_back(w);
  const auto& d = s_.project_dir;
  a.insert(a.end(),
           {"-p", project(color), "--project-directory", d, "--env-file",
            d + "/deploy/" + s_.stage + "/stage.env", "-f", d + "/compose.yaml", "-f",
            d + "/deploy/compose.stage.yaml", "-f", d + "/deploy/compose." + s_.stage + ".yaml"});
  if (s_.database == "postgres") {
    a.insert(a.end(), {"-f", d + "/deploy/postgres/compose.services.yaml"});
  }
  a.insert(a.end(), args.begin(), args.end());
  return a;
}

Status StageOps::load_database() {
  const auto path = s_.project_dir + "/deploy/" + s_.stage + "/stage.env";
  auto r = target_->run({"cat", "--", path}, {}, std::chrono::seconds(30));
  if (!r.ok()) return failed("reading " + path, r);
  std::string value = "sqlite";
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("DATABASE=", 0) == 0) value = trim(line.substr(9));
  }
  if (value != "sqlite" && value != "postgres") {
    return Status::error(path + ": DATABASE must be postgres or sqlite, not '" + value + "'");
  }
  s_.database = value;
  return {};
}

Argv StageOps::database_compose(const Argv& args) const {
  Argv a = {"env", "STAGE=" + s_.stage};
  for (auto& w : compose_prefix(s_.compose)) a.push_back(w);
  const auto& d = s_.project_dir;
  a.insert(a.end(),
           {"-p", project("postgres"), "--project-directory", d, "--env-file",
            d + "/deploy/" + s_.stage + "/stage.env", "-f", d + "/deploy/postgres/compose.yaml"});
  a.insert(a.end(), args.begin(), args.end());
  return a;
}

Status StageOps::start_database() {
  if (s_.database != "postgres") return {};
  if (auto s = ensure_network("enkisys-" + s_.stage + "-db"); !s.ok) return s;
  if (auto s = ensure_volume("enkisys-" + s_.stage + "-postgres-data"); !s.ok) return s;
  auto r = target_->run(database_compose({"up", "-d", "--no-build"}), {}, std::chrono::minutes(5));
  return r.ok() ? Status{} : failed("starting the stage's PostgreSQL (compose up)", r);
}

CommandResult StageOps::run_compose(const std::string& color, const std::string& version,
                                    const Argv& args, std::chrono::milliseconds timeout) {
  return target_->run(compose(color, version, args), {}, timeout);
}

std::optional<ComposeModel> StageOps::config(const std::string& color, const std::string& version,
                                             std::string* error) {
  auto r = run_compose(color, version, {"config"}, std::chrono::seconds(60));
  if (!r.ok()) {
    *error = failed("compose config", r).message;
    return std::nullopt;
  }
  return parse_compose_config(r.out, error);
}

std::optional<std::vector<ContainerState>> StageOps::containers(const std::string& color,
                                                                std::string* error) {
  auto ps = target_->run({"docker", "ps", "-a", "-q", "--no-trunc", "--filter",
                          "label=com.docker.compose.project=" + project(color)},
                         {}, std::chrono::seconds(30));
  if (!ps.ok()) {
    *error = failed("docker ps", ps).message;
    return std::nullopt;
  }
  std::vector<std::string> ids;
  std::istringstream in(ps.out);
  for (std::string id; std::getline(in, id);) {
    if (!trim(id).empty()) ids.push_back(trim(id));
  }
  std::vector<ContainerState> out;
  if (ids.empty()) return out;
  Argv a = {"docker", "inspect", "--format",
            "{{.Id}}|{{.Name}}|{{.State.Status}}|"
            "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}"};
  a.insert(a.end(), ids.begin(), ids.end());
  auto r = target_->run(a, {}, std::chrono::seconds(30));
  if (!r.ok()) {
    *error = failed("docker inspect", r).message;
    return std::nullopt;
  }
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> parts;
    std::istringstream fields(line);
    for (std::string f; std::getline(fields, f, '|');) parts.push_back(f);
    if (parts.size() != 4) continue;
    ContainerState c{parts[0], parts[1], parts[2], trim(parts[3])};
    if (!c.name.empty() && c.name.front() == '/') c.name.erase(0, 1);
    out.push_back(std::move(c));
  }
  return out;
}

std::string StageOps::logs(const std::string& container, int tail) {
  auto r = target_->run({"docker", "logs", "--tail", std::to_string(tail), container}, {},
                        std::chrono::seconds(30));
  return r.out + r.err;
}

Status StageOps::ensure_network(const std::string& name) {
  if (target_->run({"docker", "network", "inspect", name}, {}, std::chrono::seconds(30)).ok()) {
    return {};
  }
  auto r = target_->run({"docker", "network", "create", "--internal", name}, {},
                        std::chrono::seconds(30));
  // A concurrent creator is fine.
  if (!r.ok() && r.err.find("already exists") == std::string::npos) {
    return failed("docker network create " + name, r);
  }
  return {};
}

Status StageOps::ensure_volume(const std::string& name) {
  if (target_->run({"docker", "volume", "inspect", name}, {}, std::chrono::seconds(30)).ok()) {
    return {};
  }
  auto r = target_->run({"docker", "volume", "create", name}, {}, std::chrono::seconds(30));
  return r.ok() ? Status{} : failed("docker volume create " + name, r);
}

std::string StageOps::image_id(const std::string& ref, std::vector<std::string>* digests) {
  auto r = target_->run({"docker", "image", "inspect", "--format",
                         "{{.Id}}|{{range .RepoDigests}}{{.}} {{end}}", ref},
                        {}, std::chrono::seconds(30));
  if (!r.ok()) return {};
  auto line = trim(r.out);
  auto bar = line.find('|');
  if (digests && bar != std::string::npos) {
    std::istringstream in(line.substr(bar + 1));
    for (std::string d; in >> d;) digests->push_back(d);
  }
  return line.substr(0, bar);
}

Status StageOps::remove_images(const std::vector<std::string>& refs) {
  if (refs.empty()) return {};
  Argv a = {"docker", "image", "rm"};
  a.insert(a.end(), refs.begin(), refs.end());
  auto r = target_->run(a, {}, std::chrono::minutes(2));
  return r.ok() ? Status{} : failed("docker image rm", r);
}

Status StageOps::load_admin_token() {
  if (s_.admin_token_file.empty()) return Status::error("no gateway admin token file configured");
  auto r = target_->run({"cat", "--", s_.admin_token_file}, {}, std::chrono::seconds(30));
  if (!r.ok()) return failed("reading the admin token file " + s_.admin_token_file, r);
  token_ = trim(r.out);
  if (token_.empty()) return Status::error("admin token file " + s_.admin_token_file + " is empty");
  return {};
}

std::optional<json::object> StageOps::variables(std::string* error) {
  HttpRequest req{"GET",
                  s_.admin_url + "/admin/stages",
                  {{"Authorization", "Bearer " + token_}},
                  "",
                  std::chrono::seconds(5)};
  auto res = http_->send(req);
  if (res.status != 200) {
    *error = "gateway admin GET /admin/stages: " +
             (res.status ? "HTTP " + std::to_string(res.status) : res.error);
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto v = json::parse(res.body, ec);
  const json::value* stages =
      (!ec && v.is_object()) ? v.get_object().if_contains("stages") : nullptr;
  if (stages && stages->is_array()) {
    for (const auto& s : stages->get_array()) {
      if (!s.is_object()) continue;
      auto* name = s.get_object().if_contains("name");
      if (!name || !name->is_string() || name->get_string() != s_.stage) continue;
      auto* vars = s.get_object().if_contains("variables");
      if (vars && vars->is_object()) return vars->get_object();
      return json::object{};
    }
  }
  *error = "the gateway has no stage '" + s_.stage + "'";
  return std::nullopt;
}

Status StageOps::put_variables(const json::object& vars) {
  HttpRequest req{"PUT",
                  s_.admin_url + "/admin/stages/" + s_.stage + "/variables",
                  {{"Authorization", "Bearer " + token_}, {"Content-Type", "application/json"}},
                  json::serialize(json::object{{"variables", vars}}),
                  std::chrono::seconds(5)};
  auto res = http_->send(req);
  if (res.status == 200 || res.status == 204) return {};
  return Status::error(
      "gateway admin PUT variables: " +
      (res.status ? "HTTP " + std::to_string(res.status) + " " + res.body : res.error));
}

HttpResponse StageOps::stage_health() {
  return http_->send(
      {"GET", s_.gateway_url + "/" + s_.stage + "/health", {}, "", std::chrono::seconds(5)});
}

}  // namespace enkisys::cli
