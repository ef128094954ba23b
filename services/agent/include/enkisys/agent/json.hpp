// The JSON shapes of the Agent API (ARCHITECTURE.md "Agent"), written in one place so the
// answers, the stream's message.done and GET of a conversation agree.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <vector>

#include "enkisys/agent/model.hpp"
#include "enkisys/agent/store.hpp"

namespace enkisys::agent {

boost::json::object usage_json(const Usage& u);
// {"id","title","collections","tools","system_prompt","model","summary","created_at",...}
boost::json::object conversation_json(const Conversation& c);
// {"id","role","content","citations","tool_calls","model","usage","interrupted","created_at"}
// (+ "tool_call_id","name" for tool messages). `tool_calls`, when given, replaces the message's
// own (the final answer lists the calls of its turn with their results).
boost::json::object message_json(const StoredMessage& m,
                                 const boost::json::array* tool_calls = nullptr);
// {"index","chunk_id","document_id","collection_id","title","heading_path","page"}
boost::json::object citation_json(const Passage& p);

}  // namespace enkisys::agent
