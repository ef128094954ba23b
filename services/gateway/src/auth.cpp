#include "enkisys/gateway/auth.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "enkisys/core/config.hpp"
#include "enkisys/core/request.hpp"
#include "enkisys/gateway/headers.hpp"
#include "enkisys/gateway/route_table.hpp"
#include "enkisys/gateway/upstream.hpp"
#include "enkisys/security/jwks.hpp"

namespace enkisys::gateway {

namespace sec = enkisys::security;

namespace {
// Key-set versions are unique across every Authenticator of the process (see TokenMemo).
std::atomic<std::uint64_t> g_next_keys_version{1};
std::uint64_t next_keys_version() {
  return g_next_keys_version.fetch_add(1, std::memory_order_relaxed);
}
bool claims_fit_headers(const security::Claims& c) {
  if (!valid_header_value(c.sub)) return false;
  for (const auto& role : c.roles) {
    if (!valid_header_value(role) || role.find(',') != std::string::npos) return false;
  }
  return true;
}
}  // namespace

Authenticator::Authenticator(const JwtConfig& config, const security::Clock& clock)
    : config_(config),
      clock_(clock),
      keys_version_(next_keys_version()),
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
  const std::size_t jwks = all.size() - static_keys_.size();
  auto next = std::make_shared<const sec::KeySet>(std::move(all));
  std::lock_guard lock(keys_mu_);
  keys_ = std::move(next);
  jwks_keys_ = jwks;
  keys_version_.store(next_keys_version(), std::memory_order_release);
}

void Authenticator::set_revoked(const std::vector<std::pair<std::string, std::int64_t>>& list) {
  const auto now = sec::unix_seconds(clock_.now());
  std::unordered_map<std::string, std::int64_t> next;
  for (const auto& [sid, exp] : list) {
    if (exp + config_.leeway.count() >= now) next[sid] = exp;
  }
  std::lock_guard lock(revoked_mu_);
  revoked_ = std::move(next);
  any_revoked_.store(!revoked_.empty(), std::memory_order_release);
  revoked_version_.fetch_add(1, std::memory_order_acq_rel);
}

std::size_t Authenticator::revoked_count() const {
  std::lock_guard lock(revoked_mu_);
  return revoked_.size();
}

bool Authenticator::revoked(const security::Claims& claims) const {
  const auto* sid = claims.raw.if_contains("sid");
  if (!sid || !sid->is_string()) return false;
  const std::string_view key = sid->as_string();
  std::lock_guard lock(revoked_mu_);
  return revoked_.find(std::string(key)) != revoked_.end();
}

void Authenticator::refresh_finished(const std::string& error) {
  {
    std::lock_guard lock(keys_mu_);
    if (error.empty()) ++fetches_ok_;
    last_error_ = error;
  }
  attempts_.fetch_add(1, std::memory_order_acq_rel);
  std::lock_guard lock(waiters_mu_);
  for (auto& [id, fn] : waiters_) fn();
}

std::uint64_t Authenticator::on_refresh(std::function<void()> fn) {
  std::lock_guard lock(waiters_mu_);
  const auto id = next_waiter_++;
  waiters_.emplace(id, std::move(fn));
  return id;
}

void Authenticator::forget(std::uint64_t id) {
  std::lock_guard lock(waiters_mu_);
  waiters_.erase(id);
}

KeySourceStatus Authenticator::status() const {
  std::lock_guard lock(keys_mu_);
  return KeySourceStatus{config_.jwks_url, jwks_keys_, fetches_ok_,
                         attempts_.load(std::memory_order_acquire), last_error_};
}

const security::Claims* Authenticator::authenticate(std::string_view authorization, TokenMemo& memo,
                                                    const char** error) {
  const std::uint64_t version = keys_version_.load(std::memory_order_acquire);
  const std::uint64_t revoked_version = revoked_version_.load(std::memory_order_acquire);
  if (memo.claims && memo.keys_version == version && authorization == memo.authorization) {
    // Same bytes as the last accepted request on this connection: the signature and the key
    // were checked then; time (exp/nbf) and the route's rules are checked now, the revocation
    // list only when it changed since.
    if (memo.revoked_version != revoked_version) {
      if (revoked(*memo.claims)) {
        memo.claims.reset();
        *error = "token_revoked";
        return nullptr;
      }
      memo.revoked_version = revoked_version;
    }
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
  memo.revoked_version = revoked_version;
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
  const auto token = core::parse_bearer(authorization);
  if (!token) {
    *error = "missing_token";
    return nullptr;
  }
  const auto ks = keys();
  auto r = sec::verify_cached(*token, *ks, options_, clock_, cache_);
  if (r.ok()) {
    // sub and roles become X-User-Id / X-User-Roles upstream: a signed CR/LF (or any control
    // byte) must not split the forwarded request, and a ',' would forge a role in the joined
    // list. Checked on every non-memo acceptance (cache hits too): a few dozen bytes.
    if (!claims_fit_headers(*r.value())) {
      *error = "invalid_claims";
      return nullptr;
    }
    if (any_revoked_.load(std::memory_order_acquire) && revoked(*r.value())) {
      *error = "token_revoked";
      return nullptr;
    }
    return r.value();
  }
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
      *error = unknown_kid_hook_ && unknown_kid_hook_() ? kAwaitingKeys : "unknown_key";
      break;
    default:
      *error = "invalid_token";
      break;
  }
  return nullptr;
}

struct JwksRefresher::State {
  using SteadyClock = std::chrono::steady_clock;
  explicit State(Schedule s) : schedule(s) {}
  const Schedule schedule;
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  mutable bool wanted = true;  // the first fetch
  bool stop = false;
  bool fetching = false;
  bool ever_ok = false;
  int failures = 0;  // consecutive
  SteadyClock::time_point last_attempt{}, last_ok{};

  // Earliest time a requested (unknown kid) fetch may start. REQUIRES: mu held.
  SteadyClock::time_point requested_due() const {
    if (failures > 0 || !ever_ok) return last_attempt + schedule.retry_min;
    return last_ok + schedule.min_interval;
  }
  // When the next fetch starts without being asked. REQUIRES: mu held.
  SteadyClock::time_point scheduled_due() const {
    if (failures > 0) {
      const auto backoff = std::min<std::chrono::seconds>(
          std::chrono::seconds(1LL << std::min(failures - 1, 10)), schedule.min_interval);
      return last_attempt + backoff;
    }
    return last_ok + schedule.refresh_interval;
  }
  bool request() const {
    std::lock_guard lock(mu);
    if (stop) return false;
    wanted = true;
    cv.notify_all();
    return fetching || SteadyClock::now() >= requested_due();
  }
};

JwksRefresher::JwksRefresher(std::string url, Authenticator& auth, Schedule schedule,
                             std::function<void(const std::string&)> on_error, Fetch fetch,
                             bool start)
    : url_(std::move(url)),
      auth_(auth),
      on_error_(std::move(on_error)),
      fetch_(std::move(fetch)),
      state_(std::make_shared<State>(schedule)) {
  if (start) thread_ = std::thread([this] { loop(); });
}

bool JwksRefresher::request() const {
  return state_->request();
}

std::function<bool()> JwksRefresher::requester() const {
  return [st = state_] { return st->request(); };
}

std::string JwksRefresher::fetch_and_install() {
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

void JwksRefresher::record(const std::string& err) {
  {
    std::lock_guard lock(state_->mu);
    State& st = *state_;
    st.fetching = false;
    st.last_attempt = State::SteadyClock::now();
    if (err.empty()) {
      st.ever_ok = true;
      st.failures = 0;
      st.last_ok = st.last_attempt;
    } else {
      ++st.failures;
    }
  }
  auth_.refresh_finished(err);  // waiters see the new schedule when they ask again
}

std::string JwksRefresher::refresh_now() {
  std::string err = fetch_and_install();
  record(err);
  return err;
}

JwksRefresher::~JwksRefresher() {
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
  }
  state_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JwksRefresher::loop() {
  State& st = *state_;
  std::string last_reported;
  std::unique_lock lock(st.mu);
  while (!st.stop) {
    const auto due =
        st.wanted ? std::min(st.requested_due(), st.scheduled_due()) : st.scheduled_due();
    if (State::SteadyClock::now() < due) {
      st.cv.wait_until(lock, due);
      continue;  // re-evaluate: stopped, asked earlier, or due now
    }
    st.wanted = false;
    st.fetching = true;
    lock.unlock();
    const std::string err = fetch_and_install();
    record(err);
    if (err != last_reported && on_error_) on_error_(err);  // a new error, or "" on recovery
    last_reported = err;
    lock.lock();
  }
}

namespace {
// One blocking GET of an http:// URL within `timeout`: status, body (≤ 1 MiB) and ETag.
std::optional<RevocationPoller::Response> http_fetch_once(const std::string& url,
                                                          const std::string& bearer,
                                                          const std::string& etag,
                                                          std::chrono::seconds timeout,
                                                          std::string* error) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  auto u = parse_upstream_url(url);
  if (!u.ok()) {
    *error = u.error().message;
    return std::nullopt;
  }
  try {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(timeout);
    stream.connect(resolver.resolve(u->host, u->port));
    http::request<http::empty_body> req{http::verb::get, u->base_path.empty() ? "/" : u->base_path,
                                        11};
    req.set(http::field::host, u->host);
    req.set(http::field::accept, "application/json");
    if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
    if (!etag.empty()) req.set(http::field::if_none_match, etag);
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> p;
    p.body_limit(1 << 20);
    http::read(stream, buf, p);
    RevocationPoller::Response out;
    out.status = static_cast<int>(p.get().result_int());
    out.etag = std::string(p.get()[http::field::etag]);
    out.body = std::move(p.get().body());
    return out;
  } catch (const std::exception& e) {
    *error = e.what();
    return std::nullopt;
  }
}
}  // namespace

std::optional<std::string> JwksRefresher::http_get(const std::string& url, std::string* error) {
  std::string err;
  auto r = http_fetch_once(url, "", "", std::chrono::seconds(5), &err);
  if (!r) {
    *error = (err.rfind("upstream", 0) == 0 ? "jwks_url: " : "jwks fetch: ") + err;
    return std::nullopt;
  }
  if (r->status != 200) {
    *error = "jwks fetch: HTTP " + std::to_string(r->status);
    return std::nullopt;
  }
  return std::move(r->body);
}

std::optional<RevocationPoller::Response> RevocationPoller::http_fetch(const std::string& url,
                                                                       const std::string& bearer,
                                                                       const std::string& etag,
                                                                       std::string* error) {
  return http_fetch_once(url, bearer, etag, std::chrono::seconds(2), error);
}

RevocationPoller::Bearer RevocationPoller::Bearer::from_file(std::string path) {
  Bearer b;
  b.file = std::move(path);
  return b;
}

RevocationPoller::RevocationPoller(std::string url, Bearer bearer, std::chrono::seconds poll,
                                   Authenticator& auth,
                                   std::function<void(const std::string&)> on_error, Fetch fetch,
                                   bool start)
    : url_(std::move(url)),
      bearer_(std::move(bearer)),
      poll_(poll),
      auth_(auth),
      on_error_(std::move(on_error)),
      fetch_(std::move(fetch)) {
  if (start) thread_ = std::thread([this] { loop(); });
}

RevocationPoller::~RevocationPoller() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string RevocationPoller::poll_now() {
  std::string bearer = bearer_.value;
  if (!bearer_.file.empty()) {
    auto secret = core::read_secret_file("jwt.revocations_token_file", bearer_.file, 16);
    if (!secret.ok()) return "revocations: " + secret.error().message;
    bearer = std::move(secret.value());
  }
  std::string err;
  auto r = fetch_(url_, bearer, etag_, &err);
  if (!r) return "revocations fetch: " + err;
  if (r->status == 304) return "";
  if (r->status != 200) return "revocations fetch: HTTP " + std::to_string(r->status);
  boost::system::error_code ec;
  const auto doc = boost::json::parse(r->body, ec);
  const auto* list = !ec && doc.is_object() ? doc.as_object().if_contains("revoked") : nullptr;
  if (!list || !list->is_array()) return "revocations: no \"revoked\" list";
  std::vector<std::pair<std::string, std::int64_t>> revoked;
  for (const auto& item : list->as_array()) {
    const auto* o = item.if_object();
    const auto* sid = o ? o->if_contains("sid") : nullptr;
    const auto* exp = o ? o->if_contains("exp") : nullptr;
    if (!sid || !sid->is_string() || !exp || !exp->is_int64()) {
      return "revocations: an entry without a string sid and an integer exp";
    }
    revoked.emplace_back(std::string(sid->as_string()), exp->as_int64());
  }
  auth_.set_revoked(revoked);
  etag_ = r->etag;
  return "";
}

void RevocationPoller::loop() {
  std::string last_reported;
  int failures = 0;
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    const std::string err = poll_now();
    if (!err.empty()) failures_.fetch_add(1, std::memory_order_relaxed);
    if (err != last_reported && on_error_) on_error_(err);  // a new error, or "" on recovery
    last_reported = err;
    failures = err.empty() ? 0 : failures + 1;
    const auto wait = failures == 0
                          ? poll_
                          : std::min<std::chrono::seconds>(
                                std::chrono::seconds(1LL << std::min(failures - 1, 10)), poll_);
    lock.lock();
    cv_.wait_for(lock, wait, [this] { return stop_; });
  }
}

namespace {
// Identity of a verifier: every setting that changes how tokens are verified.
std::string settings_key(const JwtConfig& c) {
  std::string k;
  for (const std::string* part : {&c.jwks_url, &c.issuer, &c.audience, &c.hs256_secret,
                                  &c.revocations_url, &c.revocations_token_file}) {
    k += std::to_string(part->size());
    k += ':';
    k += *part;
  }
  for (const long long n :
       {static_cast<long long>(c.leeway.count()), static_cast<long long>(c.cache_entries),
        static_cast<long long>(c.cache_ttl.count()),
        static_cast<long long>(c.jwks_refetch_min.count()),
        static_cast<long long>(c.jwks_refresh.count()),
        static_cast<long long>(c.jwks_retry_min.count()),
        static_cast<long long>(c.revocation_poll.count())}) {
    k += std::to_string(n);
    k += ',';
  }
  return k;
}
}  // namespace

Verifiers::Verifiers(Options options) : options_(std::move(options)) {}

Verifiers::~Verifiers() {
  std::lock_guard lock(mu_);
  entries_.clear();  // stops the refreshers
}

std::optional<std::string> Verifiers::attach(Generation& g) {
  std::map<std::string, std::shared_ptr<Authenticator>> chosen;  // key → verifier, for g
  std::map<std::string, Entry> fresh;
  {
    std::lock_guard lock(mu_);
    for (auto& st : g.stages) {
      st.auth = nullptr;
      if (!g.config.jwt.enabled) continue;
      const auto key = settings_key(st.jwt);
      auto& verifier = chosen[key];
      if (!verifier) {
        if (auto it = entries_.find(key); it != entries_.end()) {
          verifier = it->second.auth;
        } else {
          try {
            verifier = std::make_shared<Authenticator>(st.jwt, *options_.clock);
          } catch (const std::exception& e) {
            return "stage '" + st.name + "': " + e.what();  // g is not published
          }
          fresh.emplace(key, Entry{verifier, nullptr, nullptr});
        }
      }
      st.auth = verifier;
    }
  }
  for (auto& [key, e] : fresh) {
    const auto& c = e.auth->config();
    if (!c.revocations_url.empty()) {
      auto report = [cb = options_.on_fetch_state,
                     url = c.revocations_url](const std::string& err) {
        if (cb) cb(url, err);
      };
      e.revocations = std::make_unique<RevocationPoller>(
          c.revocations_url, RevocationPoller::Bearer::from_file(c.revocations_token_file),
          c.revocation_poll, *e.auth, std::move(report), options_.revocation_fetch);
    }
    if (c.jwks_url.empty()) continue;
    auto report = [cb = options_.on_fetch_state, url = c.jwks_url](const std::string& err) {
      if (cb) cb(url, err);
    };
    e.refresher = std::make_unique<JwksRefresher>(
        c.jwks_url, *e.auth,
        JwksRefresher::Schedule{c.jwks_refetch_min, c.jwks_refresh, c.jwks_retry_min},
        std::move(report), options_.fetch);
    e.auth->set_unknown_kid_hook(e.refresher->requester());
  }
  std::map<std::string, Entry> retired;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, e] : fresh) entries_.emplace(key, std::move(e));
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (chosen.count(it->first)) {
        ++it;
      } else {
        retired.emplace(it->first, std::move(it->second));
        it = entries_.erase(it);
      }
    }
  }
  return std::nullopt;  // `retired` stops its refreshers here, outside the lock
}

std::string Verifiers::refresh_all_now() {
  std::vector<std::pair<std::string, JwksRefresher*>> todo;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, e] : entries_) {
      if (e.refresher) todo.emplace_back(e.auth->config().jwks_url, e.refresher.get());
    }
  }
  for (auto& [url, r] : todo) {
    if (auto err = r->refresh_now(); !err.empty()) return url + ": " + err;
  }
  return "";
}

std::size_t Verifiers::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace enkisys::gateway
