#include "enkisys/auth/key_manager.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <regex>
#include <stdexcept>

#include "enkisys/core/config.hpp"
#include "enkisys/security/jwks.hpp"

namespace enkisys::auth {

namespace fs = std::filesystem;
using security::unix_seconds;

namespace {
const std::regex& key_file_pattern() {
  static const std::regex re(R"(^([0-9]{1,19})-([A-Za-z0-9_-]{1,128})\.pem$)");
  return re;
}
}  // namespace

KeyManager::KeyManager(KeyOptions options, const security::Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  std::string reason;
  {
    std::lock_guard lock(mu_);
    if (!options_.signing_key_file.empty()) {
      auto pem =
          core::read_secret_file("AUTH_SIGNING_KEY_FILE", options_.signing_key_file.string());
      if (!pem) throw std::runtime_error(pem.error().message);
      auto key = security::SigningKey::from_private_pem(*pem);
      if (!key) {
        throw std::runtime_error("AUTH_SIGNING_KEY_FILE: " + key.error());
      }
      if (key->alg() != options_.alg) {
        throw std::runtime_error(
            "AUTH_SIGNING_KEY_FILE holds a " + std::string(security::alg_name(key->alg())) +
            " key but AUTH_JWT_ALG is " + std::string(security::alg_name(options_.alg)));
      }
      if (key->alg() == security::Alg::kHS256) {
        throw std::runtime_error("AUTH_SIGNING_KEY_FILE: symmetric keys cannot be published");
      }
      keys_.push_back({std::move(key).value(), unix_seconds(clock_.now())});
      publish_locked(unix_seconds(clock_.now()));
      return;
    }
    std::error_code ec;
    fs::create_directories(options_.dir, ec);
    if (ec) {
      throw std::runtime_error("AUTH_KEYS_DIR " + options_.dir.string() +
                               " cannot be created: " + ec.message());
    }
    ::chmod(options_.dir.c_str(), 0700);
    scan_locked(/*strict=*/true);
    reason = maintain_locked(false);
  }
  if (!reason.empty()) notify(keys_.back().key.kid(), reason);
}

void KeyManager::scan_locked(bool strict) {
  std::vector<Entry> found;
  std::error_code ec;
  for (const auto& de : fs::directory_iterator(options_.dir, ec)) {
    const std::string name = de.path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, key_file_pattern())) continue;
    auto key = security::SigningKey::load_pem_file(de.path());
    if (!key) {
      if (strict)
        throw std::runtime_error("signing key " + de.path().string() + ": " + key.error());
      continue;  // e.g. a file another process is still writing; next scan sees it
    }
    found.push_back({std::move(key).value(), std::stoll(m[1].str())});
  }
  if (ec && strict) {
    throw std::runtime_error("AUTH_KEYS_DIR " + options_.dir.string() + ": " + ec.message());
  }
  if (ec) return;
  std::sort(found.begin(), found.end(), [](const Entry& a, const Entry& b) {
    return a.created != b.created ? a.created < b.created : a.key.kid() < b.key.kid();
  });
  keys_ = std::move(found);
  last_scan_ = unix_seconds(clock_.now());
}

std::string KeyManager::maintain_locked(bool force_scan) {
  const std::int64_t now = unix_seconds(clock_.now());
  if (!rotatable()) {
    if (now >= next_change_) publish_locked(now);
    return "";
  }
  bool scanned = false;
  if (force_scan || now - last_scan_ >= options_.rescan_interval.count()) {
    scan_locked(false);
    scanned = true;
  }
  std::string reason;
  if (keys_.empty()) {
    reason = "initial";
  } else if (keys_.back().key.alg() != options_.alg) {
    reason = "alg_changed";
  } else if (options_.rotation_period.count() > 0 &&
             now - keys_.back().created >= options_.rotation_period.count()) {
    reason = "scheduled";
  }
  if (!reason.empty()) {
    generate_locked();
  } else if (snapshot_.set == nullptr || scanned || now >= next_change_) {
    publish_locked(now);
  }
  return reason;
}

std::string KeyManager::generate_locked() {
  const std::int64_t now =
      std::max(unix_seconds(clock_.now()), keys_.empty() ? 0 : keys_.back().created + 1);
  auto key = security::SigningKey::generate(options_.alg);
  const fs::path path = options_.dir / (std::to_string(now) + "-" + key.kid() + ".pem");
  auto saved = key.save_pem_file(path);
  if (!saved) throw std::runtime_error("cannot save a new signing key: " + saved.error().message);
  keys_.push_back({std::move(key), now});
  publish_locked(unix_seconds(clock_.now()));
  return keys_.back().key.kid();
}

void KeyManager::publish_locked(std::int64_t now) {
  std::vector<security::VerifyKey> pub;
  std::vector<PublishedKey> info;
  std::vector<Entry> kept;
  next_change_ = INT64_MAX;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const bool active = i + 1 == keys_.size();
    const bool live = active || now < keys_[i + 1].created + options_.retire_grace.count();
    if (!live) {
      if (rotatable()) {
        std::error_code ec;
        fs::remove(
            options_.dir / (std::to_string(keys_[i].created) + "-" + keys_[i].key.kid() + ".pem"),
            ec);
      }
      continue;
    }
    if (!active)
      next_change_ = std::min(next_change_, keys_[i + 1].created + options_.retire_grace.count());
    pub.push_back(keys_[i].key.verify_key());
    info.push_back({keys_[i].key.kid(), keys_[i].key.alg(), keys_[i].created, active});
    kept.push_back(keys_[i]);
  }
  keys_ = std::move(kept);
  snapshot_.set = std::make_shared<const security::KeySet>(pub);
  snapshot_.jwks = security::Jwks::serialize(pub);
  published_ = std::move(info);
}

void KeyManager::notify(const std::string& kid, const std::string& reason) const {
  if (options_.on_rotated) options_.on_rotated(kid, reason);
}

security::SigningKey KeyManager::active() {
  std::string reason;
  security::SigningKey key = [&] {
    std::lock_guard lock(mu_);
    reason = maintain_locked(false);
    return keys_.back().key;
  }();
  if (!reason.empty()) notify(key.kid(), reason);
  return key;
}

std::shared_ptr<const security::KeySet> KeyManager::verify_keys() {
  std::string reason, kid;
  std::shared_ptr<const security::KeySet> set;
  {
    std::lock_guard lock(mu_);
    reason = maintain_locked(false);  // also drops retired keys whose grace has passed
    set = snapshot_.set;
    kid = keys_.back().key.kid();
  }
  if (!reason.empty()) notify(kid, reason);
  return set;
}

std::string KeyManager::jwks() {
  verify_keys();
  std::lock_guard lock(mu_);
  return snapshot_.jwks;
}

std::vector<PublishedKey> KeyManager::published() {
  verify_keys();
  std::lock_guard lock(mu_);
  return published_;
}

core::Expected<std::string> KeyManager::rotate() {
  if (!rotatable()) {
    return core::make_error(core::ErrorKind::kConflict, "conflict",
                            "the signing key comes from AUTH_SIGNING_KEY_FILE; rotate it there");
  }
  std::string kid;
  try {
    std::lock_guard lock(mu_);
    scan_locked(false);
    kid = generate_locked();
  } catch (const std::exception& e) {
    return core::make_error(core::ErrorKind::kConflict, "conflict", e.what());
  }
  return kid;  // the caller audits a manual rotation itself, with who asked for it
}

}  // namespace enkisys::auth
