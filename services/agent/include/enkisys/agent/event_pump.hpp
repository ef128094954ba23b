// Streams the events of a piece of work (a turn, a completion) to an SSE client as they
// happen, and cancels the work when the client goes away.
//
// Contract:
//  * REQUIRES: called from the handler's coroutine that owns `sse`; `work` runs as a coroutine
//    of its own on the same executor (the connection's strand), so its sink calls and the
//    writer never run at once.
//  * `work` is called once; it reports events through the sink it is given (synchronously;
//    they are queued and written in order). A name "" writes a data-only event (the OpenAI
//    wire format); data that is a JSON string is written as its raw text (`data: [DONE]`),
//    anything else serialized.
//  * When the client disconnects (or the server stops), `work` is cancelled (terminal asio
//    cancellation) and the remaining events are dropped; pump() still waits for `work` to end,
//    so whatever `work` stores on cancellation is stored before the handler returns.
//  * An exception thrown by `work` is rethrown by pump() after the events before it were sent.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <string_view>

#include "enkisys/core/stream.hpp"

namespace enkisys::agent {

using EventSink = std::function<void(std::string_view name, boost::json::value data)>;

// Returns true when the client was still there at the end.
boost::asio::awaitable<bool> pump(core::SseStream& sse,
                                  std::function<boost::asio::awaitable<void>(EventSink)> work);

}  // namespace enkisys::agent
