#include "binary_io.hpp"

#include <cstdio>
#include <fstream>

namespace enkisys::rag::detail {

std::uint64_t fnv1a64(std::string_view data) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

core::Error corrupt(const std::string& message) {
  return core::make_error(core::ErrorKind::kUnprocessable, "index_corrupt",
                          "index file is damaged: " + message);
}

core::Status write_file(const std::string& path, std::string_view magic, std::uint32_t version,
                        const std::string& payload) {
  Writer header;
  header.raw(magic.data(), magic.size());
  header.u32(version);
  header.u64(payload.size());
  Writer trailer;
  trailer.u64(fnv1a64(payload));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(header.bytes().data(), static_cast<std::streamsize>(header.bytes().size()));
    out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
    out.write(trailer.bytes().data(), static_cast<std::streamsize>(trailer.bytes().size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return core::make_error(core::ErrorKind::kUnavailable, "index_write_failed",
                              "cannot write the index file");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return core::make_error(core::ErrorKind::kUnavailable, "index_write_failed",
                            "cannot replace the index file");
  }
  return core::ok_status();
}

core::Expected<std::string> read_file(const std::string& path, std::string_view magic,
                                      std::uint32_t version) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::make_error(core::ErrorKind::kNotFound, "index_missing", "no index file");
  }
  in.seekg(0, std::ios::end);
  const std::streamoff file_size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (file_size < 0) return corrupt("unreadable");
  std::string data(static_cast<std::size_t>(file_size), '\0');
  if (!in.read(data.data(), file_size)) return corrupt("short read");
  Reader r(data);
  std::string got(magic.size(), '\0');
  if (!r.raw(got.data(), got.size()) || got != magic) return corrupt("bad magic");
  if (r.u32() != version) return corrupt("unsupported format version");
  const std::uint64_t size = r.u64();
  const std::size_t header = magic.size() + 12;
  if (!r.ok() || data.size() < header + 8 || size != data.size() - header - 8) {
    return corrupt("size mismatch");
  }
  Reader tail(std::string_view(data).substr(header + size));
  if (tail.u64() != fnv1a64(std::string_view(data).substr(header, size))) {
    return corrupt("checksum mismatch");
  }
  data.erase(0, header);  // in place: an index file may be hundreds of MB
  data.resize(size);
  return data;
}

}  // namespace enkisys::rag::detail
