// enkisys — blue/green deploys of a stage, locally or on a host over ssh. See cli/README.md.
// Wiring only: CLI11 options → cli::SessionOptions / DeployRequest → the commands of
// enkisys/cli/commands.hpp with the real runner, HTTP client and clock.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "enkisys/cli/aws_export.hpp"
#include "enkisys/cli/commands.hpp"

namespace cli = enkisys::cli;

namespace {

std::string env_or(const char* name, std::string fallback = {}) {
  const char* v = std::getenv(name);
  if (v && *v) return std::string(v);
  return fallback;
}

std::string hostname() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"enkisys — zero-downtime blue/green deploys of an Enkisys stage"};
  app.require_subcommand(1);
  cli::SessionOptions g;
  g.state_dir = env_or("ENKISYS_STATE_DIR", "/var/lib/enkisys");
  g.project_dir = env_or("ENKISYS_PROJECT_DIR");
  g.token_file = env_or("ENKISYS_ADMIN_TOKEN_FILE");
  g.identity = env_or("ENKISYS_SSH_KEY");
  g.known_hosts = env_or("ENKISYS_SSH_KNOWN_HOSTS");
  app.add_option("--host", g.host, "ssh://user@host[:port] (default: the local engine)");
  app.add_option("--state-dir", g.state_dir, "state directory on the host ($ENKISYS_STATE_DIR)");
  app.add_option("--project-dir", g.project_dir,
                 "directory with compose.yaml and deploy/ on the host ($ENKISYS_PROJECT_DIR; "
                 "default: . locally, /opt/enkisys remotely)");
  app.add_option("--admin-token-file", g.token_file,
                 "gateway admin token file on the host ($ENKISYS_ADMIN_TOKEN_FILE; default "
                 "PROJECT/deploy/edge/secrets/gateway_admin_token)");
  app.add_option("--identity", g.identity, "ssh private key ($ENKISYS_SSH_KEY)");
  app.add_option("--known-hosts", g.known_hosts, "ssh known_hosts file ($ENKISYS_SSH_KNOWN_HOSTS)");
  app.add_option("--admin-port", g.admin_port, "gateway admin port on the host")
      ->check(CLI::Range(1, 65535));
  app.add_option("--gateway-port", g.gateway_port, "gateway public port on the host")
      ->check(CLI::Range(1, 65535));

  cli::DeployRequest d;
  auto add_deploy_flags = [&](CLI::App* c) {
    c->add_option("--stage", d.stage, "stage")->required();
    c->add_option("--health-timeout", d.health_timeout, "seconds to wait for health")
        ->check(CLI::Range(1, 3600));
    c->add_option("--confirm-timeout", d.confirm_timeout,
                  "seconds for /{stage}/health via the gateway")
        ->check(CLI::Range(1, 600));
    c->add_option("--drain", d.drain, "seconds before the old color stops")
        ->check(CLI::Range(0, 600));
    c->add_option("--lock-ttl", d.lock_ttl, "lease TTL in seconds")->check(CLI::Range(5, 86400));
    c->add_option("--wait", d.wait, "seconds to wait for a held lock (0: fail at once)")
        ->check(CLI::Range(0, 86400));
    c->add_option("--keep", d.keep, "releases whose images are kept")->check(CLI::Range(1, 100));
    c->add_option("--target", d.target, "compose (blue/green on one host) or swarm (a stack)")
        ->check(CLI::IsMember({"compose", "swarm"}));
    c->add_option("--publish", d.publish,
                  "swarm: the gateway's published port when first "
                  "deployed (default: swarm picks one)")
        ->check(CLI::Range(0, 65535));
    c->add_option("--health-path", d.health_path,
                  "swarm: the path checked on the stack's gateway after /health "
                  "(default /<stage>/health)");
    c->add_option("--endpoint-mode", d.endpoint_mode,
                  "swarm: vip (default) or dnsrr (engines without IPVS; no published port)")
        ->check(CLI::IsMember({"vip", "dnsrr"}));
    c->add_option("--gateway-url", d.gateway_url,
                  "swarm: the stack's gateway as the health gate reaches it (default: "
                  "127.0.0.1:<published port>)");
  };
  auto* deploy = app.add_subcommand("deploy", "deploy a version to a stage (blue/green)");
  add_deploy_flags(deploy);
  deploy->add_option("--version", d.version, "image tag to deploy")->required();
  deploy->add_flag("!--no-backup", d.backup,
                   "skip the backup of the stage's databases taken before the deploy");
  auto* rollback = app.add_subcommand("rollback", "go back to an earlier good release");
  add_deploy_flags(rollback);
  rollback->add_option("--to", d.version, "version (default: the previous good release)");

  std::string stage;
  bool as_json = false;
  auto* releases = app.add_subcommand("releases", "print a stage's release ledger");
  releases->add_option("--stage", stage, "stage")->required();
  releases->add_flag("--json", as_json, "one JSON object per line");
  auto* status = app.add_subcommand("status", "colors, containers, gateway and lock per stage");
  status->add_option("--stage", stage, "one stage (default: all)");
  std::string status_target = "compose";
  status->add_option("--target", status_target, "compose (colors) or swarm (the stack)")
      ->check(CLI::IsMember({"compose", "swarm"}));
  auto* lock = app.add_subcommand("lock", "inspect or break a stage's deploy lease");
  lock->require_subcommand(1);
  auto* show = lock->add_subcommand("show", "print the lease");
  show->add_option("--stage", stage, "stage")->required();
  auto* release = lock->add_subcommand("release", "remove the lease (whoever holds it)");
  release->add_option("--stage", stage, "stage")->required();

  cli::aws::ExportOptions aws_opts;
  std::string aws_config, aws_out;
  auto* aws = app.add_subcommand("aws", "AWS API Gateway definitions from the gateway config");
  aws->require_subcommand(1);
  auto* aws_export = aws->add_subcommand("export", "write openapi.yaml, stages, deploy.sh");
  aws_export->add_option("--config", aws_config, "gateway configuration (YAML)")->required();
  aws_export->add_option("--out", aws_out, "output directory")->required();
  aws_export->add_option("--host-url", aws_opts.host_url, "the edge gateway, scheme://host[:port]");
  aws_export->add_option("--rest-api-id", aws_opts.rest_api_id, "the existing REST API's id");
  aws_export->add_option("--ssh-cidr", aws_opts.ssh_cidr, "network allowed to SSH (22)");

  cli::BackupRequest b;
  auto* backup = app.add_subcommand("backup", "back up every database of a stage on its host");
  backup->add_option("--stage", b.stage, "stage")->required();
  backup->add_option("--keep", b.keep, "backups kept")->check(CLI::Range(1, 1000));
  backup->add_option("--max-age-days", b.max_age_days, "remove older backups (0: never)")
      ->check(CLI::Range(0, 36500));
  backup->add_option("--copy-to", b.copy_to, "also copy it to this folder on the host");
  backup->add_option("--image", b.tools_image,
                     "image with pg_dump and sqlite3 ($ENKISYS_BACKUP_IMAGE, enkisys/postgres:15)");
  auto* restore = app.add_subcommand("restore", "restore a stage's databases from a backup");
  restore->add_option("--stage", b.stage, "stage")->required();
  restore->add_option("--from", b.from, "backup id (enkisys backups)")->required();
  restore->add_option("--health-timeout", b.health_timeout, "seconds to wait for health")
      ->check(CLI::Range(1, 3600));
  restore->add_option("--image", b.tools_image, "image with pg_restore and sqlite3");
  auto* backups = app.add_subcommand("backups", "list a stage's backups");
  backups->add_option("--stage", b.stage, "stage")->required();
  backups->add_flag("--json", b.as_json, "one JSON manifest per line");

  CLI11_PARSE(app, argc, argv);
  if (*aws_export) {
    return cli::aws::run_aws_export(aws_config, aws_out, aws_opts, std::cout, std::cerr);
  }
  if (auto e = cli::check_session_options(g)) {
    std::cerr << "enkisys: " << *e << "\n";
    return cli::kInvalidInput;
  }

  cli::ProcessRunner runner;
  cli::CoreHttpClient http;
  cli::SystemClock clock;
  cli::CommandEnv env;
  env.runner = &runner;
  env.http = &http;
  env.clock = &clock;
  env.out = &std::cout;
  env.err = &std::cerr;
  env.getenv = [](const char* name) { return env_or(name); };
  env.state = [](cli::Target& target, const std::string& dir) -> std::unique_ptr<cli::StateStore> {
    return std::make_unique<cli::TargetStateStore>(target, dir);
  };
  env.hostname = hostname();
  env.pid = ::getpid();

  if (*deploy) return cli::run_deploy(env, g, d, "deploy");
  if (*rollback) return cli::run_deploy(env, g, d, "rollback");
  if (*releases) return cli::run_releases(env, g, stage, as_json);
  if (*status) return cli::run_status(env, g, stage, status_target);
  if (*backup) return cli::run_backup(env, g, b);
  if (*restore) return cli::run_restore(env, g, b);
  if (*backups) return cli::run_backups(env, g, b);
  if (*show) return cli::run_lock(env, g, "show", stage);
  if (*release) return cli::run_lock(env, g, "release", stage);
  return cli::kInvalidInput;
}
