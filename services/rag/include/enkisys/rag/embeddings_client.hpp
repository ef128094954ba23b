// Client of an OpenAI-compatible embeddings endpoint (`POST {base}/embeddings`, as OpenAI,
// Ollama, llama.cpp's server, vLLM and text-embeddings-inference serve it), used when
// EMBEDDINGS_BASE_URL is set.
//
// Contract:
//  * embed() sends the texts in batches of `batch_size` inputs, in order, and returns one vector
//    per text (the answer's `index` fields put them back in order).
//  * Retries: a network error, 408, 429 and 5xx are retried up to `max_attempts` times in all,
//    waiting Retry-After (seconds, capped at `max_backoff`) when the server gives one, else a
//    backoff doubling from `initial_backoff`. Other 4xx answers are not retried.
//  * Dimension check: every vector of every answer must have the dimension of the first one this
//    client ever received (and finite values); otherwise kUpstream embeddings_invalid.
//  * Errors: kUpstream embeddings_failed (status and the server's message, never the key),
//    kUpstream embeddings_invalid (malformed answer), kUnavailable embeddings_unreachable.
//  * Thread-safe: embed() may run concurrently (HttpSender's contract).
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "enkisys/core/client.hpp"
#include "enkisys/core/expected.hpp"

namespace enkisys::rag {

struct EmbeddingsOptions {
  std::string base_url;  // e.g. https://api.openai.com/v1 or http://ollama:11434/v1
  std::string model;
  std::string api_key;  // empty: no Authorization header
  std::size_t batch_size = 64;
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
  std::chrono::milliseconds timeout{60'000};
  std::size_t max_response_bytes = 64 * 1024 * 1024;
};

class EmbeddingsClient {
 public:
  EmbeddingsClient(core::HttpSender& http, EmbeddingsOptions options);

  boost::asio::awaitable<core::Expected<std::vector<std::vector<float>>>> embed(
      std::vector<std::string> texts);

  const std::string& model() const { return options_.model; }
  // 0 until the first answer.
  std::size_t dimension() const { return dim_.load(); }

 private:
  boost::asio::awaitable<core::Expected<std::vector<std::vector<float>>>> embed_batch(
      const std::vector<std::string>& texts, std::size_t begin, std::size_t end);

  core::HttpSender& http_;
  EmbeddingsOptions options_;
  std::atomic<std::size_t> dim_{0};
};

}  // namespace enkisys::rag
