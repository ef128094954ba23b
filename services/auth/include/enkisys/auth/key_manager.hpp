// KeyManager: the JWT signing keys of the service and the public keys it publishes (JWKS).
//
// Two sources:
//  * a key directory (AUTH_KEYS_DIR, the service's volume): one PKCS#8 PEM file per key, named
//    "<created unix seconds>-<kid>.pem", mode 0600 (files group/world can read are refused).
//    The newest key signs. A new key is generated when there is none, when the configured alg
//    changes, when the active key is older than `rotation_period` (0: never automatically), or
//    on rotate(). A replaced key stays published until `retire_grace` (the access-token
//    lifetime plus leeway) after its successor appeared — every token it signed has expired
//    by then — and its file is deleted afterwards. The directory is rescanned every
//    `rescan_interval`, so processes sharing the volume converge on the newest key.
//  * a secret file (AUTH_SIGNING_KEY_FILE): one fixed key; rotate() is refused.
//
// Contract: thread-safe (one mutex around the key list; readers get immutable snapshots).
// The constructor throws std::runtime_error with a clear message when the keys cannot be
// loaded or created. Private key material is never logged or returned except as a
// SigningKey. Time comes from the injected Clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "enkisys/core/expected.hpp"
#include "enkisys/security/clock.hpp"
#include "enkisys/security/key_set.hpp"
#include "enkisys/security/keys.hpp"

namespace enkisys::auth {

struct KeyOptions {
  std::filesystem::path dir;               // used when signing_key_file is empty
  std::filesystem::path signing_key_file;  // a fixed key from a secret
  security::Alg alg = security::Alg::kEdDSA;
  std::chrono::seconds rotation_period{std::chrono::hours(24 * 30)};
  std::chrono::seconds retire_grace{std::chrono::minutes(16)};
  std::chrono::seconds rescan_interval{60};
  // Called (outside the lock) after the manager generated a key on its own: kid and reason
  // ("initial", "alg_changed", "scheduled"). Not called for rotate().
  std::function<void(const std::string& kid, const std::string& reason)> on_rotated;
};

struct PublishedKey {
  std::string kid;
  security::Alg alg;
  std::int64_t created_at = 0;
  bool active = false;
};

class KeyManager {
 public:
  KeyManager(KeyOptions options, const security::Clock& clock);

  security::SigningKey active();
  std::shared_ptr<const security::KeySet> verify_keys();
  std::string jwks();  // {"keys":[...]} of the published public keys
  std::vector<PublishedKey> published();

  // Generates and activates a new key; returns its kid, or a kConflict error when keys come
  // from a secret file or cannot be written.
  core::Expected<std::string> rotate();
  bool rotatable() const { return options_.signing_key_file.empty(); }

 private:
  struct Entry {
    security::SigningKey key;
    std::int64_t created = 0;
  };
  struct Snapshot {
    std::shared_ptr<const security::KeySet> set;
    std::string jwks;
  };
  // REQUIRES for the *_locked members: mu_ held.
  // Rescans/rotates/prunes as due; returns the reason of a rotation it performed, or "".
  std::string maintain_locked(bool force_scan);
  void scan_locked(bool strict);
  std::string generate_locked();  // returns the new kid
  void publish_locked(std::int64_t now);
  void notify(const std::string& kid, const std::string& reason) const;

  KeyOptions options_;
  const security::Clock& clock_;
  std::mutex mu_;
  std::vector<Entry> keys_;  // ascending by created; back() is active
  Snapshot snapshot_;
  std::vector<PublishedKey> published_;
  std::int64_t last_scan_ = 0;
  std::int64_t next_change_ = 0;  // when a retired key next leaves the published set
};

}  // namespace enkisys::auth
