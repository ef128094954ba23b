#include "enkisys/core/stage.hpp"

#include <array>

namespace enkisys::core {
namespace {

constexpr bool lower(char c) {
  return c >= 'a' && c <= 'z';
}
constexpr bool digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

bool valid_stage_name(std::string_view name) {
  if (name.size() < 2 || name.size() > kMaxStageNameLength || !lower(name.front())) return false;
  for (char c : name) {
    if (!lower(c) && !digit(c)) return false;
  }
  constexpr std::array<std::string_view, 3> kReserved = {"health", "metrics", "admin"};
  for (auto reserved : kReserved) {
    if (name == reserved) return false;
  }
  return true;
}

}  // namespace enkisys::core
