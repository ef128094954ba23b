// Every Value type survives a write and a read, unchanged, on both backends.
#include <limits>

#include "db_fixture.hpp"

namespace enkisys::db {
namespace {

class ValuesTest : public testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (IsSkipped()) return;
    db_->query(
        "CREATE TABLE vals (id BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, t TEXT, b BYTEA)");
  }

  Row roundtrip(const Value& i, const Value& d, const Value& t, const Value& b) {
    const std::int64_t id = ++next_id_;
    db_->query("INSERT INTO vals (id, i, d, t, b) VALUES ($1, $2, $3, $4, $5)", {id, i, d, t, b});
    return db_->query("SELECT i, d, t, b FROM vals WHERE id = $1", {id}).one();
  }

  std::int64_t next_id_ = 0;
};

TEST_P(ValuesTest, NullsComeBackAsNullInEveryColumnType) {
  const Row row = roundtrip(nullptr, nullptr, nullptr, nullptr);
  for (std::size_t c = 0; c < 4; ++c) EXPECT_TRUE(row.is_null(c)) << c;
  EXPECT_EQ(row.opt_i64("i"), std::nullopt);
  EXPECT_EQ(row.opt_f64("d"), std::nullopt);
  EXPECT_EQ(row.opt_text("t"), std::nullopt);
  EXPECT_EQ(row.opt_blob("b"), std::nullopt);
  EXPECT_THROW(row.i64("i"), DbError);
}

TEST_P(ValuesTest, IntegersKeepFull64BitRange) {
  for (std::int64_t v :
       {std::numeric_limits<std::int64_t>::min(), std::int64_t{-1}, std::int64_t{0},
        std::int64_t{1} << 53 | 1, std::numeric_limits<std::int64_t>::max()}) {
    const Row row = roundtrip(v, nullptr, nullptr, nullptr);
    EXPECT_EQ(row.i64(0), v);
    EXPECT_EQ(row.values()[0], Value(v));
  }
}

TEST_P(ValuesTest, DoublesRoundTripExactly) {
  // -0.0 is left out: SQLite stores it as integer 0 and returns +0.0 (see README.md).
  for (double v : {0.1, -2.5e-300, 1.7976931348623157e308, 3.141592653589793,
                   std::numeric_limits<double>::infinity()}) {
    const Row row = roundtrip(nullptr, v, nullptr, nullptr);
    EXPECT_EQ(row.f64("d"), v);
  }
}

TEST_P(ValuesTest, TextKeepsUtf8AndLargeValues) {
  const std::string utf8 =
      "h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x99\x82";
  EXPECT_EQ(roundtrip(nullptr, nullptr, utf8, nullptr).text("t"), utf8);
  EXPECT_EQ(roundtrip(nullptr, nullptr, std::string(), nullptr).text("t"), "");
  std::string large;
  for (int k = 0; large.size() < 3'000'000; ++k)
    large += "line " + std::to_string(k) + " \xC3\xA9\n";
  EXPECT_EQ(roundtrip(nullptr, nullptr, large, nullptr).text("t"), large);
  // Text that looks like a number stays text.
  EXPECT_EQ(roundtrip(nullptr, nullptr, std::string("007"), nullptr).text("t"), "007");
}

TEST_P(ValuesTest, BlobsKeepEveryByte) {
  Blob all;
  for (int r = 0; r < 3; ++r) {
    for (int byte = 0; byte < 256; ++byte) all.bytes.push_back(static_cast<std::uint8_t>(byte));
  }
  EXPECT_EQ(roundtrip(nullptr, nullptr, nullptr, all).blob("b"), all);
  const Row empty = roundtrip(nullptr, nullptr, nullptr, Blob{});
  ASSERT_FALSE(empty.is_null("b"));
  EXPECT_TRUE(empty.blob("b").bytes.empty());
}

TEST_P(ValuesTest, PlaceholdersBindByNumberNotPosition) {
  const auto row = db_->query(
                          "SELECT CAST($2 AS TEXT) || '-' || CAST($1 AS TEXT) AS joined, CAST($1 "
                          "AS TEXT) AS again",
                          {std::string("a"), std::string("b")})
                       .one();
  EXPECT_EQ(row.text("joined"), "b-a");
  EXPECT_EQ(row.text("again"), "a");
}

TEST_P(ValuesTest, ParameterCountMismatchIsAnError) {
  EXPECT_THROW(db_->query("SELECT id FROM vals WHERE id = $1 AND i = $2", {std::int64_t{1}}),
               DbError);
}

TEST_P(ValuesTest, AffectedCountsChangedRows) {
  for (std::int64_t id = 1; id <= 3; ++id) {
    EXPECT_EQ(db_->query("INSERT INTO vals (id, i) VALUES ($1, $2)", {id, id * 10}).affected, 1);
  }
  EXPECT_EQ(db_->query("UPDATE vals SET i = i + 1 WHERE id >= $1", {std::int64_t{2}}).affected, 2);
  EXPECT_EQ(db_->query("SELECT id FROM vals").affected, 0);
  EXPECT_EQ(db_->query("DELETE FROM vals").affected, 3);
}

TEST_P(ValuesTest, AggregatesComeBackAsIntegers) {
  for (std::int64_t id = 1; id <= 4; ++id) {
    db_->query("INSERT INTO vals (id, i) VALUES ($1, $2)", {id, id});
  }
  const auto row =
      db_->query("SELECT count(*) AS n, sum(i) AS total, max(i) AS top FROM vals").one();
  EXPECT_EQ(row.i64("n"), 4);
  EXPECT_EQ(row.i64("total"), 10);
  EXPECT_EQ(row.i64("top"), 4);
}

TEST_P(ValuesTest, WrongTypeAndUnknownColumnNameTheColumn) {
  const Row row = roundtrip(std::int64_t{5}, nullptr, std::string("x"), nullptr);
  try {
    (void)row.text("i");
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("'i'"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)row.i64("nope"), DbError);
  EXPECT_THROW((void)row.i64(std::size_t{9}), DbError);
}

ENKISYS_DB_ON_BOTH_BACKENDS(ValuesTest);

}  // namespace
}  // namespace enkisys::db
