#include "enkisys/rag/embeddings_client.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "enkisys/core/utf8.hpp"

namespace enkisys::rag {

namespace json = boost::json;
namespace asio = boost::asio;
using core::ErrorKind;
using Vectors = std::vector<std::vector<float>>;

namespace {

core::Error invalid(const std::string& why) {
  return core::make_error(ErrorKind::kUpstream, "embeddings_invalid",
                          "the embeddings endpoint answered badly: " + why);
}

bool retryable(unsigned status) {
  return status == 408 || status == 429 || status >= 500;
}

// The server's own message of an error answer, shortened.
std::string server_message(const std::string& body) {
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  std::string msg;
  if (!ec && v.is_object()) {
    if (const auto* e = v.as_object().if_contains("error")) {
      if (e->is_string()) msg = e->as_string();
      if (e->is_object()) {
        if (const auto* m = e->as_object().if_contains("message"); m && m->is_string()) {
          msg = m->as_string();
        }
      }
    }
  }
  if (msg.empty()) msg = body.substr(0, 200);
  return core::to_valid_utf8(msg.substr(0, 300));
}

}  // namespace

EmbeddingsClient::EmbeddingsClient(core::HttpSender& http, EmbeddingsOptions options)
    : http_(http), options_(std::move(options)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
  options_.batch_size = std::max<std::size_t>(1, options_.batch_size);
  options_.max_attempts = std::max(1, options_.max_attempts);
}

asio::awaitable<core::Expected<Vectors>> EmbeddingsClient::embed(std::vector<std::string> texts) {
  Vectors out;
  out.reserve(texts.size());
  for (std::size_t begin = 0; begin < texts.size(); begin += options_.batch_size) {
    const std::size_t end = std::min(texts.size(), begin + options_.batch_size);
    auto batch = co_await embed_batch(texts, begin, end);
    if (!batch) co_return batch.error();
    for (auto& v : *batch) out.push_back(std::move(v));
  }
  co_return out;
}

asio::awaitable<core::Expected<Vectors>> EmbeddingsClient::embed_batch(
    const std::vector<std::string>& texts, std::size_t begin, std::size_t end) {
  json::array input;
  for (std::size_t i = begin; i < end; ++i) input.emplace_back(core::to_valid_utf8(texts[i]));
  core::ClientRequest req;
  req.method = boost::beast::http::verb::post;
  req.url = options_.base_url + "/embeddings";
  req.headers.emplace_back("Content-Type", "application/json");
  if (!options_.api_key.empty()) {
    req.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
  }
  req.body = json::serialize(json::object{{"model", options_.model}, {"input", std::move(input)}});
  core::ClientOptions co;
  co.timeout = options_.timeout;
  co.max_response_bytes = options_.max_response_bytes;

  auto backoff = options_.initial_backoff;
  core::Error last = core::make_error(ErrorKind::kUnavailable, "embeddings_unreachable",
                                      "the embeddings endpoint could not be reached");
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    auto res = co_await http_.send(req, co);
    std::chrono::milliseconds wait = backoff;
    if (!res) {
      last =
          core::make_error(ErrorKind::kUnavailable, "embeddings_unreachable",
                           "the embeddings endpoint could not be reached: " + res.error().message);
    } else if (res->status == 200) {
      boost::system::error_code ec;
      const json::value v = json::parse(res->body, ec);
      if (ec || !v.is_object()) co_return invalid("not JSON");
      const auto* data = v.as_object().if_contains("data");
      if (!data || !data->is_array() || data->as_array().size() != end - begin) {
        co_return invalid("expected " + std::to_string(end - begin) + " embeddings");
      }
      Vectors out(end - begin);
      for (std::size_t i = 0; i < data->as_array().size(); ++i) {
        const auto& item = data->as_array()[i];
        if (!item.is_object()) co_return invalid("an item is not an object");
        std::size_t slot = i;
        if (const auto* ix = item.as_object().if_contains("index"); ix && ix->is_int64()) {
          if (ix->as_int64() < 0 || static_cast<std::size_t>(ix->as_int64()) >= out.size()) {
            co_return invalid("index out of range");
          }
          slot = static_cast<std::size_t>(ix->as_int64());
        }
        const auto* emb = item.as_object().if_contains("embedding");
        if (!emb || !emb->is_array() || emb->as_array().empty()) {
          co_return invalid("no embedding array");
        }
        auto& vec = out[slot];
        if (!vec.empty()) co_return invalid("two embeddings for one input");
        vec.reserve(emb->as_array().size());
        for (const auto& x : emb->as_array()) {
          if (!x.is_number()) co_return invalid("a value is not a number");
          const auto f = static_cast<float>(x.to_number<double>());
          if (!std::isfinite(f)) co_return invalid("a value is not finite");
          vec.push_back(f);
        }
        std::size_t expected = 0;
        dim_.compare_exchange_strong(expected, vec.size());
        if (vec.size() != dim_.load()) {
          co_return invalid("dimension " + std::to_string(vec.size()) + " instead of " +
                            std::to_string(dim_.load()));
        }
      }
      co_return out;
    } else if (!retryable(res->status)) {
      co_return core::make_error(ErrorKind::kUpstream, "embeddings_failed",
                                 "the embeddings endpoint answered " + std::to_string(res->status) +
                                     ": " + server_message(res->body));
    } else {
      last = core::make_error(ErrorKind::kUpstream, "embeddings_failed",
                              "the embeddings endpoint answered " + std::to_string(res->status) +
                                  ": " + server_message(res->body));
      const std::string_view ra = res->header("Retry-After");
      long long seconds = 0;
      if (!ra.empty() &&
          std::from_chars(ra.data(), ra.data() + ra.size(), seconds).ec == std::errc{} &&
          seconds >= 0) {
        wait = std::chrono::seconds(seconds);
      }
    }
    if (attempt == options_.max_attempts) break;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(std::min(wait, options_.max_backoff));
    co_await timer.async_wait(asio::use_awaitable);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  co_return last;
}

}  // namespace enkisys::rag
