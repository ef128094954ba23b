#include "enkisys/security/encoding.hpp"

#include <sodium.h>

#include <array>
#include <cstdint>

#include "enkisys/security/secrets.hpp"

namespace enkisys::security {
namespace {

std::string encode(std::string_view bytes, int variant) {
  ensure_sodium();
  const std::size_t cap = sodium_base64_ENCODED_LEN(bytes.size(), variant);
  std::string out(cap, '\0');
  sodium_bin2base64(out.data(), cap, reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(cap - 1);  // drop the terminating NUL
  while (!out.empty() && out.back() == '\0') {
    out.pop_back();
  }
  return out;
}

// Strict table-driven decoder. (libsodium's decoder is constant time, which costs ~45% of a
// full HS256 verify; JWT segments are public, so the gateway's miss path uses this one.)
constexpr std::uint8_t kInvalid = 0x80;  // any value with bit 7 set

struct Alphabet {
  std::array<std::uint8_t, 256> value{};  // 0..63, or kInvalid
  constexpr explicit Alphabet(std::string_view chars) {
    value.fill(kInvalid);
    for (std::size_t i = 0; i < chars.size(); ++i) {
      value[static_cast<unsigned char>(chars[i])] = static_cast<std::uint8_t>(i);
    }
  }
};
constexpr Alphabet kUrl("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
constexpr Alphabet kStd("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

std::optional<std::string> decode(std::string_view in, const Alphabet& a) {
  if (in.size() % 4 == 1) {
    return std::nullopt;  // a lone 6-bit group encodes nothing
  }
  auto at = [&](std::size_t i) -> unsigned { return a.value[static_cast<unsigned char>(in[i])]; };
  std::string out;
  out.reserve(in.size() / 4 * 3 + 2);
  std::size_t i = 0;
  for (; i + 4 <= in.size(); i += 4) {
    const unsigned c0 = at(i), c1 = at(i + 1), c2 = at(i + 2), c3 = at(i + 3);
    if (((c0 | c1 | c2 | c3) & kInvalid) != 0) {
      return std::nullopt;
    }
    const std::uint32_t v = (c0 << 18) | (c1 << 12) | (c2 << 6) | c3;
    out.push_back(static_cast<char>(v >> 16));
    out.push_back(static_cast<char>((v >> 8) & 0xFF));
    out.push_back(static_cast<char>(v & 0xFF));
  }
  const std::size_t rest = in.size() - i;
  if (rest >= 2) {
    const unsigned c0 = at(i), c1 = at(i + 1), c2 = rest == 3 ? at(i + 2) : 0;
    if (((c0 | c1 | c2) & kInvalid) != 0) {
      return std::nullopt;
    }
    // Canonical form: the bits below the last full byte must be zero.
    if (rest == 2 && (c1 & 0x0F) != 0) {
      return std::nullopt;
    }
    if (rest == 3 && (c2 & 0x03) != 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>((c0 << 2) | (c1 >> 4)));
    if (rest == 3) {
      out.push_back(static_cast<char>(((c1 & 0x0F) << 4) | (c2 >> 2)));
    }
  }
  return out;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  return encode(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
std::optional<std::string> base64url_decode(std::string_view text) {
  return decode(text, kUrl);
}
std::string base64_encode(std::string_view bytes) {
  return encode(bytes, sodium_base64_VARIANT_ORIGINAL);
}
std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;  // padding is mandatory in this variant
  }
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') {
    ++pad;
  }
  return decode(text.substr(0, text.size() - pad), kStd);  // '=' elsewhere is invalid
}

std::string hex_encode(std::string_view bytes) {
  ensure_sodium();
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  out.pop_back();
  return out;
}

}  // namespace enkisys::security
