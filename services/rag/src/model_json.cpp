#include "enkisys/rag/model_json.hpp"

#include <array>
#include <boost/json.hpp>

namespace enkisys::rag {

namespace json = boost::json;

namespace {

constexpr std::array<std::pair<BlockKind, std::string_view>, 6> kKinds{{
    {BlockKind::kHeading, "h"},
    {BlockKind::kParagraph, "p"},
    {BlockKind::kListItem, "li"},
    {BlockKind::kCode, "code"},
    {BlockKind::kTable, "table"},
    {BlockKind::kPageBreak, "page"},
}};

core::Error invalid_payload() {
  return core::make_error(core::ErrorKind::kUnprocessable, "invalid_payload",
                          "the queued document could not be read back");
}

}  // namespace

std::string model_to_json(const DocumentModel& model) {
  json::array blocks;
  blocks.reserve(model.blocks.size());
  for (const auto& b : model.blocks) {
    json::object o;
    for (const auto& [kind, name] : kKinds) {
      if (kind == b.kind) o["k"] = name;
    }
    if (!b.text.empty()) o["t"] = b.text;
    if (b.level != 0) o["l"] = b.level;
    if (b.page != 0) o["p"] = b.page;
    blocks.emplace_back(std::move(o));
  }
  return json::serialize(
      json::object{{"id", model.id}, {"title", model.title}, {"blocks", std::move(blocks)}});
}

core::Expected<DocumentModel> model_from_json(const std::string& text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return invalid_payload();
  const auto& o = v.as_object();
  const auto* id = o.if_contains("id");
  const auto* title = o.if_contains("title");
  const auto* blocks = o.if_contains("blocks");
  if (!id || !id->is_string() || !title || !title->is_string() || !blocks || !blocks->is_array()) {
    return invalid_payload();
  }
  DocumentModel m{std::string(id->as_string()), std::string(title->as_string()), {}};
  m.blocks.reserve(blocks->as_array().size());
  for (const auto& bv : blocks->as_array()) {
    if (!bv.is_object()) return invalid_payload();
    const auto& bo = bv.as_object();
    const auto* k = bo.if_contains("k");
    if (!k || !k->is_string()) return invalid_payload();
    Block b;
    bool known = false;
    for (const auto& [kind, name] : kKinds) {
      if (k->as_string() == name) {
        b.kind = kind;
        known = true;
      }
    }
    if (!known) return invalid_payload();
    if (const auto* t = bo.if_contains("t"); t && t->is_string()) b.text = t->as_string();
    if (const auto* l = bo.if_contains("l"); l && l->is_int64()) {
      b.level = static_cast<int>(l->as_int64());
    }
    if (const auto* p = bo.if_contains("p"); p && p->is_int64()) {
      b.page = static_cast<int>(p->as_int64());
    }
    m.blocks.push_back(std::move(b));
  }
  return m;
}

}  // namespace enkisys::rag
