// A Docker Swarm stack file rendered from a stage's resolved compose configuration (the
// `compose config` output of compose.yaml [+ deploy/compose.<stage>.yaml] +
// deploy/swarm/stack.yaml), so that one set of compose files serves both the single host and
// the swarm. The rendering only translates; the swarm policy (replicas, update_config,
// rollback_config, resources) lives in deploy/swarm/stack.yaml.
//
// Contract of render_stack():
//  * Services behind a `profiles` entry are left out (the CLI never enables a profile).
//  * Dropped, as `docker stack deploy` refuses or ignores them: build, container_name,
//    depends_on, restart, scale, cap_add, cap_drop, security_opt, profiles, pids_limit; an
//    environment variable without a value (unset on the host) is dropped too.
//  * cpus / mem_limit / mem_reservation become deploy.resources limits / reservations unless
//    the deploy section sets them; `tmpfs` paths become tmpfs mounts.
//  * Published ports become ingress ports on their container port; the published port is
//    options.published_port (0: swarm picks one). A host address is dropped (swarm publishes
//    on every node).
//  * A read-only bind mount of a file becomes a swarm config; a writable bind mount is an
//    error (the file would not exist on the other nodes).
//  * Networks are overlays, attachable, `internal: true` kept; external ones unchanged.
//  * `file:` secrets and configs get the name enkisys-<stage>-<key>-<first 12 hex digits of
//    digest(path)>: a changed file is a new secret, and the services using it roll.
//    digest(path) returning "" is an error (the file is missing on the target).
//  * A service that mounts a named volume is stateful: it gets the placement constraint
//    options.stateful_constraint unless its deploy section has placement constraints.
//  * options.endpoint_mode, when set, becomes every service's deploy.endpoint_mode.
//  * options.gateway_config, when set, is called with the source of the file a service mounts
//    at its GATEWAY_CONFIG path and returns the file to publish as that config instead (the
//    stage's own gateway configuration, gateway_config_for_stage); "" is an error.
//  * The output has `version: "3.8"` (docker 20.10's stack loader needs a version).
//  Pure apart from calling digest; returns nullopt and *error on bad input. Thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace enkisys::cli {

struct StackOptions {
  std::string stage;
  int published_port = 0;
  std::string stateful_constraint = "node.role == manager";
  std::string registry;  // non-empty: images become REGISTRY/<image> (every node pulls them)
  // "" (swarm's default, a virtual IP per service behind IPVS) or "dnsrr" (DNS round robin
  // over the tasks, for engines without IPVS): set on every service; with dnsrr, published
  // ports are dropped (the ingress needs a VIP): a load balancer on the attachable networks
  // reaches the gateway.
  std::string endpoint_mode;
  std::function<std::string(const std::string& source)> gateway_config;
};

using FileDigest = std::function<std::string(const std::string& path)>;

// The gateway configuration the stack enkisys-<stage> serves: the local stack's file
// (deploy/gateway/gateway.yaml, whose application stage is `dev`) with that stage renamed to
// `stage` and every `jwt_stage: dev` following it, so that a stack answers /<stage>/... like
// the host's edge (and the AWS export's stage variables) expect. The text comes back unchanged
// for stage "dev". nullopt and *error when the YAML has no `stages` mapping with `dev`, or
// already has a stage named `stage`. Comments are not kept. Pure, thread-safe.
std::optional<std::string> gateway_config_for_stage(const std::string& yaml,
                                                    const std::string& stage, std::string* error);

std::optional<std::string> render_stack(const std::string& config_yaml, const StackOptions& options,
                                        const FileDigest& digest, std::string* error);

}  // namespace enkisys::cli
