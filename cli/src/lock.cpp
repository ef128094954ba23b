#include "enkisys/cli/lock.hpp"

#include <boost/json.hpp>
#include <random>

namespace enkisys::cli {
namespace json = boost::json;
namespace {

using std::chrono::system_clock;

long long to_ms(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

system_clock::time_point from_ms(long long ms) {
  return system_clock::time_point(std::chrono::milliseconds(ms));
}

std::string random_token() {
  std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string t;
  for (int i = 0; i < 16; ++i) t += hex[rd() % 16];
  return t;
}

// A guard older than this is left over from a killed takeover and may be removed.
constexpr auto kGuardTtl = std::chrono::seconds(30);

}  // namespace

std::string Lease::to_json() const {
  json::object o{{"holder", holder},
                 {"host", host},
                 {"pid", pid},
                 {"token", token},
                 {"purpose", purpose},
                 {"acquired", format_time(acquired)},
                 {"expires", format_time(expires)},
                 {"expires_ms", to_ms(expires)}};
  return json::serialize(o);
}

std::optional<Lease> Lease::parse(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  auto str = [&](const char* k) -> std::string {
    auto* p = o.if_contains(k);
    return p && p->is_string() ? std::string(p->get_string()) : std::string();
  };
  auto* exp = o.if_contains("expires_ms");
  if (!exp || !exp->is_int64()) return std::nullopt;
  Lease l;
  l.holder = str("holder");
  l.host = str("host");
  l.token = str("token");
  l.purpose = str("purpose");
  if (auto* pid = o.if_contains("pid"); pid && pid->is_int64())
    l.pid = static_cast<long>(pid->get_int64());
  l.expires = from_ms(exp->get_int64());
  return l;
}

std::string Lease::describe() const {
  return (holder.empty() ? "unknown" : holder) + " (pid " + std::to_string(pid) + " on " +
         (host.empty() ? "?" : host) + (purpose.empty() ? "" : ", " + purpose) + ", expires " +
         format_time(expires) + ")";
}

Lease StageLock::fresh_lease() {
  Lease l = me_;
  l.token = me_.token.empty() ? random_token() : me_.token;
  l.acquired = clock_->now();
  l.expires = l.acquired + ttl_;
  return l;
}

StageLock::Outcome StageLock::try_acquire(Lease* holder, std::string* error) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    Lease mine = fresh_lease();
    switch (store_->create_exclusive(kFile, mine.to_json(), error)) {
      case StateStore::Create::kCreated:
        me_ = mine;
        held_ = true;
        return Outcome::kAcquired;
      case StateStore::Create::kError:
        return Outcome::kError;
      case StateStore::Create::kExists:
        break;
    }
    std::optional<std::string> text;
    if (auto s = store_->read(kFile, &text); !s.ok) {
      *error = s.message;
      return Outcome::kError;
    }
    if (!text) continue;  // released meanwhile: try again
    auto current = Lease::parse(*text);
    if (current && current->expires > clock_->now()) {
      *holder = *current;
      return Outcome::kHeld;
    }
    // Expired (or unreadable): take it over under the guard.
    Lease guard = fresh_lease();
    guard.expires = guard.acquired + kGuardTtl;
    auto g = store_->create_exclusive(kGuard, guard.to_json(), error);
    if (g == StateStore::Create::kError) return Outcome::kError;
    if (g == StateStore::Create::kExists) {
      std::optional<std::string> gtext;
      if (store_->read(kGuard, &gtext).ok && gtext) {
        auto other = Lease::parse(*gtext);
        if (!other || other->expires <= clock_->now()) store_->remove(kGuard);
      }
      *holder = current.value_or(Lease{});
      holder->purpose = "taking over an expired lease";
      return Outcome::kHeld;
    }
    std::optional<std::string> again;
    Status s = store_->read(kFile, &again);
    bool same = s.ok && again && *again == *text;
    if (same) s = store_->replace(kFile, mine.to_json());
    store_->remove(kGuard);
    if (!s.ok) {
      *error = s.message;
      return Outcome::kError;
    }
    if (same) {
      me_ = mine;
      held_ = true;
      return Outcome::kAcquired;
    }
  }
  *error = "lock " + store_->describe(kFile) + " keeps changing; try again";
  return Outcome::kError;
}

StageLock::Outcome StageLock::acquire(std::chrono::seconds wait, Lease* holder,
                                      std::string* error) {
  const auto deadline = clock_->now() + wait;
  for (;;) {
    auto outcome = try_acquire(holder, error);
    if (outcome != Outcome::kHeld || clock_->now() + poll_ > deadline) return outcome;
    clock_->sleep_for(poll_);
  }
}

Status StageLock::renew() {
  if (!held_) return Status::error("lock not held");
  std::optional<std::string> text;
  if (auto s = store_->read(kFile, &text); !s.ok) return s;
  auto current = text ? Lease::parse(*text) : std::nullopt;
  if (!current || current->token != me_.token) {
    held_ = false;
    return Status::error("lease lost: " + store_->describe(kFile) + " is no longer ours");
  }
  me_.expires = clock_->now() + ttl_;
  return store_->replace(kFile, me_.to_json());
}

Status StageLock::renew_if_due() {
  if (held_ && me_.expires - clock_->now() > ttl_ / 2) return {};
  return renew();
}

Status StageLock::release() {
  if (!held_) return {};
  held_ = false;
  std::optional<std::string> text;
  if (auto s = store_->read(kFile, &text); !s.ok) return s;
  auto current = text ? Lease::parse(*text) : std::nullopt;
  if (!current || current->token != me_.token) return {};  // not ours any more: leave it
  return store_->remove(kFile);
}

Status StageLock::force_release(StateStore& store) {
  store.remove(kGuard);
  return store.remove(kFile);
}

}  // namespace enkisys::cli
