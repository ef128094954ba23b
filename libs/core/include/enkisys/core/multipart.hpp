// multipart/form-data (RFC 7578 over RFC 2046): a push parser that never holds more than one
// part's header block plus one fed piece, and, on top of it and BodyStream (stream.hpp), a
// reader that stores file parts in files and buffers small text fields.
//
// Errors are ApiError with the platform's JSON shape:
//   415 unsupported_media_type  the request is not multipart/form-data
//   400 invalid_boundary        no boundary parameter, or not 1..70 bchars (RFC 2046)
//   400 invalid_multipart       a delimiter line or part header that does not parse, a part
//                               without Content-Disposition: form-data; name=...
//   400 multipart_incomplete    the body ended before the final delimiter
//   400 multipart_headers_too_large / multipart_too_many_parts   limits below
//   413 file_too_large / upload_too_large / field_too_large      UploadOptions caps
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "enkisys/core/http.hpp"

namespace enkisys::core {

class RequestContext;

// The boundary of a `multipart/form-data; boundary=...` content type (quoted or not).
// Throws ApiError 415 for another media type, 400 invalid_boundary for a bad boundary.
std::string multipart_boundary(std::string_view content_type);

struct PartHeaders {
  std::string name;                     // Content-Disposition name
  std::optional<std::string> filename;  // set: a file part
  std::string content_type = "text/plain";
};

struct MultipartLimits {
  std::size_t max_header_bytes = 8 * 1024;  // one part's header block
  std::size_t max_parts = 64;
};

// Incremental parser. Not thread-safe. Feed the body in pieces of any size (a delimiter may
// straddle pieces); events are reported to a Sink in order.
class MultipartParser {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void on_part_begin(PartHeaders headers) = 0;
    // A piece of the current part's content. The view is valid until the next feed().
    virtual void on_part_data(std::string_view data) = 0;
    virtual void on_part_end() = 0;
  };

  explicit MultipartParser(std::string_view boundary, MultipartLimits limits = {});

  // Parses `data`. Throws ApiError 400 (see the file comment); the parser is then unusable.
  void feed(std::string_view data, Sink& sink);
  // REQUIRES: the whole body was fed. Throws ApiError 400 multipart_incomplete unless the
  // final delimiter was seen.
  void finish() const;
  bool complete() const { return state_ == State::kEpilogue; }

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kBody, kEpilogue };
  bool step(Sink& sink);  // false: needs more input
  PartHeaders parse_headers(std::string_view block) const;

  std::string delimiter_;  // CRLF "--" boundary
  MultipartLimits limits_;
  std::string buf_;           // unconsumed input; views handed out point into it
  std::size_t pos_ = 0;       // parse position in buf_
  std::size_t consumed_ = 0;  // dropped at the start of the next feed()
  State state_ = State::kPreamble;
  bool in_part_ = false;
  bool padded_ = false;  // transport padding seen after the current delimiter
  std::size_t parts_ = 0;
};

struct UploadedFile {
  std::string field;
  std::string filename;  // as sent by the client: never use it as a path
  std::string content_type;
  std::filesystem::path path;  // the stored file, in UploadOptions::dir
  std::uint64_t size = 0;
  std::string sha256;  // lower-case hex
};

struct FormData {
  std::vector<std::pair<std::string, std::string>> fields;  // text parts, in order
  std::vector<UploadedFile> files;                          // file parts, in order
  // The first field with this name, or nullptr.
  const std::string* field(std::string_view name) const;
};

struct UploadOptions {
  std::filesystem::path dir;  // REQUIRES: an existing, writable directory
  std::uint64_t max_file_bytes = 64ULL * 1024 * 1024;
  std::uint64_t max_total_bytes = 256ULL * 1024 * 1024;  // all file parts together
  std::size_t max_field_bytes = 64 * 1024;               // each text field
  MultipartLimits limits;
  // Called on the I/O thread after each piece of the body with the bytes received so far.
  std::function<void(std::uint64_t)> on_progress;
};

// Reads the multipart/form-data body of a stream_body route (RequestContext::body()), one part
// at a time. A part with a filename goes to a new file `.upload-<random>.part` (mode 0600) in
// opts.dir while its SHA-256 is computed; the file is fsync'd when the part ends (the directory
// once at the end). File work runs on the blocking pool. On any error every file this call
// created is removed and the ApiError (or the socket error) propagates. On success the caller
// owns the files: rename them into place or remove them.
// REQUIRES: req, ctx and opts outlive the co_await; ctx's route has stream_body.
boost::asio::awaitable<FormData> read_multipart_form(const Request& req, RequestContext& ctx,
                                                     const UploadOptions& opts);

}  // namespace enkisys::core
