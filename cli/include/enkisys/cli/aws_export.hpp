// `enkisys aws export`: an AWS API Gateway (REST API) definition generated from the gateway's
// own configuration (services/gateway config.hpp: one parser, one source of truth).
//
// What is generated (file name → content, see cli/README.md "aws export"):
//  * openapi.yaml — OpenAPI 3.0: per gateway route prefix P, the paths P and P/{proxy+} (the
//    catch-all "/" gives / and /{proxy+}) with `x-amazon-apigateway-any-method` → an http_proxy
//    integration to http(s)://${stageVariables.host}/${stageVariables.stage}P[/{proxy}], passing
//    the path and the request id (X-Request-Id: context.requestId); an explicit OPTIONS with the
//    same integration where a stage has CORS, so that the host gateway answers preflights with
//    that stage's policy; a bearer security requirement on JWT routes (verified on the host).
//  * stages/<stage>.json — one per application stage (a stage with `jwt_stage`, such as the
//    edge's `monitoring`, borrows another stage's tokens and is served by the edge alone: it is
//    not exported): variables (host, stage and the stage's own
//    variables such as color), throttling from the stage's rate-limit policies, the access-log
//    format (JSON with $context.requestId).
//  * deploy.sh — `aws apigateway` commands: put-rest-api --mode overwrite, create-deployment,
//    create-or-update of every stage; idempotent; `--dry-run` prints the commands.
//  * security-group.json — ingress 443 from anywhere, SSH (22) from `ssh_cidr` only (omitted
//    when none is given).
//  * README.md — what the folder holds and how it is regenerated.
//
// Contract: pure functions, thread-safe, never throw. Errors are core::Error values:
// kInvalidArgument "invalid_option" (bad host URL, CIDR or REST API id) or "invalid_config" (a
// configuration the export cannot express, e.g. stages with different route prefixes: AWS
// stages share one API definition). write_export writes every file beside its final name and
// renames it into place (no half-written file is left on failure).
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "enkisys/core/expected.hpp"
#include "enkisys/gateway/config.hpp"

namespace enkisys::cli::aws {

struct ExportOptions {
  std::string host_url = "https://enkisys.example.com";  // scheme://host[:port] of the edge
  std::string rest_api_id = "REST_API_ID";               // [a-z0-9]{1,32}; env REST_API_ID wins
  std::string ssh_cidr;                                  // "" = no SSH ingress rule
  std::string source = "gateway.yaml";                   // named in the generated files
};

// One exported route: the REST API resource path and the gateway route prefix it proxies to.
struct ExportedRoute {
  std::string prefix;  // gateway route prefix ("/api/tools", "/" for the catch-all)
  bool jwt = false;
  std::string name;
};

// The routes every stage shares (longest prefix first, as the gateway matches them), or an
// error when the stages' route prefixes differ.
core::Expected<std::vector<ExportedRoute>> exported_routes(const gateway::GatewayConfig& config);
// Whether `stage` becomes an API Gateway stage: every application stage; not an edge-only stage
// that borrows another's tokens (`jwt_stage`, e.g. `monitoring`).
bool exported_stage(const gateway::StageConfig& stage);

// The OpenAPI resource paths of `route` ("/api/tools" → "/api/tools", "/api/tools/{proxy+}").
std::vector<std::string> resource_paths(const ExportedRoute& route);

// The integration URI template of a resource path of `route`.
std::string integration_uri(const std::string& scheme, const ExportedRoute& route, bool proxy);

// Every file of the export (relative name → content).
core::Expected<std::map<std::string, std::string>> render_export(
    const gateway::GatewayConfig& config, const ExportOptions& options);

// Writes `files` under `dir` (created if missing); deploy.sh is made executable.
core::Status write_export(const std::string& dir, const std::map<std::string, std::string>& files);

// The command: loads `config_path` with the gateway's loader, renders and writes into `out_dir`.
// Returns 0, or 2 (invalid configuration or option, named on `err`) or 1 (write failure).
int run_aws_export(const std::string& config_path, const std::string& out_dir,
                   const ExportOptions& options, std::ostream& out, std::ostream& err);

}  // namespace enkisys::cli::aws
