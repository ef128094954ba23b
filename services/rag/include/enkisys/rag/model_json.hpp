// The parsed document model as JSON: the payload of a queued ingestion job (store.hpp), written
// when an upload is accepted and read by the ingestion worker.
//
// Shape: {"id","title","blocks":[{"k":"h"|"p"|"li"|"code"|"table"|"page","t":text,"l":level,
// "p":page}]}. Pure and thread safe.
#pragma once

#include <string>

#include "enkisys/core/expected.hpp"
#include "enkisys/rag/chunker.hpp"

namespace enkisys::rag {

std::string model_to_json(const DocumentModel& model);
// kUnprocessable "invalid_payload" when the text is not a model written by model_to_json.
core::Expected<DocumentModel> model_from_json(const std::string& text);

}  // namespace enkisys::rag
