// libFuzzer target: input = <schema JSON> NUL <instance JSON>. Compiles the schema and validates
// the instance (or the schema document itself when there is no NUL). Must never crash or hang.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "enkisys/schema/schema.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nul = in.find('\0');
  const std::string_view schema_text = in.substr(0, nul);
  const std::string_view instance_text =
      nul == std::string_view::npos ? schema_text : in.substr(nul + 1);
  boost::system::error_code ec;
  const auto schema_json = boost::json::parse(schema_text, ec);
  if (ec) return 0;
  const auto instance = boost::json::parse(instance_text, ec);
  if (ec) return 0;
  const auto compiled = enkisys::schema::Schema::compile(schema_json);
  if (!compiled.ok()) return 0;
  enkisys::schema::ValidateOptions opts;
  opts.max_steps = 100000;
  const auto errors = compiled->validate(instance, opts);
  const bool valid = compiled->is_valid(instance, opts);
  // Both entry points must agree unless the evaluation budget was hit.
  if (valid != errors.empty() &&
      (errors.empty() || errors.back().message.find("aborted") == std::string::npos)) {
    __builtin_trap();
  }
  return 0;
}
