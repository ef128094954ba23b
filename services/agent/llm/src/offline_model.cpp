#include "enkisys/agent/offline_model.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdio>

#include "offline_text.hpp"

namespace enkisys::agent {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::atomic<long long> g_next_call{1};

bool offered(const ChatRequest& r, std::string_view name) {
  return std::any_of(r.tools.begin(), r.tools.end(),
                     [&](const ToolSpec& t) { return t.name == name; });
}

std::string number_text(const json::value& v) {
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_uint64()) return std::to_string(v.as_uint64());
  const double d = v.as_double();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", d);
  return buf;
}

// One sentence about one tool result (the message content: the result JSON, {"result": ...}
// or {"error": ...}).
std::string describe_result(std::string_view tool, std::string_view content, bool es) {
  json::error_code ec;
  json::value v = json::parse(content, ec);
  if (ec) v = json::string(content);
  if (const auto* o = v.if_object()) {
    if (const auto* e = o->if_contains("error")) {
      std::string msg = e->is_string() ? std::string(e->get_string()) : json::serialize(*e);
      if (const auto* eo = e->if_object()) {
        if (const auto* m = eo->if_contains("message"); m && m->is_string()) msg = m->get_string();
      }
      return es ? "La herramienta " + std::string(tool) + " falló: " + msg + "."
                : "The tool " + std::string(tool) + " failed: " + msg + ".";
    }
    if (const auto* r = o->if_contains("result")) {
      const json::value inner = *r;
      v = inner;
    }
  }
  if (const auto* o = v.if_object()) {
    const auto* iso = o->if_contains("iso8601");
    const auto* tz = o->if_contains("timezone");
    if (iso && iso->is_string() && tz && tz->is_string()) {
      const std::string s(iso->get_string());
      const auto t = s.find('T');
      const std::string hhmm = t != std::string::npos && s.size() >= t + 6 ? s.substr(t + 1, 5) : s;
      const std::string zone(tz->get_string());
      return es ? "Son las " + hhmm + " en " + zone + " (" + s + ")."
                : "It is " + hhmm + " in " + zone + " (" + s + ").";
    }
  }
  if (v.is_number()) {
    return es ? "El resultado es " + number_text(v) + "." : "The result is " + number_text(v) + ".";
  }
  const std::string text = v.is_string() ? std::string(v.get_string()) : json::serialize(v);
  return es ? "La herramienta " + std::string(tool) + " devolvió: " + text + "."
            : "The tool " + std::string(tool) + " returned: " + text + ".";
}

// (c): the best sentences of the passages, each with its citation marker.
std::string extractive(const std::string& question, const std::vector<Passage>& passages, bool es) {
  const auto q = detail::content_words(question);
  struct Candidate {
    double score;
    std::size_t passage, position;
    std::string text;
    int index;
  };
  std::vector<Candidate> cands;
  for (std::size_t p = 0; p < passages.size(); ++p) {
    const auto sentences = detail::sentences_of(passages[p].text);
    for (std::size_t s = 0; s < sentences.size(); ++s) {
      const auto words = detail::words_of(detail::fold(sentences[s]));
      double score = 0;
      for (const auto& w : q) {
        if (std::find(words.begin(), words.end(), w) != words.end()) {
          score += 1;
        } else if (w.size() >= 5 && std::any_of(words.begin(), words.end(), [&](const auto& x) {
                     return x.size() >= 5 && x.compare(0, 5, w, 0, 5) == 0;
                   })) {
          score += 0.5;  // the same word with another ending
        }
      }
      if (score > 0) cands.push_back({score, p, s, sentences[s], passages[p].index});
    }
  }
  if (cands.empty()) {
    return es ? "Soy el asistente sin conexión: ninguno de los documentos encontrados responde "
                "a esta pregunta."
              : "I am the offline answerer: none of the documents found answers this question.";
  }
  std::stable_sort(cands.begin(), cands.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  const double floor = cands.front().score / 2;
  std::vector<Candidate> chosen;
  for (auto& c : cands) {
    if (chosen.size() == 3 || c.score < floor) break;
    chosen.push_back(std::move(c));
  }
  std::sort(chosen.begin(), chosen.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(a.passage, a.position) < std::tie(b.passage, b.position);
  });
  std::string out = es ? "Según los documentos:" : "According to the documents:";
  for (const auto& c : chosen) out += " " + c.text + " [" + std::to_string(c.index) + "]";
  return out;
}

}  // namespace

ChatResult OfflineModel::answer(const ChatRequest& request) const {
  ChatResult r;
  r.model = default_model();
  r.finish_reason = "stop";
  const std::vector<MessageView> msgs = message_views(request);
  std::size_t last_user = msgs.size();
  for (std::size_t i = msgs.size(); i-- > 0;) {
    if (msgs[i].role == "user") {
      last_user = i;
      break;
    }
  }
  const std::string question =
      last_user < msgs.size() ? std::string(msgs[last_user].content) : std::string();
  const bool es = detail::looks_spanish(question);

  // (a) tool results after the question
  std::vector<std::string> results;
  for (std::size_t i = last_user + 1; i < msgs.size(); ++i) {
    const auto& m = msgs[i];
    if (m.role != "tool") continue;
    std::string name(m.name);
    for (std::size_t j = last_user + 1; j < i && name.empty(); ++j) {
      for (const auto& c : msgs[j].tool_calls) {
        if (c.id == m.tool_call_id) name = c.name;
      }
    }
    results.push_back(describe_result(name.empty() ? "tool" : name, m.content, es));
  }
  if (last_user < msgs.size() && !results.empty()) {
    for (const auto& s : results) r.content += (r.content.empty() ? "" : " ") + s;
  } else if (auto expr = detail::arithmetic_expression(question);
             expr && offered(request, "calculator")) {  // (b)
    r.tool_calls.push_back({"call_" + std::to_string(g_next_call++), "calculator",
                            json::serialize(json::object{{"expression", *expr}})});
  } else if (auto zone = detail::time_zone_asked(question);
             zone && offered(request, "current_time")) {
    r.tool_calls.push_back({"call_" + std::to_string(g_next_call++), "current_time",
                            json::serialize(json::object{{"timezone", *zone}})});
  } else if (!request.context.empty()) {  // (c)
    r.content = extractive(question, request.context, es);
  } else {  // (d)
    r.content = es ? "Soy el asistente sin conexión (no hay un modelo de lenguaje configurado) y "
                     "no encontré documentos sobre esto, así que no puedo responderlo."
                   : "I am the offline answerer (no language model is configured) and I found no "
                     "documents about this, so I cannot answer it.";
  }
  if (!r.tool_calls.empty()) r.finish_reason = "tool_calls";

  int prompt = 0;
  for (const auto& m : msgs) prompt += 4 + estimate_tokens(m.content);
  for (const auto& p : request.context) prompt += estimate_tokens(p.text);
  int completion = estimate_tokens(r.content);
  for (const auto& c : r.tool_calls) completion += 4 + estimate_tokens(c.arguments);
  r.usage = Usage{prompt, completion};
  return r;
}

asio::awaitable<core::Expected<ChatResult>> OfflineModel::complete(const ChatRequest& request,
                                                                   DeltaSink on_delta) {
  const auto state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none) {
    co_return core::make_error(core::ErrorKind::kUnavailable, "cancelled",
                               "the model call was cancelled");
  }
  ChatResult r = answer(request);
  if (on_delta) {  // word-sized fragments, each with the spaces that follow it
    const std::string_view text = r.content;
    std::size_t at = 0;
    while (at < text.size()) {
      std::size_t end = text.find(' ', at);
      end = end == std::string_view::npos ? text.size() : text.find_first_not_of(' ', end);
      if (end == std::string_view::npos) end = text.size();
      on_delta(text.substr(at, end - at));
      at = end;
    }
  }
  co_return r;
}

}  // namespace enkisys::agent
