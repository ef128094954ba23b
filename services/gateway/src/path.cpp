#include "enkisys/gateway/path.hpp"

#include <array>
#include <cctype>

namespace enkisys::gateway {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 0 = not a dot segment, 1 = ".", 2 = ".." (each dot raw or %2e).
int dot_kind(std::string_view seg) {
  int dots = 0;
  std::size_t i = 0;
  while (i < seg.size()) {
    if (seg[i] == '.') {
      ++dots;
      ++i;
    } else if (seg[i] == '%' && i + 2 < seg.size() && seg[i + 1] == '2' &&
               (seg[i + 2] == 'e' || seg[i + 2] == 'E')) {
      ++dots;
      i += 3;
    } else {
      return 0;
    }
    if (dots > 2) return 0;
  }
  return dots;
}

}  // namespace

const char* normalize_target(std::string_view target, std::string* scratch, std::string_view* path,
                             std::string_view* query) {
  if (target.empty() || target[0] != '/') return "request target must be an absolute path";
  const auto qpos = target.find('?');
  std::string_view p = target.substr(0, qpos);
  *query = qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
  // Validate escapes and forbidden characters in one pass; note whether work is needed.
  bool needs_work = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') return "backslash in path";
    if (c == '%') {
      if (i + 2 >= p.size()) return "malformed percent-escape";
      const int h = hex(p[i + 1]), l = hex(p[i + 2]);
      if (h < 0 || l < 0) return "malformed percent-escape";
      const int v = h * 16 + l;
      if (v == '/' || v == '\\') return "encoded slash in path";
      if (v == 0) return "encoded NUL in path";
      if (v == '.') needs_work = true;
      i += 2;
    } else if (c == '/' && i + 1 < p.size() && (p[i + 1] == '/' || p[i + 1] == '.')) {
      needs_work = true;
    }
  }
  if (!needs_work) {
    *path = p;
    return nullptr;
  }
  // Slow path: split into segments, resolve dot segments, rebuild.
  std::array<std::string_view, 128> segs;
  std::size_t n = 0;
  std::size_t i = 1;
  bool trailing_slash = false;
  while (i <= p.size()) {
    const auto next = p.find('/', i);
    const std::string_view seg =
        p.substr(i, next == std::string_view::npos ? std::string_view::npos : next - i);
    trailing_slash = false;
    if (seg.empty()) {
      trailing_slash = next == std::string_view::npos;  // "a/" keeps its trailing slash
    } else {
      const int k = dot_kind(seg);
      if (k == 1) {
        trailing_slash = true;
      } else if (k == 2) {
        if (n <= 1) return "path escapes its stage";
        --n;
        trailing_slash = true;
      } else {
        if (n == segs.size()) return "too many path segments";
        segs[n++] = seg;
      }
    }
    if (next == std::string_view::npos) break;
    i = next + 1;
  }
  scratch->clear();
  for (std::size_t k = 0; k < n; ++k) {
    scratch->push_back('/');
    scratch->append(segs[k]);
  }
  if (scratch->empty() || trailing_slash) scratch->push_back('/');
  *path = *scratch;
  return nullptr;
}

std::string login_location(std::string_view stage_prefix, std::string_view login_path,
                           std::string_view original) {
  std::string out;
  out.reserve(stage_prefix.size() + login_path.size() + 6 + original.size() * 3);
  out.append(stage_prefix).append(login_path);
  const bool same_stage = original.size() > stage_prefix.size() &&
                          original.compare(0, stage_prefix.size(), stage_prefix) == 0 &&
                          original[stage_prefix.size()] == '/';
  if (!same_stage || original.find("//") != std::string_view::npos) return out;
  for (const char c : original) {
    if (c == '\\' || static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return out;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += "?next=";
  for (const char c : original) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

}  // namespace enkisys::gateway
