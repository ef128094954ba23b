// libFuzzer target: arbitrary bytes as a calculator expression. Must never crash or hang, and a
// successful result must be finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "enkisys/tools/calculator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto r = enkisys::tools::evaluate_expression(in);
  if (r.ok() && !std::isfinite(*r)) __builtin_trap();
  return 0;
}
