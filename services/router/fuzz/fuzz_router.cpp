// libFuzzer target: the router's parsers of attacker-controlled webhook bodies (Telegram,
// WhatsApp Cloud, Slack), the signature checks over them, and reply splitting. Built only with
// ENKISYS_FUZZ=ON (clang). Seeds: corpus/fuzz_router/. The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "enkisys/core/utf8.hpp"
#include "enkisys/router/channel.hpp"

namespace router = enkisys::router;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      (void)router::parse_telegram(body);
      break;
    case 1:
      (void)router::parse_whatsapp(body);
      (void)router::verify_whatsapp(body.substr(0, 71), body, "app-secret");
      break;
    case 2:
      (void)router::parse_slack(body);
      (void)router::verify_slack(body.substr(0, 67), "1800000000", body, "signing", 1800000000);
      break;
    default: {
      const std::size_t limit = 16 + data[0] % 200;
      for (const auto& part : router::split_reply(body, limit)) {
        if (!enkisys::core::valid_utf8(part)) __builtin_trap();
      }
      break;
    }
  }
  return 0;
}
