// The real enkisys-gateway binary on the service skeleton: proxy /health, admin listener with
// enkisys_build_info on /metrics, SIGHUP reload (refused without effect when the file is
// broken), --check, --healthcheck, refused configuration (exit 2), clean SIGTERM; TLS
// certificates reloaded on SIGHUP with a connection kept open.
#include "enkisys/core/testing/process.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <fstream>
#include <optional>

#include "enkisys/core/testing.hpp"

namespace enkisys::gateway::testing {
namespace {

using core::testing::body_of;
using core::testing::http_request;
using core::testing::ProcessEnv;
using core::testing::ServiceProcess;
using core::testing::status_of;
using core::testing::TempDir;

const char* const kConfig =
    "stages:\n  dev:\n    routes:\n      - {prefix: /api/tools, upstream: "
    "\"http://127.0.0.1:9\"}\n";

class GatewayProcess : public ::testing::Test {
 protected:
  GatewayProcess() {
    std::ofstream(config_) << kConfig;
    std::ofstream(token_) << "admin-token-0123456789\n";
  }
  ProcessEnv env(ProcessEnv extra = {}) const {
    ProcessEnv e{{"PORT", "0"},
                 {"BIND_ADDRESS", "127.0.0.1"},
                 {"ADMIN_PORT", "0"},
                 {"ACCESS_LOG", "off"},
                 {"GATEWAY_CONFIG", config_.string()},
                 {"ADMIN_TOKEN_FILE", token_.string()}};
    e.insert(e.end(), extra.begin(), extra.end());
    return e;
  }
  TempDir dir_;
  std::filesystem::path config_ = dir_.path() / "gateway.yaml";
  std::filesystem::path token_ = dir_.path() / "admin-token";
};

TEST_F(GatewayProcess, ServesHealthAdminMetricsAndReloadsOnSighup) {
  ServiceProcess p(ENKISYS_GATEWAY_BIN, env());
  ASSERT_TRUE(p.wait_healthy());
  const std::string health = body_of(http_request(p.port(), "GET", "/health"));
  EXPECT_NE(health.find("\"service\":\"gateway\""), std::string::npos) << health;
  EXPECT_NE(health.find("\"checks\":{\"config\":{\"ok\":true}}"), std::string::npos) << health;
  const auto metrics = http_request(p.port("admin"), "GET", "/metrics");
  EXPECT_EQ(status_of(metrics), 200);
  EXPECT_NE(body_of(metrics).find("enkisys_build_info{service=\"gateway\""), std::string::npos)
      << body_of(metrics);

  std::ofstream(config_) << "stages: [\n";  // broken: refused, the old generation keeps serving
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for_output("reload refused, keeping the current configuration"));
  EXPECT_EQ(status_of(http_request(p.port(), "GET", "/dev/api/tools/x")), 502);
  std::ofstream(config_) << kConfig;
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for_output("\"msg\":\"reloaded\""));
  EXPECT_NE(p.output().find("\"generation\":2"), std::string::npos) << p.output();

  auto hc = ServiceProcess(ENKISYS_GATEWAY_BIN, env({{"PORT", std::to_string(p.port())}}),
                           {"--healthcheck"}, false);
  EXPECT_EQ(hc.wait_exit(), 0);
  EXPECT_EQ(p.terminate(), 0);
}

TEST_F(GatewayProcess, CheckAndRefusedConfigurationExitTwo) {
  ServiceProcess ok(ENKISYS_GATEWAY_BIN, env(), {"--check", "--config", config_.string()}, false);
  EXPECT_EQ(ok.wait_exit(), 0) << ok.output();
  const auto broken = dir_.path() / "broken.yaml";
  std::ofstream(broken) << "stages: [\n";
  ServiceProcess bad(ENKISYS_GATEWAY_BIN, env(), {"--check", "--config", broken.string()}, false);
  EXPECT_EQ(bad.wait_exit(), 2);
  ServiceProcess start_bad(ENKISYS_GATEWAY_BIN, env({{"GATEWAY_CONFIG", broken.string()}}), {},
                           false);
  EXPECT_EQ(start_bad.wait_exit(), 2);
  std::ofstream(token_) << "short\n";
  ServiceProcess short_token(ENKISYS_GATEWAY_BIN, env(), {}, false);
  EXPECT_EQ(short_token.wait_exit(), 2);
  EXPECT_NE(short_token.output().find("ADMIN_TOKEN_FILE"), std::string::npos);
  ServiceProcess level(ENKISYS_GATEWAY_BIN, env({{"LOG_LEVEL", "loud"}}), {}, false);
  EXPECT_EQ(level.wait_exit(), 2);
}

// A self-signed EC certificate for localhost with common name `cn`.
void make_certificate(const std::filesystem::path& pem, const std::filesystem::path& key,
                      const std::string& cn) {
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=" +
      cn + " -addext subjectAltName=DNS:localhost -keyout " + key.string() + ".new -out " +
      pem.string() + ".new >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::filesystem::rename(key.string() + ".new", key);
  std::filesystem::rename(pem.string() + ".new", pem);
}

// One TLS connection (server certificate not verified: the test reads its name).
struct TlsConnection {
  boost::asio::io_context ioc;
  boost::asio::ssl::context ctx{boost::asio::ssl::context::tls_client};
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> s;
  boost::beast::flat_buffer buf;
  explicit TlsConnection(unsigned short port) {
    s.emplace(ioc, ctx);
    s->lowest_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
    s->handshake(boost::asio::ssl::stream_base::client);
  }
  std::string server_cn() {
    X509* cert = SSL_get1_peer_certificate(s->native_handle());
    char cn[256] = {};
    if (cert) X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    return cn;
  }
  int get(const std::string& target) {
    namespace http = boost::beast::http;
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "localhost");
    boost::beast::error_code ec;
    http::write(*s, req, ec);
    http::response<http::string_body> res;
    if (!ec) http::read(*s, buf, res, ec);
    return ec ? 0 : res.result_int();
  }
};

TEST_F(GatewayProcess, TlsCertificatesReloadOnSighupKeepingOpenConnections) {
  const auto pem = dir_.path() / "tls.pem", key = dir_.path() / "tls.key";
  make_certificate(pem, key, "first");
  ServiceProcess p(ENKISYS_GATEWAY_BIN,
                   env({{"GATEWAY_TLS_CERTS", pem.string() + ":" + key.string()},
                        {"GATEWAY_TLS_PORT", "0"},
                        {"GATEWAY_TLS_WATCH_MS", "0"},
                        {"GATEWAY_HTTPS_REDIRECT_PORT", "443"}}));
  ASSERT_TRUE(p.wait_healthy());  // GET /health stays plain
  const unsigned short tls_port = p.port("tls");
  TlsConnection before(tls_port);
  EXPECT_EQ(before.server_cn(), "first");
  EXPECT_EQ(before.get("/health"), 200);
  EXPECT_EQ(status_of(http_request(p.port(), "GET", "/dev/api/tools/x")), 308);

  make_certificate(pem, key, "second");
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for_output("tls certificates reloaded"));
  EXPECT_EQ(before.get("/health"), 200) << "the connection opened before SIGHUP is kept";
  TlsConnection after(tls_port);
  EXPECT_EQ(after.server_cn(), "second");
  EXPECT_EQ(p.terminate(), 0);
}

}  // namespace
}  // namespace enkisys::gateway::testing
