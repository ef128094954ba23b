#include "backends.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace enkisys::auth::testing {

namespace json = boost::json;

TempDir::TempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "enkisys-auth-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

AuthFixture::AuthFixture(db::Backend backend, FixtureOptions o) {
  test_store_ = std::make_unique<db::testing::TestStore>(backend);
  db_ = test_store_->open();
  store_ = std::make_unique<AuthStore>(*db_);
  store_->migrate();
  KeyOptions ko;
  ko.dir = keys_dir_.path() / "keys";
  ko.alg = o.alg;
  ko.rotation_period = o.rotation_period;
  ko.retire_grace = o.config.access_ttl + o.config.leeway;
  ko.on_rotated = [this](const std::string& kid, const std::string& reason) {
    if (service_) service_->record_key_rotation(kid, reason);
  };
  keys_ = std::make_unique<KeyManager>(ko, clock_);
  tokens_ = std::make_unique<AccessTokens>(*keys_, o.config, clock_, system_random());
  service_ =
      std::make_unique<AuthService>(*store_, *tokens_, *keys_, o.hasher, clock_, system_random());
  service_->bootstrap_admin(kAdminEmail, kAdminPassword);
  api_ = std::make_unique<AuthApi>(*service_, metrics_);
  server_ =
      std::make_unique<core::testing::TestServer>([this](core::Router& r) { api_->add_routes(r); });
}

AuthFixture::~AuthFixture() {
  server_.reset();
}

Reply AuthFixture::call(const std::string& method, const std::string& target,
                        const std::string& body, const std::string& headers) {
  std::string h = headers;
  if (!body.empty() && h.find("Content-Type") == std::string::npos) {
    h += "Content-Type: application/json\r\n";
  }
  return core::testing::json_reply(
      core::testing::http_request(server_->port(), method, target, body, h));
}

Reply AuthFixture::call_as(const std::string& token, const std::string& method,
                           const std::string& target, const std::string& body) {
  return call(method, target, body, "Authorization: Bearer " + token + "\r\n");
}

Reply AuthFixture::signup(const std::string& email, const std::string& password) {
  return call("POST", "/api/auth/signup",
              json::serialize(json::object{{"email", email}, {"password", password}}));
}

Reply AuthFixture::login(const std::string& email, const std::string& password,
                         const std::string& headers) {
  return call("POST", "/api/auth/login",
              json::serialize(json::object{{"email", email}, {"password", password}}), headers);
}

Reply AuthFixture::user_session(const std::string& email, const std::string& password) {
  signup(email, password);
  return login(email, password);
}

std::string AuthFixture::admin_token() {
  auto r = login(kAdminEmail, kAdminPassword);
  if (r.status != 200) throw std::runtime_error("admin login failed: " + r.raw);
  return std::string(r.body.at("access_token").as_string());
}

std::int64_t AuthFixture::count(const std::string& table) {
  return db_->query("SELECT count(*) FROM " + table).one().i64(0);
}

}  // namespace enkisys::auth::testing
