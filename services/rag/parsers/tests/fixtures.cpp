#include "fixtures.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <zip.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace enkisys::rag::testing {
namespace {

struct Zeros {
  std::uint64_t total = 0;
  std::uint64_t pos = 0;
};

// A libzip source streaming `total` zero bytes (no buffer of that size is ever allocated).
zip_int64_t zeros_source(void* user, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
  auto* z = static_cast<Zeros*>(user);
  switch (cmd) {
    case ZIP_SOURCE_OPEN:
      z->pos = 0;
      return 0;
    case ZIP_SOURCE_READ: {
      const zip_uint64_t n = std::min<zip_uint64_t>(len, z->total - z->pos);
      std::memset(data, 0, n);
      z->pos += n;
      return static_cast<zip_int64_t>(n);
    }
    case ZIP_SOURCE_CLOSE:
      return 0;
    case ZIP_SOURCE_STAT: {
      auto* st = static_cast<zip_stat_t*>(data);
      zip_stat_init(st);
      st->size = z->total;
      st->valid |= ZIP_STAT_SIZE;
      return sizeof(zip_stat_t);
    }
    case ZIP_SOURCE_ERROR: {
      auto* e = static_cast<int*>(data);
      e[0] = e[1] = 0;
      return 2 * sizeof(int);
    }
    case ZIP_SOURCE_FREE:
      delete z;
      return 0;
    case ZIP_SOURCE_SUPPORTS:
      return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                            ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
    default:
      return -1;
  }
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string pdf_string(const std::string& s) {
  std::string out = "(";
  for (char c : s) {
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += c;
  }
  return out + ")";
}

int temp_counter = 0;

}  // namespace

std::filesystem::path write_temp(const std::string& name, const std::string& bytes) {
  auto path = std::filesystem::path(::testing::TempDir()) /
              ("rag_parsers_" + std::to_string(++temp_counter) + "_" + name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

std::string make_zip(const std::vector<ZipEntry>& entries) {
  const auto path = write_temp("archive.zip", "");
  std::filesystem::remove(path);
  int err = 0;
  zip_t* zip = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (zip == nullptr) throw std::runtime_error("zip_open failed");
  for (const ZipEntry& e : entries) {
    zip_source_t* src = nullptr;
    if (e.zeros > 0) {
      src = zip_source_function(zip, zeros_source, new Zeros{e.zeros, 0});
    } else {
      src = zip_source_buffer(zip, e.data.data(), e.data.size(), 0);
    }
    const zip_int64_t index = zip_file_add(zip, e.name.c_str(), src, ZIP_FL_OVERWRITE);
    if (index < 0) throw std::runtime_error("zip_file_add failed");
    zip_set_file_compression(zip, static_cast<zip_uint64_t>(index),
                             e.store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, e.zeros > 0 ? 1 : 0);
  }
  if (zip_close(zip) != 0) throw std::runtime_error("zip_close failed");
  std::string bytes = read_all(path);
  std::filesystem::remove(path);
  return bytes;
}

std::string document_xml(const std::string& body) {
  return R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>)" +
         body + "</w:body></w:document>";
}

std::string make_docx(const std::string& body, const std::string& title) {
  std::vector<ZipEntry> entries{
      {"[Content_Types].xml",
       R"(<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>)"},
      {"word/document.xml", document_xml(body)}};
  if (!title.empty()) {
    entries.push_back(
        {"docProps/core.xml",
         R"(<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>)" +
             title + "</dc:title></cp:coreProperties>"});
  }
  return make_zip(entries);
}

std::string make_pdf(const std::vector<PdfPage>& pages, const std::string& title, bool locked) {
  // Objects: 1 catalog, 2 pages, 3 font, 4 info, 5 encrypt, then (page, contents) pairs.
  std::vector<std::string> objects(5);
  objects[0] = "<< /Type /Catalog /Pages 2 0 R >>";
  objects[2] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";
  objects[3] = title.empty() ? "<< >>" : "<< /Title " + pdf_string(title) + " >>";
  objects[4] = "<< /Filter /Standard /V 1 /R 2 /P -4 /O <" + std::string(64, 'A') + "> /U <" +
               std::string(64, '7') + "> >>";
  std::string kids;
  for (const PdfPage& page : pages) {
    const std::size_t page_obj = objects.size() + 1;
    std::string content = "BT /F1 12 Tf 14 TL 72 740 Td\n";
    for (const auto& paragraph : page.paragraphs) {
      for (const auto& line : paragraph) content += pdf_string(line) + " Tj T*\n";
      content += "0 -30 Td\n";
    }
    content += "ET\n";
    objects.push_back(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << "
        "/Font << /F1 3 0 R >> >> /Contents " +
        std::to_string(page_obj + 1) + " 0 R >>");
    objects.push_back("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
                      "endstream");
    kids += std::to_string(page_obj) + " 0 R ";
  }
  objects[1] =
      "<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(pages.size()) + " >>";

  std::string out = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t off : offsets) {
    std::string n = std::to_string(off);
    out += std::string(10 - n.size(), '0') + n + " 00000 n \n";
  }
  out += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R /Info 4 0 R";
  if (locked) {
    out +=
        " /Encrypt 5 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> "
        "<0123456789ABCDEF0123456789ABCDEF>]";
  }
  out += " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return out;
}

core::Expected<ParsedDocument> parse_bytes(const std::string& bytes, std::string content_type,
                                           std::string filename, const ParseLimits& limits) {
  ParseInput input;
  input.content_type = std::move(content_type);
  input.filename = std::move(filename);
  input.data = bytes;
  return parse_document(input, limits);
}

std::string dump(const DocumentModel& model) {
  std::ostringstream out;
  for (const Block& b : model.blocks) {
    static constexpr char kKinds[] = {'H', 'P', 'L', 'C', 'T', 'B'};
    out << kKinds[static_cast<int>(b.kind)] << ':'
        << (b.kind == BlockKind::kPageBreak ? b.page : b.level) << ':' << b.text << '\n';
  }
  return out.str();
}

namespace {

struct SmallStackCall {
  const std::string* bytes;
  std::string content_type;
  ParseLimits limits;
  std::optional<core::Expected<ParsedDocument>> result;
};

void* small_stack_main(void* arg) {
  auto* call = static_cast<SmallStackCall*>(arg);
  call->result.emplace(parse_bytes(*call->bytes, call->content_type, {}, call->limits));
  return nullptr;
}

}  // namespace

core::Expected<ParsedDocument> parse_on_small_stack(std::size_t stack_bytes,
                                                    const std::string& bytes,
                                                    std::string content_type,
                                                    const ParseLimits& limits) {
  SmallStackCall call{&bytes, std::move(content_type), limits, std::nullopt};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes);
  pthread_t thread;
  const int rc = pthread_create(&thread, &attr, small_stack_main, &call);
  pthread_attr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("pthread_create failed");
  pthread_join(thread, nullptr);
  return std::move(*call.result);
}

}  // namespace enkisys::rag::testing
