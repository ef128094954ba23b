// TLS at the gateway: protocol versions, SNI, client certificates, reload with connections kept,
// HTTP → HTTPS redirect, HSTS. Certificates are made by the `openssl` command in a temp dir.
#include "enkisys/gateway/tls.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "test_support.hpp"

namespace enkisys::gateway {
namespace {

using namespace testing;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

// A CA and leaf certificates signed by it (EC P-256), in a fresh directory.
class Pki {
 public:
  Pki() {
    dir_ = fs::path(::testing::TempDir()) /
           ("gw_tls_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(dir_);
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
        " -subj /CN=test-ca -keyout " +
        path("ca.key") + " -out " + path("ca.pem"));
  }
  ~Pki() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Issues `name`.pem/.key for DNS `dns` with common name `cn`, signed by the CA.
  TlsCertificate issue(const std::string& name, const std::string& dns, const std::string& cn) {
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" + cn +
        " -addext subjectAltName=DNS:" + dns + " -keyout " + path(name + ".key") + " -out " +
        path(name + ".csr"));
    run("openssl x509 -req -days 2 -copy_extensions copyall -in " + path(name + ".csr") + " -CA " +
        path("ca.pem") + " -CAkey " + path("ca.key") + " -CAcreateserial -out " +
        path(name + ".pem"));
    return {path(name + ".pem"), path(name + ".key")};
  }
  std::string path(const std::string& f) const { return (dir_ / f).string(); }

 private:
  static void run(const std::string& cmd) {
    ASSERT_EQ(std::system((cmd + " >/dev/null 2>&1").c_str()), 0) << cmd;
  }
  fs::path dir_;
  static inline int counter_ = 0;
};

struct ClientSetup {
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  std::string sni = "localhost";
  TlsCertificate client_cert;  // empty = none
  bool legacy = false;         // allow TLS 1.0/1.1 on the client side (security level 0)
};

// One TLS client connection to 127.0.0.1:port, verifying the server against `ca`.
class TlsClient {
 public:
  TlsClient(unsigned short port, const std::string& ca, const ClientSetup& c)
      : ctx_(ssl::context::tls_client) {
    SSL_CTX* x = ctx_.native_handle();
    if (c.legacy) {
      SSL_CTX_set_security_level(x, 0);
      SSL_CTX_set_cipher_list(x, "DEFAULT:@SECLEVEL=0");
    }
    SSL_CTX_set_min_proto_version(x, c.min_version);
    SSL_CTX_set_max_proto_version(x, c.max_version);
    ctx_.load_verify_file(ca);
    ctx_.set_verify_mode(ssl::verify_peer);
    if (!c.client_cert.chain_file.empty()) {
      ctx_.use_certificate_chain_file(c.client_cert.chain_file);
      ctx_.use_private_key_file(c.client_cert.key_file, ssl::context::pem);
    }
    stream_.emplace(ioc_, ctx_);  // after the context is set up (SSL_new copies it)
    SSL_ctrl(stream_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(c.sni.c_str()));
    stream_->lowest_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    stream_->handshake(ssl::stream_base::client, ec_);
  }
  bool ok() const { return !ec_; }
  const beast::error_code& error() const { return ec_; }
  std::string version() { return SSL_get_version(stream_->native_handle()); }
  // The common name of the server's certificate.
  std::string server_cn() {
    X509* cert = SSL_get1_peer_certificate(stream_->native_handle());
    if (!cert) return "";
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    return cn;
  }
  StringResponse get(const std::string& target, beast::error_code* error = nullptr) {
    http::request<http::string_body> req{http::verb::get, target, 11};
    return send(req, error);
  }
  StringResponse send(http::request<http::string_body>& req, beast::error_code* error = nullptr) {
    req.set(http::field::host, "localhost");
    req.prepare_payload();
    beast::error_code ec;
    http::write(*stream_, req, ec);
    StringResponse res;
    if (!ec) {
      http::response_parser<http::string_body> p;
      p.body_limit(64 << 20);
      http::read(*stream_, buf_, p, ec);
      res = p.release();
    }
    if (error) *error = ec;
    return res;
  }
  // Reads once more (after the server closed): eof when it sent close_notify.
  beast::error_code read_end() {
    char c;
    beast::error_code ec;
    stream_->read_some(asio::buffer(&c, 1), ec);
    return ec;
  }
  void write_raw(const std::string& bytes) { asio::write(*stream_, asio::buffer(bytes)); }
  ssl::stream<tcp::socket>& stream() { return *stream_; }
  // Closes the TCP connection without close_notify.
  void drop() { stream_->lowest_layer().close(); }

 private:
  asio::io_context ioc_;
  ssl::context ctx_;
  std::optional<ssl::stream<tcp::socket>> stream_;
  beast::flat_buffer buf_;
  beast::error_code ec_;
};

std::string config(const FakeUpstream& up) {
  return replace_all(R"(
stages:
  dev:
    routes:
      - {prefix: /, upstream: "{UP}"}
)",
                     "{UP}", up.url());
}

class TlsTest : public ::testing::Test {
 protected:
  // Starts the TLS listener in front of gw_ with `options` (address and port set here).
  void start(TlsOptions options, Gateway& gw) {
    options.address = "127.0.0.1";
    options.port = 0;
    auto front = TlsFront::create(std::move(options), gw.server());
    ASSERT_TRUE(front.ok()) << front.error().message;
    front_ = std::move(*front);
    front_->listen();
    front_->start();
  }
  void TearDown() override {
    if (front_) front_->stop();
  }
  // The gateway of the test: it outlives the TLS listener (TlsFront's REQUIREMENT), so it is a
  // member declared before front_.
  Gateway& gateway(const GatewayOptions& options = {}) {
    gw_ = std::make_unique<Gateway>(config(up_), options);
    return *gw_;
  }
  TlsOptions with(std::vector<TlsCertificate> certs) {
    TlsOptions o;
    o.certificates = std::move(certs);
    o.watch_interval = std::chrono::milliseconds(0);
    return o;
  }
  Pki pki_;
  FakeUpstream up_;
  std::unique_ptr<Gateway> gw_;
  std::unique_ptr<TlsFront> front_;
};

TEST_F(TlsTest, Tls13And12HandshakesServeRequestsWithHstsAndTheClientAddress) {
  Gateway& gw = gateway();
  start(with({pki_.issue("localhost", "localhost", "localhost")}), gw);
  for (const int v : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    ClientSetup c;
    c.min_version = c.max_version = v;
    TlsClient client(front_->port(), pki_.path("ca.pem"), c);
    ASSERT_TRUE(client.ok()) << client.error().message();
    EXPECT_EQ(client.version(), v == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2");
    auto res = client.get("/dev/hello");
    ASSERT_EQ(res.result_int(), 200) << res.body();
    EXPECT_EQ(res[http::field::strict_transport_security], "max-age=31536000");
    const auto echo = boost::json::parse(res.body()).as_object();
    const auto& h = echo.at("headers").as_object();
    EXPECT_EQ(h.at("x-forwarded-proto").as_string(), "https");
    EXPECT_EQ(h.at("x-forwarded-for").as_string(), "127.0.0.1");
    // Keep-alive over TLS: a second request on the same connection.
    EXPECT_EQ(client.get("/dev/again").result_int(), 200);
    // Errors made by the gateway itself carry HSTS too.
    auto missing = client.get("/nostage/x");
    EXPECT_EQ(missing.result_int(), 404);
    EXPECT_EQ(missing[http::field::strict_transport_security], "max-age=31536000");
  }
  // Plain HTTP answers carry no HSTS.
  EXPECT_EQ(get(gw.port(), "/dev/hello")[http::field::strict_transport_security], "");
}

// Waits (at most 5 s) until the gateway has no client connection open.
bool all_closed(ProxyServer& server) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server.connections() != 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return server.connections() == 0;
}

TEST_F(TlsTest, KeepAliveConnectionServesManyRequestsAndBodiesLargerThanARecord) {
  Gateway& gw = gateway();
  start(with({pki_.issue("localhost", "localhost", "localhost")}), gw);
  TlsClient client(front_->port(), pki_.path("ca.pem"), {});
  ASSERT_TRUE(client.ok()) << client.error().message();
  std::string big(200 * 1024, 'x');  // a dozen TLS records each way
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  for (int i = 0; i < 8; ++i) {
    http::request<http::string_body> req{http::verb::post, "/dev/echo/" + std::to_string(i), 11};
    req.body() = i % 2 == 0 ? big : "small";
    auto res = client.send(req);
    ASSERT_EQ(res.result_int(), 200) << res.body();
    EXPECT_EQ(res[http::field::strict_transport_security], "max-age=31536000");
    const auto echo = boost::json::parse(res.body()).as_object();
    EXPECT_EQ(echo.at("body").as_string(), req.body()) << i;
  }
  EXPECT_EQ(front_->handshakes(), 1u);  // one connection served them all
}

TEST_F(TlsTest, ClosingSendsCloseNotifyAndClientsLeavingWithoutOneAreForgotten) {
  Gateway& gw = gateway();
  start(with({pki_.issue("localhost", "localhost", "localhost")}), gw);
  {
    TlsClient client(front_->port(), pki_.path("ca.pem"), {});
    ASSERT_TRUE(client.ok()) << client.error().message();
    http::request<http::string_body> req{http::verb::get, "/dev/last", 11};
    req.keep_alive(false);
    EXPECT_EQ(client.send(req).result_int(), 200);
    EXPECT_EQ(client.read_end(), asio::error::eof);  // close_notify, not a truncated stream
  }
  ASSERT_TRUE(all_closed(gw.server()));
  for (const std::string partial : {"", "GET /dev/x HTTP/1.1\r\nHost: loc"}) {
    TlsClient client(front_->port(), pki_.path("ca.pem"), {});
    ASSERT_TRUE(client.ok()) << client.error().message();
    if (!partial.empty()) client.write_raw(partial);
    EXPECT_EQ(gw.server().connections(), 1u);
    client.drop();
    EXPECT_TRUE(all_closed(gw.server())) << partial;
  }
}

TEST_F(TlsTest, TunnelsWebSockets) {
  Gateway& gw = gateway();
  start(with({pki_.issue("localhost", "localhost", "localhost")}), gw);
  TlsClient client(front_->port(), pki_.path("ca.pem"), {});
  ASSERT_TRUE(client.ok()) << client.error().message();
  beast::websocket::stream<ssl::stream<tcp::socket>&> ws(client.stream());
  ws.handshake("localhost", "/dev/ws");
  for (const std::string& msg : {std::string("hello"), std::string(40 * 1024, 'w')}) {
    ws.write(asio::buffer(msg));
    beast::flat_buffer b;
    ws.read(b);
    EXPECT_EQ(beast::buffers_to_string(b.data()), msg);
  }
  ws.close(beast::websocket::close_code::normal);
}

TEST_F(TlsTest, AHandshakeNeverStartedIsClosedAfterTheHandshakeTimeout) {
  Gateway& gw = gateway();
  auto options = with({pki_.issue("localhost", "localhost", "localhost")});
  options.handshake_timeout = std::chrono::milliseconds(200);
  start(std::move(options), gw);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(raw_exchange(front_->port(), "", 5000), "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_TRUE(all_closed(gw.server()));
  EXPECT_EQ(front_->failed_handshakes(), 1u);
}

TEST_F(TlsTest, Tls11IsRefused) {
  Gateway& gw = gateway();
  start(with({pki_.issue("localhost", "localhost", "localhost")}), gw);
  ClientSetup c;
  c.legacy = true;
  c.min_version = TLS1_VERSION;
  c.max_version = TLS1_1_VERSION;
  TlsClient old(front_->port(), pki_.path("ca.pem"), c);
  EXPECT_FALSE(old.ok());
  // The same legacy-capable client is served once it may use TLS 1.2.
  c.max_version = TLS1_2_VERSION;
  TlsClient modern(front_->port(), pki_.path("ca.pem"), c);
  EXPECT_TRUE(modern.ok()) << modern.error().message();
}

TEST_F(TlsTest, SniPicksTheCertificateOfTheRequestedName) {
  Gateway& gw = gateway();
  start(with({pki_.issue("a", "a.test", "cert-a"), pki_.issue("b", "b.test", "cert-b")}), gw);
  for (const auto& [sni, cn] : std::vector<std::pair<std::string, std::string>>{
           {"a.test", "cert-a"}, {"b.test", "cert-b"}, {"other.test", "cert-a"}}) {
    ClientSetup c;
    c.sni = sni;
    TlsClient client(front_->port(), pki_.path("ca.pem"), c);
    // The client verifies the chain only (names are checked by the server's SNI choice here).
    ASSERT_TRUE(client.ok()) << sni << ": " << client.error().message();
    EXPECT_EQ(client.server_cn(), cn) << sni;
  }
}

TEST_F(TlsTest, RequiredClientCertificateRefusesClientsWithoutOne) {
  Gateway& gw = gateway();
  auto o = with({pki_.issue("localhost", "localhost", "localhost")});
  o.client_ca_file = pki_.path("ca.pem");
  o.client_auth = ClientAuth::kRequired;
  start(o, gw);
  ClientSetup none;
  TlsClient anonymous(front_->port(), pki_.path("ca.pem"), none);
  // TLS 1.3 reports the refusal on the first read after the handshake.
  beast::error_code ec;
  if (anonymous.ok()) anonymous.get("/dev/x", &ec);
  EXPECT_TRUE(!anonymous.ok() || ec) << "served without a client certificate";
  ClientSetup with_cert;
  with_cert.client_cert = pki_.issue("client", "client.test", "aws-api-gateway");
  TlsClient client(front_->port(), pki_.path("ca.pem"), with_cert);
  ASSERT_TRUE(client.ok()) << client.error().message();
  EXPECT_EQ(client.get("/dev/x").result_int(), 200);
}

// Replaces the files of `target` with those of `from` (a new certificate at the same paths).
void replace_files(const TlsCertificate& from, const TlsCertificate& target) {
  fs::copy_file(from.chain_file, target.chain_file + ".new", fs::copy_options::overwrite_existing);
  fs::copy_file(from.key_file, target.key_file + ".new", fs::copy_options::overwrite_existing);
  fs::rename(target.key_file + ".new", target.key_file);
  fs::rename(target.chain_file + ".new", target.chain_file);
}

TEST_F(TlsTest, ReloadSwitchesNewHandshakesAndKeepsOpenConnections) {
  Gateway& gw = gateway();
  const auto live = pki_.issue("live", "localhost", "first");
  start(with({live}), gw);
  ClientSetup c;
  TlsClient before(front_->port(), pki_.path("ca.pem"), c);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before.server_cn(), "first");
  ASSERT_EQ(before.get("/dev/1").result_int(), 200);

  replace_files(pki_.issue("next", "localhost", "second"), live);
  ASSERT_TRUE(front_->reload().ok());  // what SIGHUP does (main.cpp's reload hook)
  EXPECT_EQ(front_->reloads(), 1u);

  EXPECT_EQ(before.get("/dev/2").result_int(), 200) << "the open connection survives";
  TlsClient after(front_->port(), pki_.path("ca.pem"), c);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after.server_cn(), "second");

  // A broken file: the reload fails, the running certificate stays.
  std::ofstream(live.key_file, std::ios::trunc) << "not a key";
  EXPECT_FALSE(front_->reload().ok());
  TlsClient still(front_->port(), pki_.path("ca.pem"), c);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still.server_cn(), "second");
}

TEST_F(TlsTest, ChangedFilesAreReloadedByTheWatcher) {
  Gateway& gw = gateway();
  const auto live = pki_.issue("live", "localhost", "first");
  auto o = with({live});
  o.watch_interval = std::chrono::milliseconds(20);
  start(o, gw);
  replace_files(pki_.issue("next", "localhost", "second"), live);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (front_->reloads() == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(front_->reloads(), 1u);
  TlsClient after(front_->port(), pki_.path("ca.pem"), ClientSetup{});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after.server_cn(), "second");
}

TEST_F(TlsTest, PlainHttpIsRedirectedToHttpsExceptHealthProbes) {
  GatewayOptions go;
  go.https_redirect_port = 8443;
  Gateway& gw = gateway(go);
  auto res = get(gw.port(), "/dev/page?x=1", {{"Host", "example.test:8080"}});
  EXPECT_EQ(res.result_int(), 308);
  EXPECT_EQ(res[http::field::location], "https://example.test:8443/dev/page?x=1");
  EXPECT_EQ(up_.requests(), 0);
  EXPECT_EQ(get(gw.port(), "/health").result_int(), 200);
  EXPECT_EQ(get(gw.port(), "/dev/health").result_int(), 200);  // the deploy health gate
  EXPECT_EQ(request(gw.port(), http::verb::post, "/health").result_int(), 308);
  EXPECT_EQ(get(gw.port(), "/dev/api/health").result_int(), 308);
  // A Host that cannot be put in a URL is refused, not reflected.
  EXPECT_EQ(get(gw.port(), "/dev/x", {{"Host", "evil.test/x@y"}}).result_int(), 400);
}

TEST(TlsConfig, SettingsAreParsedAndBadFilesNamed) {
  auto certs = parse_certificate_list("a.pem:a.key,b.pem:b.key");
  ASSERT_TRUE(certs.ok());
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ((*certs)[1].key_file, "b.key");
  EXPECT_FALSE(parse_certificate_list("a.pem").ok());
  EXPECT_FALSE(parse_client_auth("sometimes").ok());
  TlsOptions o;
  o.certificates = {{"/nonexistent/cert.pem", "/nonexistent/key.pem"}};
  auto loaded = TlsContexts::load(o);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, "invalid_tls");
  EXPECT_NE(loaded.error().message.find("/nonexistent/cert.pem"), std::string::npos);
}

}  // namespace
}  // namespace enkisys::gateway
