// Test inputs built in the tests themselves (no downloads): zip/DOCX archives with libzip,
// small PDFs from a minimal writer, parse helpers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "enkisys/rag/parse.hpp"

namespace enkisys::rag::testing {

struct ZipEntry {
  std::string name;
  std::string data;
  std::uint64_t zeros = 0;  // when > 0: `zeros` zero bytes, streamed (data ignored)
  bool store = false;       // stored instead of deflated
};

// A zip archive holding `entries`, in order.
std::string make_zip(const std::vector<ZipEntry>& entries);

// A DOCX whose word/document.xml has `body` inside <w:body> (namespaces w: declared), with a
// docProps/core.xml holding dc:title `title` when it is not empty.
std::string make_docx(const std::string& body, const std::string& title = {});
// The full document.xml for `body`.
std::string document_xml(const std::string& body);

struct PdfPage {
  std::vector<std::vector<std::string>> paragraphs;  // lines of each paragraph
};
// A PDF (Helvetica, Tj text) with these pages and an /Info /Title when `title` is not empty.
// `locked`: adds a Standard security handler whose user password is not empty.
std::string make_pdf(const std::vector<PdfPage>& pages, const std::string& title = {},
                     bool locked = false);

// A fresh file under the test's temporary folder holding `bytes`.
std::filesystem::path write_temp(const std::string& name, const std::string& bytes);

// parse_document over in-memory data.
core::Expected<ParsedDocument> parse_bytes(const std::string& bytes, std::string content_type,
                                           std::string filename = {},
                                           const ParseLimits& limits = {});

// parse_bytes on a thread whose stack is `stack_bytes` (deep inputs must not recurse).
core::Expected<ParsedDocument> parse_on_small_stack(std::size_t stack_bytes,
                                                    const std::string& bytes,
                                                    std::string content_type,
                                                    const ParseLimits& limits = {});

// The blocks as "kind:level:text" lines (kinds H P L C T B) for compact assertions.
std::string dump(const DocumentModel& model);

}  // namespace enkisys::rag::testing
