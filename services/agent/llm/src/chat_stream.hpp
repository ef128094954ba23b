// The answer of an OpenAI-compatible /chat/completions call, assembled from an SSE stream
// (fed in arbitrary pieces) or from one whole JSON response. Internal to enkisys_agent_llm.
//
// Thread safety: none (one call's state). Errors are values: error() after feed()/whole().
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/agent/model.hpp"

namespace enkisys::agent::detail {

class ChatAccumulator {
 public:
  explicit ChatAccumulator(DeltaSink on_delta) : on_delta_(std::move(on_delta)) {}

  // Bytes of a text/event-stream body, split anywhere (CRLF or LF line ends).
  void feed(std::string_view bytes);
  // The end of the stream: a last line without its line end, an event without its blank line.
  void end();
  // A non-streamed response body.
  void whole(std::string_view body);

  // A server error object in the stream, or malformed data.
  const std::optional<core::Error>& error() const { return error_; }
  // [DONE] or a finish_reason was seen: the answer is whole.
  bool complete() const { return done_ || !finish_.empty(); }
  // Text was given to on_delta (no retry after this).
  bool delivered() const { return delivered_; }

  // The answer so far, ids generated, finish_reason normalised, usage estimated when absent.
  ChatResult result(const ChatRequest& request, const std::string& model);

 private:
  struct Call {
    std::string id, name, arguments;
  };
  void line(std::string_view l);
  void dispatch();
  void chunk(const boost::json::object& o);
  void text(std::string_view t);
  void fail(std::string message);

  DeltaSink on_delta_;
  std::string pending_;  // bytes after the last line end
  std::string data_;     // data lines of the current event
  bool has_data_ = false;
  bool done_ = false;
  bool delivered_ = false;
  std::string content_;
  std::vector<Call> calls_;  // by index
  std::string finish_;
  std::string model_;
  std::optional<Usage> usage_;
  std::optional<core::Error> error_;
};

// The message of a server's error body ({"error":{"message"}} or {"error":"..."} or text),
// shortened to one line of at most 200 bytes.
std::string server_message(std::string_view body);

}  // namespace enkisys::agent::detail
