// TZif (RFC 8536) reader and POSIX TZ footer rules.
#include "enkisys/tools/time_zone.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace enkisys::tools {
namespace {

using namespace std::chrono;

constexpr std::size_t kMaxFileSize = 512 * 1024;
constexpr std::int32_t kMaxOffset = 26 * 3600;

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool has(std::size_t n) const { return b_.size() - pos_ >= n; }
  std::uint64_t be(std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(b_[pos_ + i]);
    pos_ += n;
    return v;
  }
  std::string_view take(std::size_t n) {
    auto s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::size_t pos() const { return pos_; }
  std::string_view rest() const { return b_.substr(pos_); }

 private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

struct Header {
  char version = 0;
  std::uint32_t isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0;
};

std::optional<Header> read_header(Reader& r) {
  if (!r.has(44) || r.take(4) != "TZif") return std::nullopt;
  Header h;
  h.version = r.take(1)[0];
  r.take(15);
  h.isut = static_cast<std::uint32_t>(r.be(4));
  h.isstd = static_cast<std::uint32_t>(r.be(4));
  h.leap = static_cast<std::uint32_t>(r.be(4));
  h.time = static_cast<std::uint32_t>(r.be(4));
  h.type = static_cast<std::uint32_t>(r.be(4));
  h.chars = static_cast<std::uint32_t>(r.be(4));
  if (h.type == 0 || h.type > 256 || h.chars == 0 || h.time > 100000 || h.leap > 10000 ||
      (h.isut != 0 && h.isut != h.type) || (h.isstd != 0 && h.isstd != h.type)) {
    return std::nullopt;
  }
  return h;
}

std::size_t body_size(const Header& h, std::size_t time_size) {
  return h.time * time_size + h.time + h.type * 6 + h.chars + h.leap * (time_size + 4) + h.isstd +
         h.isut;
}

// --- POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3") ---

class PosixParser {
 public:
  explicit PosixParser(std::string_view s) : s_(s) {}

  std::optional<TimeZone::Posix> parse() {
    TimeZone::Posix p;
    if (!name(p.standard.abbreviation)) return std::nullopt;
    auto off = offset();
    if (!off) return std::nullopt;
    p.standard.offset = -*off;
    if (i_ == s_.size()) return p;
    if (!name(p.daylight.abbreviation)) return std::nullopt;
    p.has_dst = true;
    p.daylight.is_dst = true;
    p.daylight.offset = p.standard.offset + 3600;
    if (i_ < s_.size() && s_[i_] != ',') {
      auto d = offset();
      if (!d) return std::nullopt;
      p.daylight.offset = -*d;
    }
    if (i_ == s_.size()) {  // no rule: the historical US default
      p.start = TimeZone::Rule{'M', 3, 2, 0, 7200};
      p.end = TimeZone::Rule{'M', 11, 1, 0, 7200};
      return p;
    }
    if (s_[i_++] != ',' || !rule(p.start) || i_ >= s_.size() || s_[i_++] != ',' || !rule(p.end) ||
        i_ != s_.size()) {
      return std::nullopt;
    }
    return p;
  }

 private:
  bool name(std::string& out) {
    if (i_ < s_.size() && s_[i_] == '<') {
      const auto close = s_.find('>', i_);
      if (close == std::string_view::npos) return false;
      out = std::string(s_.substr(i_ + 1, close - i_ - 1));
      i_ = close + 1;
      return out.size() >= 3;
    }
    const std::size_t start = i_;
    while (i_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_]))) ++i_;
    out = std::string(s_.substr(start, i_ - start));
    return out.size() >= 3;
  }

  std::optional<int> num(int max) {
    const std::size_t start = i_;
    int v = 0;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])) && i_ - start < 3) {
      v = v * 10 + (s_[i_++] - '0');
    }
    if (i_ == start || v > max) return std::nullopt;
    return v;
  }

  // [+-]hh[:mm[:ss]] in seconds; hours up to 167 (RFC 8536 extension for rule times).
  std::optional<std::int32_t> offset(int max_hours = 167) {
    int sign = 1;
    if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) sign = s_[i_++] == '-' ? -1 : 1;
    auto h = num(max_hours);
    if (!h) return std::nullopt;
    int m = 0, sec = 0;
    if (i_ < s_.size() && s_[i_] == ':') {
      ++i_;
      auto mm = num(59);
      if (!mm) return std::nullopt;
      m = *mm;
      if (i_ < s_.size() && s_[i_] == ':') {
        ++i_;
        auto ss = num(59);
        if (!ss) return std::nullopt;
        sec = *ss;
      }
    }
    return sign * (*h * 3600 + m * 60 + sec);
  }

  bool rule(TimeZone::Rule& r) {
    if (i_ >= s_.size()) return false;
    if (s_[i_] == 'M') {
      ++i_;
      auto m = num(12);
      if (!m || *m < 1 || i_ >= s_.size() || s_[i_++] != '.') return false;
      auto w = num(5);
      if (!w || *w < 1 || i_ >= s_.size() || s_[i_++] != '.') return false;
      auto d = num(6);
      if (!d) return false;
      r = TimeZone::Rule{'M', *m, *w, *d, 7200};
    } else if (s_[i_] == 'J') {
      ++i_;
      auto n = num(365);
      if (!n || *n < 1) return false;
      r = TimeZone::Rule{'J', 0, 0, *n, 7200};
    } else {
      auto n = num(365);
      if (!n) return false;
      r = TimeZone::Rule{'N', 0, 0, *n, 7200};
    }
    if (i_ < s_.size() && s_[i_] == '/') {
      ++i_;
      auto t = offset();
      if (!t) return false;
      r.time = *t;
    }
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

sys_days rule_date(const TimeZone::Rule& r, year y) {
  if (r.kind == 'J') {
    int n = r.day - 1;
    if (y.is_leap() && r.day >= 60) ++n;
    return sys_days(y / January / 1) + days(n);
  }
  if (r.kind == 'N') return sys_days(y / January / 1) + days(r.day);
  const auto m = month(static_cast<unsigned>(r.month));
  const sys_days first = y / m / 1;
  const unsigned wd = weekday(first).c_encoding();
  sys_days d = first + days((static_cast<unsigned>(r.day) + 7 - wd) % 7) + weeks(r.week - 1);
  while (year_month_day(d).month() != m) d -= weeks(1);
  return d;
}

LocalTimeInfo from_posix(const TimeZone::Posix& p, sys_seconds t) {
  auto info = [](const TimeZone::Type& ty) {
    return LocalTimeInfo{ty.offset, ty.is_dst, ty.abbreviation};
  };
  if (!p.has_dst) return info(p.standard);
  const year y = year_month_day(floor<days>(t + seconds(p.standard.offset))).year();
  const sys_seconds start =
      sys_seconds(rule_date(p.start, y)) + seconds(p.start.time - p.standard.offset);
  const sys_seconds end =
      sys_seconds(rule_date(p.end, y)) + seconds(p.end.time - p.daylight.offset);
  const bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  return info(dst ? p.daylight : p.standard);
}

bool valid_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '/' || name.back() == '/' ||
      name.find("//") != std::string_view::npos) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '+' || c == '-' || c == '/';
  });
}

}  // namespace

core::Expected<TimeZone> TimeZone::parse_tzif(std::string name, std::string_view bytes) {
  auto bad = [](const char* what) {
    return make_error(errc::tool_error, std::string("malformed TZif data: ") + what);
  };
  if (bytes.size() > kMaxFileSize) return bad("too large");
  Reader r(bytes);
  auto h = read_header(r);
  if (!h) return bad("bad header");
  std::size_t time_size = 4;
  if (h->version >= '2') {
    if (!r.has(body_size(*h, 4))) return bad("truncated");
    r.take(body_size(*h, 4));
    h = read_header(r);
    if (!h) return bad("bad second header");
    time_size = 8;
  }
  if (!r.has(body_size(*h, time_size))) return bad("truncated");
  TimeZone tz;
  tz.name_ = std::move(name);
  for (std::uint32_t i = 0; i < h->time; ++i) {
    const std::uint64_t raw = r.be(time_size);
    tz.transitions_.push_back(time_size == 8
                                  ? static_cast<std::int64_t>(raw)
                                  : static_cast<std::int64_t>(static_cast<std::int32_t>(raw)));
    if (i > 0 && tz.transitions_[i] <= tz.transitions_[i - 1])
      return bad("transitions out of order");
  }
  for (std::uint32_t i = 0; i < h->time; ++i) {
    tz.transition_types_.push_back(static_cast<std::uint8_t>(r.be(1)));
    if (tz.transition_types_.back() >= h->type) return bad("transition type out of range");
  }
  std::vector<std::uint8_t> desig;
  for (std::uint32_t i = 0; i < h->type; ++i) {
    Type t;
    t.offset = static_cast<std::int32_t>(static_cast<std::uint32_t>(r.be(4)));
    t.is_dst = r.be(1) != 0;
    desig.push_back(static_cast<std::uint8_t>(r.be(1)));
    if (t.offset < -kMaxOffset || t.offset > kMaxOffset || desig.back() >= h->chars) {
      return bad("local time type out of range");
    }
    tz.types_.push_back(std::move(t));
  }
  const std::string_view chars = r.take(h->chars);
  for (std::size_t i = 0; i < tz.types_.size(); ++i) {
    const auto rest = chars.substr(desig[i]);
    tz.types_[i].abbreviation = std::string(rest.substr(0, rest.find('\0')));
  }
  r.take(h->leap * (time_size + 4) + h->isstd + h->isut);
  if (time_size == 8) {
    const std::string_view footer = r.rest();
    if (footer.size() < 2 || footer.front() != '\n') return bad("missing footer");
    const auto end = footer.find('\n', 1);
    if (end == std::string_view::npos) return bad("unterminated footer");
    const std::string_view tzstring = footer.substr(1, end - 1);
    if (!tzstring.empty()) {
      tz.footer_ = PosixParser(tzstring).parse();
      if (!tz.footer_) return bad("unsupported TZ string in footer");
    }
  }
  return tz;
}

TimeZone TimeZone::utc() {
  TimeZone tz;
  tz.name_ = "UTC";
  tz.types_.push_back(Type{0, false, "UTC"});
  return tz;
}

LocalTimeInfo TimeZone::at(sys_seconds instant) const {
  const std::int64_t t = instant.time_since_epoch().count();
  if (transitions_.empty() || t < transitions_.front()) {
    if (transitions_.empty() && footer_) return from_posix(*footer_, instant);
    const Type& ty = types_.front();
    return LocalTimeInfo{ty.offset, ty.is_dst, ty.abbreviation};
  }
  if (t >= transitions_.back() && footer_) return from_posix(*footer_, instant);
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  const auto index = static_cast<std::size_t>(it - transitions_.begin()) - 1;
  const Type& ty = types_[transition_types_[index]];
  return LocalTimeInfo{ty.offset, ty.is_dst, ty.abbreviation};
}

TimeZoneDb::TimeZoneDb(std::string zoneinfo_dir) : dir_(std::move(zoneinfo_dir)) {}

std::string TimeZoneDb::default_dir() {
  const char* env = std::getenv("TZDIR");  // NOLINT(concurrency-mt-unsafe): read at startup
  return env && *env ? std::string(env) : std::string("/usr/share/zoneinfo");
}

core::Expected<std::shared_ptr<const TimeZone>> TimeZoneDb::find(std::string_view name) const {
  const auto unknown = [&] {
    return make_error(errc::invalid_arguments, "unknown time zone '" + std::string(name) + "'",
                      "/timezone");
  };
  if (!valid_zone_name(name)) return unknown();
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(name); it != cache_.end()) return it->second;
  }
  std::shared_ptr<const TimeZone> zone;
  std::ifstream in(dir_ + "/" + std::string(name), std::ios::binary);
  if (in) {
    std::string bytes(kMaxFileSize + 1, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
    auto parsed = TimeZone::parse_tzif(std::string(name), bytes);
    if (!parsed) return unknown();  // directories, zone.tab, ... are not zones
    zone = std::make_shared<const TimeZone>(std::move(*parsed));
  } else if (name == "UTC" || name == "Etc/UTC") {
    zone = std::make_shared<const TimeZone>(TimeZone::utc());
  } else {
    return unknown();
  }
  std::lock_guard lock(mu_);
  if (cache_.size() < 2048) cache_.emplace(std::string(name), zone);
  return zone;
}

std::string format_iso8601(sys_seconds instant, std::int32_t offset_seconds) {
  const auto local = instant + seconds(offset_seconds);
  const auto day = floor<days>(local);
  const year_month_day ymd(day);
  const hh_mm_ss<seconds> hms(local - day);
  char buf[64];
  const int off = offset_seconds < 0 ? -offset_seconds : offset_seconds;
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d%c%02d:%02d",
                        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                        static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                        static_cast<int>(hms.minutes().count()),
                        static_cast<int>(hms.seconds().count()), offset_seconds < 0 ? '-' : '+',
                        off / 3600, off % 3600 / 60);
  std::string out(buf, static_cast<std::size_t>(n));
  if (off % 60 != 0) out += ":" + std::string(off % 60 < 10 ? "0" : "") + std::to_string(off % 60);
  return out;
}

}  // namespace enkisys::tools
