#include "enkisys/core/multipart.hpp"

#include <gtest/gtest.h>

#include <random>

namespace enkisys::core {
namespace {

// Records parser events as text: "[name|file.txt|type]content" per part.
class Recorder : public MultipartParser::Sink {
 public:
  std::string out;
  void on_part_begin(PartHeaders h) override {
    out += "[" + h.name + "|" + h.filename.value_or("-") + "|" + h.content_type + "]";
  }
  void on_part_data(std::string_view d) override { out.append(d); }
  void on_part_end() override { out += ";"; }
};

const std::string kBody =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "Hello\r\nworld\r\n"
    "--XyZ  \r\n"
    "content-disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "--XyZ-not-a-delimiter\r\n-XyZ\r\n--Xy\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=empty\r\n"
    "\r\n"
    "\r\n"
    "--XyZ--\r\n"
    "epilogue";
const std::string kExpected =
    "[title|-|text/plain]Hello\r\nworld;"
    "[file|a \"b\".txt|application/octet-stream]--XyZ-not-a-delimiter\r\n-XyZ\r\n--Xy;"
    "[empty|-|text/plain];";

std::string parse_in_pieces(const std::string& body, const std::vector<std::size_t>& cuts) {
  MultipartParser p("XyZ");
  Recorder r;
  std::size_t at = 0;
  for (const std::size_t cut : cuts) {
    p.feed(std::string_view(body).substr(at, cut - at), r);
    at = cut;
  }
  p.feed(std::string_view(body).substr(at), r);
  p.finish();
  return r.out;
}

TEST(MultipartBoundary, ParsesQuotedAndPlainAndRejectsTheRest) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc123"), "abc123");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;boundary=\"a b:c\"; charset=utf-8"), "a b:c");
  auto code_of = [](std::string_view ct) {
    try {
      multipart_boundary(ct);
    } catch (const ApiError& e) {
      return std::to_string(static_cast<int>(e.status())) + " " + e.code();
    }
    return std::string("ok");
  };
  EXPECT_EQ(code_of("application/json"), "415 unsupported_media_type");
  EXPECT_EQ(code_of("multipart/mixed; boundary=x"), "415 unsupported_media_type");
  EXPECT_EQ(code_of("multipart/form-data"), "400 invalid_boundary");
  EXPECT_EQ(code_of("multipart/form-data; boundary="), "400 invalid_boundary");
  EXPECT_EQ(code_of("multipart/form-data; boundary=\"ends with space \""), "400 invalid_boundary");
  EXPECT_EQ(code_of("multipart/form-data; boundary=\"" + std::string(71, 'a') + "\""),
            "400 invalid_boundary");
  EXPECT_EQ(code_of("multipart/form-data; boundary=\"a<b\""), "400 invalid_boundary");
}

TEST(MultipartParser, ParsesWholeBody) {
  EXPECT_EQ(parse_in_pieces(kBody, {}), kExpected);
}

TEST(MultipartParser, DelimitersStraddlingOneByteFeeds) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < kBody.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(parse_in_pieces(kBody, cuts), kExpected);
}

TEST(MultipartParser, DelimitersStraddlingRandomSplits) {
  std::mt19937 rng(20261130);
  for (int round = 0; round < 500; ++round) {
    std::uniform_int_distribution<std::size_t> pick(1, kBody.size() - 1);
    std::vector<std::size_t> cuts(static_cast<std::size_t>(round % 8) + 1);
    for (auto& c : cuts) c = pick(rng);
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    ASSERT_EQ(parse_in_pieces(kBody, cuts), kExpected) << "round " << round;
  }
}

std::string error_code_of(const std::string& body, MultipartLimits limits = {}) {
  MultipartParser p("b", limits);
  Recorder r;
  try {
    p.feed(body, r);
    p.finish();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), http::status::bad_request);
    return e.code();
  }
  return "ok";
}

TEST(MultipartParser, PaddingThenDashesIsNotAFinalDelimiterEvenWhenSplit) {
  // Found by the fuzzer: "--b0 " then "--" in the next piece was taken for the close delimiter.
  for (std::size_t cut = 1; cut < 12; ++cut) {
    MultipartParser p("b0");
    Recorder r;
    const std::string body = "--b0 --b0 form\r\n\r\n";
    EXPECT_THROW(
        {
          p.feed(std::string_view(body).substr(0, cut), r);
          p.feed(std::string_view(body).substr(cut), r);
          p.finish();
        },
        ApiError)
        << cut;
  }
}

TEST(MultipartParser, MalformedBodiesAreClear400s) {
  const std::string part = "--b\r\nContent-Disposition: form-data; name=x\r\n\r\nv\r\n";
  EXPECT_EQ(error_code_of(part + "--b--"), "ok");
  EXPECT_EQ(error_code_of(part), "multipart_incomplete");
  EXPECT_EQ(error_code_of(""), "multipart_incomplete");
  EXPECT_EQ(error_code_of("no delimiter at all"), "multipart_incomplete");
  EXPECT_EQ(error_code_of("--bX\r\n"), "invalid_multipart");
  EXPECT_EQ(error_code_of(part + "--b --\r\n"), "invalid_multipart");
  EXPECT_EQ(error_code_of("--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--"),
            "invalid_multipart");
  EXPECT_EQ(error_code_of("--b\r\nContent-Disposition: attachment; name=x\r\n\r\nv\r\n--b--"),
            "invalid_multipart");
  EXPECT_EQ(error_code_of("--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--"),
            "invalid_multipart");
  EXPECT_EQ(error_code_of("--b\r\nContent-Disposition: form-data; name=\"x\r\n\r\nv\r\n--b--"),
            "invalid_multipart");
  EXPECT_EQ(error_code_of("--b\r\nno colon\r\n\r\nv\r\n--b--"), "invalid_multipart");
  MultipartLimits small;
  small.max_header_bytes = 64;
  EXPECT_EQ(error_code_of("--b\r\nContent-Disposition: form-data; name=x\r\nX-Pad: " +
                              std::string(100, 'p') + "\r\n\r\nv\r\n--b--",
                          small),
            "multipart_headers_too_large");
  // Also when the header block never ends.
  EXPECT_EQ(error_code_of("--b\r\nX-Pad: " + std::string(100, 'p'), small),
            "multipart_headers_too_large");
  MultipartLimits two;
  two.max_parts = 2;
  EXPECT_EQ(error_code_of(part + part + "--b--", two), "ok");
  EXPECT_EQ(error_code_of(part + part + part + "--b--", two), "multipart_too_many_parts");
}

}  // namespace
}  // namespace enkisys::core
