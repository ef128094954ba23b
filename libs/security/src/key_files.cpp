// Private key files: strict permissions on read, atomic 0600 writes.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "enkisys/security/encoding.hpp"
#include "enkisys/security/keys.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::security {
namespace {

constexpr std::size_t kMaxKeyFileBytes = 1 << 20;

std::string errno_text(int err) {
  return std::strerror(err);
}

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Expected<SigningKey, std::string> SigningKey::load_pem_file(const std::filesystem::path& path,
                                                            std::string kid) {
  const std::string name = path.string();
  Fd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return unexpected("cannot open private key file " + name + ": " + errno_text(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return unexpected("cannot stat private key file " + name + ": " + errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return unexpected("private key file " + name + " is not a file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return unexpected("refusing private key file " + name + ": mode " + mode_text(st.st_mode) +
                      " lets group/others access it; run `chmod 600 " + name + "`");
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxKeyFileBytes) {
    return unexpected("private key file " + name + " is too large to be a key");
  }
  std::string pem(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < pem.size()) {
    const ssize_t n = ::read(fd.get(), pem.data() + got, pem.size() - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  pem.resize(got);
  auto key = from_private_pem(pem, std::move(kid));
  sodium_memzero(pem.data(), pem.size());
  if (!key) {
    return unexpected(name + ": " + key.error());
  }
  return key;
}

namespace {
Error io_error(std::string message) {
  return make_error(core::ErrorKind::kInternal, "io_error", std::move(message));
}
}  // namespace

Status SigningKey::save_pem_file(const std::filesystem::path& path) const {
  std::string pem = private_pem();
  const std::string target = path.string();
  const std::string tmp = target + ".tmp-" + hex_encode(random_bytes(6));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    return io_error("cannot create " + tmp + ": " + errno_text(errno));
  }
  const bool written =
      write_all(fd.get(), pem) && ::fchmod(fd.get(), 0600) == 0 && ::fsync(fd.get()) == 0;
  const int err = errno;
  sodium_memzero(pem.data(), pem.size());
  if (::close(fd.release()) != 0 || !written) {
    ::unlink(tmp.c_str());
    return io_error("cannot write " + tmp + ": " + errno_text(err));
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int rename_err = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot rename " + tmp + " to " + target + ": " + errno_text(rename_err));
  }
  // Make the rename durable; failure here does not undo the (already visible) new file.
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) {
    ::fsync(dfd.get());
  }
  return core::ok_status();
}

}  // namespace enkisys::security
