// Document parsers of the RAG service: uploaded bytes (text, Markdown, HTML, PDF, DOCX) → the
// chunker's DocumentModel (enkisys/rag/chunker.hpp).
//
// Contract:
//  * Never throws for bad input and never writes to stdout/stderr: every refusal is a
//    core::Error (ErrorKind::kUnsupportedMediaType 415 or kUnprocessable 422; kPayloadTooLarge
//    413 "payload_too_large" above max_input_bytes; kInternal "input_unreadable" when input.path
//    cannot be read) with a stable code:
//      unsupported_media_type  not one of the five formats (images, archives, executables...)
//      invalid_utf8            text/Markdown that is not UTF-8 and declares no charset
//      unsupported_charset     a declared charset iconv does not know
//      invalid_encoding        bytes that are not valid in the declared charset
//      encrypted_pdf           a PDF locked by a password
//      corrupt_pdf             a PDF poppler cannot open
//      too_many_pages          a PDF with more than max_pages pages
//      corrupt_docx            not a zip, or no word/document.xml, or damaged XML/zip data
//      archive_too_large       DOCX: an entry inflating above max_compression_ratio times its
//                              compressed size (at least 1 KiB is assumed), the sum of
//                              bytes inflated above max_unpacked_bytes (both counted while
//                              reading, never trusting the sizes of the zip headers), or more
//                              than max_zip_entries entries
//      document_too_large      extracted text above max_text_bytes
//      empty_document          no text, or whitespace only
//  * Output: every block's text is valid UTF-8, whitespace-collapsed (code blocks keep their
//    lines verbatim), never empty (except kPageBreak). Heading levels are 1..6 (DOCX Heading7..9
//    are clamped to 6). Table rows are one line each, cells joined by " | ".
//  * Charsets: text and Markdown use the declared charset, else a BOM, else must be UTF-8. HTML
//    uses the declared charset (as strictly), else a BOM, else its <meta> charset (an unknown
//    one is ignored), else UTF-8; there, bytes invalid in the charset become U+FFFD.
//  * XML and HTML are parsed with no network access, no DTD loading and no external entities
//    (an external entity's target is never read).
//  * Thread safety: detect_format and parse_document may run concurrently from any number of
//    threads (library initialisation happens once; each call owns its parser state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "enkisys/core/expected.hpp"
#include "enkisys/rag/chunker.hpp"

namespace enkisys::rag {

enum class DocumentFormat : std::uint8_t { kText, kMarkdown, kHtml, kPdf, kDocx };

// "text", "markdown", "html", "pdf", "docx".
std::string_view format_name(DocumentFormat format);
// "text/plain", "text/markdown", "text/html", "application/pdf",
// "application/vnd.openxmlformats-officedocument.wordprocessingml.document".
std::string_view mime_type_of(DocumentFormat format);

struct ParseLimits {
  std::size_t max_input_bytes = std::size_t{64} << 20U;
  std::size_t max_text_bytes = std::size_t{32} << 20U;  // extracted text (document_too_large)
  std::size_t max_pages = 5000;                         // PDF
  std::uint64_t max_unpacked_bytes = std::uint64_t{256} << 20U;  // DOCX: sum inflated
  double max_compression_ratio = 200;                            // DOCX: per entry
  std::size_t max_zip_entries = 10000;                           // DOCX
};

// One upload. Exactly one of `path` (non-empty: the bytes are that file's) and `data` is used:
// `path` when it is non-empty, else `data`.
struct ParseInput {
  std::string content_type;    // as declared by the client, may carry "; charset=..."; may be ""
  std::string filename;        // as uploaded; may be ""
  std::string title;           // explicit title; may be ""
  std::filesystem::path path;  // file uploads
  std::string_view data;       // JSON text; must outlive the call
};

struct ParsedDocument {
  // model.id is left empty (the caller assigns it). model.title: the explicit title, else the
  // document's own (HTML <title>, PDF/DOCX metadata title), else its first heading, else the
  // filename without its extension, else "".
  DocumentModel model;
  DocumentFormat format = DocumentFormat::kText;
  std::size_t pages = 0;  // PDF page count; 0 for the other formats
  std::string mime_type;  // canonical (mime_type_of(format))
};

// Decides the format, in this order:
//  1. Magic bytes win over everything declared: "%PDF-" at the start → PDF (even when declared
//     text/plain or named .txt); a zip ("PK\3\4") → DOCX when declared as DOCX, named .docx, or
//     neither typed nor named; else 415 naming application/zip; PNG, JPEG, GIF, WebP, TIFF, ELF,
//     gzip, 7z, RAR, OLE (.doc) → 415 naming the sniffed type.
//  2. A specific declared type: text/plain, text/markdown (text/x-markdown), text/html
//     (application/xhtml+xml), application/pdf, the DOCX type; any other declared type other than
//     application/octet-stream → 415 naming it. text/plain defers to a .md/.markdown extension.
//  3. The extension: .txt .text .md .markdown .html .htm .xhtml .pdf .docx; others → 415.
//  4. Nothing declared, no extension: "<!doctype html" / "<html" at the start → HTML; else text.
// A text format whose head holds NUL bytes without a UTF-16/32 BOM or such a declared charset
// (executables, other binaries) → 415 application/octet-stream. REQUIRES: `head` holds the first
// bytes of the input (up to 8 KiB is enough; all of it is fine).
core::Expected<DocumentFormat> detect_format(const ParseInput& input, std::string_view head);
// Same, reading the head from input.path or input.data.
core::Expected<DocumentFormat> detect_format(const ParseInput& input);

// Detects the format and parses the document into blocks (see the contract above).
core::Expected<ParsedDocument> parse_document(const ParseInput& input,
                                              const ParseLimits& limits = {});

}  // namespace enkisys::rag
