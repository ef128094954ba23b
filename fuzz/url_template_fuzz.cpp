// libFuzzer target: the URL template expander of http tools. Input: one byte choosing the
// method, a template up to the first newline, then the arguments (a JSON object, or else the
// rest as the string value of every placeholder). Must never crash or hang; an expansion that
// succeeds must keep the template's origin (scheme, host, port) — arguments never redirect.
#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "enkisys/tools/url_template.hpp"

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace enkisys::tools;
  if (size == 0) return 0;
  static constexpr std::array<std::string_view, 5> kMethods{"GET", "POST", "PUT", "PATCH",
                                                            "DELETE"};
  const std::string_view method = kMethods[data[0] % kMethods.size()];
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto nl = std::min(in.find('\n'), in.size());
  const std::string_view tmpl = in.substr(0, nl);
  const std::string_view rest = in.substr(std::min(nl + 1, in.size()));

  auto info = parse_url_template(tmpl);
  boost::json::object args;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(rest, ec);
  if (!ec && parsed.is_object()) {
    args = parsed.as_object();
  } else if (info) {
    for (const auto& p : info->path_params) args[p] = std::string(rest);
    for (const auto& p : info->query_params) args[p] = std::string(rest);
  }
  auto r = expand_request(method, tmpl, args);
  if (!r) return 0;
  if (!info) __builtin_trap();  // expanded a template that does not parse
  const auto& u = r->url;
  const std::string scheme = lower(u.scheme());
  const unsigned port = u.has_port() ? u.port_number() : (scheme == "https" ? 443U : 80U);
  const std::string origin = scheme + "://" + lower(u.encoded_host()) + ":" + std::to_string(port);
  if (origin != info->origin) __builtin_trap();  // an argument changed where the request goes
  if (u.has_fragment() || u.has_userinfo()) __builtin_trap();
  return 0;
}
