// OfflineModel: the built-in answerer used when no model endpoint is configured.
// Deterministic, no network, no other library.
//
// Contract (in addition to ChatModel's, model.hpp). It answers the last user message:
//  (a) tool results after that message → an answer stating them ("The result is 42.",
//      "It is 14:05 in Europe/Madrid (…).", or the tool's error);
//  (b) else a message that clearly asks for arithmetic, with a tool named "calculator"
//      offered → one tool call {"expression": "..."}; one asking the time somewhere, with
//      "current_time" offered → one tool call {"timezone": "<IANA name>"} (about 40 cities,
//      English and Spanish names; "UTC" when no known place is named);
//  (c) else, with context passages → an extractive answer: the (at most 3) sentences of the
//      passages sharing the most words with the question, each followed by its passage's
//      citation marker "[n]", nothing invented;
//  (d) else a short answer saying it is the offline answerer and found no documents.
//  Spanish questions get Spanish connective text. The answer is streamed through on_delta in
//  word-sized fragments. ChatResult::model is always "enkisys-offline"; usage is estimated.
//  Thread safety: stateless apart from the tool-call id counter (atomic); complete() may run
//  concurrently.
#pragma once

#include <string>
#include <vector>

#include "enkisys/agent/model.hpp"

namespace enkisys::agent {

class OfflineModel final : public ChatModel {
 public:
  OfflineModel() = default;

  std::string default_model() const override { return "enkisys-offline"; }
  std::vector<std::string> models() const override { return {default_model()}; }
  boost::asio::awaitable<core::Expected<ChatResult>> complete(const ChatRequest& request,
                                                              DeltaSink on_delta) override;

  // The same answer, computed synchronously (complete() streams it).
  ChatResult answer(const ChatRequest& request) const;
};

}  // namespace enkisys::agent
