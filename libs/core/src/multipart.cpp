// The multipart/form-data push parser (no I/O: the fuzz target links this file alone).
#include "enkisys/core/multipart.hpp"

#include <boost/beast/core/string.hpp>

namespace enkisys::core {

namespace {

[[noreturn]] void malformed(std::string_view code, const std::string& message) {
  throw ApiError(http::status::bad_request, std::string(code), message);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// `; key=value; key="quoted \" value"` after a media type or disposition type. Keys are
// lower-cased. Returns false when the list does not parse.
bool parse_params(std::string_view s, std::vector<std::pair<std::string, std::string>>* out) {
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  };
  for (;;) {
    skip_ws();
    if (i == s.size()) return true;
    if (s[i] != ';') return false;
    ++i;
    skip_ws();
    if (i == s.size()) return true;  // a trailing ';' is tolerated
    std::string key;
    while (i < s.size() && is_tchar(s[i])) {
      key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s[i]))));
      ++i;
    }
    skip_ws();
    if (key.empty() || i == s.size() || s[i] != '=') return false;
    ++i;
    skip_ws();
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        const char c = s[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && i < s.size()) {
          value.push_back(s[i++]);
        } else {
          value.push_back(c);
        }
      }
      if (!closed) return false;
    } else {
      while (i < s.size() && is_tchar(s[i])) value.push_back(s[i++]);
      if (value.empty()) return false;
    }
    out->emplace_back(std::move(key), std::move(value));
  }
}

bool valid_boundary(std::string_view b) {
  if (b.empty() || b.size() > 70 || b.back() == ' ') return false;
  for (const char c : b) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 &&
        std::string_view("'()+_,-./:=? ").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string multipart_boundary(std::string_view content_type) {
  const auto semi = content_type.find(';');
  if (!boost::beast::iequals(trim(content_type.substr(0, semi)), "multipart/form-data")) {
    throw ApiError(http::status::unsupported_media_type, "unsupported_media_type",
                   "expected Content-Type: multipart/form-data");
  }
  std::vector<std::pair<std::string, std::string>> params;
  if (semi != std::string_view::npos && !parse_params(content_type.substr(semi), &params)) {
    malformed("invalid_boundary", "Content-Type parameters do not parse");
  }
  for (const auto& [k, v] : params) {
    if (k != "boundary") continue;
    if (!valid_boundary(v)) {
      malformed("invalid_boundary", "the multipart boundary must be 1 to 70 allowed characters");
    }
    return v;
  }
  malformed("invalid_boundary", "multipart/form-data without a boundary parameter");
}

MultipartParser::MultipartParser(std::string_view boundary, MultipartLimits limits)
    : delimiter_("\r\n--" + std::string(boundary)), limits_(limits), buf_("\r\n") {
  // The CRLF before the first delimiter is optional (no preamble): buf_ starts with one.
}

void MultipartParser::feed(std::string_view data, Sink& sink) {
  buf_.erase(0, consumed_);
  pos_ -= consumed_;
  consumed_ = 0;
  buf_.append(data);
  while (step(sink)) {
  }
  // Keep the unconsumed tail (a possible delimiter prefix, a partial header block).
  consumed_ = pos_;
}

void MultipartParser::finish() const {
  if (state_ != State::kEpilogue) {
    malformed("multipart_incomplete", "the multipart body ended before its final boundary");
  }
}

bool MultipartParser::step(Sink& sink) {
  const std::string_view buf(buf_);
  switch (state_) {
    case State::kPreamble: {
      const auto d = buf.find(delimiter_, pos_);
      if (d == std::string_view::npos) {
        // Discard the preamble, keeping what could begin a delimiter.
        if (buf.size() >= delimiter_.size())
          pos_ = std::max(pos_, buf.size() - delimiter_.size() + 1);
        return false;
      }
      pos_ = d + delimiter_.size();
      state_ = State::kAfterDelimiter;
      padded_ = false;
      return true;
    }
    case State::kAfterDelimiter: {
      if (buf.size() - pos_ < 2) return false;
      if (!padded_ && buf.compare(pos_, 2, "--") == 0) {
        pos_ += 2;
        if (in_part_) sink.on_part_end();
        in_part_ = false;
        state_ = State::kEpilogue;
        return true;
      }
      // Transport padding (RFC 2046 allows linear white space), then CRLF.
      while (pos_ < buf.size() && (buf[pos_] == ' ' || buf[pos_] == '\t')) {
        ++pos_;
        padded_ = true;  // the close delimiter's "--" cannot follow padding
      }
      if (buf.size() - pos_ < 2) return false;
      if (buf.compare(pos_, 2, "\r\n") != 0) {
        malformed("invalid_multipart", "malformed multipart delimiter line");
      }
      pos_ += 2;
      if (in_part_) sink.on_part_end();
      in_part_ = false;
      if (++parts_ > limits_.max_parts) {
        malformed("multipart_too_many_parts",
                  "more than " + std::to_string(limits_.max_parts) + " parts");
      }
      state_ = State::kHeaders;
      return true;
    }
    case State::kHeaders: {
      std::size_t end = std::string_view::npos;
      std::size_t next = 0;
      if (buf.compare(pos_, 2, "\r\n") == 0) {
        end = pos_;  // empty header block
        next = pos_ + 2;
      } else {
        end = buf.find("\r\n\r\n", pos_);
        next = end + 4;
      }
      // Unterminated: up to 3 buffered bytes may be the start of the terminating CRLFCRLF.
      const std::size_t block = end == std::string_view::npos
                                    ? std::max<std::size_t>(buf.size() - pos_, 3) - 3
                                    : end - pos_;
      if (block > limits_.max_header_bytes) {
        malformed(
            "multipart_headers_too_large",
            "a part header block exceeds " + std::to_string(limits_.max_header_bytes) + " bytes");
      }
      if (end == std::string_view::npos) return false;
      PartHeaders h = parse_headers(buf.substr(pos_, end - pos_));
      pos_ = next;
      in_part_ = true;
      state_ = State::kBody;
      sink.on_part_begin(std::move(h));
      return true;
    }
    case State::kBody: {
      const auto d = buf.find(delimiter_, pos_);
      if (d != std::string_view::npos) {
        if (d > pos_) sink.on_part_data(buf.substr(pos_, d - pos_));
        pos_ = d + delimiter_.size();
        state_ = State::kAfterDelimiter;
        padded_ = false;
        return true;
      }
      // Everything except what could begin a delimiter is content.
      if (buf.size() >= delimiter_.size()) {
        const std::size_t safe = buf.size() - delimiter_.size() + 1;
        if (safe > pos_) {
          sink.on_part_data(buf.substr(pos_, safe - pos_));
          pos_ = safe;
        }
      }
      return false;
    }
    case State::kEpilogue:
      pos_ = buf.size();
      return false;
  }
  return false;
}

PartHeaders MultipartParser::parse_headers(std::string_view block) const {
  PartHeaders h;
  bool disposition = false;
  while (!block.empty()) {
    const auto eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || !is_tchar(line[0])) {
      malformed("invalid_multipart", "a part header line does not parse");
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (boost::beast::iequals(name, "Content-Disposition")) {
      const auto semi = value.find(';');
      std::vector<std::pair<std::string, std::string>> params;
      if (!boost::beast::iequals(trim(value.substr(0, semi)), "form-data") ||
          (semi != std::string_view::npos && !parse_params(value.substr(semi), &params))) {
        malformed("invalid_multipart", "a part's Content-Disposition is not form-data");
      }
      bool named = false;
      for (auto& [k, v] : params) {
        if (k == "name") {
          h.name = std::move(v);
          named = true;
        } else if (k == "filename") {
          h.filename = std::move(v);
        }
      }
      if (!named) malformed("invalid_multipart", "a part's Content-Disposition has no name");
      disposition = true;
    } else if (boost::beast::iequals(name, "Content-Type")) {
      h.content_type = std::string(value);
    }
  }
  if (!disposition) malformed("invalid_multipart", "a part has no Content-Disposition");
  return h;
}

}  // namespace enkisys::core
