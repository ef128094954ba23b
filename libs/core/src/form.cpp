// read_multipart_form: MultipartParser over BodyStream, file parts to disk.
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <system_error>

#include "enkisys/core/multipart.hpp"
#include "enkisys/core/server.hpp"

namespace enkisys::core {

namespace {

// Parser events of one feed(), replayed asynchronously (data views live until the next feed).
struct Event {
  enum class Kind { kBegin, kData, kEnd } kind;
  PartHeaders headers;
  std::string_view data;
};

class Collector : public MultipartParser::Sink {
 public:
  std::vector<Event> events;
  void on_part_begin(PartHeaders h) override {
    events.push_back({Event::Kind::kBegin, std::move(h), {}});
  }
  void on_part_data(std::string_view d) override { events.push_back({Event::Kind::kData, {}, d}); }
  void on_part_end() override { events.push_back({Event::Kind::kEnd, {}, {}}); }
};

// A file part being written: its descriptor and running SHA-256. Touched only inside
// blocking() calls, one at a time.
struct OpenFile {
  int fd = -1;
  EVP_MD_CTX* sha = nullptr;
  UploadedFile meta;
  OpenFile() = default;
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
    EVP_MD_CTX_free(sha);
  }
};

// Removes every file it lists unless kept (any error path).
struct CreatedFiles {
  std::vector<std::filesystem::path> paths;
  bool keep = false;
  CreatedFiles() = default;
  CreatedFiles(const CreatedFiles&) = delete;
  CreatedFiles& operator=(const CreatedFiles&) = delete;
  ~CreatedFiles() {
    if (keep) return;
    for (const auto& p : paths) {
      std::error_code ec;
      std::filesystem::remove(p, ec);
    }
  }
};

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void open_file(OpenFile& f, const std::filesystem::path& path) {
  f.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (f.fd < 0) throw_errno("cannot create upload file");
  f.sha = EVP_MD_CTX_new();
  if (f.sha == nullptr || EVP_DigestInit_ex(f.sha, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 init failed");
  }
}

void append_file(OpenFile& f, std::string_view data) {
  if (EVP_DigestUpdate(f.sha, data.data(), data.size()) != 1) {
    throw std::runtime_error("SHA-256 update failed");
  }
  while (!data.empty()) {
    const ssize_t n = ::write(f.fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("cannot write upload file");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void close_file(OpenFile& f) {
  if (::fsync(f.fd) != 0) throw_errno("cannot fsync upload file");
  const int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) throw_errno("cannot close upload file");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_DigestFinal_ex(f.sha, md, &len) != 1) throw std::runtime_error("SHA-256 final failed");
  static constexpr char kHex[] = "0123456789abcdef";
  f.meta.sha256.clear();
  for (unsigned i = 0; i < len; ++i) {
    f.meta.sha256.push_back(kHex[md[i] >> 4]);
    f.meta.sha256.push_back(kHex[md[i] & 0xF]);
  }
}

void sync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open upload directory");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw_errno("cannot fsync upload directory");
}

[[noreturn]] void too_large(std::string code, const std::string& message) {
  throw ApiError(http::status::payload_too_large, std::move(code), message);
}

}  // namespace

const std::string* FormData::field(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) return &v;
  }
  return nullptr;
}

boost::asio::awaitable<FormData> read_multipart_form(const Request& req, RequestContext& ctx,
                                                     const UploadOptions& opts) {
  MultipartParser parser(multipart_boundary(req[http::field::content_type]), opts.limits);
  BodyStream& body = ctx.body();
  FormData form;
  CreatedFiles created;
  Collector sink;
  std::unique_ptr<OpenFile> file;                            // the current file part
  std::optional<std::pair<std::string, std::string>> field;  // the current text part
  std::uint64_t file_bytes = 0;                              // all file parts so far
  for (;;) {
    const std::string_view piece = co_await body.read();
    if (piece.empty()) break;
    sink.events.clear();
    parser.feed(piece, sink);
    for (auto& ev : sink.events) {
      if (ev.kind == Event::Kind::kBegin) {
        if (ev.headers.filename) {
          file = std::make_unique<OpenFile>();
          file->meta.field = std::move(ev.headers.name);
          file->meta.filename = std::move(*ev.headers.filename);
          file->meta.content_type = std::move(ev.headers.content_type);
          file->meta.path = opts.dir / (".upload-" + new_request_id() + ".part");
          created.paths.push_back(file->meta.path);
          co_await ctx.blocking([f = file.get()] {
            open_file(*f, f->meta.path);
            return 0;
          });
        } else {
          field.emplace(std::move(ev.headers.name), std::string{});
        }
      } else if (ev.kind == Event::Kind::kData) {
        if (file) {
          file->meta.size += ev.data.size();
          file_bytes += ev.data.size();
          if (file->meta.size > opts.max_file_bytes) {
            too_large("file_too_large",
                      "a file exceeds " + std::to_string(opts.max_file_bytes) + " bytes");
          }
          if (file_bytes > opts.max_total_bytes) {
            too_large("upload_too_large",
                      "the files exceed " + std::to_string(opts.max_total_bytes) + " bytes");
          }
          co_await ctx.blocking([f = file.get(), d = ev.data] {
            append_file(*f, d);
            return 0;
          });
        } else if (field) {
          if (field->second.size() + ev.data.size() > opts.max_field_bytes) {
            too_large("field_too_large",
                      "a form field exceeds " + std::to_string(opts.max_field_bytes) + " bytes");
          }
          field->second.append(ev.data);
        }
      } else if (file) {
        co_await ctx.blocking([f = file.get()] {
          close_file(*f);
          return 0;
        });
        form.files.push_back(std::move(file->meta));
        file.reset();
      } else if (field) {
        form.fields.push_back(std::move(*field));
        field.reset();
      }
    }
    if (opts.on_progress) opts.on_progress(body.bytes_read());
  }
  parser.finish();
  if (!form.files.empty()) {
    // Only trivially destructible captures in a co_await expression (GCC 12).
    co_await ctx.blocking([dir = &opts.dir] {
      sync_dir(*dir);
      return 0;
    });
  }
  created.keep = true;
  co_return form;
}

}  // namespace enkisys::core
