// libFuzzer target: MultipartParser on arbitrary bodies split at arbitrary points. The first
// byte picks the piece size; a parse either succeeds or throws ApiError 400, and the same body
// fed whole must give the same events (straddled delimiters are the parser's hard part).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "enkisys/core/multipart.hpp"

namespace {

class Recorder : public enkisys::core::MultipartParser::Sink {
 public:
  std::string out;
  void on_part_begin(enkisys::core::PartHeaders h) override {
    out += "[" + h.name + "|" + h.filename.value_or("-") + "|" + h.content_type + "]";
  }
  void on_part_data(std::string_view d) override { out.append(d); }
  void on_part_end() override { out += ";"; }
};

// Returns the events, or "error:<code>".
std::string run(std::string_view body, std::size_t piece) {
  enkisys::core::MultipartLimits limits;
  limits.max_header_bytes = 256;
  limits.max_parts = 16;
  enkisys::core::MultipartParser parser("b0", limits);
  Recorder r;
  try {
    while (!body.empty()) {
      const std::size_t n = std::min(piece, body.size());
      parser.feed(body.substr(0, n), r);
      body.remove_prefix(n);
    }
    parser.finish();
  } catch (const enkisys::core::ApiError& e) {
    if (e.status() != enkisys::core::http::status::bad_request) __builtin_trap();
    return "error:" + e.code();
  }
  return r.out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = data[0] % 17 + 1;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string whole = run(body, body.size() + 1);
  const std::string split = run(body, piece);
  // The header-size limit may trip at a different point, but the outcome must agree.
  if (whole.rfind("error:", 0) == 0 || split.rfind("error:", 0) == 0) {
    if (whole.rfind("error:", 0) != split.rfind("error:", 0)) __builtin_trap();
    return 0;
  }
  if (whole != split) __builtin_trap();
  return 0;
}
