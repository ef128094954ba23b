// enkisys-frontend: the web frontend's static file server (port 5000). Wiring only.
#include "enkisys/core/service.hpp"
#include "enkisys/frontend/static_site.hpp"

using namespace enkisys;

int main(int argc, char** argv) {
  core::ServiceSpec spec;
  spec.name = "frontend";
  spec.summary = "static file server of the web frontend: precompressed variants, ETags, SPA";
  spec.default_port = 5000;
  spec.declare = [](core::EnvConfig& c) {
    c.add(
        {"FRONTEND_ROOT", "web root, loaded into memory at start (needs index.html)", "/srv/www"});
  };
  spec.wire = [](core::ServiceEnv& env) -> std::shared_ptr<void> {
    auto loaded = frontend::StaticSite::load(env.config.get("FRONTEND_ROOT"));
    if (!loaded) throw core::ConfigError(loaded.error().message);
    std::shared_ptr<frontend::StaticSite> site = std::move(loaded).value();
    env.health.add("web_root", [p = site.get()] {
      return core::CheckResult{p->has_index(), std::to_string(p->file_count()) + " files"};
    });
    frontend::add_site_routes(env.router, *site);
    return site;
  };
  return core::run_service(spec, argc, argv);
}
