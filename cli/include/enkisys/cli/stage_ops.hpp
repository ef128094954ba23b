// Operations on one stage of a host: its two compose projects (enkisys-S-blue/-green), their
// containers' health and logs, external networks/volumes, image IDs, and the gateway's admin
// API (stage variables) and public stage health.
//
// Contract:
//  * Every command is an argv run through the Target; compose runs as
//    `env STAGE=S COLOR=C ENKISYS_TAG=V <compose> -p enkisys-S-C --project-directory DIR
//     --env-file DIR/deploy/S/stage.env -f DIR/compose.yaml -f DIR/deploy/compose.stage.yaml
//     -f DIR/deploy/compose.S.yaml [-f DIR/deploy/postgres/compose.services.yaml] ...` (the
//     environment wins over the env file); the last file only once load_database() found
//     DATABASE=postgres in the stage's stage.env. The stage's PostgreSQL is the project
//     enkisys-S-postgres (`database_compose`, DIR/deploy/postgres/compose.yaml), shared by
//     both colors.
//  * Containers are found by the compose project label, so v1 and v2 behave the same.
//  * The admin token is read from a file on the target and kept in memory only; it is never
//    printed. Admin/health calls go to admin_url/gateway_url (a tunnel when remote).
//  * Borrows Target and HttpClient. Not thread-safe. Errors are values.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "enkisys/cli/compose_model.hpp"
#include "enkisys/cli/env.hpp"
#include "enkisys/cli/state.hpp"
#include "enkisys/cli/target.hpp"

namespace enkisys::cli {

struct StageSettings {
  std::string stage;
  std::string project_dir;  // absolute, on the target
  std::string admin_url = "http://127.0.0.1:9901";
  std::string gateway_url = "http://127.0.0.1:8080";
  std::string admin_token_file;  // on the target
  ComposeFlavour compose = ComposeFlavour::kV1;
  std::string database = "sqlite";  // DATABASE= of stage.env: "sqlite" or "postgres"
};

struct ContainerState {
  std::string id;
  std::string name;
  std::string status;  // running, exited, restarting, ...
  std::string health;  // healthy, unhealthy, starting, none
  bool ready() const { return status == "running" && (health == "healthy" || health == "none"); }
  bool broken() const {
    return health == "unhealthy" || status == "exited" || status == "dead" ||
           status == "restarting";
  }
};

class StageOps {
 public:
  StageOps(Target& target, HttpClient& http, StageSettings settings)
      : target_(&target), http_(&http), s_(std::move(settings)) {}

  const StageSettings& settings() const { return s_; }
  Target& target() { return *target_; }
  std::string project(const std::string& color) const;
  Argv compose(const std::string& color, const std::string& version, const Argv& args) const;
  CommandResult run_compose(const std::string& color, const std::string& version, const Argv& args,
                            std::chrono::milliseconds timeout);
  // Reads DATABASE= from DIR/deploy/S/stage.env on the target into settings().database
  // (absent: sqlite); an unknown value is an error.
  Status load_database();
  // Compose of the stage's PostgreSQL project (enkisys-S-postgres).
  Argv database_compose(const Argv& args) const;
  // DATABASE=postgres: its network and volume exist and its project is up (`up -d`); the
  // caller waits for health with containers("postgres"). No-op for sqlite.
  Status start_database();
  std::optional<ComposeModel> config(const std::string& color, const std::string& version,
                                     std::string* error);
  // The project's containers (all states); nullopt on a docker error.
  std::optional<std::vector<ContainerState>> containers(const std::string& color,
                                                        std::string* error);
  std::string logs(const std::string& container, int tail);
  Status ensure_network(const std::string& name);
  Status ensure_volume(const std::string& name);
  // Image ID on the target ("" if absent); repo digests into *digests when given.
  std::string image_id(const std::string& ref, std::vector<std::string>* digests = nullptr);
  Status remove_images(const std::vector<std::string>& refs);

  Status load_admin_token();
  // The stage's variables as the gateway has them.
  std::optional<boost::json::object> variables(std::string* error);
  Status put_variables(const boost::json::object& vars);
  HttpResponse stage_health();

 private:
  Target* target_;
  HttpClient* http_;
  StageSettings s_;
  std::string token_;
};

}  // namespace enkisys::cli
