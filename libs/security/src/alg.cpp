#include "enkisys/security/keys.hpp"

namespace enkisys::security {

std::string_view alg_name(Alg alg) {
  switch (alg) {
    case Alg::kEdDSA:
      return "EdDSA";
    case Alg::kRS256:
      return "RS256";
    case Alg::kES256:
      return "ES256";
    case Alg::kHS256:
      return "HS256";
  }
  return "?";
}

std::optional<Alg> parse_alg(std::string_view name) {
  if (name == "EdDSA") {
    return Alg::kEdDSA;
  }
  if (name == "RS256") {
    return Alg::kRS256;
  }
  if (name == "ES256") {
    return Alg::kES256;
  }
  if (name == "HS256") {
    return Alg::kHS256;
  }
  return std::nullopt;
}

}  // namespace enkisys::security
