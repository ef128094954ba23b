// TLS contexts of the gateway: see enkisys/gateway/tls.hpp.
#include "enkisys/gateway/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/context.hpp>
#include <sstream>

namespace enkisys::gateway {

namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2: forward secrecy (ECDHE) and AEAD only. TLS 1.3: its three AEAD suites.
constexpr const char* kCiphers12 =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kSuites13 =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// OpenSSL's reason for the last failure (library/reason text only, never file content).
std::string openssl_reason() {
  const unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  const char* r = ERR_reason_error_string(e);
  return r ? r : "error " + std::to_string(e);
}

}  // namespace

core::Error tls_error(std::string message) {
  return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_tls", std::move(message));
}

core::Expected<std::vector<TlsCertificate>> parse_certificate_list(const std::string& text) {
  std::vector<TlsCertificate> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    if (item.empty()) continue;
    const auto colon = item.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == item.size())
      return tls_error("certificate '" + item + "': expected chain.pem:key.pem");
    out.push_back({item.substr(0, colon), item.substr(colon + 1)});
  }
  if (out.empty()) return tls_error("no certificate given (chain.pem:key.pem[,...])");
  return out;
}

core::Expected<ClientAuth> parse_client_auth(const std::string& text) {
  if (text.empty() || text == "none") return ClientAuth::kNone;
  if (text == "optional") return ClientAuth::kOptional;
  if (text == "required") return ClientAuth::kRequired;
  return tls_error("client auth '" + text + "': expected none, optional or required");
}

struct TlsContexts::Impl {
  std::vector<std::unique_ptr<ssl::context>> contexts;  // one per certificate, same settings

  // SNI: switch the handshake to the context whose certificate names the requested host.
  static int on_servername(SSL* s, int* /*alert*/, void* arg) {
    const auto* self = static_cast<const Impl*>(arg);
    const char* name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
    if (!name || !*name) return SSL_TLSEXT_ERR_OK;
    for (const auto& c : self->contexts) {
      X509* cert = SSL_CTX_get0_certificate(c->native_handle());
      if (cert && X509_check_host(cert, name, 0, 0, nullptr) == 1) {
        if (c->native_handle() != SSL_get_SSL_CTX(s)) SSL_set_SSL_CTX(s, c->native_handle());
        return SSL_TLSEXT_ERR_OK;
      }
    }
    return SSL_TLSEXT_ERR_OK;  // the default certificate
  }
};

TlsContexts::TlsContexts() : impl_(std::make_unique<Impl>()) {}
TlsContexts::~TlsContexts() = default;

ssl::context& TlsContexts::initial() const {
  return *impl_->contexts.front();
}

std::size_t TlsContexts::size() const {
  return impl_->contexts.size();
}

core::Expected<std::shared_ptr<const TlsContexts>> TlsContexts::load(const TlsOptions& o) {
  if (o.certificates.empty()) return tls_error("no certificate configured");
  if (o.client_auth != ClientAuth::kNone && o.client_ca_file.empty())
    return tls_error("client certificates need a CA file");
  std::shared_ptr<TlsContexts> set(new TlsContexts());
  ERR_clear_error();
  for (const auto& cert : o.certificates) {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    SSL_CTX* c = ctx->native_handle();
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(
        c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_set_cipher_list(c, kCiphers12) != 1 || SSL_CTX_set_ciphersuites(c, kSuites13) != 1)
      return tls_error("cipher setup failed: " + openssl_reason());
    if (SSL_CTX_use_certificate_chain_file(c, cert.chain_file.c_str()) != 1)
      return tls_error("certificate " + cert.chain_file + ": " + openssl_reason());
    if (SSL_CTX_use_PrivateKey_file(c, cert.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      return tls_error("key " + cert.key_file + ": " + openssl_reason());
    if (SSL_CTX_check_private_key(c) != 1)
      return tls_error("key " + cert.key_file + " does not match " + cert.chain_file);
    static const unsigned char kSid[] = "enkisys-gateway";
    SSL_CTX_set_session_id_context(c, kSid, sizeof kSid - 1);
    if (o.client_auth != ClientAuth::kNone) {
      if (SSL_CTX_load_verify_locations(c, o.client_ca_file.c_str(), nullptr) != 1)
        return tls_error("client CA " + o.client_ca_file + ": " + openssl_reason());
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.client_ca_file.c_str());
      if (!names) return tls_error("client CA " + o.client_ca_file + ": no certificate");
      SSL_CTX_set_client_CA_list(c, names);
      int mode = SSL_VERIFY_PEER;
      if (o.client_auth == ClientAuth::kRequired) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      SSL_CTX_set_verify(c, mode, nullptr);
    }
    // The macro SSL_CTX_set_tlsext_servername_callback, without its C-style cast.
    SSL_CTX_callback_ctrl(c, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                          reinterpret_cast<void (*)()>(&Impl::on_servername));
    SSL_CTX_set_tlsext_servername_arg(c, set->impl_.get());
    set->impl_->contexts.push_back(std::move(ctx));
  }
  return std::shared_ptr<const TlsContexts>(std::move(set));
}

}  // namespace enkisys::gateway
