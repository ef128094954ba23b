// TLS at the gateway: certificates (several, chosen by SNI), client certificates, reload.
//
// The TLS listener (TlsFront) accepts TLS connections and hands each to the ProxyServer
// (ProxyServer::adopt_tls), whose worker does the handshake and serves the TLS stream directly
// with the request loop of plain connections: the client's address, the same limits, plus a
// "came over TLS" mark (HSTS on its answers, X-Forwarded-Proto: https upstream).
//
// Contract:
//  * TlsContexts::load() never throws: an unreadable or mismatched certificate/key/CA file →
//    core::Error kInvalidArgument "invalid_tls" naming the file (never the key's content).
//  * Protocols: TLS 1.2 and 1.3 only. TLS 1.2 ciphers: ECDHE with AES-GCM or ChaCha20-Poly1305
//    (TLS 1.3's suites are all AEAD). No compression, no renegotiation, server preference.
//  * SNI: the certificate whose names (subjectAltName DNS, wildcards, else CN) match the
//    requested name; the first certificate when none matches or no name is sent.
//  * Client certificates: with a CA file, kOptional asks for one (a presented certificate must
//    verify), kRequired refuses handshakes without a valid one.
//  * TlsFront::reload() is thread-safe: it loads the files again and, on success, new handshakes
//    use the new contexts; connections already established keep theirs (nothing is dropped). On
//    failure the running contexts stay and the error is returned. The files are also watched
//    (mtime/size/inode, every `watch_interval`) and reloaded on change.
//  * Lifetime: the ProxyServer passed to TlsFront must outlive it; stop()/join() as ProxyServer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "enkisys/core/expected.hpp"

namespace boost::asio::ssl {
class context;
}

namespace enkisys::gateway {

class ProxyServer;

struct TlsCertificate {
  std::string chain_file;  // PEM: the certificate, then its intermediates
  std::string key_file;    // PEM private key
};

enum class ClientAuth { kNone, kOptional, kRequired };

struct TlsOptions {
  std::vector<TlsCertificate> certificates;  // the first is the default (no or unknown SNI)
  std::string client_ca_file;                // PEM CA bundle for client certificates
  ClientAuth client_auth = ClientAuth::kNone;
  std::string address = "0.0.0.0";
  unsigned short port = 8443;
  unsigned threads = 1;
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds watch_interval{2'000};  // 0 = no file watching
};

// The TLS error of a bad setting: kInvalidArgument, code "invalid_tls".
core::Error tls_error(std::string message);

// Parses "chain.pem:key.pem[,chain2.pem:key2.pem...]" (the GATEWAY_TLS_CERTS format).
core::Expected<std::vector<TlsCertificate>> parse_certificate_list(const std::string& text);
// "none" | "optional" | "required".
core::Expected<ClientAuth> parse_client_auth(const std::string& text);

// One loaded set of contexts (immutable once loaded; shared by the connections that use it).
class TlsContexts {
 public:
  static core::Expected<std::shared_ptr<const TlsContexts>> load(const TlsOptions& options);
  ~TlsContexts();
  TlsContexts(const TlsContexts&) = delete;
  TlsContexts& operator=(const TlsContexts&) = delete;
  // The context a handshake starts with (SNI may switch it to another of this set).
  boost::asio::ssl::context& initial() const;
  std::size_t size() const;

  struct Impl;

 private:
  TlsContexts();
  std::unique_ptr<Impl> impl_;
};

class TlsFront {
 public:
  using LogFn = std::function<void(const std::string& event, const std::string& detail)>;
  // REQUIRES: `proxy` outlives this object.
  static core::Expected<std::unique_ptr<TlsFront>> create(TlsOptions options, ProxyServer& proxy,
                                                          LogFn log = {});
  ~TlsFront();
  TlsFront(const TlsFront&) = delete;
  TlsFront& operator=(const TlsFront&) = delete;

  void listen();  // throws std::system_error naming the address
  unsigned short port() const;
  void start();
  void stop();
  void join();
  core::Status reload();
  std::uint64_t reloads() const;            // successful reloads
  std::uint64_t handshakes() const;         // completed handshakes
  std::uint64_t failed_handshakes() const;  // refused or broken handshakes

  struct Impl;

 private:
  explicit TlsFront(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace enkisys::gateway
