// Little-endian binary encoding and the checksummed index file envelope shared by the BM25 and
// vector index files. Internal to the library.
//
// File: magic (8 bytes) | version u32 | payload size u64 | payload | FNV-1a-64(payload) u64.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "enkisys/core/expected.hpp"

namespace enkisys::rag::detail {

inline constexpr std::string_view kBm25Magic{"ENKRAGB\0", 8};
inline constexpr std::string_view kVectorMagic{"ENKRAGV\0", 8};
inline constexpr std::string_view kEmbedderMagic{"ENKRAGE\0", 8};

std::uint64_t fnv1a64(std::string_view data);

core::Error corrupt(const std::string& message);

class Writer {
 public:
  void u32(std::uint32_t v) { raw(&v, sizeof v); }
  void u64(std::uint64_t v) { raw(&v, sizeof v); }
  void f32(float v) { raw(&v, sizeof v); }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void raw(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  void reserve(std::size_t n) { out_.reserve(n); }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;  // host order: the index files are little-endian (x86-64, arm64)
};

// Bounds-checked reader: after the first overrun every read yields zero and ok() is false.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  std::uint32_t u32() { return get<std::uint32_t>(); }
  std::uint64_t u64() { return get<std::uint64_t>(); }
  float f32() { return get<float>(); }
  std::string str() {
    const std::uint32_t n = u32();
    if (!ok_ || n > data_.size() - pos_) {
      ok_ = false;
      return {};
    }
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // A count of items of at least `min_item_bytes` each; refuses one the data cannot hold.
  std::uint32_t count(std::size_t min_item_bytes) {
    const std::uint32_t n = u32();
    if (!ok_ || static_cast<std::uint64_t>(n) * min_item_bytes > data_.size() - pos_) {
      ok_ = false;
      return 0;
    }
    return n;
  }
  bool raw(void* p, std::size_t n) {
    if (!ok_ || n > data_.size() - pos_) {
      ok_ = false;
      return false;
    }
    std::memcpy(p, data_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  template <class T>
  T get() {
    T v{};
    raw(&v, sizeof v);
    return v;
  }
  std::string_view data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Writes the envelope to path + ".tmp", then renames it over `path`.
core::Status write_file(const std::string& path, std::string_view magic, std::uint32_t version,
                        const std::string& payload);
// The verified payload; kNotFound "index_missing", kUnprocessable "index_corrupt".
core::Expected<std::string> read_file(const std::string& path, std::string_view magic,
                                      std::uint32_t version);

}  // namespace enkisys::rag::detail
