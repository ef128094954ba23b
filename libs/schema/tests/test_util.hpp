// Shared utilities for the schema tests.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/schema/schema.hpp"

namespace enkisys::schema::testing {

inline Schema compile_ok(std::string_view text) {
  auto r = Schema::compile(boost::json::parse(text));
  EXPECT_TRUE(r.ok()) << (r.ok() ? std::string() : r.error().to_string());
  return r.ok() ? *r : Schema();
}

inline SchemaError compile_err(std::string_view text) {
  auto r = Schema::compile(boost::json::parse(text));
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? SchemaError{} : r.error();
}

// Validates and checks that validate() and is_valid() agree.
inline std::vector<ValidationError> errors(const Schema& s, std::string_view instance) {
  const auto v = boost::json::parse(instance);
  auto errs = s.validate(v);
  EXPECT_EQ(errs.empty(), s.is_valid(v)) << instance;
  return errs;
}

inline bool valid(const Schema& s, std::string_view instance) {
  return errors(s, instance).empty();
}

}  // namespace enkisys::schema::testing
