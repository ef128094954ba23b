// Time zone conversions at fixed instants (system tz database), DST edges, TZDIR override.
#include "enkisys/tools/time_zone.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace enkisys::tools {
namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

Clock fixed(std::int64_t unix) {
  return [unix] { return std::chrono::system_clock::time_point(seconds(unix)); };
}

std::string iso(const TimeZoneDb& db, std::string_view zone, std::int64_t unix) {
  auto z = db.find(zone);
  EXPECT_TRUE(z.ok()) << zone;
  if (!z) return "";
  const sys_seconds t{seconds(unix)};
  return format_iso8601(t, (*z)->at(t).utc_offset_seconds);
}

TEST(TimeZone, MadridSpringForwardEdge) {
  TimeZoneDb db("/usr/share/zoneinfo");
  EXPECT_EQ(iso(db, "Europe/Madrid", 1711846799), "2024-03-31T01:59:59+01:00");
  EXPECT_EQ(iso(db, "Europe/Madrid", 1711846800), "2024-03-31T03:00:00+02:00");
  EXPECT_EQ((*db.find("Europe/Madrid"))->at(sys_seconds(seconds(1711846800))).abbreviation, "CEST");
}

TEST(TimeZone, MadridFallBackEdge) {
  TimeZoneDb db("/usr/share/zoneinfo");
  EXPECT_EQ(iso(db, "Europe/Madrid", 1729990799), "2024-10-27T02:59:59+02:00");
  EXPECT_EQ(iso(db, "Europe/Madrid", 1729990800), "2024-10-27T02:00:00+01:00");
}

TEST(TimeZone, NewYorkAndKolkata) {
  TimeZoneDb db("/usr/share/zoneinfo");
  EXPECT_EQ(iso(db, "America/New_York", 1710054000), "2024-03-10T03:00:00-04:00");
  EXPECT_EQ(iso(db, "America/New_York", 1710053999), "2024-03-10T01:59:59-05:00");
  EXPECT_EQ(iso(db, "Asia/Kolkata", 1711846800), "2024-03-31T06:30:00+05:30");
}

TEST(TimeZone, FarFutureUsesPosixFooterRules) {
  TimeZoneDb db("/usr/share/zoneinfo");
  EXPECT_EQ(iso(db, "Europe/Madrid", 4118126400), "2100-07-01T14:00:00+02:00");
  EXPECT_EQ(iso(db, "Europe/Madrid", 4102488000), "2100-01-01T13:00:00+01:00");
  EXPECT_EQ(iso(db, "Australia/Sydney", 4102488000), "2100-01-01T23:00:00+11:00");  // southern DST
  EXPECT_EQ(iso(db, "Australia/Sydney", 4118126400), "2100-07-01T22:00:00+10:00");
  EXPECT_EQ(iso(db, "America/New_York", 4118126400), "2100-07-01T08:00:00-04:00");
}

TEST(TimeZone, HistoricalLocalMeanTimeWithSeconds) {
  TimeZoneDb db("/usr/share/zoneinfo");
  EXPECT_EQ(iso(db, "Europe/Madrid", -2208988800), "1899-12-31T23:45:16-00:14:44");
}

TEST(TimeZone, UnknownAndHostileNamesAreUnknownZones) {
  TimeZoneDb db("/usr/share/zoneinfo");
  for (const char* name : {"Mars/Olympus", "../../etc/passwd", "/etc/passwd",
                           "Europe/../Europe/Madrid", "Europe", "zone.tab", "", "Europe//Madrid"}) {
    auto r = db.find(name);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.error().message.find("unknown time zone"), std::string::npos);
  }
}

TEST(TimeZone, TzdirDirectoryIsHonouredAndUtcWorksWithoutFiles) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "enkisys-zoneinfo";
  std::filesystem::create_directories(dir / "Test");
  std::filesystem::copy_file("/usr/share/zoneinfo/Asia/Tokyo", dir / "Test" / "Zone",
                             std::filesystem::copy_options::overwrite_existing);
  TimeZoneDb db(dir.string());
  EXPECT_EQ(iso(db, "Test/Zone", 0), "1970-01-01T09:00:00+09:00");
  EXPECT_FALSE(db.find("Europe/Madrid").ok());
  TimeZoneDb empty((dir / "missing").string());
  EXPECT_EQ(iso(empty, "UTC", 0), "1970-01-01T00:00:00+00:00");

  ::setenv("TZDIR", dir.c_str(), 1);
  EXPECT_EQ(TimeZoneDb::default_dir(), dir.string());
  ::unsetenv("TZDIR");
  EXPECT_EQ(TimeZoneDb::default_dir(), "/usr/share/zoneinfo");
}

TEST(TimeZone, MalformedTzifIsAnErrorNotACrash) {
  EXPECT_FALSE(TimeZone::parse_tzif("x", "").ok());
  EXPECT_FALSE(TimeZone::parse_tzif("x", "TZif2").ok());
  std::ifstream in("/usr/share/zoneinfo/Europe/Madrid", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(TimeZone::parse_tzif("m", bytes).ok());
  for (std::size_t cut : {std::size_t{44}, bytes.size() / 2, bytes.size() - 3}) {
    EXPECT_FALSE(TimeZone::parse_tzif("m", bytes.substr(0, cut)).ok()) << cut;
  }
}

TEST(CurrentTime, ResultShapeWithInjectedClock) {
  TimeZoneDb db("/usr/share/zoneinfo");
  auto r =
      run_current_time(boost::json::object{{"timezone", "Europe/Madrid"}}, db, fixed(1711846800));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& o = r->as_object();
  EXPECT_EQ(o.at("timezone").as_string(), "Europe/Madrid");
  EXPECT_EQ(o.at("iso8601").as_string(), "2024-03-31T03:00:00+02:00");
  EXPECT_EQ(o.at("unix").as_int64(), 1711846800);
  EXPECT_EQ(o.at("utc_offset_seconds").as_int64(), 7200);
  EXPECT_EQ(o.at("abbreviation").as_string(), "CEST");
}

TEST(CurrentTime, DefaultsToUtcAndRejectsUnknownZone) {
  TimeZoneDb db("/usr/share/zoneinfo");
  auto r = run_current_time(boost::json::object{}, db, fixed(86400 + 3661));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->as_object().at("iso8601").as_string(), "1970-01-02T01:01:01+00:00");
  auto bad = run_current_time(boost::json::object{{"timezone", "Nowhere/City"}}, db, fixed(0));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "unknown time zone 'Nowhere/City'");
  EXPECT_FALSE(run_current_time(boost::json::object{{"timezone", 3}}, db, fixed(0)).ok());
}

}  // namespace
}  // namespace enkisys::tools
