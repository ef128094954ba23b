#include "enkisys/agent/json.hpp"

#include <boost/json.hpp>

namespace enkisys::agent {

namespace json = boost::json;

json::object usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

json::object conversation_json(const Conversation& c) {
  json::array cols;
  for (const auto& s : c.collections) cols.emplace_back(s);
  json::value tools;
  if (c.all_tools) {
    tools = "all";
  } else {
    json::array t;
    for (const auto& s : c.tools) t.emplace_back(s);
    tools = std::move(t);
  }
  return {{"id", c.id},
          {"title", c.title},
          {"collections", std::move(cols)},
          {"tools", std::move(tools)},
          {"system_prompt", c.system_prompt},
          {"model", c.model},
          {"summary", c.summary},
          {"created_at", c.created_at},
          {"updated_at", c.updated_at}};
}

json::object message_json(const StoredMessage& m, const json::array* tool_calls) {
  json::array calls;
  if (tool_calls != nullptr) {
    calls = *tool_calls;
  } else {
    for (const auto& c : m.tool_calls) {
      calls.emplace_back(json::object{{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}});
    }
  }
  boost::system::error_code ec;
  json::value citations = json::parse(m.citations, ec);
  if (ec || !citations.is_array()) citations = json::array{};
  json::object o{{"id", m.id},
                 {"role", m.role},
                 {"content", m.content},
                 {"citations", std::move(citations)},
                 {"tool_calls", std::move(calls)},
                 {"model", m.model},
                 {"usage", usage_json(m.usage)},
                 {"interrupted", m.interrupted},
                 {"created_at", m.created_at}};
  if (m.role == "tool") {
    o["tool_call_id"] = m.tool_call_id;
    o["name"] = m.name;
  }
  return o;
}

json::object citation_json(const Passage& p) {
  json::array path;
  for (const auto& h : p.heading_path) path.emplace_back(h);
  return {{"index", p.index},
          {"chunk_id", p.chunk_id},
          {"document_id", p.document_id},
          {"collection_id", p.collection_id},
          {"title", p.title},
          {"text", p.text},
          {"heading_path", std::move(path)},
          {"page", p.page},
          {"location", json::object{{"start", p.start},
                                    {"end", p.end},
                                    {"page", p.page > 0 ? json::value(p.page) : nullptr}}}};
}

}  // namespace enkisys::agent
