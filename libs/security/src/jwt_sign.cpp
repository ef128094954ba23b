#include <boost/json/serialize.hpp>

#include "enkisys/security/encoding.hpp"
#include "enkisys/security/jwt.hpp"

namespace enkisys::security {

std::string sign(const SigningKey& key, const boost::json::object& claims) {
  boost::json::object header;
  header["alg"] = alg_name(key.alg());
  header["typ"] = "JWT";
  header["kid"] = key.kid();
  std::string token = base64url_encode(boost::json::serialize(header));
  token += '.';
  token += base64url_encode(boost::json::serialize(claims));
  const std::string signature = key.sign(token);
  token += '.';
  token += base64url_encode(signature);
  return token;
}

}  // namespace enkisys::security
