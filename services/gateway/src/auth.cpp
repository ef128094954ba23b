#include "enkisys/gateway/auth.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "enkisys/gateway/upstream.hpp"
#include "enkisys/security/jwks.hpp"

namespace enkisys::gateway {

namespace sec = enkisys::security;

Authenticator::Authenticator(const JwtConfig& config, const security::Clock& clock)
    : clock_(clock),
      cache_(sec::VerificationCache::Options{std::max<std::size_t>(16, config.cache_entries),
                                             config.cache_ttl, 16}) {
  if (!config.issuer.empty()) options_.issuers.push_back(config.issuer);
  if (!config.audience.empty()) options_.audiences.push_back(config.audience);
  options_.leeway = config.leeway;
  options_.allowed_algs = {sec::Alg::kEdDSA, sec::Alg::kRS256, sec::Alg::kES256};
  if (!config.hs256_secret.empty()) {
    auto key = sec::VerifyKey::from_secret(config.hs256_secret, "hs256");
    if (!key.ok()) throw std::invalid_argument("jwt: " + key.error());
    static_keys_.push_back(key.value());
    options_.allowed_algs.insert(sec::Alg::kHS256);
  }
  keys_ = std::make_shared<const sec::KeySet>(static_keys_);
}

std::shared_ptr<const security::KeySet> Authenticator::keys() const {
  std::lock_guard lock(keys_mu_);
  return keys_;
}

void Authenticator::set_jwks_keys(const security::KeySet& keys) {
  std::vector<sec::VerifyKey> all = static_keys_;
  for (const auto& k : keys.keys()) {
    if (!k.is_symmetric() && k.kid() != "hs256") all.push_back(k);
  }
  auto next = std::make_shared<const sec::KeySet>(std::move(all));
  std::lock_guard lock(keys_mu_);
  keys_ = std::move(next);
  keys_version_.fetch_add(1, std::memory_order_release);
}

const security::Claims* Authenticator::authenticate(std::string_view authorization, TokenMemo& memo,
                                                    const char** error) {
  const std::uint64_t version = keys_version_.load(std::memory_order_acquire);
  if (memo.claims && memo.keys_version == version && authorization == memo.authorization) {
    // Same bytes as the last accepted request on this connection: the signature and the key
    // were checked then; time (exp/nbf) and the route's rules are checked now.
    const auto err = sec::check_claims(*memo.claims, options_, sec::unix_seconds(clock_.now()));
    if (!err) return memo.claims.get();
    memo.claims.reset();
    *error = err->code == sec::VerifyError::kExpired ? "token_expired" : "invalid_token";
    if (err->code == sec::VerifyError::kNotYetValid) *error = "token_not_yet_valid";
    return nullptr;
  }
  auto claims = authenticate(authorization, error);
  if (!claims) {
    memo.claims.reset();
    return nullptr;
  }
  memo.authorization.assign(authorization);
  memo.keys_version = version;
  memo.roles.clear();
  for (const auto& role : claims->roles) {
    if (!memo.roles.empty()) memo.roles.push_back(',');
    memo.roles += role;
  }
  memo.claims = std::move(claims);
  return memo.claims.get();
}

std::shared_ptr<const security::Claims> Authenticator::authenticate(std::string_view authorization,
                                                                    const char** error) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      })) {
    *error = "missing_token";
    return nullptr;
  }
  const std::string_view token = authorization.substr(kBearer.size());
  const auto ks = keys();
  auto r = sec::verify_cached(token, *ks, options_, clock_, cache_);
  if (r.ok()) return r.value();
  switch (r.error().code) {
    case sec::VerifyError::kExpired:
      *error = "token_expired";
      break;
    case sec::VerifyError::kNotYetValid:
      *error = "token_not_yet_valid";
      break;
    case sec::VerifyError::kBadIssuer:
      *error = "bad_issuer";
      break;
    case sec::VerifyError::kBadAudience:
      *error = "bad_audience";
      break;
    case sec::VerifyError::kUnknownKid:
      *error = "unknown_key";
      if (unknown_kid_hook_) unknown_kid_hook_();
      break;
    default:
      *error = "invalid_token";
      break;
  }
  return nullptr;
}

JwksRefresher::JwksRefresher(std::string url, Authenticator& auth,
                             std::chrono::seconds min_interval,
                             std::function<void(const std::string&)> on_error, Fetch fetch,
                             bool start)
    : url_(std::move(url)),
      auth_(auth),
      min_interval_(min_interval),
      on_error_(std::move(on_error)),
      fetch_(std::move(fetch)) {
  if (start) thread_ = std::thread([this] { loop(); });
}

std::string JwksRefresher::refresh_now() {
  std::string err;
  if (auto body = fetch_(url_, &err)) {
    auto jwks = sec::Jwks::parse(*body);
    if (jwks.ok()) {
      auth_.set_jwks_keys(jwks.value().key_set());
    } else {
      err = "jwks: " + jwks.error();
    }
  }
  return err;
}

JwksRefresher::~JwksRefresher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JwksRefresher::request() {
  {
    std::lock_guard lock(mu_);
    wanted_ = true;
  }
  cv_.notify_all();
}

void JwksRefresher::loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait(lock, [&] { return stop_ || wanted_; });
    if (stop_) break;
    wanted_ = false;
    lock.unlock();
    const std::string err = refresh_now();
    if (!err.empty() && on_error_) on_error_(err);
    lock.lock();
    // Rate limit: wait out the interval (requests arriving meanwhile are coalesced).
    cv_.wait_for(lock, min_interval_, [&] { return stop_; });
  }
}

std::optional<std::string> JwksRefresher::http_get(const std::string& url, std::string* error) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  auto u = parse_upstream_url(url);
  if (!u.ok()) {
    *error = "jwks_url: " + u.error;
    return std::nullopt;
  }
  try {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(resolver.resolve(u.value->host, u.value->port));
    http::request<http::empty_body> req{http::verb::get,
                                        u.value->base_path.empty() ? "/" : u.value->base_path, 11};
    req.set(http::field::host, u.value->host);
    req.set(http::field::accept, "application/json");
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> p;
    p.body_limit(1 << 20);
    http::read(stream, buf, p);
    if (p.get().result() != http::status::ok) {
      *error = "jwks fetch: HTTP " + std::to_string(p.get().result_int());
      return std::nullopt;
    }
    return std::move(p.get().body());
  } catch (const std::exception& e) {
    *error = std::string("jwks fetch: ") + e.what();
    return std::nullopt;
  }
}

}  // namespace enkisys::gateway
